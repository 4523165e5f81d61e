package commands_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

// score is a score as go-redis decodes it: a bulk string in RESP2, a double in RESP3.
func score(c *redis.Client, s string, f float64) any { return by(c, s, f) }

func TestSortedSets(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		sc := func(s string, f float64) any { return score(c, s, f) }
		// pairs builds a WITHSCORES reply: flat in RESP2, pairs in RESP3.
		pairs := func(kv ...any) any {
			if c.Options().Protocol == 3 {
				var out []any
				for i := 0; i < len(kv); i += 2 {
					out = append(out, []any{kv[i], kv[i+1]})
				}
				if out == nil {
					out = []any{}
				}
				return out
			}
			return kv
		}
		testserver.Run(t, c, []C{
			{Cmd: []any{"zadd", "z", "1.754E12", "s1", "1", "a", "2", "b"}, Want: int64(3)},
			{Cmd: []any{"zadd", "z", "+inf", "top", "-inf", "bottom"}, Want: int64(2)},
			{Cmd: []any{"zscore", "z", "s1"}, Want: sc("1754000000000", 1.754e12)},
			{Cmd: []any{"zscore", "z", "top"}, Want: sc("inf", posInf)},
			{Cmd: []any{"zscore", "z", "nope"}, Want: nil},
			{Cmd: []any{"zscore", "none", "a"}, Want: nil},
			{Cmd: []any{"zmscore", "z", "a", "nope", "b"}, Want: []any{sc("1", 1), nil, sc("2", 2)}},
			{Cmd: []any{"zcard", "z"}, Want: int64(5)},
			{Cmd: []any{"zcard", "none"}, Want: int64(0)},
			{Cmd: []any{"zrange", "z", "0", "-1"}, Want: []any{"bottom", "a", "b", "s1", "top"}},
			{Cmd: []any{"zrange", "z", "1", "2", "withscores"}, Want: pairs("a", sc("1", 1), "b", sc("2", 2))},
			{Cmd: []any{"zrange", "z", "-2", "-1", "rev"}, Want: []any{"a", "bottom"}},
			{Cmd: []any{"zrange", "z", "5", "10"}, Want: []any{}},
			{Cmd: []any{"zrevrange", "z", "0", "1"}, Want: []any{"top", "s1"}},
			{Cmd: []any{"zrangebyscore", "z", "1", "2"}, Want: []any{"a", "b"}},
			{Cmd: []any{"zrangebyscore", "z", "(1", "+inf"}, Want: []any{"b", "s1", "top"}},
			{Cmd: []any{"zrangebyscore", "z", "-inf", "+inf", "limit", "1", "2"}, Want: []any{"a", "b"}},
			{Cmd: []any{"zrangebyscore", "z", "1", "2", "withscores"}, Want: pairs("a", sc("1", 1), "b", sc("2", 2))},
			{Cmd: []any{"zrevrangebyscore", "z", "1.754E12", "-inf"}, Want: []any{"s1", "b", "a", "bottom"}},
			{Cmd: []any{"zrevrangebyscore", "z", "+inf", "(2", "limit", "0", "1"}, Want: []any{"top"}},
			{Cmd: []any{"zrange", "z", "(2", "+inf", "byscore", "limit", "0", "1"}, Want: []any{"s1"}},
			{Cmd: []any{"zrange", "z", "+inf", "(2", "byscore", "rev"}, Want: []any{"top", "s1"}},
			{Cmd: []any{"zrangebyscore", "z", "abc", "2"}, WantErr: "ERR min or max is not a float"},
			{Cmd: []any{"zrange", "z", "0", "1", "limit", "0", "1"}, WantErr: "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"},
			{Cmd: []any{"zrange", "z", "[a", "[b", "bylex", "withscores"}, WantErr: "ERR syntax error, WITHSCORES not supported in combination with BYLEX"},
			{Cmd: []any{"zrange", "z", "0", "1", "bogus"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"zcount", "z", "1", "2"}, Want: int64(2)},
			{Cmd: []any{"zcount", "z", "-inf", "+inf"}, Want: int64(5)},
			{Cmd: []any{"zcount", "z", "x", "2"}, WantErr: "ERR min or max is not a float"},
			{Cmd: []any{"zrank", "z", "b"}, Want: int64(2)},
			{Cmd: []any{"zrevrank", "z", "b"}, Want: int64(2)},
			{Cmd: []any{"zrank", "z", "nope"}, Want: nil},
			{Cmd: []any{"zincrby", "z", "10", "a"}, Want: sc("11", 11)},
			{Cmd: []any{"zincrby", "z", "x", "a"}, WantErr: "ERR value is not a valid float"},
			{Cmd: []any{"zincrby", "z", "-inf", "top"}, WantErr: "ERR resulting score is not a number (NaN)"},
			{Cmd: []any{"zadd", "z", "nx", "100", "a", "5", "new"}, Want: int64(1)},
			{Cmd: []any{"zadd", "z", "xx", "ch", "12", "a", "7", "ghost"}, Want: int64(1)},
			{Cmd: []any{"zadd", "z", "gt", "ch", "1", "a", "20", "b"}, Want: int64(1)},
			{Cmd: []any{"zadd", "z", "lt", "ch", "1", "a"}, Want: int64(1)},
			{Cmd: []any{"zadd", "z", "incr", "2", "a"}, Want: sc("3", 3)},
			{Cmd: []any{"zadd", "z", "lt", "incr", "1", "a"}, Want: nil},
			{Cmd: []any{"zadd", "z", "nx", "xx", "1", "a"}, WantErr: "ERR XX and NX options at the same time are not compatible"},
			{Cmd: []any{"zadd", "z", "gt", "lt", "1", "a"}, WantErr: "ERR GT, LT, and/or NX options at the same time are not compatible"},
			{Cmd: []any{"zadd", "z", "incr", "1", "a", "2", "b"}, WantErr: "ERR INCR option supports a single increment-element pair"},
			{Cmd: []any{"zadd", "z", "1", "a", "2"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"zadd", "z", "nan", "a"}, WantErr: "ERR value is not a valid float"},
			{Cmd: []any{"zadd", "z", "", "a"}, WantErr: "ERR value is not a valid float"},
			{Cmd: []any{"zadd", "zz", "xx", "1", "a"}, Want: int64(0)},
			{Cmd: []any{"exists", "zz"}, Want: int64(0)},
			{Cmd: []any{"zrem", "z", "new", "nope"}, Want: int64(1)},
			{Cmd: []any{"zrem", "none", "a"}, Want: int64(0)},
			{Cmd: []any{"zremrangebyscore", "z", "-inf", "(1"}, Want: int64(1)},
			{Cmd: []any{"zremrangebyrank", "z", "-1", "-1"}, Want: int64(1)},
			{Cmd: []any{"zrange", "z", "0", "-1"}, Want: []any{"a", "b", "s1"}},
			{Cmd: []any{"zpopmin", "z"}, Want: []any{"a", sc("3", 3)}},
			{Cmd: []any{"zpopmax", "z", "1"}, Want: pairs("s1", sc("1754000000000", 1.754e12))},
			{Cmd: []any{"zpopmin", "z", "0"}, Want: []any{}},
			{Cmd: []any{"zpopmin", "z", "-1"}, WantErr: "ERR value is out of range, must be positive"},
			{Cmd: []any{"zpopmin", "none"}, Want: []any{}},
			{Cmd: []any{"zpopmin", "z", "5"}, Want: pairs("b", sc("20", 20))},
			{Cmd: []any{"exists", "z"}, Want: int64(0)},
			// Lexicographic ranges.
			{Cmd: []any{"zadd", "lex", "0", "alpha", "0", "bar", "0", "cool", "0", "down", "0", "elephant"}, Want: int64(5)},
			{Cmd: []any{"zrangebylex", "lex", "-", "[cool"}, Want: []any{"alpha", "bar", "cool"}},
			{Cmd: []any{"zrangebylex", "lex", "(bar", "+"}, Want: []any{"cool", "down", "elephant"}},
			{Cmd: []any{"zrangebylex", "lex", "-", "+", "limit", "1", "2"}, Want: []any{"bar", "cool"}},
			{Cmd: []any{"zrevrangebylex", "lex", "[cool", "-"}, Want: []any{"cool", "bar", "alpha"}},
			{Cmd: []any{"zrange", "lex", "(down", "(bar", "bylex", "rev"}, Want: []any{"cool"}},
			{Cmd: []any{"zlexcount", "lex", "[b", "(d"}, Want: int64(2)},
			{Cmd: []any{"zrangebylex", "lex", "a", "+"}, WantErr: "ERR min or max not valid string range item"},
			{Cmd: []any{"zremrangebylex", "lex", "[alpha", "[bar"}, Want: int64(2)},
			{Cmd: []any{"zrange", "lex", "0", "-1"}, Want: []any{"cool", "down", "elephant"}},
			// Combining.
			{Cmd: []any{"zadd", "za", "1", "a", "2", "b", "3", "c"}, Want: int64(3)},
			{Cmd: []any{"zadd", "zb", "1", "b", "2", "c", "3", "d"}, Want: int64(3)},
			{Cmd: []any{"sadd", "sa", "a", "d"}, Want: int64(2)},
			{Cmd: []any{"zunion", "2", "za", "zb", "withscores"}, Want: pairs("a", sc("1", 1), "b", sc("3", 3), "d", sc("3", 3), "c", sc("5", 5))},
			{Cmd: []any{"zinter", "2", "za", "zb", "weights", "2", "3", "withscores"}, Want: pairs("b", sc("7", 7), "c", sc("12", 12))},
			{Cmd: []any{"zinter", "2", "za", "zb", "aggregate", "max"}, Want: []any{"b", "c"}},
			{Cmd: []any{"zdiff", "2", "za", "zb"}, Want: []any{"a"}},
			{Cmd: []any{"zunion", "2", "za", "sa", "withscores"}, Want: pairs("d", sc("1", 1), "a", sc("2", 2), "b", sc("2", 2), "c", sc("3", 3))},
			{Cmd: []any{"zunionstore", "dst", "2", "za", "zb"}, Want: int64(4)},
			{Cmd: []any{"zinterstore", "dst", "2", "za", "zb", "aggregate", "min"}, Want: int64(2)},
			{Cmd: []any{"zrange", "dst", "0", "-1", "withscores"}, Want: pairs("b", sc("1", 1), "c", sc("2", 2))},
			{Cmd: []any{"zdiffstore", "dst", "2", "za", "za"}, Want: int64(0)},
			{Cmd: []any{"exists", "dst"}, Want: int64(0)},
			{Cmd: []any{"zintercard", "2", "za", "zb"}, Want: int64(2)},
			{Cmd: []any{"zintercard", "2", "za", "zb", "limit", "1"}, Want: int64(1)},
			{Cmd: []any{"zunion", "0", "za"}, WantErr: "ERR at least 1 input key is needed for 'zunion' command"},
			{Cmd: []any{"zunion", "3", "za"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"zunionstore", "dst", "2", "za", "zb", "withscores"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"zinter", "2", "za", "zb", "weights", "nan", "1"}, WantErr: "ERR weight value is not a float"},
			{Cmd: []any{"zrangestore", "dst", "za", "1", "+inf", "byscore", "limit", "1", "5"}, Want: int64(2)},
			{Cmd: []any{"zrange", "dst", "0", "-1"}, Want: []any{"b", "c"}},
			{Cmd: []any{"zmpop", "2", "none", "za", "max", "count", "2"}, Want: []any{"za", []any{[]any{"c", sc("3", 3)}, []any{"b", sc("2", 2)}}}},
			{Cmd: []any{"zmpop", "1", "none", "min"}, Want: nil},
			{Cmd: []any{"zmpop", "0", "za", "min"}, WantErr: "ERR numkeys should be greater than 0"},
			{Cmd: []any{"zmpop", "1", "za", "sideways"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"zmpop", "1", "za", "min", "count", "0"}, WantErr: "ERR count should be greater than 0"},
			{Cmd: []any{"zrandmember", "zb"}, Any: true},
			{Cmd: []any{"zrandmember", "none"}, Want: nil},
			{Cmd: []any{"zrandmember", "none", "2"}, Want: []any{}},
			{Cmd: []any{"zrandmember", "zb", "5", "withscores"}, Want: pairs("b", sc("1", 1), "c", sc("2", 2), "d", sc("3", 3))},
			{Cmd: []any{"zrandmember", "zb", "1", "bogus"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"set", "str", "x"}, Want: "OK"},
			{Cmd: []any{"zadd", "str", "1", "a"}, WantErr: wrongType},
			{Cmd: []any{"zscore", "str", "a"}, WantErr: wrongType},
			{Cmd: []any{"zrange", "str", "0", "1"}, WantErr: wrongType},
			{Cmd: []any{"zrangebyscore", "str", "0", "1"}, WantErr: wrongType},
			{Cmd: []any{"zrem", "str", "a"}, WantErr: wrongType},
			{Cmd: []any{"zcard", "str"}, WantErr: wrongType},
			{Cmd: []any{"zpopmin", "str"}, WantErr: wrongType},
			{Cmd: []any{"zunion", "2", "za", "str"}, WantErr: wrongType},
			{Cmd: []any{"zscan", "str", "0"}, WantErr: wrongType},
			{Cmd: []any{"bzpopmin", "str", "0.01"}, WantErr: wrongType},
			{Cmd: []any{"bzpopmin", "za", "-1"}, WantErr: "ERR timeout is negative"},
			{Cmd: []any{"bzpopmin", "za", "x"}, WantErr: "ERR timeout is not a float or out of range"},
			{Cmd: []any{"bzpopmin", "none", "0.01"}, Want: nil},
			{Cmd: []any{"bzpopmax", "zb", "0"}, Want: []any{"zb", "d", sc("3", 3)}},
			{Cmd: []any{"bzmpop", "0.01", "1", "none", "min"}, Want: nil},
			{Cmd: []any{"bzmpop", "0", "1", "zb", "min", "count", "5"}, Want: []any{"zb", []any{[]any{"b", sc("1", 1)}, []any{"c", sc("2", 2)}}}},
		})
	})
}

