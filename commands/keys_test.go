package commands_test

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

func TestCompatKeyspace(t *testing.T) {
	s := testserver.Start(t)
	compat(t, s, func(t *testing.T, tg target) {
		testserver.Run(t, tg.c, []C{
			{Cmd: []any{"mset", "a", "1", "b", "2", "c", "3"}, Want: "OK"},
			{Cmd: []any{"rpush", "l", "x"}, Want: int64(1)},
			{Cmd: []any{"xadd", "x", "1-1", "f", "v"}, Want: "1-1"},
			{Cmd: []any{"hset", "h", "f", "v"}, Want: int64(1)},
			{Cmd: []any{"sadd", "st", "m"}, Want: int64(1)},
			{Cmd: []any{"zadd", "z", "1", "m"}, Want: int64(1)},
			// DEL, UNLINK, EXISTS, TOUCH, TYPE.
			{Cmd: []any{"del", "a", "nope", "a"}, Want: int64(1)},
			{Cmd: []any{"unlink", "b", "nope"}, Want: int64(1)},
			{Cmd: []any{"del"}, WantErr: "ERR wrong number of arguments for 'del' command"},
			{Cmd: []any{"unlink"}, WantErr: "ERR wrong number of arguments for 'unlink' command"},
			{Cmd: []any{"exists", "c", "c", "nope", "l"}, Want: int64(3)},
			{Cmd: []any{"exists"}, WantErr: "ERR wrong number of arguments for 'exists' command"},
			{Cmd: []any{"touch", "c", "nope", "l"}, Want: int64(2)},
			{Cmd: []any{"touch"}, WantErr: "ERR wrong number of arguments for 'touch' command"},
			{Cmd: []any{"type", "c"}, Want: "string"},
			{Cmd: []any{"type", "l"}, Want: "list"},
			{Cmd: []any{"type", "x"}, Want: "stream"},
			{Cmd: []any{"type", "h"}, Want: "hash"},
			{Cmd: []any{"type", "st"}, Want: "set"},
			{Cmd: []any{"type", "z"}, Want: "zset"},
			{Cmd: []any{"type", "nope"}, Want: "none"},
			{Cmd: []any{"type"}, WantErr: "ERR wrong number of arguments for 'type' command"},
			{Cmd: []any{"type", "a", "b"}, WantErr: "ERR wrong number of arguments for 'type' command"},
			// RENAME, RENAMENX.
			{Cmd: []any{"rename", "nope", "x2"}, WantErr: "ERR no such key"},
			{Cmd: []any{"rename", "c", "c"}, Want: "OK"},
			{Cmd: []any{"rename", "c", "d"}, Want: "OK"},
			{Cmd: []any{"get", "d"}, Want: "3"},
			{Cmd: []any{"exists", "c"}, Want: int64(0)},
			{Cmd: []any{"rename", "d", "l"}, Want: "OK"}, // overwrites a key of another type
			{Cmd: []any{"type", "l"}, Want: "string"},
			{Cmd: []any{"renamenx", "l", "l"}, Want: int64(0)},
			{Cmd: []any{"set", "e", "1"}, Want: "OK"},
			{Cmd: []any{"renamenx", "l", "e"}, Want: int64(0)},
			{Cmd: []any{"renamenx", "l", "f"}, Want: int64(1)},
			{Cmd: []any{"renamenx", "nope", "g"}, WantErr: "ERR no such key"},
			{Cmd: []any{"rename", "h", "h2"}, Want: "OK"},
			{Cmd: []any{"hget", "h2", "f"}, Want: "v"},
			{Cmd: []any{"rename", "x", "x2"}, Want: "OK"},
			{Cmd: []any{"xlen", "x2"}, Want: int64(1)},
			{Cmd: []any{"rename", "a"}, WantErr: "ERR wrong number of arguments for 'rename' command"},
			// COPY.
			{Cmd: []any{"copy", "f", "f"}, WantErr: "ERR source and destination objects are the same"},
			{Cmd: []any{"copy", "f", "g"}, Want: int64(1)},
			{Cmd: []any{"copy", "f", "g"}, Want: int64(0)},
			{Cmd: []any{"copy", "f", "g", "replace"}, Want: int64(1)},
			{Cmd: []any{"copy", "nope", "g", "replace"}, Want: int64(0)},
			{Cmd: []any{"copy", "f", "g", "db", "1"}, Want: int64(1)},
			{Cmd: []any{"copy", "f", "g", "db", "1"}, Want: int64(0)},
			{Cmd: []any{"copy", "f", "f", "db", "1", "replace"}, Want: int64(1)},
			{Cmd: []any{"copy", "f", "g", "db", "abc"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"copy", "f", "g", "db", "99"}, WantErr: "ERR DB index is out of range"},
			{Cmd: []any{"copy", "f", "g", "db", "-1"}, WantErr: "ERR DB index is out of range"},
			{Cmd: []any{"copy", "f", "g", "foo"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"copy", "f", "g", "db"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"copy", "h2", "h3"}, Want: int64(1)},
			{Cmd: []any{"hget", "h3", "f"}, Want: "v"},
			{Cmd: []any{"copy", "x2", "x3"}, Want: int64(1)},
			{Cmd: []any{"xrange", "x3", "-", "+"}, Want: []any{[]any{"1-1", []any{"f", "v"}}}},
			{Cmd: []any{"copy", "f"}, WantErr: "ERR wrong number of arguments for 'copy' command"},
			// MOVE.
			{Cmd: []any{"move", "f", "abc"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"move", "f", "0"}, WantErr: "ERR source and destination objects are the same"},
			{Cmd: []any{"move", "f", "99"}, WantErr: "ERR DB index is out of range"},
			{Cmd: []any{"move", "nope", "1"}, Want: int64(0)},
			{Cmd: []any{"move", "f", "1"}, Want: int64(0)}, // f exists in db 1 (COPY above)
			{Cmd: []any{"set", "m", "moved"}, Want: "OK"},
			{Cmd: []any{"move", "m", "2"}, Want: int64(1)},
			{Cmd: []any{"exists", "m"}, Want: int64(0)},
			// KEYS.
			{Cmd: []any{"flushdb"}, Want: "OK"},
			{Cmd: []any{"mset", "user:1", "a", "user:2", "b", "sess:1", "c", "u*x", "d"}, Want: "OK"},
			{Cmd: []any{"keys", "nothing*"}, Want: []any{}},
			{Cmd: []any{"keys"}, WantErr: "ERR wrong number of arguments for 'keys' command"},
			// RANDOMKEY.
			{Cmd: []any{"randomkey", "x"}, WantErr: "ERR wrong number of arguments for 'randomkey' command"},
			{Cmd: []any{"select", "3"}, Want: "OK"},
			{Cmd: []any{"randomkey"}, Want: nil},
			{Cmd: []any{"select", "0"}, Want: "OK"},
		})
		for _, k := range []struct {
			pat  string
			want []string
		}{
			{"user:*", []string{"user:1", "user:2"}},
			{"*:1", []string{"sess:1", "user:1"}},
			{"user:[12]", []string{"user:1", "user:2"}},
			{"user:[^1]", []string{"user:2"}},
			{"?ser:?", []string{"user:1", "user:2"}},
			{`u\*x`, []string{"u*x"}},
			{"*", []string{"sess:1", "u*x", "user:1", "user:2"}},
		} {
			got := strs(must(t, tg.c, "keys", k.pat))
			sort.Strings(got)
			if fmt.Sprint(got) != fmt.Sprint(k.want) {
				t.Errorf("KEYS %s = %v, want %v", k.pat, got, k.want)
			}
		}
		for i := 0; i < 20; i++ {
			k := must(t, tg.c, "randomkey")
			if n := mustInt(t, tg.c, "exists", k); n != 1 {
				t.Fatalf("RANDOMKEY gave %v which does not exist", k)
			}
		}
	})
}

