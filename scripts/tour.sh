#!/usr/bin/env bash
# Set up nbexplain and open JupyterLab on the tour notebook (offline: built-in data and models).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh notebooks
exec jupyter lab notebooks/00_tour.ipynb "$@"
