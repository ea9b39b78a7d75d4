#!/usr/bin/env bash
# Set up everything the tests need (the project environment .venv, Debian's chromium and nodejs) and run
# every test: unit tests, widget tests, real-browser tests, the packaging tests, the JavaScript tests in
# tests/js (node --test) and every notebook through nbval (with each notebook's run time beside its budget).
#
# Where chromium or node cannot be installed (no apt-get, or neither root nor sudo) it says so and runs the
# rest: the tests that need them are reported as skipped, with the reason. With NBX_REQUIRE_ALL=1 (CI:
# .ci/run) nothing may be missing: those tests fail instead.
#
# Arguments go to pytest. Paths among them replace the default `tests notebooks` (and the JavaScript tests
# then run only when tests/js is named), e.g.  bash scripts/test.sh tests/unit/test_tabular.py -x
# Environment: NBX_CHROMIUM (browser for tests/e2e, default /usr/bin/chromium), NBX_REQUIRE_ALL=1.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
bash scripts/setup.sh dev || exit 1

require_all=${NBX_REQUIRE_ALL:-}
[ "$require_all" = 0 ] && require_all=
chromium=${NBX_CHROMIUM:-/usr/bin/chromium}
missing=()

# Debian's chromium drives the browser tests (never `playwright install`).
if [ ! -x "$chromium" ]; then
  say "Chromium is not at $chromium: the browser tests (tests/e2e) need it"
  if [ -n "${NBX_CHROMIUM:-}" ]; then
    echo "   (NBX_CHROMIUM names it; apt-get would install /usr/bin/chromium, so nothing is installed)"
  fi
  if [ -n "${NBX_CHROMIUM:-}" ] || ! apt_install chromium || [ ! -x "$chromium" ]; then
    missing+=("Chromium at $chromium: browser tests (tests/e2e). Install it with: apt-get install chromium (as root)")
  fi
fi

# node runs the views' JavaScript (tests/js and a widget test).
if ! command -v node >/dev/null 2>&1; then
  say "node is not on PATH: the JavaScript tests need it"
  if ! apt_install nodejs || ! command -v node >/dev/null 2>&1; then
    missing+=("node: JavaScript tests (tests/js, tests/widgets). Install it with: apt-get install nodejs (as root)")
  fi
fi

report_missing() {
  [ ${#missing[@]} -gt 0 ] || return 0
  if [ -n "$require_all" ]; then
    say "Missing on this machine (NBX_REQUIRE_ALL=1: the tests that need it FAIL):"
  else
    say "Missing on this machine (the tests that need it are SKIPPED; the rest runs):"
  fi
  printf '   - %s\n' "${missing[@]}"
}
report_missing

# Paths among the arguments replace the default selection; values of -k/-m/-p/-o/-c are not paths.
# tests/js goes to node, the rest to pytest.
js_paths=()
pytest_paths=0
pytest_args=()
previous=
for arg in "$@"; do
  case $previous in -k | -m | -p | -o | -c | --rootdir | --deselect | --ignore) is_value=1 ;; *) is_value=0 ;; esac
  previous=$arg
  path=${arg%%::*}
  if [ $is_value = 0 ] && [ -e "$path" ]; then
    case ${path#./} in
      tests/js | tests/js/*) js_paths+=("$arg"); continue ;;
      *) pytest_paths=1 ;;
    esac
  fi
  pytest_args+=("$arg")
done
run_js=$(( ${#js_paths[@]} > 0 ))
run_pytest=$pytest_paths
if [ $run_js = 0 ] && [ $pytest_paths = 0 ]; then
  js_paths=(tests/js/)
  run_js=1
  run_pytest=1
  pytest_args=(tests notebooks "${pytest_args[@]}")
fi

status=0
if [ $run_js = 1 ] && [ -d tests/js ]; then
  if command -v node >/dev/null 2>&1; then
    say "JavaScript tests: node --test ${js_paths[*]} ($(node --version))"
    node --test "${js_paths[@]}" || status=1
  elif [ -n "$require_all" ]; then
    say "JavaScript tests (tests/js) FAILED: node is missing and NBX_REQUIRE_ALL=1"
    status=1
  else
    say "JavaScript tests (tests/js) SKIPPED: node is missing"
  fi
fi

if [ $run_pytest = 1 ]; then
  say "pytest ${pytest_args[*]} (skipped tests are listed at the end, with their reason)"
  MPLBACKEND=Agg PYTHONHASHSEED=0 NBX_CHROMIUM=$chromium NBX_REQUIRE_ALL=$require_all \
    .venv/bin/python -m pytest --nbval-lax --nbval-current-env -p no:cacheprovider -rfEs "${pytest_args[@]}" \
    || status=$?
fi

report_missing
exit $status
