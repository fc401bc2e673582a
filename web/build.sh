#!/usr/bin/env bash
# Builds web/dist/ (docs/web.md): typechecks the page, bundles it with the
# pinned esbuild and writes SOURCES.sha256, the digests of every input.
#   web/build.sh          build into web/dist/
#   web/build.sh --check  build into a temp dir; fail when web/dist/ differs
set -euo pipefail
export LC_ALL=C

web="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$web/.." && pwd)"

check=0
case "${1:-}" in
  --check) check=1 ;;
  "") ;;
  *) echo "usage: web/build.sh [--check]" >&2; exit 2 ;;
esac

cd "$web"
if [ ! -d node_modules ]; then
  npm ci --ignore-scripts --no-audit --no-fund
fi
node_modules/.bin/tsc --noEmit -p tsconfig.json

# Every input of the build, as paths from the repository's root.
sources() {
  (
    cd "$repo"
    {
      find web/src -type f
      printf '%s\n' web/index.html web/package.json web/package-lock.json \
        web/build.mjs web/build.sh web/tsconfig.json \
        clients/typescript/src/index.ts clients/typescript/src/schema.d.ts
    } | sort | xargs sha256sum
  )
}

build_into() {
  local out="$1"
  mkdir -p "$out/assets"
  node build.mjs "$out"
  cp index.html "$out/index.html"
  sources >"$out/SOURCES.sha256"
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
build_into "$tmp/dist"

if [ "$check" = 1 ]; then
  if ! diff -r "$web/dist" "$tmp/dist" >"$tmp/diff" 2>&1; then
    sed -n '1,20p' "$tmp/diff" | cut -c1-200 >&2
    echo "web/dist is stale: run web/build.sh and commit the result" >&2
    exit 1
  fi
  echo "web/dist is up to date"
  exit 0
fi

rm -rf "$web/dist"
mkdir -p "$web/dist"
cp -R "$tmp/dist/." "$web/dist/"
( cd "$web/dist" && wc -c index.html assets/app.js assets/app.css )
