package persistence_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sys/unix"
)

// Issue 13, D10, with a real failing write(2): a sessiond process whose file
// size limit (RLIMIT_FSIZE, set from outside with prlimit) is just above its
// data file gets EFBIG on the next write that would pass it, as a full disk
// gives ENOSPC. INFO reports it, writes are refused with MISCONF, nothing of
// the failed write is kept, and once the limit is lifted the server accepts
// writes again by itself.
func TestFailedWriteRefusesWritesUntilTheFileTakesThem(t *testing.T) {
	for _, fsync := range []string{"always", "everysec"} {
		t.Run(fsync, func(t *testing.T) {
			dir := t.TempDir()
			p := startProc(t, dir, "--appendfsync", fsync)
			ctx := context.Background()
			for _, proto := range []int{2, 3} {
				c := redis.NewClient(&redis.Options{Addr: p.addr, Protocol: proto, MaxRetries: -1})
				defer c.Close()
				if err := c.Set(ctx, "before", "1", 0).Err(); err != nil {
					t.Fatal(err)
				}
				path := filepath.Join(dir, "sessiond.db")
				st, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				pid := p.cmd.Process.Pid
				lim := &unix.Rlimit{Cur: uint64(st.Size()) + 4096, Max: unix.RLIM_INFINITY}
				if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, lim, nil); err != nil {
					t.Skipf("prlimit: %v", err)
				}
				big := strings.Repeat("v", 64*1024)
				err = c.Set(ctx, "big", big, 0).Err()
				want := "MISCONF Errors writing to the data file: " + syscall.EFBIG.Error()
				if err == nil || err.Error() != want {
					t.Fatalf("SET of a value the file cannot take: %v, want %q", err, want)
				}
				if n := c.Exists(ctx, "big").Val(); n != 0 {
					t.Fatal("the write that failed is visible")
				}
				info := c.Info(ctx, "persistence").Val()
				if !strings.Contains(info, "aof_last_write_status:err") {
					t.Fatalf("INFO after a failed write:\n%s", info)
				}
				for _, cmd := range [][]any{{"set", "small", "1"}, {"sess.new", "o", "60"}, {"ping"}} {
					if err := c.Do(ctx, cmd...).Err(); err == nil || err.Error() != want {
						t.Fatalf("%v: %v, want %q", cmd, err, want)
					}
				}
				if got := c.Get(ctx, "before").Val(); got != "1" {
					t.Fatalf("GET before = %q", got)
				}
				lim.Cur = unix.RLIM_INFINITY
				if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, lim, nil); err != nil {
					t.Fatal(err)
				}
				deadline := time.Now().Add(10 * time.Second)
				for !strings.Contains(c.Info(ctx, "persistence").Val(), "aof_last_write_status:ok") {
					if time.Now().After(deadline) {
						t.Fatal("writes never accepted again")
					}
					time.Sleep(20 * time.Millisecond)
				}
				if err := c.Set(ctx, "big", big, 0).Err(); err != nil {
					t.Fatal(err)
				}
				if err := c.Del(ctx, "big").Err(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
