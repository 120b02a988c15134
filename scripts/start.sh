#!/usr/bin/env sh
# Starts berth; installs the npm packages and builds only when they are missing or out of date.
# Arguments go to `berth serve`, e.g. --listen 127.0.0.1:5000 --data-dir ./berth-data
set -e
root=$(cd "$(dirname "$0")/.." && pwd)
(
  cd "$root"
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund
  fi
  if [ ! -f dist/main.js ] || [ -n "$(find src package.json tsconfig.json -newer dist/main.js -print -quit)" ]; then
    npm run build
  fi
) >&2
exec node "$root/bin/berth.js" serve "$@"
