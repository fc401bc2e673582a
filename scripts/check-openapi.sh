#!/usr/bin/env bash
# Lints herd's OpenAPI document and fuzzes a live server against it, with
# pinned tools (step 2 of scripts/test.sh; docs/testing.md, "OpenAPI lint and
# fuzz"):
#
#   scripts/check-openapi.sh                   lint, then fuzz
#   scripts/check-openapi.sh --lint-only       only the linters
#   scripts/check-openapi.sh --fuzz-only       only schemathesis
#   scripts/check-openapi.sh [...] -- ARG...   extra arguments for `st run`
#                                              (e.g. -- --include-operation-id get_guest)
#
# 1. Tools, (re)installed when missing or when their pins change:
#    openapi/lint/   `npm ci` from package-lock.json: @stoplight/spectral-cli,
#                    @redocly/cli (versions: package.json)
#    openapi/fuzz/.venv  python3 -m venv + pip install -r requirements.txt
#                    (schemathesis)
# 2. Lint openapi/openapi.json: Spectral with openapi/lint/.spectral.yaml
#    (spectral:oas) and --fail-severity=warn; Redocly `lint` with its built-in
#    recommended config. Redocly exits 0 on warnings, so its JSON report is
#    read instead: any error or warning of either linter fails.
# 3. Fuzz: start $HERD_SERVER_BIN on 127.0.0.1:0 (it picks a free port and
#    prints it) with a fresh SQLite data directory in a temp dir and a known
#    admin password, log in as `admin`, and run schemathesis against the live
#    http://ADDR/openapi.json: phases examples, coverage, fuzzing, stateful;
#    checks not_a_server_error, status_code_conformance,
#    content_type_conformance, response_schema_conformance; a fixed seed and
#    a bounded number of examples. Per-operation settings (a token of its own
#    for the logout, a bounded read of the event stream):
#    openapi/fuzz/schemathesis.toml. Any failure fails.
# 4. Stop the server and remove the temp dir on any exit.
#
# Needs node >= 20, npm, python3 >= 3.9 and a built herd-server.
#
# Settings (environment):
#   HERD_SERVER_BIN          server binary [$CARGO_TARGET_DIR or target, /debug/herd-server]
#   HERD_FUZZ_MAX_EXAMPLES   schemathesis --max-examples [see MAX_EXAMPLES below]
#   HERD_FUZZ_SEED           schemathesis --seed [see SEED below]
#   HERD_TEST_KEEP=1         keep the temp dir (server log, JUnit report)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
LINT_DIR=$ROOT/openapi/lint
FUZZ_DIR=$ROOT/openapi/fuzz
VENV=$FUZZ_DIR/.venv
DOC=openapi/openapi.json

SERVER_BIN=${HERD_SERVER_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/herd-server}
MAX_EXAMPLES=${HERD_FUZZ_MAX_EXAMPLES:-100}
SEED=${HERD_FUZZ_SEED:-20261202}

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'scripts/check-openapi.sh: %s\n' "$*" >&2; exit 1; }

LINT=1
FUZZ=1
ST_EXTRA=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --lint-only) FUZZ=0 ;;
        --fuzz-only) LINT=0 ;;
        --) shift; ST_EXTRA=("$@"); break ;;
        *) die "unknown argument: $1 (see the header of $0)" ;;
    esac
    shift
done

for tool in node npm python3; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found on PATH"
done

sha() { sha256sum "$@" | sha256sum | cut -d' ' -f1; }

# --- 1. tools ------------------------------------------------------------------------

install_lint_tools() {
    [[ -f $LINT_DIR/package-lock.json ]] \
        || die "missing openapi/lint/package-lock.json (create it once: cd openapi/lint && npm install --package-lock-only)"
    local want stamp=$LINT_DIR/node_modules/.herd-installed
    want=$(cd "$LINT_DIR" && sha package.json package-lock.json)
    if [[ -x $LINT_DIR/node_modules/.bin/spectral && -x $LINT_DIR/node_modules/.bin/redocly \
        && $(cat "$stamp" 2>/dev/null) == "$want" ]]; then
        return
    fi
    log "npm ci (openapi/lint)"
    (cd "$LINT_DIR" && npm ci --no-audit --no-fund --loglevel=error >&2)
    echo "$want" >"$stamp"
}

