#!/usr/bin/env bash
# The spec matches behaviour, checked from outside against the real binary, each tool on a fresh
# server with the first-start owner key:
#   1. schemathesis (PyPI, pinned) over every operation of /openapi.json, all checks;
#   2. the docs page in headless Chromium (scripts/docs-check.sh), screenshot kept;
#   3. CORS in headless Chromium: a page on another origin creates, writes, lists and reads with
#      credentials, and an unlisted origin is refused (scripts/cors-check.sh);
#   4. a TypeScript client generated from openapi/openapi.json runs a smoke flow (tests/client):
#      `ak-` key on /v1, an `alm_` key it makes itself on /api/v1.
# 1 and 4 run on the embedded default (SQLite + files) and, when DATABASE_URL names a PostgreSQL
# server where databases may be created (`cargo xtask test` provides one), on a fresh database
# there too.
# Artefacts land in target/conformance/. Tools are installed on first use: a Python venv under
# target/tools/, npm packages from tests/client/package-lock.json, Debian's chromium.
#
# Usage: [DATABASE_URL=postgres://…] scripts/conformance.sh [SERVER_BINARY]   (default target/debug/server)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
server_bin="${1:-$root/target/debug/server}"
out="$root/target/conformance"
tools="$root/target/tools"
schemathesis_version="4.32.5"
rm -rf "$out"
mkdir -p "$out" "$tools"

say() { echo "conformance: $*" >&2; }
[[ -x "$server_bin" ]] || { say "no server binary at $server_bin"; exit 1; }

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# Starts a server on a free port with its own data directory (and, with a second argument, a
# fresh PostgreSQL database of that name); sets BASE_URL, API_KEY (the owner's first-start key)
# and JWT (a token of the same owner, signed with the server's JWT_SECRET).
export JWT_SECRET="conformance-$RANDOM$RANDOM"
postgres_admin_url="${DATABASE_URL:-}"
unset DATABASE_URL
start_server() {
  local name="$1" database="${2:-}" dir="$out/$1"
  mkdir -p "$dir"
  local storage=(--data-dir "$dir/data")
  if [[ -n "$database" ]]; then
    local psql
    psql="$(command -v psql || ls /usr/lib/postgresql/*/bin/psql | tail -1)"
    "$psql" -q "$postgres_admin_url" -c "DROP DATABASE IF EXISTS $database" -c "CREATE DATABASE $database" >&2
    storage+=(--database-url "$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$postgres_admin_url" "$database")")
  fi
  local port
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  # A change feed streams until it has lasted its time: a second here, so that each request of
  # the fuzzer gets its whole answer well within its timeout.
  env -u BLOB_STORE_URL EVENTS_MAX_SECS=1 EVENTS_HEARTBEAT_SECS=1 "$server_bin" --listen "127.0.0.1:$port" "${storage[@]}" \
    >"$dir/server.out" 2>"$dir/server.log" &
  pids+=("$!")
  for _ in $(seq 1 100); do
    if grep -q '^ak-' "$dir/server.out" 2>/dev/null && curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
      BASE_URL="http://127.0.0.1:$port"
      API_KEY="$(grep -m1 '^ak-' "$dir/server.out")"
      JWT="$("$server_bin" token --email owner@localhost "${storage[@]}")"
      return 0
    fi
    sleep 0.1
  done
  say "$name: the server did not start"; cat "$dir/server.log" >&2; return 1
}

# No panics and no 5xx in a server's log.
check_server_log() {
  local log="$out/$1/server.log"
  if sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E 'panicked|status=5[0-9][0-9]' >&2; then
    say "$1: the server logged a panic or a 5xx"; return 1
  fi
}

# 1. schemathesis
venv="$tools/schemathesis-$schemathesis_version"
if [[ ! -x "$venv/bin/st" ]]; then
  say "installing schemathesis $schemathesis_version into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$schemathesis_version"
fi
# Runs schemathesis against a fresh server: NAME [DATABASE].
run_schemathesis() {
  local name="$1" report="$out/$1" failed=""
  # Thousands of cases from one key in minutes: rate limits off, or most answers would be 429s.
  RATE_LIMIT_PER_SEC=0 start_server "$name" "${2:-}"
  say "$name against $BASE_URL"
  export ST_API_KEY="$API_KEY" ST_JWT="$JWT"
  (cd "$root" && timeout 600 "$venv/bin/st" --config-file tests/schemathesis/schemathesis.toml run "$BASE_URL/openapi.json" \
    --checks all --phases examples,coverage,fuzzing,stateful --report junit,json \
    --report-dir "$report" --no-color) >"$report/run.log" 2>&1 || failed=1
  tail -25 "$report/run.log" >&2
  # The run must not have locked itself out (it may revoke keys): then it tested nothing.
  curl -fsS -o /dev/null -H "Authorization: Bearer $API_KEY" "$BASE_URL/v1/me" \
    || { say "$name: the owner key stopped working during the run"; failed=1; }
  check_server_log "$name" || failed=1
  python3 - "$report" "$name" <<'PY' >&2 || true
import glob, json, sys
for path in glob.glob(sys.argv[1] + "/*.json"):
    report = json.load(open(path))
    ops, cases = report.get("operations", {}), report.get("test_cases", {})
    print(f"conformance: {sys.argv[2]}: {ops.get('tested')}/{ops.get('total')} operations tested, "
          f"{cases.get('generated')} test cases, {cases.get('unique_failures', 0)} unique failures")
PY
  [[ -z "$failed" ]] || { say "$name found failures (report: $report)"; return 1; }
}

# Runs the generated client's smoke flow against a fresh server: NAME [DATABASE].
run_client_smoke() {
  start_server "$1" "${2:-}"
  (cd "$root/tests/client" && BASE_URL="$BASE_URL" API_KEY="$API_KEY" OPENAPI="$root/openapi/openapi.json" npm run --silent smoke)
  check_server_log "$1"
}

run_schemathesis schemathesis-sqlite
[[ -z "$postgres_admin_url" ]] || run_schemathesis schemathesis-postgres conformance_schemathesis

# 2. the docs page in a real browser
start_server docs
"$root/scripts/docs-check.sh" "$BASE_URL" "$out/docs"

# 3. CORS in a real browser: a page on another origin, with credentials (scripts/cors-check.sh)
page_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
CORS_ALLOWED_ORIGINS="http://localhost:$page_port" start_server cors
"$root/scripts/cors-check.sh" "$BASE_URL" "$API_KEY" "$page_port" "$out/cors"
check_server_log cors

# 4. a generated client
(cd "$root/tests/client" && npm ci --no-audit --no-fund --silent)
run_client_smoke client-sqlite
[[ -z "$postgres_admin_url" ]] || run_client_smoke client-postgres conformance_client
say "all green; artefacts in $out"
