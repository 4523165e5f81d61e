package commands_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/commands"
	"github.com/sessiond/sessiond/internal/testserver"
)

// Every command of the table, queued in MULTI or called from a script, runs
// inside a transaction that is already open. A command that took the engine
// lock on its own would wait for that transaction forever and, with it, the
// whole server (INFO once did). This sends each command with arguments of
// the right count through both paths and checks that EXEC and EVAL answer
// and that another client can still write.
func TestEveryCommandInsideTransactionAndScript(t *testing.T) {
	// Commands that end or repurpose the connection or the server are not
	// what this test is about.
	skip := map[string]bool{
		"shutdown": true, "quit": true, "reset": true, "hello": true, "monitor": true,
		"subscribe": true, "psubscribe": true, "ssubscribe": true,
		"client|pause": true, "client|kill": true, "client|reply": true,
		"debug": true, "failover": true, "replicaof": true, "slaveof": true, "sync": true, "psync": true,
		// Redis' HyperLogLog self test runs for seconds by design (several
		// under -race), past this test's read timeout; hll_test runs it.
		"pfselftest": true,
	}
	s := testserver.Start(t)
	ctx := context.Background()
	other := s.Client(2)
	for _, proto := range []int{2, 3} {
		c := redis.NewClient(&redis.Options{Addr: s.Client(proto).Options().Addr, Protocol: proto, ReadTimeout: 5 * time.Second, MaxRetries: -1, PoolSize: 1})
		t.Cleanup(func() { c.Close() })
		var specs []*commands.Spec
		for _, sp := range commands.Specs() {
			if subs := sp.Subs(); len(subs) > 0 {
				specs = append(specs, subs...)
			} else {
				specs = append(specs, sp)
			}
		}
		for _, sp := range specs {
			name := sp.FullName()
			if skip[name] || skip[strings.Split(name, "|")[0]] {
				continue
			}
			n := sp.Arity
			if n < 0 {
				n = -n
			}
			words := strings.Split(name, "|")
			for _, fill := range []string{"1", "k"} {
				args := []any{}
				for _, w := range words {
					args = append(args, w)
				}
				for len(args) < n {
					args = append(args, fill)
				}
				// In MULTI: EXEC must answer (an array, an error or null).
				if err := c.Do(ctx, "multi").Err(); err != nil {
					t.Fatalf("RESP%d %v: MULTI: %v", proto, args, err)
				}
				_ = c.Do(ctx, args...).Err()
				if err := c.Do(ctx, "exec").Err(); err != nil && err != redis.Nil && !isRedisError(err) {
					t.Fatalf("RESP%d %v inside MULTI: EXEC got %v", proto, args, err)
				}
				// From a script: the call fails or succeeds, but answers.
				eval := append([]any{"eval", "return redis.pcall(unpack(ARGV))", "0"}, args...)
				if err := c.Do(ctx, eval...).Err(); err != nil && err != redis.Nil && !isRedisError(err) {
					t.Fatalf("RESP%d %v from a script: %v", proto, args, err)
				}
				if err := other.Set(ctx, "alive", name, 0).Err(); err != nil {
					t.Fatalf("after %v the server no longer writes: %v", args, err)
				}
				_ = c.Do(ctx, "select", "0").Err()
			}
		}
	}
}

// isRedisError tells a server's error reply from a transport failure.
func isRedisError(err error) bool {
	var re redis.Error
	return errors.As(err, &re)
}
