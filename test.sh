#!/usr/bin/env bash
# Runs every test of sessiond: formatting and vet, the Go tests (engine unit
# tests and command tests over real sockets, with the race detector), the
# redis-cli smoke test, the third-party client suites (Node, Python) against a
# real sessiond process, and a one-second smoke run of each benchmark scenario.
# It installs what it needs on a fresh Debian machine (Go modules, npm packages,
# redis-tools, redis-server, python3-redis).
#
#   ./test.sh           everything
#   ./test.sh go        only the Go checks and tests
set -uo pipefail
cd "$(dirname "$0")"

only=${1:-all}
passed=0
failed=0
failures=()

step() {
  local name=$1
  shift
  echo
  echo "=== $name"
  local start=$SECONDS
  if "$@"; then
    passed=$((passed + 1))
    echo "--- ok: $name ($((SECONDS - start))s)"
  else
    failed=$((failed + 1))
    failures+=("$name")
    echo "--- FAILED: $name ($((SECONDS - start))s)"
  fi
}

apt_updated=0
need_deb() { # need_deb command package...
  local cmd=$1
  shift
  command -v "$cmd" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "missing $cmd: install $* (apt-get install $*)" >&2
    return 1
  fi
  if [ $apt_updated = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

gofmt_clean() {
  local out
  out=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './tests/clients/node_modules/*'))
  if [ -n "$out" ]; then
    echo "gofmt would change:"
    echo "$out"
    return 1
  fi
}

go_tests() { go test -race -count=1 -timeout 20m ./...; }

# The documentation's examples (internal/doctest) run redis-cli and redis-py against a live server,
# and the Go client's failover tests run redis-server --sentinel; the full run installs them first
# and makes a missing one a failure rather than a skip.
docs_prereqs() {
  need_deb redis-cli redis-tools || return 1
  need_deb redis-server redis-server || return 1
  /usr/bin/python3 -c 'import redis' 2>/dev/null || python3 -c 'import redis' 2>/dev/null && return 0
  [ "$(id -u)" = 0 ] || { echo "missing redis-py: apt-get install python3-redis" >&2; return 1; }
  if [ $apt_updated = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-redis >/dev/null
}
if [ "$only" = all ]; then
  step "test prerequisites (redis-cli, redis-py, redis-server for Sentinel)" docs_prereqs
  export SESSIOND_DOCS_REQUIRE_ALL=1 SESSIOND_REQUIRE_SENTINEL=1
fi

step "go mod download" go mod download
step "gofmt" gofmt_clean
step "go vet" go vet ./...
step "go test -race" go_tests

if [ "$only" = all ]; then
  if [ -x tests/redis-cli/smoke.sh ]; then
    step "redis-cli smoke" tests/redis-cli/smoke.sh
  fi
  if [ -x tests/clients/run.sh ]; then
    step "client suites (ioredis, node-redis, connect-redis, jwt-redis-session, redis-py, redis-cli)" tests/clients/run.sh
  fi
  if [ -f bench/main.go ] || [ -d bench ] && ls bench/*.go >/dev/null 2>&1; then
    bench_smoke() { need_deb redis-server redis-server && go run ./bench compare -smoke; }
    step "bench smoke (1s per scenario, sessiond and redis-server)" bench_smoke
  fi
fi

echo
if [ $failed -gt 0 ]; then
  printf 'failed steps:\n'
  printf '  %s\n' "${failures[@]}"
fi
echo "steps: $passed passed, $failed failed"
[ $failed -eq 0 ]
