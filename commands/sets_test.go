package commands_test

import (
	"context"
	"fmt"
	"sort"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

func TestSets(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		testserver.Run(t, c, []C{
			{Cmd: []any{"sadd", "s", "a", "b", "c", "a"}, Want: int64(3)},
			{Cmd: []any{"sadd", "s", "a", "d"}, Want: int64(1)},
			{Cmd: []any{"sadd", "s"}, WantErr: "ERR wrong number of arguments for 'sadd' command"},
			{Cmd: []any{"scard", "s"}, Want: int64(4)},
			{Cmd: []any{"scard", "none"}, Want: int64(0)},
			{Cmd: []any{"smembers", "s"}, Want: []any{"a", "b", "c", "d"}},
			{Cmd: []any{"smembers", "none"}, Want: []any{}},
			{Cmd: []any{"sismember", "s", "a"}, Want: int64(1)},
			{Cmd: []any{"sismember", "s", "z"}, Want: int64(0)},
			{Cmd: []any{"sismember", "none", "z"}, Want: int64(0)},
			{Cmd: []any{"smismember", "s", "a", "z", "d"}, Want: []any{int64(1), int64(0), int64(1)}},
			{Cmd: []any{"smismember", "s"}, WantErr: "ERR wrong number of arguments for 'smismember' command"},
			{Cmd: []any{"srem", "s", "a", "z"}, Want: int64(1)},
			{Cmd: []any{"srem", "none", "a"}, Want: int64(0)},
			{Cmd: []any{"sadd", "t", "c", "d", "e"}, Want: int64(3)},
			{Cmd: []any{"sinter", "s", "t"}, Want: []any{"c", "d"}},
			{Cmd: []any{"sinter", "s", "none"}, Want: []any{}},
			{Cmd: []any{"sunion", "s", "t", "none"}, Want: []any{"b", "c", "d", "e"}},
			{Cmd: []any{"sdiff", "s", "t"}, Want: []any{"b"}},
			{Cmd: []any{"sdiff", "none", "t"}, Want: []any{}},
			{Cmd: []any{"sintercard", "2", "s", "t"}, Want: int64(2)},
			{Cmd: []any{"sintercard", "2", "s", "t", "limit", "1"}, Want: int64(1)},
			{Cmd: []any{"sintercard", "0", "s"}, WantErr: "ERR numkeys should be greater than 0"},
			{Cmd: []any{"sintercard", "3", "s", "t"}, WantErr: "ERR Number of keys can't be greater than number of args"},
			{Cmd: []any{"sintercard", "1", "s", "limit", "-1"}, WantErr: "ERR LIMIT can't be negative"},
			{Cmd: []any{"sintercard", "1", "s", "bogus"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"sinterstore", "dst", "s", "t"}, Want: int64(2)},
			{Cmd: []any{"smembers", "dst"}, Want: []any{"c", "d"}},
			{Cmd: []any{"sunionstore", "dst", "s", "t"}, Want: int64(4)},
			{Cmd: []any{"sdiffstore", "dst", "s", "t"}, Want: int64(1)},
			{Cmd: []any{"smembers", "dst"}, Want: []any{"b"}},
			{Cmd: []any{"set", "str", "x"}, Want: "OK"},
			{Cmd: []any{"sinterstore", "str", "none", "s"}, Want: int64(0)},
			{Cmd: []any{"exists", "str"}, Want: int64(0)},
			{Cmd: []any{"smove", "s", "t", "b"}, Want: int64(1)},
			{Cmd: []any{"smove", "s", "t", "zz"}, Want: int64(0)},
			{Cmd: []any{"smove", "none", "t", "b"}, Want: int64(0)},
			{Cmd: []any{"smove", "t", "t", "b"}, Want: int64(1)},
			{Cmd: []any{"sismember", "t", "b"}, Want: int64(1)},
			{Cmd: []any{"set", "str", "x"}, Want: "OK"},
			{Cmd: []any{"smove", "t", "str", "b"}, WantErr: wrongType},
			{Cmd: []any{"sadd", "str", "a"}, WantErr: wrongType},
			{Cmd: []any{"srem", "str", "a"}, WantErr: wrongType},
			{Cmd: []any{"smembers", "str"}, WantErr: wrongType},
			{Cmd: []any{"sismember", "str", "a"}, WantErr: wrongType},
			{Cmd: []any{"scard", "str"}, WantErr: wrongType},
			{Cmd: []any{"spop", "str"}, WantErr: wrongType},
			{Cmd: []any{"srandmember", "str"}, WantErr: wrongType},
			{Cmd: []any{"sinter", "s", "str"}, WantErr: wrongType},
			{Cmd: []any{"sunion", "none", "str"}, WantErr: wrongType},
			{Cmd: []any{"sdiff", "str", "s"}, WantErr: wrongType},
			{Cmd: []any{"sscan", "str", "0"}, WantErr: wrongType},
			{Cmd: []any{"spop", "none"}, Want: nil},
			{Cmd: []any{"spop", "none", "3"}, Want: []any{}},
			{Cmd: []any{"spop", "s", "-1"}, WantErr: "ERR value is out of range, must be positive"},
			{Cmd: []any{"spop", "s", "1", "2"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"srandmember", "none"}, Want: nil},
			{Cmd: []any{"srandmember", "none", "5"}, Want: []any{}},
			{Cmd: []any{"srandmember", "s", "0"}, Want: []any{}},
			{Cmd: []any{"srandmember", "s", "-9223372036854775808"}, WantErr: "ERR value is out of range"},
			{Cmd: []any{"srandmember", "s", "1", "2"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"sadd", "one", "only"}, Want: int64(1)},
			{Cmd: []any{"spop", "one"}, Want: "only"},
			{Cmd: []any{"exists", "one"}, Want: int64(0)},
		})
	})
}

