package commands_test

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

// TestStreamApproxTrimNodes: "~" trimming removes whole nodes of
// stream-node-max-entries entries, within LIMIT (default 100 nodes' worth).
func TestStreamApproxTrimNodes(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		fill := func(n int) {
			t.Helper()
			c.Del(ctx, "st")
			for i := 0; i < n; i++ {
				if err := c.XAdd(ctx, &redis.XAddArgs{Stream: "st", Values: []any{"f", "v"}}).Err(); err != nil {
					t.Fatal(err)
				}
			}
		}
		testserver.Run(t, c, []C{{Cmd: []any{"config", "set", "stream-node-max-entries", "10"}, Want: "OK"}})
		fill(100)
		testserver.Run(t, c, []C{
			// 101 entries in 11 nodes: 3 nodes fit in LIMIT 30.
			{Cmd: []any{"xadd", "st", "maxlen", "~", "55", "limit", "30", "*", "f", "v"}, Any: true},
			{Cmd: []any{"xlen", "st"}, Want: int64(71)},
			// 72 entries: one more node keeps at least 55.
			{Cmd: []any{"xadd", "st", "maxlen", "~", "55", "limit", "30", "*", "f", "v"}, Any: true},
			{Cmd: []any{"xlen", "st"}, Want: int64(62)},
			{Cmd: []any{"xtrim", "st", "maxlen", "~", "55"}, Want: int64(0)},
			{Cmd: []any{"xtrim", "st", "maxlen", "55"}, Want: int64(7)},
			{Cmd: []any{"config", "set", "stream-node-max-entries", "1"}, Want: "OK"},
		})
		fill(102)
		testserver.Run(t, c, []C{
			{Cmd: []any{"xtrim", "st", "maxlen", "~", "1"}, Want: int64(100)},
			{Cmd: []any{"config", "set", "stream-node-max-entries", "2"}, Want: "OK"},
		})
		fill(3)
		testserver.Run(t, c, []C{
			{Cmd: []any{"xtrim", "st", "maxlen", "~", "0", "limit", "1"}, Want: int64(0)},
			{Cmd: []any{"xtrim", "st", "maxlen", "~", "0", "limit", "2"}, Want: int64(2)},
			{Cmd: []any{"config", "set", "stream-node-max-entries", "100"}, Want: "OK"},
		})
	})
}
