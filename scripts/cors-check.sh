#!/usr/bin/env bash
# Checks CORS in a real browser: headless Chromium opens tests/browser/cross-origin.html from
# another origin than the API and does what the real Arkloop web client does (bearer token,
# `credentials: 'include'`, reading X-Trace-Id and ETag): creates a project, writes, lists and
# reads a workspace file, lists on /api/v1. From the listed origin (http://localhost:PAGE_PORT)
# everything must be served; from an unlisted one (http://127.0.0.1:PAGE_PORT) the browser must
# refuse, and nothing may have been written. Leaves the DOMs and Chromium's log in OUT_DIR.
#
# Usage: scripts/cors-check.sh BASE_URL API_KEY PAGE_PORT OUT_DIR
#   The server at BASE_URL must run with CORS_ALLOWED_ORIGINS=http://localhost:PAGE_PORT, and
#   PAGE_PORT must be free (the page is served there).
# Env: CHROMIUM (default /usr/bin/chromium). Needs python3; installs Debian's chromium if missing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BASE_URL="${1:?BASE_URL}"; BASE_URL="${BASE_URL%/}"
API_KEY="${2:?API_KEY}"
PAGE_PORT="${3:?PAGE_PORT}"
OUT_DIR="${4:?OUT_DIR}"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

say() { echo "cors-check: $*" >&2; }
die() { echo "cors-check: FAIL: $*" >&2; exit 1; }

# shellcheck source=scripts/chromium.sh
source "$here/chromium.sh"
ensure_chromium
mkdir -p "$OUT_DIR"
OUT_DIR="$(cd "$OUT_DIR" && pwd)"
work="$(mktemp -d)"
page_server=""
trap '[[ -z "$page_server" ]] || kill "$page_server" 2>/dev/null || true; rm -rf "$work"' EXIT

cp "$here/../tests/browser/cross-origin.html" "$work/index.html"
python3 -m http.server "$PAGE_PORT" --bind 127.0.0.1 --directory "$work" >"$OUT_DIR/page-server.log" 2>&1 &
page_server=$!
for _ in $(seq 1 50); do
  curl -fsS -o /dev/null "http://127.0.0.1:$PAGE_PORT/index.html" 2>/dev/null && break
  sleep 0.1
done

# Opens the page from ORIGIN and prints the JSON it left in #result.
visit() { # NAME ORIGIN
  local name="$1" origin="$2" url
  url="$origin/index.html?api=$(python3 -c 'import sys, urllib.parse as u; print(u.quote(sys.argv[1], safe=""))' "$BASE_URL")&key=$API_KEY"
  run_chromium "$OUT_DIR/netlog-$name.json" --virtual-time-budget=20000 --dump-dom "$url" >"$OUT_DIR/$name.dom.html" \
    || die "chromium failed on the $name page (see $OUT_DIR/chromium.log)"
  python3 - "$OUT_DIR/$name.dom.html" <<'PY'
import html, re, sys
dom = open(sys.argv[1], encoding="utf-8").read()
found = re.search(r'<pre id="result">(.*?)</pre>', dom, re.S)
print(html.unescape(found.group(1)) if found else "no result")
PY
}

listed="$(visit listed "http://localhost:$PAGE_PORT")"
unlisted="$(visit unlisted "http://127.0.0.1:$PAGE_PORT")"
python3 - "$listed" "$unlisted" "$BASE_URL" "$API_KEY" "$PAGE_PORT" <<'PY' || die "see above (DOMs in $OUT_DIR)"
import json, sys, urllib.request
listed_raw, unlisted_raw, base, key, port = sys.argv[1:]
problems = []
try:
    listed, unlisted = json.loads(listed_raw), json.loads(unlisted_raw)
except ValueError:
    print(f"the pages left no result: listed={listed_raw[:300]!r} unlisted={unlisted_raw[:300]!r}", file=sys.stderr)
    sys.exit(1)
steps = {s["step"]: s for s in listed.get("steps", [])}
if listed.get("outcome") != "served":
    problems.append(f"the listed origin was refused: {listed}")
want = {"create": 201, "write": 201, "list": 200, "read": 200, "alumia": 200}
for step, status in want.items():
    if steps.get(step, {}).get("status") != status:
        problems.append(f"{step}: {steps.get(step)} (wanted HTTP {status})")
if not steps.get("create", {}).get("traceId"):
    problems.append("X-Trace-Id is not readable by the page (not exposed)")
if steps.get("write", {}).get("traceId") != "0123456789abcdef0123456789abcdef":
    problems.append(f"the page's X-Trace-Id did not come back: {steps.get('write')}")
if "hello.txt" not in steps.get("list", {}).get("names", []):
    problems.append(f"the listing lacks hello.txt: {steps.get('list')}")
if steps.get("read", {}).get("text") != "hello from a browser" or not steps.get("read", {}).get("etag"):
    problems.append(f"the read came back wrong or without a readable ETag: {steps.get('read')}")
if unlisted.get("outcome") != "refused" or unlisted.get("steps"):
    problems.append(f"the unlisted origin was served: {unlisted}")
# Nothing from the unlisted origin reached the service (its preflight was refused).
request = urllib.request.Request(f"{base}/v1/projects?limit=200", headers={"Authorization": f"Bearer {key}"})
names = [p["name"] for p in json.load(urllib.request.urlopen(request, timeout=10))]
if f"From http://localhost:{port}" not in names:
    problems.append(f"the listed origin's project is missing: {names}")
if any(n == f"From http://127.0.0.1:{port}" for n in names):
    problems.append("the unlisted origin's request was carried out")
if problems:
    print("\n".join(problems), file=sys.stderr); sys.exit(1)
print(f"cors-check: OK: from http://localhost:{port} {len(steps)} steps served with credentials "
      f"(create, write, list, read, /api/v1 list; X-Trace-Id and ETag readable); "
      f"from http://127.0.0.1:{port} refused by the browser, nothing written")
PY
