#!/usr/bin/env bash
# herd's test command (README, second command; also what .ci/run executes).
#
#   scripts/test.sh                  build, lint, then run every test
#   scripts/test.sh -- FILTER...     pass extra arguments to the test runner
#   scripts/test.sh --with-services CMD [ARG...]
#                                    only start the services, run CMD with the
#                                    HERD_TEST_* variables set, stop them again
#                                    (e.g. `... --with-services cargo test -p herd-tests ldap`)
#
# It installs the system packages the end-to-end tests need (as root, only the
# missing ones), starts a throwaway OpenLDAP (fixture: tests/fixtures/ldap/) and a
# throwaway PostgreSQL on free loopback ports inside a temporary directory,
# exports HERD_TEST_* for the tests, runs fmt, clippy, build and the tests, and
# removes everything again on exit, whatever happens.
#
# Before the services start it also runs, after the build:
#   clients/regenerate.sh --check   the generated clients match openapi/openapi.json
#   scripts/check-openapi.sh        Spectral and Redocly lint openapi/openapi.json
#                                   (any warning fails), then schemathesis fuzzes
#                                   the built herd-server against its live
#                                   /openapi.json (tools pinned in openapi/lint and
#                                   openapi/fuzz; run it alone the same way)
# Both need node, npm and python3; a failure of either is reported at the end
# like a failing test.
#
# Settings (environment):
#   HERD_TEST_SKIP_LINT=1   skip `cargo fmt --check` and `cargo clippy` (local use)
#   HERD_TEST_KEEP=1        keep the temporary directory (logs) after the run
#                           (scripts/check-openapi.sh keeps its own too)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'scripts/test.sh: %s\n' "$*" >&2; exit 1; }

