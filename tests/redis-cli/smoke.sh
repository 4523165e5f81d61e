#!/usr/bin/env bash
# Smoke test with Debian's redis-cli: scripted commands against a freshly
# built sessiond, in RESP2 and RESP3, plus --pipe and --scan.
#
#   tests/redis-cli/smoke.sh
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

if ! command -v redis-cli >/dev/null; then
	if [ "$(id -u)" -eq 0 ]; then apt-get install -y redis-tools >/dev/null; else sudo apt-get install -y redis-tools >/dev/null; fi
fi

work=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
(cd "$repo" && go build -o "$work/sessiond" .)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$work/sessiond" --port "$port" --dir "$work" --requirepass smoke >"$work/log" 2>&1 &
pid=$!
for _ in $(seq 100); do
	redis-cli -p "$port" -a smoke --no-auth-warning ping >/dev/null 2>&1 && break
	sleep 0.05
done

fails=0
cli() { redis-cli -p "$port" -a smoke --no-auth-warning "$@" 2>&1; }
check() { # check "description" "expected" actual...
	local name=$1 want=$2
	shift 2
	local got
	got=$("$@")
	if [ "$got" = "$want" ]; then
		echo "ok   $name"
	else
		echo "FAIL $name"
		echo "     want: $(printf '%q' "$want")"
		echo "     got:  $(printf '%q' "$got")"
		fails=$((fails + 1))
	fi
}

check "NOAUTH without a password" "NOAUTH Authentication required." redis-cli -p "$port" get k
check "PING" "PONG" cli ping
check "SET and GET" "OK" cli set k v EX 100
check "GET" "v" cli get k
check "TTL" "100" cli ttl k
check "INCR" "1" cli incr n
check "INCRBYFLOAT" "1.5" cli incrbyfloat n 0.5
check "MSET/MGET" $'a\nb' bash -c "redis-cli -p $port -a smoke --no-auth-warning mset x a y b >/dev/null; redis-cli -p $port -a smoke --no-auth-warning mget x y nope"
check "wrong type" "(error) WRONGTYPE Operation against a key holding the wrong kind of value" bash -c "redis-cli -p $port -a smoke --no-auth-warning rpush L a >/dev/null; redis-cli -p $port -a smoke --no-auth-warning --no-raw get L"
check "unknown command" "(error) ERR unknown command 'nosuch', with args beginning with: 'a' " cli --no-raw nosuch a
check "RESP3 HELLO and a map" '1# "maxclients" => "10000"' cli -3 --no-raw config get maxclients
check "RESP3 null" "(nil)" cli -3 --no-raw get nope
check "INFO server is a string" "redis_mode:standalone" bash -c "redis-cli -p $port -a smoke --no-auth-warning info server | tr -d '\r' | grep '^redis_mode:'"
check "INFO persistence loading" "loading:0" bash -c "redis-cli -p $port -a smoke --no-auth-warning info persistence | tr -d '\r' | grep '^loading:'"
check "COMMAND DOCS (interactive redis-cli)" "string" bash -c "redis-cli -p $port -a smoke --no-auth-warning command docs get | grep -A1 '^group$' | tail -1"

# A script of commands on stdin, one per line.
check "scripted stdin" $'OK\n2\nhello\n1\n0' bash -c "printf 'SET s hello\nEXISTS s nope s\nGET s\nDEL s\nEXISTS s\n' | redis-cli -p $port -a smoke --no-auth-warning"

# --pipe of 10,000 commands, then --scan.
for i in $(seq 10000); do printf 'SET pipe:%d %d\r\n' "$i" "$i"; done >"$work/pipe.txt"
check "--pipe of 10,000 SETs" "errors: 0, replies: 10000" bash -c "redis-cli -p $port -a smoke --no-auth-warning --pipe < $work/pipe.txt | tail -1"
check "--scan --pattern" "10000" bash -c "redis-cli -p $port -a smoke --no-auth-warning --scan --pattern 'pipe:*' | wc -l | tr -d ' '"
check "DBSIZE" "10005" cli dbsize

echo
if [ "$fails" -ne 0 ]; then
	echo "$fails failed"
	exit 1
fi
echo "all passed"
