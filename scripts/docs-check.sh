#!/usr/bin/env bash
# Checks, in headless Chromium, that the Swagger UI served at $BASE_URL/docs/ renders
# the operations of both API surfaces (Arkloop /v1 and Alumia /api/v1), that every
# operation of $BASE_URL/openapi.json has its block, and that the page loads nothing
# from another host (the bundle is vendored: the page must work offline). Leaves the
# rendered DOM, the network logs and a screenshot in OUT_DIR as test artefacts.
#
# Usage: scripts/docs-check.sh [BASE_URL [OUT_DIR]]
#   BASE_URL  server to check (default http://127.0.0.1:8080; env BASE_URL)
#   OUT_DIR   artefacts: docs.png, docs.dom.html, netlog-*.json, chromium.log
#             (default target/docs-check in the repo; env OUT_DIR)
# Env: CHROMIUM (default /usr/bin/chromium), DOCS_CHECK_BUDGET_MS (first virtual-time
#   budget, default 15000; doubled on each of up to 3 tries), DOCS_CHECK_WINDOW (screenshot
#   size, default 1280,3200: at 1280,2400 the 33 /v1 operations fill the picture and the
#   /api/v1 ones fall below it),
#   DOCS_CHECK_NO_INSTALL=1 (fail instead of installing a missing Chromium).
# Needs: python3, and Debian's chromium (installed with apt-get when missing, as root).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BASE_URL="${1:-${BASE_URL:-http://127.0.0.1:8080}}"
BASE_URL="${BASE_URL%/}"
OUT_DIR="${2:-${OUT_DIR:-$here/../target/docs-check}}"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
BUDGET_MS="${DOCS_CHECK_BUDGET_MS:-15000}"
WINDOW="${DOCS_CHECK_WINDOW:-1280,3200}"
[[ "$WINDOW" =~ ^[0-9]+,[0-9]+$ ]] || { echo "docs-check: FAIL: DOCS_CHECK_WINDOW must be W,H" >&2; exit 1; }

say() { echo "docs-check: $*" >&2; }
die() { echo "docs-check: FAIL: $*" >&2; exit 1; }

command -v python3 >/dev/null || die "python3 is needed"

# 1. Chromium (Debian's package; no browser download, which this network would refuse).
# shellcheck source=scripts/chromium.sh
source "$here/chromium.sh"
ensure_chromium

mkdir -p "$OUT_DIR"
OUT_DIR="$(cd "$OUT_DIR" && pwd)"
rm -f "$OUT_DIR"/docs.png "$OUT_DIR"/docs.dom.html "$OUT_DIR"/netlog-*.json "$OUT_DIR"/chromium.log
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
start=$SECONDS

# 2. The spec, straight from the server (also tells early whether the server is up).
err="$(python3 - "$BASE_URL/openapi.json" "$work/openapi.json" <<'PY'
import json, sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=10) as r:
        body = r.read()
    json.loads(body)
except Exception as e:
    print(e); sys.exit(1)
open(sys.argv[2], "wb").write(body)
PY
)" || die "cannot fetch the spec at $BASE_URL/openapi.json: $err"

