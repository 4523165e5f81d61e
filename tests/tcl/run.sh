#!/usr/bin/env bash
# Runs units of Redis' own Tcl test suite (redis 7.0.x, from Debian's source
# package) against a freshly built sessiond, and prints pass/fail per unit.
#
#   tests/tcl/run.sh [unit ...]          default: the six units of issue 2
#   tests/tcl/run.sh --own unit/acl ...  the suite's own mode: it starts a
#                                        server per test block itself, from
#                                        src/redis-server, which is the shim
#                                        (tests/tcl/shim) that execs sessiond
#                                        with the suite's config file
#                                        translated; units tagged
#                                        external:skip (acl, auth, ...) run.
#                                        Unit names may omit the "unit/".
#
# Environment:
#   REDIS_SRC   where the redis sources live (default /work/redis-src; fetched
#               with `apt-get source redis` when missing)
#   DURABLE=1   pass --durable (keep going after an exception, for diagnosis)
#   VERBOSE=1   show the suite's full output
#   LOGDIR=dir  keep each unit's output (and the server log) in dir
#   ALLOW_MAXMEMORY=1  also run the tests tagged needs:config-maxmemory
#               (they CONFIG SET maxmemory and maxmemory-policy)
#   SERVER=redis  run the same units against redis-server (the baseline for
#               the README table) instead of sessiond
#
# The Redis sources are never copied into this repository.
set -u

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
src_root=${REDIS_SRC:-/work/redis-src}

own=0
if [ "${1:-}" = --own ]; then
	own=1
	shift