func TestSetRandom(t *testing.T) {
	s := testserver.Start(t)
	c := s.Client(2)
	ctx := context.Background()
	var members []string
	for i := 0; i < 50; i++ {
		members = append(members, fmt.Sprint("m", i))
	}
	c.SAdd(ctx, "s", members)
	got, err := c.SRandMemberN(ctx, "s", 100).Result()
	if err != nil || len(got) != 50 {
		t.Fatalf("srandmember 100: %d %v", len(got), err)
	}
	got, _ = c.SRandMemberN(ctx, "s", -100).Result()
	if len(got) != 100 {
		t.Fatalf("srandmember -100: %d", len(got))
	}
	seen := map[string]bool{}
	for i := 0; i < 200 && len(seen) < 50; i++ {
		for _, m := range c.SRandMemberN(ctx, "s", 5).Val() {
			seen[m] = true
		}
	}
	if len(seen) != 50 {
		t.Fatalf("srandmember 5 never returned some members: saw %d", len(seen))
	}
	popped := c.SPopN(ctx, "s", 20).Val()
	if len(popped) != 20 || c.SCard(ctx, "s").Val() != 30 {
		t.Fatalf("spop 20: %d popped, %d left", len(popped), c.SCard(ctx, "s").Val())
	}
	rest := c.SPopN(ctx, "s", 100).Val()
	all := append(popped, rest...)
	sort.Strings(all)
	sort.Strings(members)
	if fmt.Sprint(all) != fmt.Sprint(members) || c.Exists(ctx, "s").Val() != 0 {
		t.Fatalf("spop lost or duplicated members")
	}
	// A large set samples by seeking, and still pops every member once.
	big := make([]any, 0, 6000)
	for i := 0; i < 6000; i++ {
		big = append(big, fmt.Sprint("b", i))
	}
	c.SAdd(ctx, "big", big...)
	uniq := map[string]bool{}
	for c.SCard(ctx, "big").Val() > 0 {
		for _, m := range c.SPopN(ctx, "big", 7).Val() {
			if uniq[m] {
				t.Fatalf("spop returned %s twice", m)
			}
			uniq[m] = true
		}
	}
	if len(uniq) != 6000 {
		t.Fatalf("spop drained %d of 6000", len(uniq))
	}
}

func TestSscan(t *testing.T) {
	s := testserver.Start(t)
	c := s.Client(2)
	ctx := context.Background()
	for i := 0; i < 300; i++ {
		c.SAdd(ctx, "s", i)
	}
	seen := map[string]int{}
	var cursor uint64
	for {
		ms, next, err := c.SScan(ctx, "s", cursor, "", 25).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			seen[m]++
		}
		// Members removed during the iteration are not required; the
		// others are returned exactly once.
		c.SRem(ctx, "s", "299")
		if cursor = next; cursor == 0 {
			break
		}
	}
	for i := 0; i < 299; i++ {
		if seen[fmt.Sprint(i)] != 1 {
			t.Fatalf("member %d seen %d times", i, seen[fmt.Sprint(i)])
		}
	}
	ms, _, _ := c.SScan(ctx, "s", 0, "1?", 1000).Result()
	if len(ms) != 10 {
		t.Fatalf("sscan match 1?: %v", ms)
	}
}
