#!/usr/bin/env bash
# Make the project environment .venv (inside the repository) and install nbexplain into it, editable, with
# the extras named in $1 (default: dev). Nothing is installed into the system Python, so this works where
# the system Python is "externally managed" (PEP 668: Debian 12, Ubuntu 24.04).
#
# A second run re-uses .venv without calling pip when nothing that decides the install changed (the stamp
# .venv/nbexplain-setup.stamp: pyproject.toml, extras, torch pin, interpreter, checkout path; see
# scripts/env_state.py). torch is installed first, pinned, so pip never resolves plain `torch` to a
# multi-GB CUDA build: from PyTorch's CPU index when download.pytorch.org answers within a few seconds,
# otherwise from PyPI (or the wheels pip's configuration points at).
#
# Environment: NBX_PYTHON  interpreter that makes .venv (default: python3, Python >= 3.10)
#              NBX_TORCH   torch requirement (default: torch==2.13.0)
#              NBX_REINSTALL=1  run pip even when the stamp says nothing changed
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

extras=${1:-dev}
torch_requirement=${NBX_TORCH:-torch==2.13.0}
base=${NBX_PYTHON:-python3}
venv=.venv
py=$venv/bin/python
torch_cpu_index=https://download.pytorch.org/whl/cpu

# A usable environment: its python runs, is a virtual environment, is >= 3.10 and has pip.
venv_is_healthy() {
  [ -x "$py" ] && "$py" -c 'import sys, pip; sys.exit(sys.prefix == sys.base_prefix or sys.version_info < (3, 10))' \
    >/dev/null 2>&1
}

# venv_package: the Debian package that brings `python3 -m venv` (and ensurepip) for $base.
venv_package() {
  local version
  version=$("$base" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  if command -v apt-cache >/dev/null 2>&1 && apt-cache show "python$version-venv" >/dev/null 2>&1; then
    echo "python$version-venv"
  else
    echo python3-venv
  fi
}

make_venv() {
  command -v "$base" >/dev/null 2>&1 \
    || die "no '$base' on PATH. Install Python >= 3.10 (Debian/Ubuntu: apt-get install python3 python3-venv) or set NBX_PYTHON."
  "$base" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
    || die "nbexplain needs Python >= 3.10; '$base' is $("$base" --version 2>&1). Set NBX_PYTHON to a newer one."
  say "Making the project environment $venv with $("$base" --version 2>&1) ($(command -v "$base"))"
  if "$base" -m venv "$venv"; then
    return
  fi
  rm -rf "$venv"  # what a failed `python3 -m venv` leaves (no pip in it)
  local package
  package=$(venv_package)
  echo "   '$base -m venv' does not work here: Debian/Ubuntu ship venv and ensurepip in the package $package."
  if apt_install "$package" && "$base" -m venv "$venv"; then
    return
  fi
  rm -rf "$venv"
  die "could not make $venv. Run (as root): apt-get install $package   then run this command again.
(Or set NBX_PYTHON to a Python >= 3.10 whose '-m venv' works.)"
}

# torch_index_args: pip options that fetch torch's CPU build from PyTorch's index, when it is reachable.
# The probe gives up after 3 s (4 s with a slow name lookup), and fails at once on a machine without network.
torch_index_args() {
  [ "$(uname -s)" = Linux ] || return 0  # elsewhere PyPI's torch is the CPU build already
  local limit=()
  command -v timeout >/dev/null 2>&1 && limit=(timeout 4)
  if "${limit[@]}" "$py" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=3).close()' \
      "$torch_cpu_index/torch/" >/dev/null 2>&1; then
    echo "--index-url $torch_cpu_index"
  fi
}

# 1. the environment
if [ -e "$venv" ] && ! venv_is_healthy; then
  say "$venv exists but is not a usable environment (no working python >= 3.10 with pip): making it again"
  rm -rf "$venv"
fi
if [ ! -e "$venv" ]; then
  make_venv
fi

# 2. nothing to do?
reason="NBX_REINSTALL=1"
if [ "${NBX_REINSTALL:-}" != 1 ]; then
  if reason=$("$py" scripts/env_state.py check "$extras" "$torch_requirement"); then
    say "Re-using the project environment $venv: nbexplain[$extras] is installed and nothing changed since (NBX_REINSTALL=1 forces pip)"
    exit 0
  fi
fi
reason=${reason:-its state could not be read}
case $reason in first*) took=" A first install takes a few minutes." ;; *) took= ;; esac
say "Installing nbexplain[$extras] into $venv ($reason): pip shows each package.$took"

# 3. torch, pinned, before the project
if "$py" scripts/env_state.py has "$torch_requirement"; then
  say "[1/2] $torch_requirement is installed already"
else
  say "[1/2] $torch_requirement, the CPU build (before the project, so pip never picks a multi-GB CUDA build)"
  index=$(torch_index_args)
  if [ -n "$index" ]; then
    echo "    from PyTorch's CPU index ($torch_cpu_index)"
  else
    echo "    from PyPI or what pip's configuration names ($torch_cpu_index did not answer or is not needed here)"
  fi
  # shellcheck disable=SC2086  # $index is two words or none
  "$py" -m pip install $index "$torch_requirement"
fi

# 4. the project, editable, keeping the pin
say "[2/2] nbexplain[$extras] (editable, from $PWD) and its dependencies"
"$py" -m pip install -e ".[$extras]" "$torch_requirement"
"$py" scripts/env_state.py record "$extras" "$torch_requirement"
say "Ready: $venv ($("$py" --version)) holds nbexplain[$extras]. To use it in a shell: source $venv/bin/activate"
