#!/usr/bin/env bash
# Install nbexplain (editable) with the extras named in $1 (default: dev), pinning the CPU torch build.
# torch is pinned to 2.13.0 so pip never resolves plain `torch` to a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-dev}"
python3 -m pip install --quiet "torch==2.13.0"
python3 -m pip install --quiet -e ".[${extras}]" "torch==2.13.0"
