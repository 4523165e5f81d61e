package commands_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

func TestMultiExec(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		testserver.Run(t, c, []C{
			{Cmd: []any{"multi"}, Want: "OK"},
			{Cmd: []any{"multi"}, WantErr: "ERR MULTI calls can not be nested"},
			{Cmd: []any{"set", "a", "1"}, Want: "QUEUED"},
			{Cmd: []any{"hset", "h", "f", "v"}, Want: "QUEUED"},
			{Cmd: []any{"incr", "a"}, Want: "QUEUED"},
			{Cmd: []any{"hget", "h", "f"}, Want: "QUEUED"},
			{Cmd: []any{"exec"}, Want: []any{"OK", int64(1), int64(2), "v"}},
			{Cmd: []any{"exec"}, WantErr: "ERR EXEC without MULTI"},
			{Cmd: []any{"discard"}, WantErr: "ERR DISCARD without MULTI"},
			// A runtime error inside EXEC fails that command only.
			{Cmd: []any{"multi"}, Want: "OK"},
			{Cmd: []any{"hset", "a", "f", "v"}, Want: "QUEUED"},
			{Cmd: []any{"incr", "a"}, Want: "QUEUED"},
			{Cmd: []any{"exec"}, Any: true},
			{Cmd: []any{"get", "a"}, Want: "3"},
			// A queueing error (unknown command, arity) aborts EXEC.
			{Cmd: []any{"multi"}, Want: "OK"},
			{Cmd: []any{"set", "a", "100"}, Want: "QUEUED"},
			{Cmd: []any{"nosuchcmd"}, WantErr: "ERR unknown command 'nosuchcmd'"},
			{Cmd: []any{"exec"}, WantErr: "EXECABORT Transaction discarded because of previous errors."},
			{Cmd: []any{"get", "a"}, Want: "3"},
			{Cmd: []any{"multi"}, Want: "OK"},
			{Cmd: []any{"get"}, WantErr: "ERR wrong number of arguments for 'get' command"},
			{Cmd: []any{"exec"}, WantErr: "EXECABORT"},
			{Cmd: []any{"multi"}, Want: "OK"},
			{Cmd: []any{"set", "a", "5"}, Want: "QUEUED"},
			{Cmd: []any{"discard"}, Want: "OK"},
			{Cmd: []any{"get", "a"}, Want: "3"},
			{Cmd: []any{"multi"}, Want: "OK"},
			{Cmd: []any{"save"}, WantErr: "ERR Command not allowed inside a transaction"},
			{Cmd: []any{"exec"}, WantErr: "EXECABORT"},
			{Cmd: []any{"multi"}, Want: "OK"},
			{Cmd: []any{"watch", "a"}, WantErr: "ERR WATCH inside MULTI is not allowed"},
			{Cmd: []any{"exec"}, Want: []any{}},
			{Cmd: []any{"unwatch"}, Want: "OK"},
		})
	})
}

func TestWatch(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	c, other := s.Client(2), s.Client(2)
	exec := func(keys ...string) error {
		return c.Watch(ctx, func(tx *redis.Tx) error {
			_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, "out", "done", 0)
				return nil
			})
			return err
		}, keys...)
	}
	// Unchanged: EXEC runs.
	c.Set(ctx, "w", "1", 0)
	if err := exec("w"); err != nil {
		t.Fatalf("exec on unchanged key: %v", err)
	}
	// Changed by another client between WATCH and EXEC, for each type.
	for _, change := range []func(){
		func() { other.Set(ctx, "w", "2", 0) },
		func() { other.HSet(ctx, "wh", "f", "same") },
		func() { other.SAdd(ctx, "ws", "new") },
		func() { other.ZAdd(ctx, "wz", redis.Z{Score: 9, Member: "m"}) },
		func() { other.Expire(ctx, "w", 1000) },
		func() { other.Del(ctx, "w") },
	} {
		c.HSet(ctx, "wh", "f", "same")
		c.SAdd(ctx, "ws", "x")
		c.ZAdd(ctx, "wz", redis.Z{Score: 1, Member: "m"})
		c.Set(ctx, "w", "1", 0)
		err := c.Watch(ctx, func(tx *redis.Tx) error {
			change()
			_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, "out", "done", 0)
				return nil
			})
			return err
		}, "w", "wh", "ws", "wz")
		if !errors.Is(err, redis.TxFailedErr) {
			t.Fatalf("watched key changed: EXEC gave %v, want a null array", err)
		}
	}
	// A write that leaves a set unchanged does not touch it (SADD of a member
	// already there), as in Redis.
	c.SAdd(ctx, "ws", "x")
	err := c.Watch(ctx, func(tx *redis.Tx) error {
		other.SAdd(ctx, "ws", "x")
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error { p.Ping(ctx); return nil })
		return err
	}, "ws")
	if err != nil {
		t.Fatalf("no-op SADD failed the transaction: %v", err)
	}
	// DISCARD and UNWATCH forget the watched keys.
	testserver.Run(t, c, []C{
		{Cmd: []any{"watch", "w"}, Want: "OK"},
		{Cmd: []any{"unwatch"}, Want: "OK"},
	})
	other.Set(ctx, "w", "3", 0)
	testserver.Run(t, c, []C{
		{Cmd: []any{"multi"}, Want: "OK"},
		{Cmd: []any{"get", "w"}, Want: "QUEUED"},
		{Cmd: []any{"exec"}, Want: []any{"3"}},
	})
}

// Two clients race to increment a counter with WATCH/MULTI/EXEC; every
// increment is applied exactly once, so the final value is the number of
// successful transactions.
func TestWatchRace(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	const per = 200
	var wg sync.WaitGroup
	var mu sync.Mutex
	aborted := 0
	for w := 0; w < 2; w++ {
		c := s.Client(2)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; {
				err := c.Watch(ctx, func(tx *redis.Tx) error {
					n, err := tx.Get(ctx, "counter").Int()
					if err != nil && err != redis.Nil {
						return err
					}
					_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
						p.Set(ctx, "counter", strconv.Itoa(n+1), 0)
						p.HIncrBy(ctx, "log", "n", 1)
						return nil
					})
					return err
				}, "counter")
				switch {
				case err == nil:
					i++
				case errors.Is(err, redis.TxFailedErr):
					mu.Lock()
					aborted++
					mu.Unlock()
				default:
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	c := s.Client(2)
	if n, _ := c.Get(ctx, "counter").Int(); n != 2*per {
		t.Fatalf("counter = %d, want %d (lost updates)", n, 2*per)
	}
	if n, _ := c.HGet(ctx, "log", "n").Int(); n != 2*per {
		t.Fatalf("log = %d, want %d", n, 2*per)
	}
	t.Logf("%d transactions aborted by the other client's writes", aborted)
}

// EXEC runs its queue atomically: a reader never sees half a transaction.
func TestExecAtomic(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	w, r := s.Client(2), s.Client(2)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 300; i++ {
			_, _ = w.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.HSet(ctx, "pair", "a", i)
				p.HSet(ctx, "pair", "b", i)
				return nil
			})
		}
	}()
	for {
		select {
		case <-done:
			return
		default:
		}
		v, err := r.HMGet(ctx, "pair", "a", "b").Result()
		if err != nil {
			t.Fatal(err)
		}
		if v[0] != v[1] {
			t.Fatalf("saw half a transaction: %v", v)
		}
	}
}
