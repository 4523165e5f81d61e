package commands_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

// by returns v2 for a RESP2 client and v3 for a RESP3 one.
func by(c *redis.Client, v2, v3 any) any {
	if c.Options().Protocol == 3 {
		return v3
	}
	return v2
}

const wrongType = "WRONGTYPE Operation against a key holding the wrong kind of value"

func TestHashes(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		testserver.Run(t, c, []C{
			{Cmd: []any{"hset", "h", "a", "1", "b", "2"}, Want: int64(2)},
			{Cmd: []any{"hset", "h", "a", "10", "c", "3"}, Want: int64(1)},
			{Cmd: []any{"hset", "h", "a"}, WantErr: "ERR wrong number of arguments for 'hset' command"},
			{Cmd: []any{"hset", "h", "a", "1", "b"}, WantErr: "ERR wrong number of arguments for 'hset' command"},
			{Cmd: []any{"hmset", "h", "d", "4"}, Want: "OK"},
			{Cmd: []any{"hmset", "h", "d"}, WantErr: "ERR wrong number of arguments for 'hmset' command"},
			{Cmd: []any{"hsetnx", "h", "a", "x"}, Want: int64(0)},
			{Cmd: []any{"hsetnx", "h", "e", "5"}, Want: int64(1)},
			{Cmd: []any{"hget", "h", "a"}, Want: "10"},
			{Cmd: []any{"hget", "h", "zz"}, Want: nil},
			{Cmd: []any{"hget", "nohash", "a"}, Want: nil},
			{Cmd: []any{"hmget", "h", "a", "zz", "b"}, Want: []any{"10", nil, "2"}},
			{Cmd: []any{"hmget", "nohash", "a"}, Want: []any{nil}},
			{Cmd: []any{"hlen", "h"}, Want: int64(5)},
			{Cmd: []any{"hlen", "nohash"}, Want: int64(0)},
			{Cmd: []any{"hexists", "h", "a"}, Want: int64(1)},
			{Cmd: []any{"hexists", "h", "zz"}, Want: int64(0)},
			{Cmd: []any{"hstrlen", "h", "a"}, Want: int64(2)},
			{Cmd: []any{"hstrlen", "h", "zz"}, Want: int64(0)},
			{Cmd: []any{"hkeys", "h"}, Want: []any{"a", "b", "c", "d", "e"}},
			{Cmd: []any{"hvals", "h"}, Want: []any{"10", "2", "3", "4", "5"}},
			{Cmd: []any{"hgetall", "h"}, Want: by(c,
				[]any{"a", "10", "b", "2", "c", "3", "d", "4", "e", "5"},
				map[any]any{"a": "10", "b": "2", "c": "3", "d": "4", "e": "5"})},
			{Cmd: []any{"hgetall", "nohash"}, Want: by(c, []any{}, map[any]any{})},
			{Cmd: []any{"hdel", "h", "a", "zz", "b"}, Want: int64(2)},
			{Cmd: []any{"hdel", "h", "a"}, Want: int64(0)},
			{Cmd: []any{"hdel", "nohash", "a"}, Want: int64(0)},
			{Cmd: []any{"hincrby", "h", "n", "5"}, Want: int64(5)},
			{Cmd: []any{"hincrby", "h", "n", "-7"}, Want: int64(-2)},
			{Cmd: []any{"hincrby", "h", "c", "x"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"hset", "h", "s", " 11"}, Want: int64(1)},
			{Cmd: []any{"hincrby", "h", "s", "1"}, WantErr: "ERR hash value is not an integer"},
			{Cmd: []any{"hset", "h", "big", "9223372036854775807"}, Want: int64(1)},
			{Cmd: []any{"hincrby", "h", "big", "1"}, WantErr: "ERR increment or decrement would overflow"},
			{Cmd: []any{"hincrbyfloat", "h", "f", "1.23"}, Want: "1.23"},
			{Cmd: []any{"hincrbyfloat", "h", "f", "0.77"}, Want: "2"},
			{Cmd: []any{"hincrbyfloat", "h", "f", "-0.1"}, Want: "1.9"},
			{Cmd: []any{"hincrbyfloat", "h", "f", "abc"}, WantErr: "ERR value is not a valid float"},
			{Cmd: []any{"hincrbyfloat", "h", "f", "+inf"}, WantErr: "ERR value is NaN or Infinity"},
			{Cmd: []any{"hincrbyfloat", "h", "s", "1"}, WantErr: "ERR hash value is not a float"},
			{Cmd: []any{"hset", "h", "max", "1.7976931348623157e308"}, Want: int64(1)},
			{Cmd: []any{"hincrbyfloat", "h", "max", "1.7976931348623157e308"}, WantErr: "ERR increment would produce NaN or Infinity"},
			{Cmd: []any{"set", "str", "v"}, Want: "OK"},
			{Cmd: []any{"hset", "str", "a", "1"}, WantErr: wrongType},
			{Cmd: []any{"hget", "str", "a"}, WantErr: wrongType},
			{Cmd: []any{"hmget", "str", "a"}, WantErr: wrongType},
			{Cmd: []any{"hgetall", "str"}, WantErr: wrongType},
			{Cmd: []any{"hdel", "str", "a"}, WantErr: wrongType},
			{Cmd: []any{"hlen", "str"}, WantErr: wrongType},
			{Cmd: []any{"hincrby", "str", "a", "1"}, WantErr: wrongType},
			{Cmd: []any{"hrandfield", "str"}, WantErr: wrongType},
			{Cmd: []any{"hscan", "str", "0"}, WantErr: wrongType},
			{Cmd: []any{"type", "h"}, Want: "hash"},
			// The hash goes away with its last field.
			{Cmd: []any{"hset", "tmp", "only", "1"}, Want: int64(1)},
			{Cmd: []any{"hdel", "tmp", "only"}, Want: int64(1)},
			{Cmd: []any{"exists", "tmp"}, Want: int64(0)},
		})
	})
}

