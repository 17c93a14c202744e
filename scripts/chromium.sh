# Sourced by the browser checks (docs-check.sh, cors-check.sh): Debian's Chromium, installed
# with apt-get when missing (as root, or with sudo), and a way to run it headless on this
# machine's closed network. Needs `say` and `die` defined, CHROMIUM set (e.g. /usr/bin/chromium),
# and, for run_chromium, $work (a scratch directory) and $OUT_DIR (where chromium.log goes).
# DOCS_CHECK_NO_INSTALL=1 fails instead of installing.

ensure_chromium() {
  [[ -x "$CHROMIUM" ]] && return 0
  [[ "${DOCS_CHECK_NO_INSTALL:-}" == 1 ]] && die "$CHROMIUM is missing (DOCS_CHECK_NO_INSTALL=1)"
  local sudo=""
  if [[ $EUID -ne 0 ]]; then
    command -v sudo >/dev/null || die "$CHROMIUM is missing and installing it needs root"
    sudo="sudo"
  fi
  say "installing chromium with apt-get…"
  local t0=$SECONDS log=/tmp/chromium-apt.log
  export DEBIAN_FRONTEND=noninteractive
  if ! $sudo apt-get install -y --no-install-recommends chromium >"$log" 2>&1; then
    say "install failed without a fresh package list; running apt-get update first"
    $sudo apt-get update >>"$log" 2>&1 || true
    $sudo apt-get install -y --no-install-recommends chromium >>"$log" 2>&1 \
      || { tail -20 "$log" >&2; die "apt-get install chromium failed"; }
  fi
  [[ -x "$CHROMIUM" ]] || die "chromium installed but $CHROMIUM is not there"
  say "chromium installed in $((SECONDS - t0)) s"
}

# Runs Chromium with the flags this machine's closed network needs, a fresh profile each
# time, and a network log of every request (to prove where the page went).
run_chromium() { # NETLOG ARGS...
  local netlog="$1"; shift
  local profile; profile="$(mktemp -d "$work/profile.XXXXXX")"
  timeout 180 "$CHROMIUM" \
    --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --disable-quic \
    --user-data-dir="$profile" --log-net-log="$netlog" "$@" 2>>"$OUT_DIR/chromium.log"
}
