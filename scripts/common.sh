# Helpers shared by scripts/setup.sh and scripts/test.sh (sourced, not run).

# say MESSAGE: a step line that stands out between pip's and apt's own output.
say() { printf '\n==> %s\n' "$*"; }

# die MESSAGE: say what went wrong and what to do, then stop.
die() { printf '\nnbexplain: %s\n' "$*" >&2; exit 1; }

# can_apt: true when Debian's apt-get may be run here (as root, or through sudo); sets APT_SUDO.
# Explains on stdout why not otherwise.
can_apt() {
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "   (no apt-get on this machine)"
    return 1
  fi
  if [ "$(id -u)" = 0 ]; then
    APT_SUDO=()
  elif command -v sudo >/dev/null 2>&1 && { [ -t 0 ] || sudo -n true 2>/dev/null; }; then
    APT_SUDO=(sudo)
  else
    echo "   (not root, and no sudo that can run without a terminal)"
    return 1
  fi
}

# apt_install PACKAGE...: install Debian packages with apt-get, showing its progress; true on success.
apt_install() {
  can_apt || return 1
  say "Installing Debian's $* with apt-get (needs the network; ${APT_SUDO[*]:-as root})"
  "${APT_SUDO[@]}" apt-get update -q \
    && "${APT_SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
}