var posInf = func() float64 { var z float64; return 1 / z }()

// Scores parse and print as Redis does.
func TestScoreFormats(t *testing.T) {
	s := testserver.Start(t)
	c := s.Client(2)
	testserver.Run(t, c, []C{
		{Cmd: []any{"zadd", "z", "1.1", "a", "1e-5", "b", "-0.5", "c", "12345678901234567890", "d"}, Want: int64(4)},
		{Cmd: []any{"zscore", "z", "a"}, Want: "1.1000000000000001"},
		{Cmd: []any{"zscore", "z", "b"}, Want: "1.0000000000000001e-05"},
		{Cmd: []any{"zscore", "z", "c"}, Want: "-0.5"},
		{Cmd: []any{"zscore", "z", "d"}, Want: "1.2345678901234567e+19"},
		{Cmd: []any{"zrangebyscore", "z", "(-0.5", "1.1"}, Want: []any{"b", "a"}},
		{Cmd: []any{"zscan", "z", "0"}, Want: []any{"0", []any{"a", "1.1000000000000001", "b", "1.0000000000000001e-05", "c", "-0.5", "d", "1.2345678901234567e+19"}}},
	})
}

// Blocked clients are served in the order they blocked; a key of the wrong
// type does not wake them; MULTI never blocks.
func TestBlockingZpop(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	c := s.Client(2)
	results := make(chan string, 3)
	for i := 0; i < 3; i++ {
		cl := s.Client(2)
		go func() {
			v, err := cl.BZPopMin(ctx, 5*time.Second, "q").Result()
			if err != nil {
				results <- "err " + err.Error()
				return
			}
			results <- fmt.Sprintf("%d:%s", i, v.Member)
		}()
		waitBlocked(t, c, i+1)
	}
	c.Set(ctx, "q", "string now", 0)
	c.Del(ctx, "q")
	c.ZAdd(ctx, "q", redis.Z{Score: 1, Member: "m1"}, redis.Z{Score: 2, Member: "m2"}, redis.Z{Score: 3, Member: "m3"})
	var got []string
	for i := 0; i < 3; i++ {
		select {
		case r := <-results:
			got = append(got, r)
		case <-time.After(5 * time.Second):
			t.Fatal("blocked client not served")
		}
	}
	sort.Strings(got)
	if fmt.Sprint(got) != "[0:m1 1:m2 2:m3]" {
		t.Fatalf("served out of order: %v", got)
	}
	// Timeout.
	start := time.Now()
	if err := c.Do(ctx, "bzpopmin", "empty", "0.1").Err(); err != redis.Nil {
		t.Fatalf("timeout: %v", err)
	}
	if time.Since(start) < 90*time.Millisecond {
		t.Fatal("returned before the timeout")
	}
	// Inside MULTI it never blocks.
	cmds, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Do(ctx, "bzpopmin", "empty", "0")
		return nil
	})
	if err != redis.Nil || len(cmds) != 1 {
		t.Fatalf("bzpopmin in multi: %v %v", cmds, err)
	}
	if n := blockedClients(t, c); n != 0 {
		t.Fatalf("blocked_clients = %d after all served", n)
	}
}