# Checks a rendered DOM (and optionally a net log) against the spec; prints the summary
# fields on success, the problems otherwise (exit 1: not (fully) rendered, worth another
# try with a larger budget; exit 2: the page reached another host, or the spec is broken).
analyse() { # DOM NETLOG...
  python3 - "$BASE_URL" "$work/openapi.json" "$@" <<'PY'
import ipaddress, json, re, sys
from html.parser import HTMLParser
from urllib.parse import urlsplit

base, spec_path, dom_path, *netlogs = sys.argv[1:]
spec = json.load(open(spec_path))
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
want = {(m, p) for p, item in spec.get("paths", {}).items() for m in item if m in METHODS}
want_schemas = len(spec.get("components", {}).get("schemas", {}))

# Swagger UI resolves a $ref only when its operation or schema is expanded, so a dangling
# one would not show in the collapsed page: look for them in the spec itself.
def refs(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k == "$ref" and isinstance(v, str): yield v
            else: yield from refs(v)
    elif isinstance(o, list):
        for v in o: yield from refs(v)
def resolves(ref):
    o = spec
    for part in ref[2:].split("/") if ref != "#" else []:
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(o, dict) or part not in o: return False
        o = o[part]
    return True
dangling = sorted({r for r in refs(spec) if r.startswith("#") and not resolves(r)})

class Dom(HTMLParser):
    def __init__(self):
        super().__init__()
        self.blocks, self.ops, self.scripts = 0, [], []
        self.cur = None; self.in_method = False
        self.errors = False; self.text = []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs); cls = (a.get("class") or "").split()
        if "opblock" in cls:
            self.blocks += 1; self.cur = [None, None]; self.ops.append(self.cur)
        if self.cur is not None:
            if "opblock-summary-method" in cls: self.in_method = True
            if a.get("data-path") and self.cur[1] is None: self.cur[1] = a["data-path"]
        if "errors-wrapper" in cls: self.errors = True
        if tag == "script" and a.get("src"): self.scripts.append(a["src"])
    def handle_endtag(self, tag):
        self.in_method = False
    def handle_data(self, data):
        if self.in_method and self.cur is not None and self.cur[0] is None:
            self.cur[0] = data.strip().lower()
        self.text.append(data)

html = open(dom_path, encoding="utf-8", errors="replace").read()
d = Dom(); d.feed(html)
text = " ".join(d.text)
problems = []
if dangling:
    problems.append("the spec has $refs that resolve to nothing: " + ", ".join(dangling[:10]))
got = {(m, p) for m, p in d.ops if m and p}
if d.blocks == 0:
    problems.append("Swagger UI rendered no operation block (class opblock)")
for must in ("/v1/projects", "/api/v1/projects"):
    if not any(p == must for _, p in got):
        problems.append(f"no operation block for {must}")
missing = sorted(want - got)
if missing:
    problems.append(f"{len(missing)} operation(s) of the spec not rendered: "
                    + ", ".join(f"{m.upper()} {p}" for m, p in missing[:10]))
extra = sorted(got - want)
if extra:
    problems.append("rendered operations not in the spec: " + ", ".join(f"{m.upper()} {p}" for m, p in extra[:10]))
if "Failed to load API definition" in text:
    problems.append("Swagger UI says: Failed to load API definition")
if d.errors:
    m = re.search(r'class="errors-wrapper".{0,2000}', html, re.S)
    snippet = re.sub(r"<[^>]+>", " ", m.group(0)) if m else ""
    problems.append("Swagger UI shows errors: " + " ".join(snippet.split())[:400])
# Schemas ("Schemas" section: one top-level json-schema article per component schema).
i = html.find('<section class="models')
shown = len(re.findall(r'data-json-schema-level="0"', html[i:])) if i >= 0 else None
if shown is not None and shown != want_schemas:
    problems.append(f"{shown} schema(s) shown, {want_schemas} in components.schemas")

# Offline: nothing the page asked for may leave BASE_URL's host (or loopback).
base_host = urlsplit(base).hostname
def local(url):
    h = urlsplit(url).hostname
    if h is None or h == base_host or h == "localhost" or h.endswith(".localhost"):
        return True
    try: return ipaddress.ip_address(h).is_loopback
    except ValueError: return False
off = []
for src in d.scripts:
    if src.startswith("//"): full = "http:" + src
    elif re.match(r"^[a-z][a-z0-9+.-]*:", src, re.I): full = src
    else: continue  # relative: same origin as the page
    if full.startswith(("http:", "https:")) and not local(full):
        off.append(f"<script src={src}> in the DOM")
page_requests = 0
for path in netlogs:
    raw = open(path, encoding="utf-8", errors="replace").read().rstrip()
    try: log = json.loads(raw)
    except ValueError:  # a log cut short by a crash has no closing brackets
        log = json.loads(raw.rstrip(",\n") + "]}")
    types = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    status = {}  # net log source id -> HTTP status line
    for ev in log.get("events", []):
        if types.get(ev.get("type")) == "HTTP_TRANSACTION_READ_RESPONSE_HEADERS":
            status[ev["source"]["id"]] = ((ev.get("params") or {}).get("headers") or ["?"])[0]
    for ev in log.get("events", []):
        p = ev.get("params") or {}
        if types.get(ev.get("type")) != "URL_REQUEST_START_JOB" or "url" not in p:
            continue
        # The page's own requests carry its origin as initiator (or are the main frame);
        # Chromium's own background requests (Google services) have none, are refused
        # by this network anyway, and are not the page's doing.
        if p.get("initiator", "not an origin") == "not an origin" and p.get("request_type") != "main frame":
            continue
        page_requests += 1
        line = status.get(ev["source"]["id"], "")
        code = line.split()[1] if len(line.split()) > 1 else ""
        if code.isdigit() and int(code) >= 400:
            problems.insert(0, f"the page's request for {p['url'][:200]} got {' '.join(line.split()[1:])}")
        if not local(p["url"]):
            kind = "script" if re.search(r"\.m?js(\?|$)", urlsplit(p["url"]).path + "?") else "request"
            off.append(f"{kind} to another host: {p['url'][:200]}")
if netlogs and page_requests == 0:
    problems.append("the network log shows no request of the page")
if off:  # a retry would not change this: fail at once
    problems.insert(0, "the page is not offline: " + "; ".join(sorted(set(off))[:10]))

if problems:
    print("\n".join(problems)); sys.exit(2 if off or dangling else 1)
v1 = sum(1 for _, p in got if p.startswith("/v1/"))
api = sum(1 for _, p in got if p.startswith("/api/v1/"))
print(f"{d.blocks} {len(want)} {v1} {api} {shown if shown is not None else '-'} {want_schemas} {page_requests}")
PY
}

