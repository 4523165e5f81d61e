package commands_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

// WAIT on a standalone server: no replica ever holds a write, so WAIT 0
// answers 0 at once, WAIT n sleeps out its timeout and answers 0, inside
// MULTI it answers at once, and WAIT 1 0 (no timeout) ends with CLIENT
// UNBLOCK. LOLWUT and MEMORY MALLOC-STATS answer text.
func TestWaitLolwutMallocStats(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		testserver.Run(t, c, []C{
			{Cmd: []any{"set", "k", "v"}, Want: "OK"},
			{Cmd: []any{"wait", "0", "0"}, Want: int64(0)},
			{Cmd: []any{"wait", "1", "50"}, Want: int64(0)},
			{Cmd: []any{"wait", "x", "0"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"wait", "1", "-1"}, WantErr: "ERR timeout is negative"},
			{Cmd: []any{"wait", "1", "soon"}, WantErr: "ERR timeout is not an integer or out of range"},
			{Cmd: []any{"eval", "return redis.call('wait', 0, 0)", "0"}, WantErr: "ERR This Redis command is not allowed from script"},
			{Cmd: []any{"lolwut", "version", "x"}, WantErr: "ERR value is not an integer or out of range"},
		})
		ctx := context.Background()
		if v, err := c.Do(ctx, "lolwut").Text(); err != nil || !strings.HasPrefix(v, "Redis ver. ") {
			t.Errorf("LOLWUT = %q, %v", v, err)
		}
		if v, err := c.Do(ctx, "memory", "malloc-stats").Text(); err != nil || !strings.Contains(v, "heap_alloc_bytes: ") {
			t.Errorf("MEMORY MALLOC-STATS = %q, %v", v, err)
		}
		var got *redis.Cmd
		if _, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
			got = p.Do(ctx, "wait", "1", "0")
			return nil
		}); err != nil || got.Val() != int64(0) {
			t.Errorf("WAIT in MULTI = %v, %v", got.Val(), err)
		}
	})
	ctx := context.Background()
	waiter := s.Client(2)
	id := waiter.ClientID(ctx).Val()
	done := make(chan int64, 1)
	go func() { done <- waiter.Do(ctx, "wait", "1", "0").Val().(int64) }()
	admin := s.Client(2)
	for i := 0; ; i++ {
		if n, _ := admin.ClientUnblock(ctx, id).Result(); n == 1 {
			break
		}
		if i > 500 {
			t.Fatal("WAIT 1 0 never blocked")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := <-done; n != 0 {
		t.Fatalf("unblocked WAIT = %d", n)
	}
}