// A client that disconnects while blocked is not served: the element stays.
func TestBlockedClientGone(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	c := s.Client(2)
	raw := dialRaw(t, s)
	raw.send("bzpopmin", "jobs", "0")
	waitBlocked(t, c, 1)
	raw.nc.Close()
	deadline := time.Now().Add(5 * time.Second)
	for blockedClients(t, c) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("a gone client stayed blocked")
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.ZAdd(ctx, "jobs", redis.Z{Score: 1, Member: "j1"})
	if n := c.ZCard(ctx, "jobs").Val(); n != 1 {
		t.Fatalf("the element went to a closed connection: zcard %d", n)
	}
	// A blocked client that pipelines another command after the blocking
	// one is still served, and its next command still runs.
	live := dialRaw(t, s)
	c.Del(ctx, "jobs")
	live.send("bzpopmin", "jobs", "5")
	waitBlocked(t, c, 1)
	live.send("ping")
	c.ZAdd(ctx, "jobs", redis.Z{Score: 2, Member: "j2"})
	expect(t, live, "[jobs j2 2]", "PONG")
}

func blockedClients(t *testing.T, c *redis.Client) int {
	info, err := c.Info(context.Background(), "clients").Result()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for _, line := range splitLines(info) {
		if _, err := fmt.Sscanf(line, "blocked_clients:%d", &n); err == nil {
			return n
		}
	}
	t.Fatal("no blocked_clients in INFO")
	return 0
}

