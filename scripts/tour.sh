#!/usr/bin/env bash
# Set up nbexplain (the project environment .venv, notebook extras) and open JupyterLab on the tour,
# served from the repository root: .../lab/tree/notebooks/00_tour.ipynb. Offline: built-in data and models.
# Arguments go to JupyterLab, e.g.  bash scripts/tour.sh --no-browser --port 8890 --ip 0.0.0.0
# As root (Docker, classroom VMs, CI images) it adds --allow-root.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
bash scripts/setup.sh notebooks

tour=notebooks/00_tour.ipynb
jupyter_args=(--ServerApp.root_dir="$PWD" --LabApp.default_url="/lab/tree/$tour")
if [ "$(id -u)" = 0 ]; then
  jupyter_args+=(--allow-root)
fi
say "Opening the tour in JupyterLab: /lab/tree/$tour, served from $PWD (Ctrl+C twice stops it)"
exec .venv/bin/python -m jupyter lab "${jupyter_args[@]}" "$@"