EXTRA_ARGS=()
WITH_SERVICES=()
if [[ ${1:-} == "--with-services" ]]; then
    shift
    [[ $# -gt 0 ]] || die "--with-services needs a command"
    WITH_SERVICES=("$@")
elif [[ ${1:-} == "--" ]]; then
    shift
    EXTRA_ARGS=("$@")
elif [[ $# -gt 0 ]]; then
    EXTRA_ARGS=("$@")
fi

# --- 1. system packages --------------------------------------------------------

pg_bin_dir() {
    local d
    for d in /usr/lib/postgresql/*/bin; do
        [[ -x $d/initdb && -x $d/pg_ctl ]] && { echo "$d"; return 0; }
    done
    return 1
}

missing_packages() {
    local missing=()
    [[ -x /usr/sbin/slapd ]] || missing+=(slapd)
    { command -v ldapwhoami && command -v ldapsearch; } >/dev/null 2>&1 || missing+=(ldap-utils)
    { pg_bin_dir && command -v pg_isready; } >/dev/null 2>&1 || missing+=(postgresql)
    { [[ -x /usr/sbin/nft ]] || command -v nft; } >/dev/null 2>&1 || missing+=(nftables)
    { [[ -x /usr/bin/named-checkzone ]] || command -v named-checkzone; } >/dev/null 2>&1 || missing+=(bind9-utils)
    command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
    command -v openssl >/dev/null 2>&1 || missing+=(openssl)
    command -v curl >/dev/null 2>&1 || missing+=(curl)
    [[ -x /usr/bin/chromium ]] || missing+=(chromium)
    [[ -d /usr/share/fonts/truetype/dejavu ]] || missing+=(fonts-dejavu-core)
    echo "${missing[*]}"
}

MISSING=$(missing_packages)
if [[ -n $MISSING ]]; then
    if [[ $(id -u) -eq 0 ]]; then
        log "installing missing packages: $MISSING"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq </dev/null
        # shellcheck disable=SC2086
        apt-get install -y -qq --no-install-recommends $MISSING </dev/null >/dev/null
        MISSING=$(missing_packages)
        [[ -z $MISSING ]] || die "still missing after apt-get install: $MISSING"
    else
        die "missing system packages: $MISSING
install them first, e.g.:
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y $MISSING
(or run this script as root, which installs them itself)"
    fi
fi
PG_BIN=$(pg_bin_dir)
command -v cargo >/dev/null || die "cargo not found on PATH (install Rust, see README)"

# --- 2. build and lint -----------------------------------------------------------

FAILED=()

build_and_lint() {
    if [[ ${HERD_TEST_SKIP_LINT:-} != 1 ]]; then
        log "cargo fmt --all --check"
        cargo fmt --all --check || FAILED+=("cargo fmt --check")
        log "cargo clippy --workspace --all-targets -- -D warnings"
        cargo clippy --workspace --all-targets -- -D warnings || FAILED+=("cargo clippy")
    fi
    log "cargo build --workspace --all-targets"
    if ! cargo build --workspace --all-targets; then
        die "cargo build failed${FAILED:+ (also failed: ${FAILED[*]})}"
    fi
}
[[ ${#WITH_SERVICES[@]} -gt 0 ]] || build_and_lint

# Generated clients (clients/): regenerate into a temp dir with the pinned
# tools and compare with the checked-in code (this also installs the npm and
# pip tools the client tests use). Needs node/npm and python3.
check_clients() {
    if ! { command -v npm && command -v node && command -v python3; } >/dev/null 2>&1; then
        FAILED+=("clients/regenerate.sh --check (needs node, npm and python3)")
        return
    fi
    log "clients/regenerate.sh --check"
    clients/regenerate.sh --check || FAILED+=("clients/regenerate.sh --check (run clients/regenerate.sh)")
}
[[ ${#WITH_SERVICES[@]} -gt 0 ]] || check_clients

# The web page (web/): rebuild it into a temp dir with the pinned tools and
# compare with the checked-in web/dist/, which the server builds in.
check_web() {
    if ! { command -v npm && command -v node; } >/dev/null 2>&1; then
        FAILED+=("web/build.sh --check (needs node and npm)")
        return
    fi
    log "web/build.sh --check"
    web/build.sh --check || FAILED+=("web/build.sh --check (run web/build.sh)")
}
[[ ${#WITH_SERVICES[@]} -gt 0 ]] || check_web

# The browser tests (tests/browser/, run by tests/tests/web_page.rs):
# Playwright for Python in a venv, axe-core from npm, both pinned; the
# browser is Debian's chromium (installed above), never a downloaded one.
prepare_browser_tests() {
    local dir=tests/browser venv=tests/browser/.venv
    if ! "$venv/bin/pip" freeze 2>/dev/null | grep -qxF -f "$dir/requirements.txt"; then
        log "python venv $venv with $(grep -v '^\s*#' "$dir/requirements.txt" | xargs)"
        python3 -m venv "$venv" &&
            "$venv/bin/pip" install -q --disable-pip-version-check -r "$dir/requirements.txt" >&2 ||
            { FAILED+=("tests/browser venv (pip install -r tests/browser/requirements.txt)"); return; }
    fi
    if [[ ! -f $dir/node_modules/axe-core/axe.min.js ]]; then
        log "npm ci (tests/browser)"
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2) ||
            FAILED+=("npm ci in tests/browser")
    fi
}
prepare_browser_tests

# The OpenAPI document: lint it (Spectral spectral:oas, Redocly recommended;
# warnings fail) and fuzz the herd-server just built against its live
# /openapi.json with schemathesis (scripts/check-openapi.sh, pinned tools in
# openapi/lint and openapi/fuzz). Needs node/npm and python3.
check_openapi() {
    if ! { command -v npm && command -v node && command -v python3; } >/dev/null 2>&1; then
        FAILED+=("scripts/check-openapi.sh (needs node, npm and python3)")
        return
    fi
    log "scripts/check-openapi.sh"
    scripts/check-openapi.sh || FAILED+=("scripts/check-openapi.sh (OpenAPI lint or schemathesis)")
}
[[ ${#WITH_SERVICES[@]} -gt 0 ]] || check_openapi

# --- 3. throwaway services -------------------------------------------------------

TMP=$(mktemp -d "${TMPDIR:-/tmp}/herd-test.XXXXXX")
chmod 755 "$TMP" # the postgres user must reach its directory inside
SLAPD_PID=""
PG_STARTED=""
CHILD_PID=""
AS_PG=()
if [[ $(id -u) -eq 0 ]]; then AS_PG=(runuser -u postgres --); fi

cleanup() {
    local rc=$?
    set +e
    if [[ -n $CHILD_PID ]]; then
        kill -TERM "$CHILD_PID" 2>/dev/null
        for _ in $(seq 100); do kill -0 "$CHILD_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$CHILD_PID" 2>/dev/null
    fi
    if [[ -n $SLAPD_PID ]]; then
        kill "$SLAPD_PID" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$SLAPD_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$SLAPD_PID" 2>/dev/null
    fi
    if [[ -n $PG_STARTED ]]; then
        "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$TMP/pg/data" -m immediate -w -t 20 stop >/dev/null 2>&1
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

# Runs a command in the background and waits for it, so that a TERM or INT
# sent to this script runs the cleanup at once (bash defers traps while a
# foreground command runs); the cleanup stops the command too.
run() {
    local rc=0
    "$@" </dev/null &
    CHILD_PID=$!
    wait "$CHILD_PID" || rc=$?
    CHILD_PID=""
    return "$rc"
}

# A free loopback port: ask the kernel (python3) or probe random ports (bash).
free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
        return
    fi
    local p
    for _ in $(seq 200); do
        p=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
    done
    die "no free loopback port found"
}

# Poll a command until it succeeds, at most $1 tenths of a second; give up
# early when process $2 (if not empty) has died.
wait_for() {
    local tenths=$1 pid=$2; shift 2
    for _ in $(seq "$tenths"); do
        "$@" >/dev/null 2>&1 && return 0
        if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
        sleep 0.1
    done
    return 1
}

# OpenLDAP
LDAP_BASE="dc=herd,dc=test"
LDAP_BIND_DN="cn=herd-svc,ou=services,$LDAP_BASE"
LDAP_BIND_PASSWORD="herd-svc-pw"
mkdir -p "$TMP/ldap/db"
cat >"$TMP/ldap/slapd.conf" <<EOF
include         /etc/ldap/schema/core.schema
include         /etc/ldap/schema/cosine.schema
include         /etc/ldap/schema/inetorgperson.schema
include         /etc/ldap/schema/nis.schema
pidfile         $TMP/ldap/slapd.pid
modulepath      /usr/lib/ldap
moduleload      back_mdb
database        mdb
maxsize         104857600
suffix          "$LDAP_BASE"
rootdn          "cn=root,$LDAP_BASE"
rootpw          root-pw
directory       $TMP/ldap/db
index           objectClass,uid,cn,memberUid,member eq
# Passwords: only for binding. Everything else: readable by bound users (the
# service account, users after their bind); anonymous may only bind, so the
# server has to search with its service account.
access to attrs=userPassword
        by self write
        by anonymous auth
        by * none
access to *
        by users read
        by anonymous auth
EOF
/usr/sbin/slapadd -q -f "$TMP/ldap/slapd.conf" -l "$ROOT/tests/fixtures/ldap/directory.ldif" \
    >"$TMP/ldap/slapadd.log" 2>&1 || { cat "$TMP/ldap/slapadd.log" >&2; die "slapadd failed"; }

for attempt in 1 2 3; do
    LDAP_PORT=$(free_port)
    LDAP_URL="ldap://127.0.0.1:$LDAP_PORT"
    /usr/sbin/slapd -f "$TMP/ldap/slapd.conf" -h "$LDAP_URL/" -d 0 >"$TMP/ldap/slapd.log" 2>&1 &
    SLAPD_PID=$!
    if wait_for 100 "$SLAPD_PID" ldapwhoami -x -H "$LDAP_URL" -D "$LDAP_BIND_DN" -w "$LDAP_BIND_PASSWORD"; then
        break
    fi
    kill "$SLAPD_PID" 2>/dev/null || true
    SLAPD_PID=""
    [[ $attempt -lt 3 ]] || { cat "$TMP/ldap/slapd.log" >&2; die "slapd did not answer on $LDAP_URL"; }
done
log "slapd on $LDAP_URL (pid $SLAPD_PID)"

# PostgreSQL
mkdir -p "$TMP/pg"
if [[ $(id -u) -eq 0 ]]; then chown postgres:postgres "$TMP/pg"; fi
"${AS_PG[@]}" "$PG_BIN/initdb" -D "$TMP/pg/data" -U postgres -A trust -E UTF8 --no-sync \
    >"$TMP/pg/initdb.log" 2>&1 || { cat "$TMP/pg/initdb.log" >&2; die "initdb failed"; }
for attempt in 1 2 3; do
    PG_PORT=$(free_port)
    if "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$TMP/pg/data" -l "$TMP/pg/log" -w -t 30 \
        -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories=$TMP/pg -F -c max_connections=300" \
        start >/dev/null 2>&1; then
        PG_STARTED=1
        break
    fi
    [[ $attempt -lt 3 ]] || { cat "$TMP/pg/log" >&2; die "PostgreSQL did not start"; }
done
wait_for 100 "" pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -U postgres \
    || { cat "$TMP/pg/log" >&2; die "PostgreSQL does not answer on port $PG_PORT"; }
log "PostgreSQL on 127.0.0.1:$PG_PORT"

export HERD_TEST_LDAP_URL="$LDAP_URL"
export HERD_TEST_LDAP_BIND_DN="$LDAP_BIND_DN"
export HERD_TEST_LDAP_BIND_PASSWORD="$LDAP_BIND_PASSWORD"
export HERD_TEST_LDAP_BASE="$LDAP_BASE"
export HERD_TEST_PG_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"

# --- 4. tests ----------------------------------------------------------------------

if [[ ${#WITH_SERVICES[@]} -gt 0 ]]; then
    rc=0
    run "${WITH_SERVICES[@]}" || rc=$?
    exit "$rc"
fi

if cargo nextest --version >/dev/null 2>&1; then
    log "cargo nextest run --workspace --no-fail-fast"
    run cargo nextest run --workspace --no-fail-fast "${EXTRA_ARGS[@]}" || FAILED+=("tests")
    # nextest does not run doctests
    if [[ ${#EXTRA_ARGS[@]} -eq 0 ]]; then
        log "cargo test --workspace --doc"
        run cargo test --workspace --doc || FAILED+=("doctests")
    fi
else
    log "cargo test --workspace --no-fail-fast"
    run cargo test --workspace --no-fail-fast "${EXTRA_ARGS[@]}" || FAILED+=("tests")
fi

if [[ ${#FAILED[@]} -gt 0 ]]; then
    printf '\nFAILED: %s\n' "${FAILED[*]}" >&2
    exit 1
fi
printf '\nall checks passed\n' >&2