func strs(v any) []string {
	arr, _ := v.([]any)
	out := make([]string, 0, len(arr))
	for _, x := range arr {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

func TestCompatExpire(t *testing.T) {
	s := testserver.Start(t)
	compat(t, s, func(t *testing.T, tg target) {
		far := strconv.FormatInt(time.Now().Unix()+100000, 10)
		farMS := strconv.FormatInt(time.Now().UnixMilli()+100000000, 10)
		testserver.Run(t, tg.c, []C{
			{Cmd: []any{"set", "k", "v"}, Want: "OK"},
			{Cmd: []any{"ttl", "k"}, Want: int64(-1)},
			{Cmd: []any{"pttl", "k"}, Want: int64(-1)},
			{Cmd: []any{"expiretime", "k"}, Want: int64(-1)},
			{Cmd: []any{"pexpiretime", "k"}, Want: int64(-1)},
			{Cmd: []any{"ttl", "nope"}, Want: int64(-2)},
			{Cmd: []any{"pttl", "nope"}, Want: int64(-2)},
			{Cmd: []any{"expiretime", "nope"}, Want: int64(-2)},
			{Cmd: []any{"pexpiretime", "nope"}, Want: int64(-2)},
			{Cmd: []any{"expire", "nope", "10"}, Want: int64(0)},
			{Cmd: []any{"persist", "nope"}, Want: int64(0)},
			{Cmd: []any{"persist", "k"}, Want: int64(0)},
			// NX | XX | GT | LT.
			{Cmd: []any{"expire", "k", "100", "xx"}, Want: int64(0)},
			{Cmd: []any{"expire", "k", "100", "gt"}, Want: int64(0)}, // no TTL counts as infinite
			{Cmd: []any{"expire", "k", "100", "lt"}, Want: int64(1)},
			{Cmd: []any{"expire", "k", "200", "nx"}, Want: int64(0)},
			{Cmd: []any{"expire", "k", "200", "xx"}, Want: int64(1)},
			{Cmd: []any{"expire", "k", "100", "gt"}, Want: int64(0)},
			{Cmd: []any{"expire", "k", "300", "gt"}, Want: int64(1)},
			{Cmd: []any{"expire", "k", "400", "lt"}, Want: int64(0)},
			{Cmd: []any{"expire", "k", "250", "lt"}, Want: int64(1)},
			// 249, not 250: a deadline of now+250 s one millisecond later
			// is greater (Redis compares milliseconds too).
			{Cmd: []any{"expire", "k", "249", "XX", "GT"}, Want: int64(0)},
			{Cmd: []any{"expire", "k", "260", "XX", "GT"}, Want: int64(1)},
			{Cmd: []any{"ttl", "k"}, Want: int64(260)},
			{Cmd: []any{"expire", "k", "100", "nx", "xx"}, WantErr: "ERR NX and XX, GT or LT options at the same time are not compatible"},
			{Cmd: []any{"expire", "k", "100", "nx", "gt"}, WantErr: "ERR NX and XX, GT or LT options at the same time are not compatible"},
			{Cmd: []any{"expire", "k", "100", "gt", "lt"}, WantErr: "ERR GT and LT options at the same time are not compatible"},
			{Cmd: []any{"expire", "k", "100", "foo"}, WantErr: "ERR Unsupported option foo"},
			{Cmd: []any{"expire", "k", "abc"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"expire", "k", "1.5"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"expire", "k"}, WantErr: "ERR wrong number of arguments for 'expire' command"},
			{Cmd: []any{"expire", "k", "9223372036854775807"}, WantErr: "ERR invalid expire time in 'expire' command"},
			{Cmd: []any{"expire", "k", "-9223372036854775808"}, WantErr: "ERR invalid expire time in 'expire' command"},
			{Cmd: []any{"pexpire", "k", "9223372036854775807"}, WantErr: "ERR invalid expire time in 'pexpire' command"},
			{Cmd: []any{"expireat", "k", "9223372036854775807"}, WantErr: "ERR invalid expire time in 'expireat' command"},
			{Cmd: []any{"ttl", "k"}, Want: int64(260)}, // failed calls changed nothing
			// Absolute forms and the *TIME readers.
			{Cmd: []any{"expireat", "k", far}, Want: int64(1)},
			{Cmd: []any{"expiretime", "k"}, Want: mustParse(far)},
			{Cmd: []any{"pexpiretime", "k"}, Want: mustParse(far) * 1000},
			{Cmd: []any{"pexpireat", "k", farMS}, Want: int64(1)},
			{Cmd: []any{"pexpiretime", "k"}, Want: mustParse(farMS)},
			{Cmd: []any{"expiretime", "k"}, Want: (mustParse(farMS) + 500) / 1000}, // rounded
			{Cmd: []any{"persist", "k"}, Want: int64(1)},
			{Cmd: []any{"ttl", "k"}, Want: int64(-1)},
			// A TTL in the past (or zero, or negative) deletes the key.
			{Cmd: []any{"expire", "k", "0"}, Want: int64(1)},
			{Cmd: []any{"exists", "k"}, Want: int64(0)},
			{Cmd: []any{"set", "k", "v"}, Want: "OK"},
			{Cmd: []any{"pexpire", "k", "-100"}, Want: int64(1)},
			{Cmd: []any{"get", "k"}, Want: nil},
			{Cmd: []any{"set", "k", "v"}, Want: "OK"},
			{Cmd: []any{"expireat", "k", "1"}, Want: int64(1)},
			{Cmd: []any{"exists", "k"}, Want: int64(0)},
			{Cmd: []any{"set", "k", "v"}, Want: "OK"},
			{Cmd: []any{"pexpireat", "k", "0"}, Want: int64(1)},
			{Cmd: []any{"exists", "k"}, Want: int64(0)},
			// ... even with GT when the key had no TTL? No: GT refuses first.
			{Cmd: []any{"set", "k", "v"}, Want: "OK"},
			{Cmd: []any{"expire", "k", "-1", "gt"}, Want: int64(0)},
			{Cmd: []any{"expire", "k", "-1", "lt"}, Want: int64(1)},
			{Cmd: []any{"exists", "k"}, Want: int64(0)},
			// Overwrites drop the TTL, other writes keep it.
			{Cmd: []any{"set", "k", "v", "ex", "100"}, Want: "OK"},
			{Cmd: []any{"append", "k", "w"}, Want: int64(2)},
			{Cmd: []any{"ttl", "k"}, Want: int64(100)},
			{Cmd: []any{"set", "k", "v"}, Want: "OK"},
			{Cmd: []any{"ttl", "k"}, Want: int64(-1)},
			{Cmd: []any{"set", "n", "1", "ex", "100"}, Want: "OK"},
			{Cmd: []any{"incr", "n"}, Want: int64(2)},
			{Cmd: []any{"ttl", "n"}, Want: int64(100)},
			{Cmd: []any{"rename", "n", "n2"}, Want: "OK"},
			{Cmd: []any{"ttl", "n2"}, Want: int64(100)},
			{Cmd: []any{"rpush", "l", "a"}, Want: int64(1)},
			{Cmd: []any{"expire", "l", "100"}, Want: int64(1)},
			{Cmd: []any{"rpush", "l", "b"}, Want: int64(2)},
			{Cmd: []any{"ttl", "l"}, Want: int64(100)},
			{Cmd: []any{"lrange", "l", "0", "-1"}, Want: []any{"a", "b"}},
		})
	})
}

func mustParse(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		panic(err)
	}
	return n
}

// TTL rounds to the nearest second, PTTL is exact to the millisecond, and an
// expired key disappears for readers at once and from the keyspace soon after
// (the active expirer).
func TestTTLPrecision(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		must(t, c, "set", "k", "v", "px", "1500")
		if ttl := mustInt(t, c, "ttl", "k"); ttl != 2 && ttl != 1 {
			t.Fatalf("TTL of a 1500 ms key = %d", ttl)
		}
		pttl := mustInt(t, c, "pttl", "k")
		if pttl <= 1300 || pttl > 1500 {
			t.Fatalf("PTTL = %d, want (1300, 1500]", pttl)
		}
		must(t, c, "set", "k", "v", "px", "2499")
		if ttl := mustInt(t, c, "ttl", "k"); ttl != 2 {
			t.Fatalf("TTL of a 2499 ms key = %d, want 2 (rounded)", ttl)
		}
		start := time.Now().UnixMilli()
		must(t, c, "pexpireat", "k", start+1234)
		if got := mustInt(t, c, "pexpiretime", "k"); got != start+1234 {
			t.Fatalf("PEXPIRETIME = %d, want %d", got, start+1234)
		}
		must(t, c, "set", "gone", "v", "px", "30")
		must(t, c, "set", "gone2", "v", "px", "30")
		time.Sleep(60 * time.Millisecond)
		if v, err := send(c, "get", "gone"); err != redis.Nil {
			t.Fatalf("GET of an expired key = %v, %v", v, err)
		}
		if n := mustInt(t, c, "exists", "gone2"); n != 0 {
			t.Fatalf("EXISTS of an expired key = %d", n)
		}
		deadline := time.Now().Add(5 * time.Second)
		for mustInt(t, c, "dbsize") != 1 {
			if time.Now().After(deadline) {
				t.Fatalf("expired keys not reclaimed: DBSIZE %d", mustInt(t, c, "dbsize"))
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

func TestCompatObject(t *testing.T) {
	s := testserver.Start(t)
	compat(t, s, func(t *testing.T, tg target) {
		testserver.Run(t, tg.c, []C{
			{Cmd: []any{"set", "i", "12345"}, Want: "OK"},
			{Cmd: []any{"set", "big", "123456789012345678901"}, Want: "OK"},
			{Cmd: []any{"set", "s", "short"}, Want: "OK"},
			{Cmd: []any{"set", "small", "7"}, Want: "OK"},
			{Cmd: []any{"object", "encoding", "i"}, Want: "int"},
			{Cmd: []any{"object", "encoding", "big"}, Want: "embstr"},
			{Cmd: []any{"object", "encoding", "s"}, Want: "embstr"},
			{Cmd: []any{"object", "encoding", "nope"}, Want: nil},
			{Cmd: []any{"object", "refcount", "s"}, Want: int64(1)},
			{Cmd: []any{"object", "refcount", "small"}, Want: int64(math.MaxInt32)},
			{Cmd: []any{"object", "refcount", "nope"}, Want: nil},
			{Cmd: []any{"object", "idletime", "nope"}, Want: nil},
			{Cmd: []any{"object", "freq", "s"}, WantErr: "ERR An LFU maxmemory policy is not selected"},
			{Cmd: []any{"object", "foo", "s"}, WantErr: "ERR unknown subcommand 'foo'. Try OBJECT HELP."},
			{Cmd: []any{"object"}, WantErr: "ERR wrong number of arguments for 'object' command"},
			{Cmd: []any{"object", "encoding"}, WantErr: "ERR wrong number of arguments for 'object|encoding' command"},
			{Cmd: []any{"config", "set", "maxmemory-policy", "allkeys-lfu"}, Want: "OK"},
			{Cmd: []any{"object", "idletime", "s"}, WantErr: "ERR An LFU maxmemory policy is selected"},
			{Cmd: []any{"config", "set", "maxmemory-policy", "noeviction"}, Want: "OK"},
		})
		if idle := mustInt(t, tg.c, "object", "idletime", "s"); idle < 0 || idle > 2 {
			t.Errorf("OBJECT IDLETIME = %d", idle)
		}
		if help := strs(must(t, tg.c, "object", "help")); len(help) < 4 {
			t.Errorf("OBJECT HELP = %v", help)
		}
	})
}

func TestCompatScan(t *testing.T) {
	s := testserver.Start(t)
	compat(t, s, func(t *testing.T, tg target) {
		for i := 0; i < 100; i++ {
			must(t, tg.c, "set", fmt.Sprintf("k:%d", i), "v")
		}
		must(t, tg.c, "rpush", "list:1", "a")
		must(t, tg.c, "hset", "hash:1", "f", "v")
		testserver.Run(t, tg.c, []C{
			{Cmd: []any{"scan", "0", "count", "0"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"scan", "0", "count", "-1"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"scan", "0", "count", "abc"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"scan", "abc"}, WantErr: "ERR invalid cursor"},
			{Cmd: []any{"scan", " 1"}, WantErr: "ERR invalid cursor"},
			{Cmd: []any{"scan", "18446744073709551616"}, WantErr: "ERR invalid cursor"},
			{Cmd: []any{"scan", "0", "match"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"scan", "0", "foo", "bar"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"scan"}, WantErr: "ERR wrong number of arguments for 'scan' command"},
		})
		all := scanAll(t, tg.c)
		if len(all) != 102 {
			t.Fatalf("full SCAN returned %d keys, want 102", len(all))
		}
		if got := scanAll(t, tg.c, "match", "k:1*"); len(got) != 11 {
			t.Fatalf("SCAN MATCH k:1* returned %d keys: %v", len(got), got)
		}
		if got := scanAll(t, tg.c, "type", "nosuchtype"); len(got) != 0 {
			t.Fatalf("SCAN TYPE nosuchtype = %v", got)
		}
		if got := scanAll(t, tg.c, "type", "list"); fmt.Sprint(keysOf(got)) != "[list:1]" {
			t.Fatalf("SCAN TYPE list = %v", got)
		}
		if got := scanAll(t, tg.c, "type", "hash", "match", "*", "count", "1000"); fmt.Sprint(keysOf(got)) != "[hash:1]" {
			t.Fatalf("SCAN TYPE hash = %v", got)
		}
		// COUNT bounds the work of one call, and every call returns a cursor.
		v := must(t, tg.c, "scan", "0", "count", "5")
		r := v.([]any)
		if r[0] == "0" || len(r[1].([]any)) > 10 {
			t.Fatalf("SCAN 0 COUNT 5 = %v", v)
		}
	})
}

func keysOf(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// scanAll runs a full SCAN iteration and returns each key with how many
// times it was returned.
func scanAll(t *testing.T, c *redis.Client, opts ...any) map[string]int {
	t.Helper()
	seen := map[string]int{}
	cursor := "0"
	for i := 0; ; i++ {
		if i > 100000 {
			t.Fatal("SCAN never ended")
		}
		v := must(t, c, append([]any{"scan", cursor}, opts...)...)
		r := v.([]any)
		cursor = r[0].(string)
		for _, k := range r[1].([]any) {
			seen[k.(string)]++
		}
		if cursor == "0" {
			return seen
		}
	}
}

// A full SCAN returns every key that existed throughout the iteration, while
// other clients insert and delete keys as fast as they can.
func TestScanGuaranteeUnderConcurrentWrites(t *testing.T) {
	s := testserver.Start(t, "appendonly", "no")
	c := s.Client(2)
	ctx := context.Background()
	const stable = 3000
	p := c.Pipeline()
	for i := 0; i < stable; i++ {
		p.Set(ctx, fmt.Sprintf("stable:%05d", i), "v", 0)
	}
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			wc := s.Client(2)
			for i := 0; !stop.Load(); i++ {
				// Keys sorting before, between and after the stable ones.
				k := fmt.Sprintf("%s:%d:%d", []string{"a", "stable:0150x", "zz"}[i%3], w, i%500)
				if i%2 == 0 {
					wc.Set(ctx, k, "v", 0)
				} else {
					wc.Del(ctx, k)
				}
			}
		}(w)
	}
	for round := 0; round < 5; round++ {
		seen := scanAll(t, c, "count", "37")
		for i := 0; i < stable; i++ {
			k := fmt.Sprintf("stable:%05d", i)
			if seen[k] == 0 {
				stop.Store(true)
				wg.Wait()
				t.Fatalf("round %d: %s existed throughout the SCAN but was not returned", round, k)
			}
		}
	}
	stop.Store(true)
	wg.Wait()
}