install_fuzz_tools() {
    local want stamp=$VENV/.herd-installed
    want=$(cd "$FUZZ_DIR" && sha requirements.txt)
    if [[ -x $VENV/bin/st && $(cat "$stamp" 2>/dev/null) == "$want" ]] \
        && "$VENV/bin/python" -c 'import schemathesis' >/dev/null 2>&1; then
        return
    fi
    log "python venv openapi/fuzz/.venv with $(grep -v '^\s*#' "$FUZZ_DIR/requirements.txt" | xargs)"
    python3 -m venv --clear "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$FUZZ_DIR/requirements.txt" >&2
    # every pin must be what got installed
    local frozen line
    frozen=$("$VENV/bin/pip" freeze --disable-pip-version-check | tr '[:upper:]_' '[:lower:]-')
    while read -r line; do
        line=${line%%#*}
        line=$(echo "$line" | tr -d '[:space:]' | tr '[:upper:]_' '[:lower:]-')
        [[ -z $line ]] && continue
        grep -qxF "$line" <<<"$frozen" || die "openapi/fuzz/.venv: $line is not what pip installed"
    done <"$FUZZ_DIR/requirements.txt"
    echo "$want" >"$stamp"
}

[[ $LINT == 0 ]] || install_lint_tools
[[ $FUZZ == 0 ]] || install_fuzz_tools

FAILED=()

# temp dir (reports, the server's data and log), removed with the server on any exit
TMP=$(mktemp -d "${TMPDIR:-/tmp}/herd-openapi.XXXXXX")
SERVER_PID=""
ST_PID=""

cleanup() {
    local rc=$?
    set +e
    if [[ -n $ST_PID ]]; then
        kill -TERM "$ST_PID" 2>/dev/null
        wait "$ST_PID" 2>/dev/null
    fi
    if [[ -n $SERVER_PID ]]; then
        kill -TERM "$SERVER_PID" 2>/dev/null
        for _ in $(seq 150); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
    fi
    if [[ ${HERD_TEST_KEEP:-} == 1 ]]; then
        log "kept $TMP"
    else
        rm -rf "$TMP"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 2. lint ---------------------------------------------------------------------------

# Redocly prints a boxed notice about the Node.js version on stderr; drop it.
without_banner() { grep -v -F -e '╔' -e '║' -e '╚' | grep -v '^[[:space:]]*$' || true; }

lint() {
    local bin=$LINT_DIR/node_modules/.bin
    log "spectral lint $DOC (spectral:oas, --fail-severity=warn)"
    "$bin/spectral" lint "$DOC" --ruleset openapi/lint/.spectral.yaml --fail-severity=warn \
        || FAILED+=("spectral lint")

    log "redocly lint $DOC (recommended; warnings fail too)"
    local rc=0
    REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
        "$bin/redocly" lint "$DOC" --format=json --max-problems=100000 \
        >"$TMP/redocly.json" 2>"$TMP/redocly.err" || rc=$?
    without_banner <"$TMP/redocly.err" >&2
    if ! python3 - "$TMP/redocly.json" "$rc" <<'EOF'; then
import json, sys
path, rc = sys.argv[1], int(sys.argv[2])
try:
    report = json.load(open(path))
    totals, problems = report["totals"], report["problems"]
except Exception as e:  # no report at all: redocly itself failed
    print(f"redocly wrote no JSON report ({e}), exit code {rc}", file=sys.stderr)
    sys.exit(1)
for p in problems:
    loc = (p.get("location") or [{}])[0]
    start = loc.get("start", {})
    print(f"{loc.get('source', {}).get('ref', '?')}:{start.get('line', '?')}:{start.get('col', '?')} "
          f"{p['severity']} {p['ruleId']}: {p['message']} (at {loc.get('pointer', '?')})", file=sys.stderr)
print(f"redocly: {totals['errors']} errors, {totals['warnings']} warnings, "
      f"{totals.get('ignored', 0)} ignored", file=sys.stderr)
sys.exit(1 if rc != 0 or totals["errors"] or totals["warnings"] else 0)
EOF
        FAILED+=("redocly lint")
    fi
}
[[ $LINT == 0 ]] || lint

# --- 3. fuzz ---------------------------------------------------------------------------

# POST /api/v1/auth/tokens as admin; prints the token.
login() {
    python3 - "$1" "$2" <<'EOF'
import json, sys, urllib.request
addr, password = sys.argv[1], sys.argv[2]
req = urllib.request.Request(
    f"http://{addr}/api/v1/auth/tokens",
    data=json.dumps({"username": "admin", "password": password}).encode(),
    headers={"content-type": "application/json"}, method="POST")
with urllib.request.urlopen(req, timeout=30) as resp:
    print(json.load(resp)["token"])
EOF
}

fuzz() {
    [[ -x $SERVER_BIN ]] || { FAILED+=("schemathesis (no server binary $SERVER_BIN: cargo build first)"); return; }

    # A server of its own: nothing inherited (HERD_*, ./herd.toml) reaches it.
    local unset_herd=() v
    for v in $(compgen -e); do [[ $v == HERD_* ]] && unset_herd+=(-u "$v"); done
    local password
    password=fuzz-$(python3 -c 'import secrets; print(secrets.token_hex(12))')
    mkdir -p "$TMP/data"
    log "starting $SERVER_BIN (data in $TMP/data)"
    (cd "$TMP" && exec env "${unset_herd[@]}" \
        HERD_DATA_DIR="$TMP/data" HERD_LISTEN=127.0.0.1:0 HERD_ADMIN_PASSWORD="$password" \
        HERD_IMAGE_SIZE_MB=1 \
        "$SERVER_BIN" serve >"$TMP/server.out" 2>"$TMP/server.log" </dev/null) &
    SERVER_PID=$!

    local addr=""
    for _ in $(seq 600); do
        addr=$(sed -n 's#^herd-server listening on http://\([^ ]*\)$#\1#p' "$TMP/server.out" | head -n1)
        [[ -n $addr ]] && break
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    if [[ -z $addr ]]; then
        tail -n 40 "$TMP/server.log" >&2
        FAILED+=("schemathesis (herd-server did not start)")
        return
    fi
    log "herd-server on http://$addr (pid $SERVER_PID)"

    local token logout_token
    if ! token=$(login "$addr" "$password") || ! logout_token=$(login "$addr" "$password"); then
        tail -n 40 "$TMP/server.log" >&2
        FAILED+=("schemathesis (login as admin failed)")
        return
    fi

    local color=()
    [[ -t 1 ]] || color=(--no-color)
    local args=(
        run "http://$addr/openapi.json"
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
        --phases examples,coverage,fuzzing,stateful
        --header "Authorization: Bearer $token"
        --max-examples "$MAX_EXAMPLES"
        --seed "$SEED"
        --workers 1
        --request-timeout 10
        --generation-database none
        --report junit --report-junit-path "$TMP/schemathesis-junit.xml"
        "${color[@]}"
        "${ST_EXTRA[@]}"
    )
    log "st ${args[*]/$token/TOKEN}"
    local rc=0
    # In the background, so that INT/TERM reach the cleanup at once. Run in
    # the temp dir: schemathesis keeps its crash files in the working directory.
    (cd "$TMP" && HERD_FUZZ_LOGOUT_TOKEN=$logout_token \
        exec "$VENV/bin/st" --config-file "$FUZZ_DIR/schemathesis.toml" "${args[@]}" </dev/null) &
    ST_PID=$!
    wait "$ST_PID" || rc=$?
    ST_PID=""
    [[ $rc == 0 ]] || FAILED+=("schemathesis (exit $rc)")
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        tail -n 40 "$TMP/server.log" >&2
        FAILED+=("herd-server died during the fuzz run")
    fi
}
[[ $FUZZ == 0 ]] || fuzz

if [[ ${#FAILED[@]} -gt 0 ]]; then
    printf '\ncheck-openapi FAILED: %s\n' "${FAILED[*]}" >&2
    exit 1
fi
printf '\ncheck-openapi: all passed\n' >&2