func waitBlocked(t *testing.T, c *redis.Client, n int) {
	deadline := time.Now().Add(5 * time.Second)
	for blockedClients(t, c) < n {
		if time.Now().After(deadline) {
			t.Fatalf("never saw %d blocked clients", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func TestZscanLarge(t *testing.T) {
	s := testserver.Start(t)
	c := s.Client(3)
	ctx := context.Background()
	var zs []redis.Z
	for i := 0; i < 1000; i++ {
		zs = append(zs, redis.Z{Score: float64(i) / 7, Member: fmt.Sprint("m", i)})
	}
	c.ZAdd(ctx, "z", zs...)
	seen := map[string]bool{}
	var cursor uint64
	for {
		kv, next, err := c.ZScan(ctx, "z", cursor, "", 100).Result()
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(kv); i += 2 {
			seen[kv[i]] = true
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	if len(seen) != 1000 {
		t.Fatalf("zscan saw %d", len(seen))
	}
	// Ranges seek instead of walking: the middle of a large set.
	got := c.ZRangeByScore(ctx, "z", &redis.ZRangeBy{Min: "100", Max: "(100.5"}).Val()
	if fmt.Sprint(got) != "[m700 m701 m702 m703]" {
		t.Fatalf("zrangebyscore mid-range: %v", got)
	}
	if r := c.ZRank(ctx, "z", "m500").Val(); r != 500 {
		t.Fatalf("zrank = %d", r)
	}
	if r := c.ZRevRank(ctx, "z", "m500").Val(); r != 499 {
		t.Fatalf("zrevrank = %d", r)
	}
}