func TestHrandfield(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		c.HSet(ctx, "h", "a", "1", "b", "2", "c", "3")
		testserver.Run(t, c, []C{
			{Cmd: []any{"hrandfield", "none"}, Want: nil},
			{Cmd: []any{"hrandfield", "none", "3"}, Want: []any{}},
			{Cmd: []any{"hrandfield", "h", "0"}, Want: []any{}},
			{Cmd: []any{"hrandfield", "h", "x"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"hrandfield", "h", "-9223372036854775808"}, WantErr: "ERR value is out of range"},
			{Cmd: []any{"hrandfield", "h", "-9223372036854770000", "withvalues"}, WantErr: "ERR value is out of range"},
			{Cmd: []any{"hrandfield", "h", "1", "nope"}, WantErr: "ERR syntax error"},
		})
		all, err := c.Do(ctx, "hrandfield", "h", "10").StringSlice()
		if err != nil || len(all) != 3 {
			t.Fatalf("hrandfield 10: %v %v", all, err)
		}
		rep, err := c.Do(ctx, "hrandfield", "h", "-5").StringSlice()
		if err != nil || len(rep) != 5 {
			t.Fatalf("hrandfield -5: %v %v", rep, err)
		}
		v, err := c.Do(ctx, "hrandfield", "h", "2", "withvalues").Result()
		if err != nil {
			t.Fatal(err)
		}
		arr := v.([]any)
		if c.Options().Protocol == 3 {
			if len(arr) != 2 || len(arr[0].([]any)) != 2 {
				t.Fatalf("RESP3 withvalues: %#v", v)
			}
		} else if len(arr) != 4 {
			t.Fatalf("RESP2 withvalues: %#v", v)
		}
	})
}