fi
units=()
for u in "$@"; do units+=("${u#unit/}"); done
if [ ${#units[@]} -eq 0 ]; then
	units=(keyspace expire type/string type/incr protocol info-command)
fi

need_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# 1. Tcl.
if ! command -v tclsh >/dev/null; then
	need_root apt-get install -y tcl tcl-tls >/dev/null 2>&1 || need_root apt-get install -y tcl >/dev/null
fi

# 2. The suite (Debian's redis 7.0.x source package).
suite=$(ls -d "$src_root"/redis-7.0.*/ 2>/dev/null | head -1)
if [ -z "$suite" ]; then
	if ! apt-cache showsrc redis >/dev/null 2>&1 || [ -z "$(apt-cache showsrc redis 2>/dev/null)" ]; then
		# Add deb-src lines for the suites the machine already uses.
		if [ -f /etc/apt/sources.list.d/debian.sources ] && [ ! -f /etc/apt/sources.list.d/debian-src.sources ]; then
			sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources |
				need_root tee /etc/apt/sources.list.d/debian-src.sources >/dev/null
		elif [ -f /etc/apt/sources.list ]; then
			grep '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' |
				need_root tee /etc/apt/sources.list.d/debian-src.list >/dev/null
		fi
		need_root apt-get update >/dev/null
	fi
	mkdir -p "$src_root"
	(cd "$src_root" && apt-get source redis >/dev/null 2>&1) || {
		echo "run.sh: apt-get source redis failed" >&2
		exit 2
	}
	suite=$(ls -d "$src_root"/redis-7.0.*/ | head -1)
fi
suite=${suite%/}

# 3. Build and start sessiond on a free port with a temporary directory.
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; [ -n "$pid" ] && wait "$pid" 2>/dev/null; rm -rf "$work"' EXIT
(cd "$repo" && go build -o "$work/sessiond" .) || exit 2
mkdir -p "$work/suite"
cp -a "$suite/runtest" "$suite/tests" "$work/suite/"
if [ "$own" = 1 ]; then
	# The suite's own mode: src/redis-server is the shim, and runtest starts
	# and kills the servers itself.
	mkdir -p "$work/suite/src"
	cp "$work/sessiond" "$work/suite/src/sessiond"
	(cd "$repo" && go build -o "$work/suite/src/redis-server" ./tests/tcl/shim) || exit 2
	for tool in redis-cli redis-benchmark redis-check-aof redis-check-rdb; do
		if command -v "$tool" >/dev/null; then ln -s "$(command -v "$tool")" "$work/suite/src/$tool"; fi
	done
	target=()
else
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# enable-protected-configs yes, as the suite's own servers run
# (tests/assets/default.conf): some units CONFIG SET dir or dbfilename.
if [ "${SERVER:-sessiond}" = redis ]; then
	redis-server --port "$port" --bind 127.0.0.1 --dir "$work" --save "" --enable-protected-configs yes >"$work/server.log" 2>&1 &
else
	(cd "$repo" && go build -o "$work/sessiond" .) || exit 2
	"$work/sessiond" --port "$port" --bind 127.0.0.1 --dir "$work" --enable-protected-configs yes >"$work/server.log" 2>&1 &
fi
pid=$!
for _ in $(seq 100); do
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
	sleep 0.05
done
target=(--host 127.0.0.1 --port "$port" --tags -needs:config-resetstat)
fi

# 4. Run each unit and count, from a private copy of the suite (runtest
# cleans tests/tmp, and other runs may share the source tree) and a random
# port range for the suite's own test server.
suite=$work/suite
baseport=$((20000 + RANDOM % 20000))
extra=()
[ "${DURABLE:-0}" = 1 ] && extra+=(--durable)
[ "${ALLOW_MAXMEMORY:-0}" = 1 ] || extra+=(--tags -needs:config-maxmemory)
total_ok=0 total_err=0 rc=0
start_all=$(date +%s)
printf '%-14s %6s %6s %6s %8s  %s\n' unit passed failed ignored rate status
for u in "${units[@]}"; do
	log="$work/$(echo "$u" | tr / _).out"
	t0=$(date +%s)
	(cd "$suite" && ./runtest "${target[@]}" --single "unit/$u" \
		--ignore-encoding --clients 1 --timeout 600 --baseport "$baseport" \
		--tags -needs:debug --tags -needs:repl \
		"${extra[@]}") >"$log" 2>&1
	status=$?
	t1=$(date +%s)
	clean="$log.clean"
	sed "s/\x1b\[[0-9;]*m//g" "$log" >"$clean"
	log=$clean
	ok=$(grep -c '^\[ok\]:' "$log")
	err=$(grep -c '^\[err\]:' "$log")
	ign=$(grep -c '^\[ignore\]:' "$log")
	state=done
	if grep -q '^\[exception\]:\|^\[TIMEOUT\]\|Killing still running\|I/O error reading reply' "$log"; then
		state=ABORTED
		rc=1
	elif [ $status -ne 0 ] && [ "$err" -eq 0 ]; then
		state="exit $status"
		rc=1
	fi
	n=$((ok + err))
	rate=$(awk -v a="$ok" -v b="$n" 'BEGIN { if (b == 0) print "-"; else printf "%.1f%%", 100*a/b }')
	printf '%-14s %6d %6d %6d %8s  %s (%ds)\n' "$u" "$ok" "$err" "$ign" "$rate" "$state" $((t1 - t0))
	if [ "${VERBOSE:-0}" = 1 ]; then
		cat "$log"
	else
		grep -A3 '^\[err\]:\|^\[exception\]:\|^\[TIMEOUT\]' "$log" | sed 's/^/    /' | head -60
	fi
	if [ -n "${LOGDIR:-}" ]; then
		mkdir -p "$LOGDIR" && cp "$log" "$LOGDIR/$(echo "$u" | tr / _).log"
		if [ "$own" = 1 ]; then
			# The servers' logs, with the shim's reports of what it dropped.
			find "$suite/tests/tmp" -name stdout -exec cat {} + >"$LOGDIR/$(echo "$u" | tr / _).servers.log" 2>/dev/null
		fi
	fi
	total_ok=$((total_ok + ok))
	total_err=$((total_err + err))
	if [ "$own" = 0 ] && ! kill -0 "$pid" 2>/dev/null; then
		echo "sessiond died; log:" >&2
		tail -50 "$work/server.log" >&2
		exit 1
	fi
done
[ -n "${LOGDIR:-}" ] && [ "$own" = 0 ] && cp "$work/server.log" "$LOGDIR/server.log"
n=$((total_ok + total_err))
rate=$(awk -v a="$total_ok" -v b="$n" 'BEGIN { if (b == 0) print "-"; else printf "%.1f%%", 100*a/b }')
printf '%-14s %6d %6d %6s %8s  (%ds)\n' total "$total_ok" "$total_err" "" "$rate" $(($(date +%s) - start_all))
[ "$total_err" -eq 0 ] || rc=1
exit $rc
