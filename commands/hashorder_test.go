package commands_test

import (
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

// Small hashes answer in insertion order, as Redis' listpack; the limits
// are hash-max-listpack-entries/-value, whose ziplist names are aliases.
func TestHashInsertionOrderOverSocket(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		long := strings.Repeat("x", 65)
		testserver.Run(t, c, []testserver.Case{
			{Cmd: []any{"FLUSHALL"}, Any: true},
			{Cmd: []any{"CONFIG", "SET", "hash-max-ziplist-entries", "3"}, Want: "OK"},
			{Cmd: []any{"CONFIG", "GET", "hash-max-listpack-entries"}, Any: true},
			{Cmd: []any{"HSET", "h", "zeta", "1", "alpha", "2", "mid", "3"}, Want: int64(3)},
			{Cmd: []any{"HKEYS", "h"}, Want: []any{"zeta", "alpha", "mid"}},
			{Cmd: []any{"HVALS", "h"}, Want: []any{"1", "2", "3"}},
			{Cmd: []any{"HSCAN", "h", "0", "COUNT", "1"}, Want: []any{"0", []any{"zeta", "1", "alpha", "2", "mid", "3"}}},
			{Cmd: []any{"HRANDFIELD", "h", "5"}, Want: []any{"zeta", "alpha", "mid"}},
			{Cmd: []any{"HDEL", "h", "zeta"}, Want: int64(1)},
			{Cmd: []any{"HINCRBY", "h", "count", "1"}, Want: int64(1)},
			{Cmd: []any{"HKEYS", "h"}, Want: []any{"alpha", "mid", "count"}},
			// A fourth field passes the limit: field order from then on.
			{Cmd: []any{"HSET", "h", "b", "4"}, Want: int64(1)},
			{Cmd: []any{"HKEYS", "h"}, Want: []any{"alpha", "b", "count", "mid"}},
			// A value longer than hash-max-listpack-value (64) too.
			{Cmd: []any{"HSET", "v", "z", "1", "a", long}, Want: int64(2)},
			{Cmd: []any{"HKEYS", "v"}, Want: []any{"a", "z"}},
			{Cmd: []any{"CONFIG", "SET", "hash-max-listpack-entries", "128"}, Want: "OK"},
			{Cmd: []any{"CONFIG", "GET", "hash-max-ziplist-entries"}, Any: true},
		})
		if got := c.ConfigGet(bg, "hash-max-ziplist-entries").Val()["hash-max-ziplist-entries"]; got != "128" {
			t.Errorf("hash-max-ziplist-entries %q after setting its listpack name to 128", got)
		}
		if c.Options().Protocol == 2 {
			// RESP2's HGETALL is an array: the order is visible.
			testserver.Run(t, c, []testserver.Case{
				{Cmd: []any{"HSET", "g", "z", "1", "a", "2"}, Want: int64(2)},
				{Cmd: []any{"HGETALL", "g"}, Want: []any{"z", "1", "a", "2"}},
			})
		}
	})
}
