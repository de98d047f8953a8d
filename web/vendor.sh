#!/usr/bin/env bash
# Re-vendors the demo pages' npm packages: `npm ci` from the committed lock (integrity-checked) in a temp
# folder, then copies only the files the pages load, with each package's LICENSE, into
# demo/vendor/<package>/, under the same paths as in the package. The output is committed, so the demo
# and the browser tests never fetch anything. demo/vendor/test-gvl/ is hand-written and left alone.
set -euo pipefail

web="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cp "$web/package.json" "$web/package-lock.json" "$work/"
npm ci --prefix "$work" --ignore-scripts --no-audit --no-fund --loglevel=error

# vendor PACKAGE FILE... : replaces demo/vendor/PACKAGE with LICENSE plus the given files.
vendor() {
  local package="$1" file
  shift
  rm -rf "$web/demo/vendor/$package"
  for file in LICENSE "$@"; do
    install -D -m 644 "$work/node_modules/$package/$file" "$web/demo/vendor/$package/$file"
  done
}

# The UMD build defines window.CookieConsent; its stylesheet styles the banner.
vendor vanilla-cookieconsent dist/cookieconsent.umd.js dist/cookieconsent.css

# Published as ES modules only: the page maps the bare "@iabtcf/core" import with an import map, so the
# files are used as published, without a bundler. Type declarations are left out.
for package in @iabtcf/core @iabtcf/cmpapi; do
  mapfile -t modules < <(cd "$work/node_modules/$package" && find lib/mjs -name '*.js' | sort)
  vendor "$package" "${modules[@]}"
done
