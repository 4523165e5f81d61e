#!/usr/bin/env bash
# Runs the third-party client suites and the sessiond Node package's suite against a real sessiond
# process.
#
#   tests/clients/run.sh                          every suite
#   tests/clients/run.sh suites/ioredis.test.js   some suites
#   SESSIOND_BIN=/path/to/sessiond tests/clients/run.sh     use that binary instead of building one
#
# On a fresh Debian machine it installs what is missing (redis-tools for redis-cli, python3-redis for
# redis-py; apt-get update only when an install fails without it), runs `npm ci` here when
# package-lock.json changed since the last install, builds sessiond with `go build`, and runs the
# suites with Node's test runner. Needs no standard input. Exits non-zero when a test fails.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
start=$SECONDS
export DEBIAN_FRONTEND=noninteractive

log() { printf '== %s\n' "$*"; }

apt_updated=0
apt_install() {
  if [ "$(id -u)" != 0 ]; then
    echo "missing Debian packages: $* (run: sudo apt-get install -y $*)" >&2
    return 1
  fi
  local apt=(apt-get -o DPkg::Lock::Timeout=300 -y -qq)
  log "apt-get install $*"
  if ! "${apt[@]}" install "$@" </dev/null >/dev/null 2>&1; then
    if [ "$apt_updated" = 0 ]; then
      log "apt-get update"
      "${apt[@]}" update </dev/null >/dev/null
      apt_updated=1
    fi
    "${apt[@]}" install "$@" </dev/null >/dev/null
  fi
}

deb_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# Node 20 or newer (node-redis 6 and ioredis 6 need it).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "node and npm (Node.js 20 or newer) are required" >&2
  exit 1
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "Node.js 20 or newer is required (found $(node --version))" >&2
  exit 1
fi

missing=()
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
deb_installed python3-redis || missing+=(python3-redis)
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"

# npm ci, unless node_modules was installed from this very package-lock.json.
lock_sum=$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)
stamp="$here/node_modules/.installed-from-lock"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_sum" ]; then
  log "npm ci"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error </dev/null)
  echo "$lock_sum" >"$stamp"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The sessiond Node package (clients/node) is tested as a user gets it: `npm pack` makes the
# tarball, and `npm install --no-save` puts it in node_modules without touching package.json or
# package-lock.json (it has no dependencies of its own; express-session is a peer installed here).
log "npm pack clients/node"
tarball=$(cd "$root/clients/node" && npm pack --silent --pack-destination "$tmp" </dev/null | tail -n 1)
(cd "$here" && npm install --no-save --no-audit --no-fund --loglevel=error "$tmp/$tarball" </dev/null)
if [ -z "${SESSIOND_BIN:-}" ]; then
  log "go build -o $tmp/sessiond ."
  (cd "$root" && go build -o "$tmp/sessiond" .)
  export SESSIOND_BIN="$tmp/sessiond"
fi
log "server under test: $SESSIOND_BIN"

# Every suite must run: a missing redis-cli or redis-py fails instead of skipping.
export CLIENT_TESTS_REQUIRE_ALL=1
cd "$here"
if [ $# -gt 0 ]; then suites=("$@"); else suites=(suites/*.test.js); fi
status=0
node --test --test-reporter=spec --test-concurrency=2 --test-timeout=180000 "${suites[@]}" </dev/null || status=$?
log "client suites finished in $((SECONDS - start)) s (exit $status)"
exit $status
