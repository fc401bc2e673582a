#!/usr/bin/env bash
# Regenerates every client from openapi/openapi.json (the document that
# `herd-server openapi` writes):
#
#   clients/openapi-3.0.json   3.0 copy for progenitor (clients/rust compiles it
#                              with generate_api! at build time): down-converted
#                              with @apiture/openapi-down-convert, then fixed up
#                              by preprocess-3.0.mjs (documented there)
#   clients/python/            openapi-python-client (package herd_client)
#   clients/typescript/src/schema.d.ts   openapi-typescript
#   clients/GENERATED.sha256   checksums of the document and of every generated
#                              file; tests/tests/clients.rs fails when they do
#                              not match (document changed without running this
#                              script, or generated code edited by hand)
#
#   clients/regenerate.sh           regenerate in place
#   clients/regenerate.sh --check   regenerate into a temp dir and fail (exit 1)
#                                   when anything differs from the checked-in files
#
# Tools are pinned: clients/package-lock.json (down-convert),
# clients/typescript/package-lock.json (openapi-typescript),
# clients/requirements-tools.txt (openapi-python-client, installed into
# clients/.tools/venv). Needs node >= 20, npm and python3 >= 3.11.
set -euo pipefail

cd "$(dirname "$0")"
CLIENTS=$PWD
ROOT=$(cd .. && pwd)
DOC=$ROOT/openapi/openapi.json

CHECK=0
[[ ${1:-} == "--check" ]] && CHECK=1

log() { printf '==> %s\n' "$*" >&2; }

[[ -f $DOC ]] || { echo "missing $DOC" >&2; exit 1; }

# --- tools ------------------------------------------------------------------------
if [[ ! -x node_modules/.bin/openapi-down-convert ]]; then
    log "npm ci (clients/)"
    npm ci --no-audit --no-fund --loglevel=error >&2
fi
if [[ ! -x typescript/node_modules/.bin/openapi-typescript ]]; then
    log "npm ci (clients/typescript)"
    (cd typescript && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
VENV=$CLIENTS/.tools/venv
if ! "$VENV/bin/pip" freeze 2>/dev/null | grep -qxF -f requirements-tools.txt; then
    log "python venv with $(cat requirements-tools.txt)"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r requirements-tools.txt >&2
fi

# --- generate into OUT -------------------------------------------------------------
if [[ $CHECK == 1 ]]; then
    OUT=$(mktemp -d "${TMPDIR:-/tmp}/herd-clients.XXXXXX")
    trap 'rm -rf "$OUT"' EXIT
else
    OUT=$CLIENTS
fi

log "openapi-3.0.json (down-convert + preprocess-3.0.mjs)"
node_modules/.bin/openapi-down-convert --input "$DOC" --output "$OUT/openapi-3.0.json"
node preprocess-3.0.mjs "$OUT/openapi-3.0.json"

log "typescript/src/schema.d.ts (openapi-typescript)"
mkdir -p "$OUT/typescript/src"
typescript/node_modules/.bin/openapi-typescript "$DOC" -o "$OUT/typescript/src/schema.d.ts" >/dev/null 2>&1

log "python/ (openapi-python-client)"
PYTMP=$(mktemp -d "${TMPDIR:-/tmp}/herd-py.XXXXXX")
(cd "$PYTMP" && "$VENV/bin/openapi-python-client" generate --path "$DOC" \
    --config "$CLIENTS/python-config.yaml" --meta pdm --output-path "$PYTMP/python" >/dev/null)
rm -rf "$OUT/python"
mv "$PYTMP/python" "$OUT/python"
rm -rf "$PYTMP"

# --- checksums ---------------------------------------------------------------------
manifest() {
    # paths relative to the repository root, sorted, sha256sum format
    local base=$1
    {
        (cd "$ROOT" && sha256sum openapi/openapi.json)
        (cd "$base" && find openapi-3.0.json typescript/src/schema.d.ts python -type f \
            ! -path '*/__pycache__/*' ! -path '*.egg-info/*' ! -path 'python/dist/*' ! -path 'python/build/*' \
            | LC_ALL=C sort | xargs sha256sum | sed 's#  #  clients/#')
    }
}

if [[ $CHECK == 1 ]]; then
    manifest "$OUT" >"$OUT/GENERATED.sha256"
    if diff -u GENERATED.sha256 "$OUT/GENERATED.sha256" >&2; then
        log "clients are up to date"
    else
        echo "clients are stale: run clients/regenerate.sh and commit the result" >&2
        exit 1
    fi
else
    manifest "$CLIENTS" >GENERATED.sha256
    log "wrote clients/GENERATED.sha256"
fi
