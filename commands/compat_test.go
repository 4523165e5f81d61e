package commands_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

// target is one server a compatibility table runs against.
type target struct {
	c      *redis.Client
	proto  int
	oracle bool // a real redis-server (REDIS_ORACLE), not sessiond
}

// by picks the RESP2 or RESP3 form of an expected reply.
func (tg target) by(resp2, resp3 any) any {
	if tg.proto == 3 {
		return resp3
	}
	return resp2
}

// compat runs fn against sessiond in RESP2 and RESP3, each time on a flushed
// server. With REDIS_ORACLE=host:port it also runs fn against that Redis
// (7.0 or later), which is how these tables were checked against Redis
// itself:
//
//	redis-server --port 7001 --save '' --appendonly no &
//	REDIS_ORACLE=127.0.0.1:7001 go test ./commands -run 'Compat'
func compat(t *testing.T, s *testserver.Server, fn func(t *testing.T, tg target)) {
	t.Helper()
	for _, p := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", p), func(t *testing.T) {
			c := s.Client(p)
			if err := c.FlushAll(context.Background()).Err(); err != nil {
				t.Fatal(err)
			}
			fn(t, target{c: c, proto: p})
		})
	}
	addr := os.Getenv("REDIS_ORACLE")
	if addr == "" {
		return
	}
	for _, p := range []int{2, 3} {
		t.Run(fmt.Sprintf("redis-RESP%d", p), func(t *testing.T) {
			c := redis.NewClient(&redis.Options{Addr: addr, Protocol: p, ReadTimeout: 10 * time.Second, MaxRetries: -1})
			defer c.Close()
			if err := c.FlushAll(context.Background()).Err(); err != nil {
				t.Fatal(err)
			}
			fn(t, target{c: c, proto: p, oracle: true})
		})
	}
}

// send sends a command and returns its reply and error.
func send(c *redis.Client, args ...any) (any, error) {
	return c.Do(context.Background(), args...).Result()
}

// must sends a command that must not fail.
func must(t *testing.T, c *redis.Client, args ...any) any {
	t.Helper()
	v, err := send(c, args...)
	if err != nil && err != redis.Nil {
		t.Fatalf("%v: %v", args, err)
	}
	return v
}

// mustInt sends a command whose reply must be an integer.
func mustInt(t *testing.T, c *redis.Client, args ...any) int64 {
	t.Helper()
	v := must(t, c, args...)
	n, ok := v.(int64)
	if !ok {
		t.Fatalf("%v: got %#v, want an integer", args, v)
	}
	return n
}
