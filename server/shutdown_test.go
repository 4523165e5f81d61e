package server_test

import (
	"context"
	"os"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/sessiond/sessiond/internal/testserver"
)

// failingSync makes the data file's fsync fail for every call up to
// failUntil (a count of calls), then work again.
type failingSync struct{ calls, failUntil atomic.Int64 }

func (f *failingSync) sync(file *os.File) error {
	if f.calls.Add(1) <= f.failUntil.Load() {
		return syscall.EIO
	}
	return file.Sync()
}

// SHUTDOWN (and SHUTDOWN SAVE) first makes every write durable; when the
// data file cannot be flushed the server refuses, with Redis' error, and
// keeps serving until it can. SHUTDOWN FORCE exits anyway.
func TestShutdownRefusedWhenTheDataFileCannotBeFlushed(t *testing.T) {
	for _, last := range []string{"", "save", "force"} {
		for _, proto := range []int{2, 3} {
			s := testserver.Start(t, "appendfsync", "always")
			st := s.Engine().Store()
			c := s.Client(proto)
			ctx := context.Background()
			if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
				t.Fatal(err)
			}
			var f failingSync
			f.failUntil.Store(1 << 40)
			st.SetSyncFunc(f.sync)
			// A write whose fsync fails is not acknowledged (appendfsync
			// always): it is in the file, not known to be on disk.
			if err := c.Set(ctx, "k2", "v", 0).Err(); err == nil {
				t.Fatalf("RESP%d: a write whose fsync failed was acknowledged", proto)
			}
			for _, args := range [][]any{{"shutdown"}, {"shutdown", "save"}} {
				err := c.Do(ctx, args...).Err()
				if err == nil || err.Error() != "ERR Errors trying to SHUTDOWN. Check logs." {
					t.Fatalf("RESP%d %v with a failing fsync: %v, want Redis' refusal", proto, args, err)
				}
				if v, err := c.Get(ctx, "k").Result(); err != nil || v != "v" {
					t.Fatalf("RESP%d: the server stopped serving after a refused %v: %q, %v", proto, args, v, err)
				}
			}
			cmd := []any{"shutdown"}
			if last == "force" {
				// The flush before the shutdown fails, the one closing the
				// file works: FORCE exits all the same.
				f.failUntil.Store(f.calls.Load() + 1)
				cmd = append(cmd, "force")
			} else {
				f.failUntil.Store(0) // the file can be flushed again
				if last != "" {
					cmd = append(cmd, last)
				}
			}
			if err := c.Do(ctx, cmd...).Err(); err == nil {
				t.Fatalf("RESP%d: %v answered instead of closing the connection", proto, cmd)
			}
			waitFor(t, "the server to stop", func() bool { return c.Get(ctx, "k").Err() != nil })
		}
	}
}
