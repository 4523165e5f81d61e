package persistence_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/sessiondbin"
	"github.com/sessiond/sessiond/internal/testserver"
)

type proc struct {
	cmd    *exec.Cmd
	addr   string
	stderr *bytes.Buffer
	done   chan struct{} // closed when the process has exited
	err    error         // its exit status, once done
}

// startProc runs the real binary and waits until it answers PING.
func startProc(t *testing.T, dir string, args ...string) *proc {
	t.Helper()
	port := strconv.Itoa(sessiondbin.FreePort(t))
	p := &proc{addr: "127.0.0.1:" + port, stderr: &bytes.Buffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(sessiondbin.Path(t), append([]string{"--port", port, "--dir", dir}, args...)...)
	p.cmd.Stderr = p.stderr
	p.cmd.Stdout = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	c := redis.NewClient(&redis.Options{Addr: p.addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		select {
		case <-p.done:
			t.Fatalf("sessiond exited: %v\n%s", p.err, p.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("sessiond never answered\n%s", p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return p
}

func (p *proc) client(t *testing.T) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: p.addr, MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	return c
}

// A second sessiond on the same data file refuses to start, saying why.
func TestSecondProcessRefused(t *testing.T) {
	dir := t.TempDir()
	first := startProc(t, dir)
	cmd := exec.Command(sessiondbin.Path(t), "--port", strconv.Itoa(sessiondbin.FreePort(t)), "--dir", dir)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("second sessiond started on the same file:\n%s", out)
	}
	msg := string(out)
	want := fmt.Sprintf("data file is in use by another process (pid %d holds", first.cmd.Process.Pid)
	if !strings.Contains(msg, want) || !strings.Contains(msg, filepath.Join(dir, "sessiond.db")) {
		t.Fatalf("second sessiond said %q, want it to contain %q and the file name", msg, want)
	}
	if ex, ok := err.(*exec.ExitError); !ok || ex.ExitCode() != 1 {
		t.Fatalf("exit: %v", err)
	}
	// The first one is unharmed.
	if err := first.client(t).Set(context.Background(), "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
}

// Under appendfsync always every acknowledged write survives kill -9.
func TestKillNineAlways(t *testing.T) {
	dir := t.TempDir()
	p := startProc(t, dir, "--appendfsync", "always")
	c := p.client(t)
	ctx := context.Background()
	const n = 300
	var wg sync.WaitGroup
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < n; i += 6 {
				if err := c.Set(ctx, fmt.Sprintf("k%d", i), i, time.Hour).Err(); err != nil {
					t.Error(err)
				}
			}
		}(w)
	}
	wg.Wait()
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	p2 := startProc(t, dir, "--appendfsync", "always")
	c2 := p2.client(t)
	if got := c2.DBSize(ctx).Val(); got != n {
		t.Fatalf("after kill -9: %d keys, want %d", got, n)
	}
	for i := 0; i < n; i += 37 {
		if v := c2.Get(ctx, fmt.Sprintf("k%d", i)).Val(); v != strconv.Itoa(i) {
			t.Fatalf("k%d = %q", i, v)
		}
	}
}

// Under everysec, writes acknowledged more than a second or two before a
// kill -9 survive it.
func TestKillNineEverySec(t *testing.T) {
	dir := t.TempDir()
	p := startProc(t, dir)
	c := p.client(t)
	ctx := context.Background()
	for i := 0; i < 100; i++ {
		c.Set(ctx, fmt.Sprintf("k%d", i), i, 0)
	}
	time.Sleep(2500 * time.Millisecond)
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	p2 := startProc(t, dir)
	if got := p2.client(t).DBSize(ctx).Val(); got != 100 {
		t.Fatalf("after kill -9: %d keys, want 100", got)
	}
}

// A restart keeps every key and its deadline to the millisecond.
func TestRestartKeepsPTTL(t *testing.T) {
	for _, policy := range []string{"always", "everysec", "no"} {
		t.Run(policy, func(t *testing.T) {
			s := testserver.Start(t, "appendfsync", policy)
			c := s.Client(2)
			ctx := context.Background()
			want := map[string]int64{}
			p := c.Pipeline()
			for i := 0; i < 500; i++ {
				k := fmt.Sprintf("k%d", i)
				ms := 60000 + rand.Int64N(3600000)
				p.Set(ctx, k, i, time.Duration(ms)*time.Millisecond)
			}
			p.Set(ctx, "persistent", "v", 0)
			if _, err := p.Exec(ctx); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 500; i++ {
				k := fmt.Sprintf("k%d", i)
				want[k] = c.Do(ctx, "pexpiretime", k).Val().(int64)
			}
			before := time.Now()
			s.Restart()
			c = s.Client(3)
			if got := c.DBSize(ctx).Val(); got != 501 {
				t.Fatalf("after restart: %d keys", got)
			}
			elapsed := time.Since(before).Milliseconds()
			for k, dl := range want {
				if got := c.Do(ctx, "pexpiretime", k).Val().(int64); got != dl {
					t.Fatalf("%s: PEXPIRETIME %d after restart, %d before", k, got, dl)
				}
				// The server reads its clock after we send: PTTL can be at most
				// what was left at sending time, and not much less.
				sent := time.Now().UnixMilli()
				pttl := c.PTTL(ctx, k).Val().Milliseconds()
				left := dl - sent
				if pttl > left+1 || pttl < left-elapsed-50 {
					t.Fatalf("%s: PTTL %d, expected about %d", k, pttl, left)
				}
			}
			if ttl := c.TTL(ctx, "persistent").Val(); ttl != -1 {
				t.Fatalf("persistent key TTL %v", ttl)
			}
		})
	}
}

// appendonly no keeps nothing on disk: no file, and a restart starts empty.
func TestAppendonlyNo(t *testing.T) {
	s := testserver.Start(t, "appendonly", "no")
	c := s.Client(2)
	ctx := context.Background()
	c.Set(ctx, "k", "v", 0)
	info := c.Info(ctx, "persistence").Val()
	if !strings.Contains(info, "aof_enabled:0") {
		t.Fatalf("INFO persistence: %q", info)
	}
	s.Restart()
	c = s.Client(2)
	if n := c.DBSize(ctx).Val(); n != 0 {
		t.Fatalf("memory-only server kept %d keys across a restart", n)
	}
	entries, _ := os.ReadDir(s.Dir)
	if len(entries) != 0 {
		t.Fatalf("memory-only server wrote files: %v", entries)
	}
}

// A torn last record (power cut mid-write) is dropped on start; the rest loads.
func TestTornTailOnStart(t *testing.T) {
	s := testserver.Start(t, "appendfsync", "always")
	c := s.Client(2)
	ctx := context.Background()
	for i := 0; i < 50; i++ {
		c.Set(ctx, fmt.Sprintf("k%02d", i), strings.Repeat("v", 50), 0)
	}
	s.Stop()
	path := filepath.Join(s.Dir, "sessiond.db")
	data, _ := os.ReadFile(path)
	last := bytes.LastIndex(data, []byte("*3\r\n$3\r\nset\r\n"))
	if last < 0 {
		t.Fatalf("no set record in the file")
	}
	if err := os.WriteFile(path, data[:last+30], 0o644); err != nil {
		t.Fatal(err)
	}
	s.Restart()
	c = s.Client(2)
	if n := c.DBSize(ctx).Val(); n != 49 {
		t.Fatalf("after a torn tail: %d keys, want 49", n)
	}
	if c.Exists(ctx, "k49").Val() != 0 || c.Exists(ctx, "k48").Val() != 1 {
		t.Fatal("the wrong record was dropped")
	}
	if err := c.Set(ctx, "after", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
}

// `sessiond check` reports a damaged middle with its offset; the server
// refuses the file with a pointer to the tool; --repair keeps the records
// before the damage and the server starts on them.
func TestCheckCommand(t *testing.T) {
	dir := t.TempDir()
	p := startProc(t, dir, "--appendfsync", "always")
	c := p.client(t)
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		c.Set(ctx, fmt.Sprintf("k%02d", i), "value", 0)
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.done
	path := filepath.Join(dir, "sessiond.db")
	out, err := exec.Command(sessiondbin.Path(t), "check", path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), ": ok: ") {
		t.Fatalf("check of a good file: %v %s", err, out)
	}
	data, _ := os.ReadFile(path)
	key := bytes.Index(data, []byte("k\x00k10\r\n")) // the record of k10 in db 0
	if key < 0 {
		t.Fatalf("no record of k10 in the file")
	}
	mid := bytes.LastIndexByte(data[:key], '$')
	start := bytes.LastIndex(data[:mid], []byte("*3\r\n"))
	data[mid] = '#' // damage the key's bulk header in record k10
	os.WriteFile(path, data, 0o644)

	out, err = exec.Command(sessiondbin.Path(t), "check", path).CombinedOutput()
	if ex, ok := err.(*exec.ExitError); !ok || ex.ExitCode() != 1 {
		t.Fatalf("check of a damaged file exited with %v: %s", err, out)
	}
	if want := fmt.Sprintf("damaged at offset %d", start); !strings.Contains(string(out), want) {
		t.Fatalf("check said %q, want %q", out, want)
	}
	cmd := exec.Command(sessiondbin.Path(t), "--port", strconv.Itoa(sessiondbin.FreePort(t)), "--dir", dir)
	out, err = cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "damaged") || !strings.Contains(string(out), "sessiond check") {
		t.Fatalf("server on a damaged file: %v %s", err, out)
	}
	out, err = exec.Command(sessiondbin.Path(t), "check", "--repair", path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "repaired") {
		t.Fatalf("repair: %v %s", err, out)
	}
	p2 := startProc(t, dir)
	c2 := p2.client(t)
	if n := c2.DBSize(ctx).Val(); n != 10 {
		t.Fatalf("after repair: %d keys, want the 10 before the damage", n)
	}
	if c2.Exists(ctx, "k09").Val() != 1 || c2.Exists(ctx, "k10").Val() != 0 {
		t.Fatal("repair kept the wrong records")
	}
}