func TestHscan(t *testing.T) {
	s := testserver.Start(t)
	c := s.Client(3)
	ctx := context.Background()
	want := map[string]string{}
	for i := 0; i < 500; i++ {
		f, v := fmt.Sprintf("f%03d", i), fmt.Sprint(i)
		want[f] = v
		c.HSet(ctx, "big", f, v)
	}
	got := map[string]string{}
	var cursor uint64
	for {
		kv, next, err := c.HScan(ctx, "big", cursor, "", 37).Result()
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(kv); i += 2 {
			got[kv[i]] = kv[i+1]
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	if len(got) != len(want) {
		t.Fatalf("hscan saw %d fields, want %d", len(got), len(want))
	}
	kv, _, err := c.HScan(ctx, "big", 0, "f00*", 1000).Result()
	if err != nil || len(kv) != 20 {
		t.Fatalf("hscan match: %d items, %v", len(kv), err)
	}
	testserver.Run(t, c, []C{
		{Cmd: []any{"hscan", "big", "abc"}, WantErr: "ERR invalid cursor"},
		{Cmd: []any{"hscan", "big", "0", "count", "0"}, WantErr: "ERR syntax error"},
		{Cmd: []any{"hscan", "big", "0", "bogus", "1"}, WantErr: "ERR syntax error"},
		{Cmd: []any{"hscan", "none", "0"}, Want: []any{"0", []any{}}},
	})
}

// Generic commands see hashes, sets and sorted sets as whole values.
func TestCompositeGeneric(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		testserver.Run(t, c, []C{
			{Cmd: []any{"hset", "h", "a", "1"}, Want: int64(1)},
			{Cmd: []any{"sadd", "s", "x", "y"}, Want: int64(2)},
			{Cmd: []any{"zadd", "z", "1", "m"}, Want: int64(1)},
			{Cmd: []any{"set", "str", "v"}, Want: "OK"},
			{Cmd: []any{"type", "s"}, Want: "set"},
			{Cmd: []any{"type", "z"}, Want: "zset"},
			{Cmd: []any{"scan", "0", "type", "hash"}, Want: []any{"0", []any{"h"}}},
			{Cmd: []any{"scan", "0", "type", "zset"}, Want: []any{"0", []any{"z"}}},
			{Cmd: []any{"scan", "0", "type", "set"}, Want: []any{"0", []any{"s"}}},
			{Cmd: []any{"exists", "h", "s", "z", "str", "none"}, Want: int64(4)},
			{Cmd: []any{"copy", "h", "h2"}, Want: int64(1)},
			{Cmd: []any{"hget", "h2", "a"}, Want: "1"},
			{Cmd: []any{"rename", "s", "s2"}, Want: "OK"},
			{Cmd: []any{"smembers", "s"}, Want: []any{}},
			{Cmd: []any{"scard", "s2"}, Want: int64(2)},
			{Cmd: []any{"rename", "z", "h2"}, Want: "OK"},
			{Cmd: []any{"type", "h2"}, Want: "zset"},
			{Cmd: []any{"zscore", "h2", "m"}, Want: by(c, "1", 1.0)},
			{Cmd: []any{"hget", "h2", "a"}, WantErr: wrongType},
			{Cmd: []any{"pexpire", "h", "100000"}, Want: int64(1)},
			{Cmd: []any{"hset", "h", "b", "2"}, Want: int64(1)},
			{Cmd: []any{"pttl", "h"}, Any: true},
			{Cmd: []any{"set", "h", "now a string"}, Want: "OK"},
			{Cmd: []any{"hget", "h", "a"}, WantErr: wrongType},
			{Cmd: []any{"del", "h2", "s2"}, Want: int64(2)},
			{Cmd: []any{"exists", "h2", "s2"}, Want: int64(0)},
			// Children of a deleted composite are gone: a new value of the
			// same name starts empty.
			{Cmd: []any{"zcard", "h2"}, Want: int64(0)},
			{Cmd: []any{"sadd", "s2", "q"}, Want: int64(1)},
			{Cmd: []any{"smembers", "s2"}, Want: []any{"q"}},
			{Cmd: []any{"zadd", "zd", "1.5", "a", "2", "b"}, Want: int64(2)},
			{Cmd: []any{"restore", "zd", "0", "junk"}, WantErr: "BUSYKEY Target key name already exists."},
			{Cmd: []any{"restore", "zd2", "0", "junk"}, WantErr: "ERR DUMP payload version or checksum are wrong"},
			{Cmd: []any{"restore", "zd2", "-1", "junk"}, WantErr: "ERR Invalid TTL value, must be >= 0"},
			{Cmd: []any{"dump", "none"}, Want: nil},
			{Cmd: []any{"move", "s2", "1"}, Want: int64(1)},
			{Cmd: []any{"object", "encoding", "s2"}, Want: nil},
		})
	})
	// DUMP and RESTORE round-trip every type.
	c := s.Client(2)
	ctx := context.Background()
	c.HSet(ctx, "dh", "f", "v", "g", "w")
	c.SAdd(ctx, "ds", "m1", "m2")
	c.ZAdd(ctx, "dz", redis.Z{Score: 2.5, Member: "x"})
	c.Set(ctx, "dstr", "plain", 0)
	for _, k := range []string{"dh", "ds", "dz", "dstr"} {
		p, err := c.Dump(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.RestoreReplace(ctx, k+":copy", time.Minute, p).Err(); err != nil {
			t.Fatalf("restore %s: %v", k, err)
		}
	}
	if v := c.HGetAll(ctx, "dh:copy").Val(); v["f"] != "v" || v["g"] != "w" {
		t.Fatalf("restored hash %v", v)
	}
	if v := c.SMembers(ctx, "ds:copy").Val(); len(v) != 2 {
		t.Fatalf("restored set %v", v)
	}
	if v := c.ZScore(ctx, "dz:copy", "x").Val(); v != 2.5 {
		t.Fatalf("restored zset %v", v)
	}
	if v := c.PTTL(ctx, "dstr:copy").Val(); v <= 0 {
		t.Fatalf("restored ttl %v", v)
	}
	// Expiry removes the children too, and survives a restart.
	c.HSet(ctx, "exp", "f", "v")
	c.PExpire(ctx, "exp", 50*1e6)
	c.HSet(ctx, "keep", "f", "v")
	c.ZAdd(ctx, "keepz", redis.Z{Score: 1.5, Member: "m"})
	s.Restart()
	c = s.Client(2)
	testserver.Run(t, c, []C{
		{Cmd: []any{"hget", "keep", "f"}, Want: "v"},
		{Cmd: []any{"zscore", "keepz", "m"}, Want: "1.5"},
	})
}
