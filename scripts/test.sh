#!/usr/bin/env bash
# Set up everything the tests need (Python packages, Debian's chromium) and run the whole suite:
# unit tests, widget tests, real-browser tests, the packaging test and every notebook through nbval.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi
fi
export MPLBACKEND=Agg PYTHONHASHSEED=0
python3 -m pytest tests notebooks --nbval-lax --nbval-current-env -p no:cacheprovider "$@"
