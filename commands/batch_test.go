package commands_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

// A pipeline runs its batchable commands in one shared transaction; replies
// stay in order, a failing command leaves its neighbours' writes in place,
// and non-batchable commands (MULTI, CONFIG) split the run correctly.
func TestPipelineSharesTransactionButKeepsSemantics(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		p := c.Pipeline()
		set1 := p.Set(ctx, "a", "1", 0)
		bad := p.Incr(ctx, "text")      // missing key: becomes 1
		p.Set(ctx, "text", "abc", 0)    // now a non-integer
		bad2 := p.Incr(ctx, "text")     // error mid-run
		set2 := p.Set(ctx, "b", "2", 0) // after the error, still applied
		multi := p.Do(ctx, "multi")
		queued := p.Do(ctx, "set", "c", "3")
		exec := p.Do(ctx, "exec")
		get := p.MGet(ctx, "a", "b", "c", "text")
		_, _ = p.Exec(ctx)
		if set1.Val() != "OK" || set2.Val() != "OK" {
			t.Fatalf("sets: %v %v", set1.Val(), set2.Val())
		}
		if bad.Val() != 1 {
			t.Fatalf("incr of missing key: %v %v", bad.Val(), bad.Err())
		}
		if bad2.Err() == nil || bad2.Err().Error() != "ERR value is not an integer or out of range" {
			t.Fatalf("incr of text: %v", bad2.Err())
		}
		if multi.Val() != "OK" || queued.Val() != "QUEUED" {
			t.Fatalf("multi: %v %v", multi.Val(), queued.Val())
		}
		if fmt.Sprint(exec.Val()) != "[OK]" {
			t.Fatalf("exec: %v", exec.Val())
		}
		if fmt.Sprint(get.Val()) != "[1 2 3 abc]" {
			t.Fatalf("mget: %v", get.Val())
		}
	})
}

// A long pipeline of writes is acknowledged only once durable under
// appendfsync always, and survives a restart in full.
func TestPipelineDurableAcrossRestart(t *testing.T) {
	s := testserver.Start(t, "appendfsync", "always")
	c := s.Client(2)
	ctx := context.Background()
	p := c.Pipeline()
	for i := 0; i < 2000; i++ {
		p.Set(ctx, fmt.Sprintf("k%d", i), i, 0)
	}
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	s.Restart()
	c = s.Client(2)
	n, err := c.DBSize(ctx).Result()
	if err != nil || n != 2000 {
		t.Fatalf("dbsize after restart = %d, %v", n, err)
	}
	if v := c.Get(ctx, "k1999").Val(); v != "1999" {
		t.Fatalf("k1999 = %q", v)
	}
}