# 3. Rendered DOM. --virtual-time-budget lets the page's timers run while Chromium waits
# for pending fetches (the 1.4 MB bundle, then /openapi.json); retried with a larger budget
# in case a slow machine has not rendered the operations yet.
budget=$BUDGET_MS
result=""
for try in 1 2 3; do
  netlog="$OUT_DIR/netlog-dom.json"
  if run_chromium "$netlog" --virtual-time-budget="$budget" --dump-dom "$BASE_URL/docs/" \
      >"$OUT_DIR/docs.dom.html"; then
    rc=0; result="$(analyse "$OUT_DIR/docs.dom.html" "$netlog")" || rc=$?
    [[ $rc -eq 0 ]] && break
    [[ $rc -eq 1 ]] || die "$(printf '%s\n' "$result")"
  else
    result="chromium exited with $? (see $OUT_DIR/chromium.log)"
  fi
  say "try $try (budget ${budget} ms): $(head -1 <<<"$result")"
  budget=$((budget * 2))
  [[ $try -lt 3 ]] || die "$(printf '%s\n' "$result") (DOM: $OUT_DIR/docs.dom.html)"
done
read -r blocks ops v1 api schemas_shown schemas requests <<<"$result"

# 4. Screenshot, kept as an artefact; its run's requests must be local too.
run_chromium "$OUT_DIR/netlog-screenshot.json" --virtual-time-budget="$budget" \
  --window-size="$WINDOW" --hide-scrollbars --screenshot="$OUT_DIR/docs.png" "$BASE_URL/docs/" \
  >/dev/null || die "chromium screenshot run failed (see $OUT_DIR/chromium.log)"
python3 - "$OUT_DIR/docs.png" "$WINDOW" <<'PY' || die "no usable screenshot at $OUT_DIR/docs.png"
import struct, sys
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"\x89PNG\r\n\x1a\n" and len(b) > 20000, "not a PNG, or blank"
w, h = struct.unpack(">II", b[16:24])
assert f"{w},{h}" == sys.argv[2], f"screenshot is {w}x{h}, not {sys.argv[2]}"
PY
off="$(python3 - "$BASE_URL" "$OUT_DIR/netlog-screenshot.json" <<'PY'
import ipaddress, json, sys
from urllib.parse import urlsplit
base_host = urlsplit(sys.argv[1]).hostname
raw = open(sys.argv[2], encoding="utf-8", errors="replace").read().rstrip()
try: log = json.loads(raw)
except ValueError: log = json.loads(raw.rstrip(",\n") + "]}")
types = {v: k for k, v in log["constants"]["logEventTypes"].items()}
for ev in log.get("events", []):
    p = ev.get("params") or {}
    if types.get(ev.get("type")) != "URL_REQUEST_START_JOB" or "url" not in p: continue
    if p.get("initiator", "not an origin") == "not an origin" and p.get("request_type") != "main frame": continue
    h = urlsplit(p["url"]).hostname
    try: loop = ipaddress.ip_address(h).is_loopback
    except (ValueError, TypeError): loop = False
    if not (h in (base_host, "localhost") or loop): print(p["url"][:200])
PY
)"
[[ -z "$off" ]] || die "the page is not offline (screenshot run): $off"

echo "docs-check: OK: $blocks/$ops operations rendered (/v1: $v1, /api/v1: $api), $schemas_shown/$schemas schemas, $requests page requests all local; screenshot: $OUT_DIR/docs.png ($((SECONDS - start)) s)"
