package server_test

import (
	"context"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sessiond/sessiond/config"
	"github.com/sessiond/sessiond/internal/testserver"
	"github.com/sessiond/sessiond/server"
	"golang.org/x/sys/unix"
)

// D1: running out of file descriptors must not stop the server. The test
// lowers this process's open files limit (the in-process server shares it)
// until accepts fail with EMFILE, then gives the descriptors back: the
// server must serve new clients again. Before the fix, the first failed
// accept ended the server.
func TestAcceptSurvivesFdExhaustion(t *testing.T) {
	s := testserver.Start(t)
	c := s.Client(2)
	ctx := context.Background()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	var orig unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &orig); err != nil {
		t.Fatal(err)
	}
	restore := func() { _ = unix.Setrlimit(unix.RLIMIT_NOFILE, &orig) }
	defer restore()
	open, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	tight := unix.Rlimit{Cur: uint64(len(open) + 20), Max: orig.Max}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &tight); err != nil {
		t.Fatal(err)
	}
	// Each connection costs a descriptor on both ends; dial until the
	// client side runs out too. The server's accepts fail before that.
	var conns []net.Conn
	for i := 0; i < 40; i++ {
		nc, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err != nil {
			break
		}
		conns = append(conns, nc)
	}
	time.Sleep(200 * time.Millisecond) // the acceptor meets EMFILE and backs off
	restore()
	for _, nc := range conns {
		nc.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		nc, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err == nil {
			_ = nc.SetDeadline(time.Now().Add(2 * time.Second))
			_, _ = nc.Write([]byte("PING\r\n"))
			buf := make([]byte, 7)
			n, _ := nc.Read(buf)
			nc.Close()
			if string(buf[:n]) == "+PONG\r\n" {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server stopped serving after running out of descriptors (last error %v)", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	stats := c.Info(ctx, "stats").Val()
	if !strings.Contains(stats, "rejected_connections:") || strings.Contains(stats, "rejected_connections:0\r\n") {
		t.Errorf("failed accepts are not counted in rejected_connections:\n%s", stats)
	}
}

// At start the open files limit is raised to fit maxclients, or maxclients
// is lowered to fit a limit that cannot be raised.
func TestOpenFilesLimitFitsMaxclients(t *testing.T) {
	var orig unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &orig); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = unix.Setrlimit(unix.RLIMIT_NOFILE, &orig) }()
	var nrOpen uint64 = 1 << 20
	if b, err := os.ReadFile("/proc/sys/fs/nr_open"); err == nil {
		if v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil {
			nrOpen = v
		}
	}
	open := func(maxclients int64) (*config.Config, unix.Rlimit) {
		t.Helper()
		cfg := config.Defaults()
		for k, v := range map[string]string{"dir": t.TempDir(), "port": "0", "appendonly": "no", "maxclients": strconv.FormatInt(maxclients, 10)} {
			if err := cfg.Set(k, v); err != nil {
				t.Fatal(err)
			}
		}
		srv, err := server.Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		srv.Close()
		var now unix.Rlimit
		_ = unix.Getrlimit(unix.RLIMIT_NOFILE, &now)
		return cfg, now
	}
	// Within reach: the soft limit rises to maxclients + the reserve.
	low := unix.Rlimit{Cur: 256, Max: orig.Max}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	if orig.Max >= 2000+32 {
		cfg, now := open(2000)
		if now.Cur < 2000+32 {
			t.Errorf("soft limit %d, want at least %d", now.Cur, 2000+32)
		}
		if got := cfg.Int("maxclients"); got != 2000 {
			t.Errorf("maxclients = %d, want 2000 kept", got)
		}
	}
	// Out of reach (more than fs.nr_open allows any process): maxclients
	// is lowered to what the limit it got fits.
	if nrOpen > 1<<20 {
		t.Skipf("fs.nr_open is %d: maxclients (at most 1048576) always fits", nrOpen)
	}
	cfg, now := open(1 << 20)
	if got, want := cfg.Int("maxclients"), int64(now.Cur)-32; got != want {
		t.Errorf("maxclients = %d with a limit of %d, want %d", got, now.Cur, want)
	}
}
