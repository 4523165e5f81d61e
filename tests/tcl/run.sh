#!/usr/bin/env bash
# Runs units of Redis' own Tcl test suite (redis 7.0.x, from Debian's source
# package) against a freshly built sessiond, and prints pass/fail per unit.
#
#   tests/tcl/run.sh [unit ...]          default: the six units of issue 2
#   tests/tcl/run.sh all                 every unit of the suite's ::all_tests
#                                        (unit/cluster/ aside), a fresh server
#                                        per unit, a 300 s limit per unit
#   tests/tcl/run.sh --own unit/acl ...  the suite's own mode: it starts a
#                                        server per test block itself, from
#                                        src/redis-server, which is the shim
#                                        (tests/tcl/shim) that execs sessiond
#                                        with the suite's config file
#                                        translated; units tagged
#                                        external:skip (acl, auth, ...) run.
#
# In `all` mode (or with FRESH=1) each unit gets its own server in its own
# directory; after each unit the server must still answer PING and its log
# must hold no Go panic, else the unit's status says so and the run fails.
#
# Environment:
#   REDIS_SRC   where the redis sources live (default /work/redis-src; fetched
#               with `apt-get source redis` when missing)
#   DURABLE=1   pass --durable (keep going after an exception, for diagnosis)
#   VERBOSE=1   show the suite's full output
#   LOGDIR=dir  keep each unit's output (and the server log) in dir
#   TARGET=redis-server   run the same units against /usr/bin/redis-server
#               (the baseline column) instead of sessiond; with --own,
#               src/redis-server is /usr/bin/redis-server itself
#   RESULTS=file          also write "unit passed failed notrun status" lines
#   BASELINE=file         a RESULTS file of an earlier run (e.g. redis-server's)
#               printed as extra columns beside this run
#   UNIT_LIMIT=seconds    the per-unit limit (default 300 in `all` and --own
#               modes, else none)
#   ALLOW_MAXMEMORY=1  also run the tests tagged needs:config-maxmemory
#               (they CONFIG SET maxmemory and maxmemory-policy)
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
units=("$@")
all=0
if [ ${#units[@]} -eq 0 ]; then
	units=(keyspace expire type/string type/incr protocol info-command)
elif [ "${units[0]}" = all ]; then
	all=1
fi
fresh=${FRESH:-$all}
target=${TARGET:-sessiond}
[ "${SERVER:-}" = redis ] && target=redis-server
# `all` and the own mode (whose units start servers of their own and may
# wait on them) stop a unit at 300 s.
unit_limit=${UNIT_LIMIT:-$([ "$all" = 1 ] || [ "$own" = 1 ] && echo 300 || echo 0)}

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

# 3. Build sessiond; start_server starts the target on a free port with its
# own directory under $work.
work=$(mktemp -d)
pid=
trap 'stop_server; rm -rf "$work"' EXIT
if [ "$target" = sessiond ]; then
	(cd "$repo" && go build -o "$work/sessiond" .) || exit 2
fi
serial=0
start_server() {
	serial=$((serial + 1))
	sdir=$work/server.$serial
	mkdir -p "$sdir"
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	serverlog=$sdir/server.log
	if [ "$target" = sessiond ]; then
		# enable-protected-configs yes, as the suite's own servers run
		# (tests/assets/default.conf): some units CONFIG SET dir or dbfilename.
		"$work/sessiond" --port "$port" --bind 127.0.0.1 --dir "$sdir" --enable-protected-configs yes >"$serverlog" 2>&1 &
	else
		/usr/bin/redis-server --port "$port" --bind 127.0.0.1 --dir "$sdir" --save '' \
			--enable-protected-configs yes --enable-debug-command yes \
			--enable-module-command yes --notify-keyspace-events KEA >"$serverlog" 2>&1 &
	fi
	pid=$!
	for _ in $(seq 200); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
		sleep 0.05
	done
}
stop_server() {
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	pid=
}
# server_healthy: the server answers PING and its log holds no Go panic.
server_healthy() {
	kill -0 "$pid" 2>/dev/null || return 1
	grep -q '^panic:\|^fatal error:\|^goroutine [0-9]* \[' "$serverlog" && return 1
	[ "$(timeout 10 redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ]
}
if [ "$all" = 1 ]; then
	units=()
	for u in $(sed -n '/^set ::all_tests {/,/^}/p' "$suite/tests/test_helper.tcl" | grep -o 'unit/[^ ]*\|integration/[^ ]*'); do
		case $u in unit/cluster/*) continue ;; esac
		units+=("$u")
	done
fi
[ "$own" = 1 ] && fresh=0
[ "$fresh" = 1 ] || [ "$own" = 1 ] || start_server

# 4. Run each unit and count, from a private copy of the suite (runtest
# cleans tests/tmp, and other runs may share the source tree) and a random
# port range for the suite's own test server.
mkdir -p "$work/suite"
cp -a "$suite/runtest" "$suite/tests" "$work/suite/"
suite=$work/suite
if [ "$own" = 1 ]; then
	# The suite's own mode: src/redis-server is the shim, and runtest starts
	# and kills the servers itself.
	mkdir -p "$suite/src"
	if [ "$target" = sessiond ]; then
		cp "$work/sessiond" "$suite/src/sessiond"
		(cd "$repo" && go build -o "$suite/src/redis-server" ./tests/tcl/shim) || exit 2
	else
		# The baseline in the same mode: the suite starts the real
		# redis-server with its own config files.
		ln -s /usr/bin/redis-server "$suite/src/redis-server"
	fi
	for tool in redis-cli redis-benchmark redis-check-aof redis-check-rdb; do
		if command -v "$tool" >/dev/null; then ln -s "$(command -v "$tool")" "$suite/src/$tool"; fi
	done
	serverlog=/dev/null
	server=()
	tags=(--tags -needs:debug --tags -needs:repl)
else
	server=()
	tags=(--tags -needs:debug --tags -needs:repl --tags -needs:config-resetstat)
	# `all` denies every needs:* tag, as the baseline run of redis-server
	# does; single units run what sessiond has (LATENCY, PFDEBUG, SAVE, ...).
	[ "$all" = 1 ] && tags+=(--tags -needs:save --tags -needs:reset --tags -needs:pfdebug
		--tags -needs:latency --tags -needs:local-process)
fi
# The suite's tools (integration/redis-cli runs src/redis-cli): the
# machine's own (Debian's redis-tools), in every mode and for both targets.
mkdir -p "$suite/src"
for tool in redis-cli redis-benchmark redis-check-aof redis-check-rdb; do
	if [ ! -e "$suite/src/$tool" ] && command -v "$tool" >/dev/null; then
		ln -s "$(command -v "$tool")" "$suite/src/$tool"
	fi
done
baseport=$((20000 + RANDOM % 20000))
extra=()
[ "${DURABLE:-0}" = 1 ] && extra+=(--durable)
[ "${ALLOW_MAXMEMORY:-0}" = 1 ] || extra+=(--tags -needs:config-maxmemory)
total_ok=0 total_err=0 total_nr=0 rc=0
start_all=$(date +%s)
[ -n "${RESULTS:-}" ] && : >"$RESULTS"
# baseline_of UNIT: "passed failed" of the unit in the BASELINE file.
baseline_of() {
	awk -v u="$1" '$1 == u { print $2, $3, $4; found=1 } END { if (!found) print "- - -" }' "$BASELINE"
}
if [ -n "${BASELINE:-}" ]; then
	printf '%-32s %6s %6s %6s %8s %6s %6s  %s\n' unit passed failed notrun rate base-ok base-err status
else
	printf '%-32s %6s %6s %6s %8s  %s\n' unit passed failed notrun rate status
fi
for u in "${units[@]}"; do
	case $u in unit/* | integration/*) ;; *) u=unit/$u ;; esac
	log="$work/$(echo "$u" | tr / _).out"
	[ "$fresh" = 1 ] && start_server
	t0=$(date +%s)
	limit=()
	[ "$unit_limit" -gt 0 ] && limit=(timeout -k 10 "$unit_limit")
	[ "$own" = 1 ] || server=(--host 127.0.0.1 --port "$port")
	(cd "$suite" && "${limit[@]}" ./runtest "${server[@]}" --single "$u" \
		--ignore-encoding --clients 1 --timeout 600 --baseport "$baseport" \
		"${tags[@]}" "${extra[@]}") >"$log" 2>&1
	status=$?
	t1=$(date +%s)
	clean="$log.clean"
	sed "s/\x1b\[[0-9;]*m//g" "$log" >"$clean"
	log=$clean
	ok=$(grep -c '^\[ok\]:' "$log")
	err=$(grep -c '^\[err\]:' "$log")
	state=done
	if [ "$unit_limit" -gt 0 ] && [ "$status" -eq 124 -o "$status" -eq 137 ]; then
		state="LIMIT ${unit_limit}s"
		rc=1
	elif grep -q '^\[exception\]:\|^\[TIMEOUT\]\|Killing still running\|I/O error reading reply' "$log"; then
		state=ABORTED
		rc=1
	elif [ $status -ne 0 ] && [ "$err" -eq 0 ]; then
		state="exit $status"
		rc=1
	fi
	if [ "$own" != 1 ] && ! server_healthy; then
		state="$state, SERVER DEAD OR PANICKED"
		rc=1
	fi
	n=$((ok + err))
	# Not run: what the baseline ran in this unit beyond what this run did
	# (a unit that aborts or hits the limit leaves the rest of its tests).
	nr=0 base=
	if [ -n "${BASELINE:-}" ]; then
		base=$(baseline_of "$u")
		set -- $base
		[ "$1" != - ] && [ $(($1 + $2)) -gt $n ] && nr=$(($1 + $2 - n))
	fi
	rate=$(awk -v a="$ok" -v b="$n" 'BEGIN { if (b == 0) print "-"; else printf "%.1f%%", 100*a/b }')
	if [ -n "$base" ]; then
		set -- $base
		printf '%-32s %6d %6d %6d %8s %6s %6s  %s (%ds)\n' "$u" "$ok" "$err" "$nr" "$rate" "$1" "$2" "$state" $((t1 - t0))
	else
		printf '%-32s %6d %6d %6d %8s  %s (%ds)\n' "$u" "$ok" "$err" "$nr" "$rate" "$state" $((t1 - t0))
	fi
	[ -n "${RESULTS:-}" ] && echo "$u $ok $err $nr $(echo "$state" | tr ' ' _)" >>"$RESULTS"
	if [ "${VERBOSE:-0}" = 1 ]; then
		cat "$log"
	elif [ "$all" != 1 ]; then
		grep -A3 '^\[err\]:\|^\[exception\]:\|^\[TIMEOUT\]' "$log" | sed 's/^/    /' | head -60
	fi
	if [ -n "${LOGDIR:-}" ]; then
		mkdir -p "$LOGDIR" && cp "$log" "$LOGDIR/$(echo "$u" | tr / _).log"
		[ "$fresh" = 1 ] && cp "$serverlog" "$LOGDIR/$(echo "$u" | tr / _).server.log"
	fi
	total_ok=$((total_ok + ok))
	total_err=$((total_err + err))
	total_nr=$((total_nr + nr))
	if [ "$fresh" = 1 ]; then
		stop_server
	elif [ "$own" != 1 ] && ! kill -0 "$pid" 2>/dev/null; then
		echo "server died; log:" >&2
		tail -50 "$serverlog" >&2
		exit 1
	fi
done
[ -n "${LOGDIR:-}" ] && [ "$fresh" != 1 ] && cp "$serverlog" "$LOGDIR/server.log"
n=$((total_ok + total_err))
rate=$(awk -v a="$total_ok" -v b="$n" 'BEGIN { if (b == 0) print "-"; else printf "%.1f%%", 100*a/b }')
printf '%-32s %6d %6d %6d %8s  (%ds)\n' total "$total_ok" "$total_err" "$total_nr" "$rate" $(($(date +%s) - start_all))
echo "$target: $total_ok passed, $total_err failed, $total_nr not run"
[ "$total_err" -eq 0 ] || rc=1
exit $rc
