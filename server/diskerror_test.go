package server_test

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

// Issue 13, D10: a data file that cannot be flushed is reported in INFO,
// writes are refused with MISCONF until it can be again, and under
// appendfsync always a write whose fsync failed is never acknowledged.

func writeStatus(t *testing.T, c *redis.Client) string {
	t.Helper()
	info, err := c.Info(context.Background(), "persistence").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "aof_last_write_status:"); ok {
			return v
		}
	}
	t.Fatalf("no aof_last_write_status in %q", info)
	return ""
}

const misconf = "MISCONF Errors writing to the data file: input/output error"

func TestFailedFsyncRefusesWrites(t *testing.T) {
	for _, fsync := range []string{"always", "everysec"} {
		t.Run(fsync, func(t *testing.T) {
			s := testserver.Start(t, "appendfsync", fsync)
			st := s.Engine().Store()
			s.Protocols(t, func(t *testing.T, c *redis.Client) {
				ctx := context.Background()
				if err := c.Set(ctx, "before", "1", 0).Err(); err != nil {
					t.Fatal(err)
				}
				st.SetSyncFunc(func(*os.File) error { return syscall.EIO })
				defer st.SetSyncFunc((*os.File).Sync)

				err := c.Set(ctx, "x", "1", 0).Err()
				if fsync == "always" {
					// Its fsync failed: no OK, the connection is closed.
					if err == nil {
						t.Fatal("a write whose fsync failed was acknowledged")
					}
				} else {
					// everysec acknowledges before the fsync, as Redis does;
					// the next fsync fails.
					if err != nil {
						t.Fatal(err)
					}
					waitFor(t, "the failed fsync", func() bool { return writeStatus(t, c) == "err" })
				}
				if got := writeStatus(t, c); got != "err" {
					t.Fatalf("aof_last_write_status:%s after a failed fsync", got)
				}
				for _, cmd := range [][]any{{"set", "y", "1"}, {"del", "before"}, {"sess.new", "o", "60"}, {"ping"}} {
					if err := c.Do(ctx, cmd...).Err(); err == nil || err.Error() != misconf {
						t.Fatalf("%v while the file cannot be flushed: %v, want %q", cmd, err, misconf)
					}
				}
				// A script's write is refused the same way (its reads are not).
				if err := c.Eval(ctx, "return redis.call('set', 'y', '1')", nil).Err(); err == nil || !strings.HasPrefix(err.Error(), misconf+" script: ") {
					t.Fatalf("a script's write while the file cannot be flushed: %v, want %q", err, misconf)
				}
				if got, err := c.Eval(ctx, "return redis.call('get', 'before')", nil).Result(); err != nil || got != "1" {
					t.Fatalf("a script's read: %v, %v", got, err)
				}
				// MULTI with a refused write is aborted as a whole, as in Redis.
				_, err = c.TxPipelined(ctx, func(p redis.Pipeliner) error {
					p.Incr(ctx, "n")
					return nil
				})
				if err == nil || !strings.HasPrefix(err.Error(), "EXECABORT") {
					t.Fatalf("MULTI INCR EXEC: %v", err)
				}
				if got, err := c.Get(ctx, "before").Result(); err != nil || got != "1" {
					t.Fatalf("reads go on: GET before = %q, %v", got, err)
				}
				// Once the file can be flushed again (the server retries each
				// second), writes are accepted.
				st.SetSyncFunc((*os.File).Sync)
				waitFor(t, "the fsync to succeed again", func() bool { return writeStatus(t, c) == "ok" })
				if err := c.Set(ctx, "y", "2", 0).Err(); err != nil {
					t.Fatal(err)
				}
				if err := c.Ping(ctx).Err(); err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}
