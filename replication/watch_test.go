package replication_test

import (
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
)

// Optimistic increments with WATCH from clients on every node: a
// transaction whose watched key was written after its EXEC was checked, but
// before its entry's turn in the log, must abort, or two clients that read
// the same value both commit and an increment is lost. The counter ends at
// exactly the number of transactions that ran, on every node.
func TestWatchOptimisticIncrements(t *testing.T) {
	g := newGroup(t, 3)
	for _, proto := range []int{2, 3} {
		g.proto = proto
		g.waitLeader(-1)
		key := "opt:" + strconv.Itoa(proto)
		const clients, each = 9, 15
		var wg sync.WaitGroup
		errs := make(chan error, clients)
		aborts := make([]int, clients)
		for c := 0; c < clients; c++ {
			wg.Add(1)
			go func(c int) {
				defer wg.Done()
				rc := g.client(c % len(g.nodes))
				for done := 0; done < each; {
					err := rc.Watch(ctx, func(tx *redis.Tx) error {
						n, err := tx.Get(ctx, key).Int()
						if err != nil && !errors.Is(err, redis.Nil) {
							return err
						}
						_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
							p.Set(ctx, key, n+1, 0)
							return nil
						})
						return err
					}, key)
					switch {
					case err == nil:
						done++
					case errors.Is(err, redis.TxFailedErr):
						aborts[c]++
					default:
						errs <- err
						return
					}
				}
			}(c)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("RESP%d: %v", proto, err)
		}
		total := 0
		for _, a := range aborts {
			total += a
		}
		t.Logf("RESP%d: %d transactions ran, %d aborted", proto, clients*each, total)
		for i := range g.nodes {
			v, err := g.client(i).Get(ctx, key).Int()
			if err != nil || v != clients*each {
				t.Fatalf("RESP%d: node %d counter = %d, %v; want %d (a lost update: a transaction ran on a changed key)", proto, i, v, err, clients*each)
			}
		}
	}
}

// The guard an EXEC carries through the log is checked where the entry
// applies: a guard whose version no longer matches (here, forged through
// RAFT FORWARD as a follower would send it) aborts the transaction on every
// node, as does a malformed one; nothing of it is applied.
func TestWatchGuardAppliesEverywhere(t *testing.T) {
	g := newGroup(t, 3)
	l := g.waitLeader(-1)
	lc := g.client(l)
	if err := lc.Set(ctx, "wg", "before", 0).Err(); err != nil {
		t.Fatal(err)
	}
	stale := string(make([]byte, 32))
	for _, tc := range []struct {
		name  string
		guard []any
	}{
		{"stale version", []any{"4", "\x00watched", "0", "wg", stale}},
		{"malformed", []any{"3", "\x00watched", "0", "wg"}},
		{"bad database", []any{"4", "\x00watched", "x", "wg", stale}},
	} {
		args := []any{"RAFT", "FORWARD", "0", "2", "true", "", "4"}
		args = append(args, tc.guard...)
		args = append(args, "1", "MULTI", "3", "SET", "wg", "after", "1", "EXEC")
		reply, err := lc.Do(ctx, args...).Text()
		if err != nil {
			t.Fatalf("%s: RAFT FORWARD: %v", tc.name, err)
		}
		if reply != "*-1\r\n" {
			t.Fatalf("%s: EXEC reply %q, want a null array", tc.name, reply)
		}
	}
	for i := range g.nodes {
		if v := get[string](t)(g.client(i).Get(ctx, "wg").Result()); v != "before" {
			t.Fatalf("node %d: wg = %q, an aborted transaction was applied", i, v)
		}
	}
}
