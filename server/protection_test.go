package server_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sessiond/sessiond/internal/testserver"
)

// rawReply sends raw bytes on a fresh connection and returns everything the
// server answers until it closes the connection (or 5 s pass).
func rawReply(t *testing.T, s *testserver.Server, payload string) (string, bool) {
	t.Helper()
	nc := s.Dial()
	if _, err := io.WriteString(nc, payload); err != nil {
		t.Fatal(err)
	}
	_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	data, err := io.ReadAll(nc)
	// EOF, or a reset because the server closed with our bytes unread.
	closed := err == nil || errors.Is(err, syscall.ECONNRESET)
	return string(data), closed
}

func ping(t *testing.T, s *testserver.Server) {
	t.Helper()
	nc := s.Dial()
	io.WriteString(nc, "*1\r\n$4\r\nPING\r\n")
	_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(nc).ReadString('\n')
	if err != nil || line != "+PONG\r\n" {
		t.Fatalf("PING on a new connection: %q %v", line, err)
	}
}

// Framing violations answer a protocol error, close that connection, and
// leave the server serving others. redcon alone panics on the first one.
func TestFramingGuard(t *testing.T) {
	s := testserver.Start(t, "proto-max-bulk-len", "1mb")
	for _, tc := range []struct {
		name, payload, want string
	}{
		{"overflowing bulk length", "*1\r\n$9223372036854775807\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"bulk over proto-max-bulk-len", "*1\r\n$1048577\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"negative bulk length", "*1\r\n$-5\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"non-numeric bulk length", "*1\r\n$abc\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"multibulk count over 1048576", "*1048577\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
		{"overflowing multibulk count", "*99999999999999999999999\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
		{"non-numeric multibulk count", "*x\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
		{"missing $", "*1\r\n+PING\r\n", "-ERR Protocol error: expected '$', got '+'\r\n"},
		{"inline line over 64KB", strings.Repeat("a", 70*1024), "-ERR Protocol error: too big inline request\r\n"},
		{"inline line over 64KB with newline", strings.Repeat("a", 70*1024) + "\r\n", "-ERR Protocol error: too big inline request\r\n"},
		{"unbalanced quotes", "SET \"a b\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"},
		{"replies before the violation", "*1\r\n$4\r\nPING\r\n*1\r\n$-2\r\n", "+PONG\r\n-ERR Protocol error: invalid bulk length\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, closed := rawReply(t, s, tc.payload)
			if got != tc.want || !closed {
				t.Fatalf("got %q (closed %v), want %q and a closed connection", got, closed, tc.want)
			}
			ping(t, s)
		})
	}
	// Accepted edge cases: empty multibulks are skipped, a bulk exactly at the
	// limit is read, inline commands work.
	nc := s.Dial()
	rd := bufio.NewReader(nc)
	big := strings.Repeat("x", 1<<20)
	fmt.Fprintf(nc, "*0\r\n*-1\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n%s\r\nPING inline\r\nSTRLEN k\r\n", len(big), big)
	_ = nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	for _, want := range []string{"+OK\r\n", "$6\r\n", "inline\r\n", ":1048576\r\n"} {
		if line, err := rd.ReadString('\n'); err != nil || line != want {
			t.Fatalf("got %q %v, want %q", line, err, want)
		}
	}
}

// The framing guard splits nothing it should not: a command arriving one
// byte at a time still works.
func TestFramingByteByByte(t *testing.T) {
	s := testserver.Start(t)
	nc := s.Dial()
	cmd := "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nva\r\nl\r\n*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n"
	for i := 0; i < len(cmd); i++ {
		if _, err := nc.Write([]byte{cmd[i]}); err != nil {
			t.Fatal(err)
		}
		if i%7 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	rd := bufio.NewReader(nc)
	_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	for _, want := range []string{"+OK\r\n", "$5\r\n", "va\r\nl\r\n"} {
		got := make([]byte, len(want))
		if _, err := io.ReadFull(rd, got); err != nil || string(got) != want {
			t.Fatalf("got %q %v, want %q", got, err, want)
		}
	}
}

// maxclients refuses the connection beyond the limit in Redis' words, and
// accepts again once a client leaves.
func TestMaxClients(t *testing.T) {
	s := testserver.Start(t, "maxclients", "3")
	var conns []net.Conn
	for i := 0; i < 3; i++ {
		nc := s.Dial()
		io.WriteString(nc, "PING\r\n")
		line, err := bufio.NewReader(nc).ReadString('\n')
		if err != nil || line != "+PONG\r\n" {
			t.Fatalf("client %d: %q %v", i, line, err)
		}
		conns = append(conns, nc)
	}
	got, closed := rawReply(t, s, "PING\r\n")
	if got != "-ERR max number of clients reached\r\n" || !closed {
		t.Fatalf("extra client: %q (closed %v)", got, closed)
	}
	conns[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		nc := s.Dial()
		io.WriteString(nc, "PING\r\n")
		_ = nc.SetReadDeadline(time.Now().Add(time.Second))
		line, _ := bufio.NewReader(nc).ReadString('\n')
		nc.Close()
		if line == "+PONG\r\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a slot never freed: %q", line)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Free the held slots; the server notices closes asynchronously, so
	// retry until the stats client gets in.
	for _, nc := range conns[1:] {
		nc.Close()
	}
	c := s.Client(2)
	var info string
	for {
		var err error
		info, err = c.Info(context.Background(), "stats").Result()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("INFO after freeing slots: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(info, "rejected_connections:") || strings.Contains(info, "rejected_connections:0\r\n") {
		t.Fatalf("rejected_connections not counted: %q", info)
	}
}

// A client that sends commands but never reads its replies is disconnected
// once its queued output passes the normal class of
// client-output-buffer-limit; meanwhile other clients are served at full speed.
func TestOutputBufferLimitDisconnectsSlowReader(t *testing.T) {
	s := testserver.Start(t, "client-output-buffer-limit", "normal 4mb 0 0")
	c := s.Client(2)
	ctx := context.Background()
	val := strings.Repeat("v", 64*1024)
	if err := c.Set(ctx, "big", val, 0).Err(); err != nil {
		t.Fatal(err)
	}
	slow := s.Dial()
	if tc, ok := slow.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096) // keep the kernel from absorbing much
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		// Up to 100 MB of replies requested, one command at a time (so each
		// arrives in its own small batch); the reader never reads.
		cmd := []byte("*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n")
		for i := 0; i < 1600; i++ {
			if _, err := slow.Write(cmd); err != nil {
				return // disconnected: expected
			}
			time.Sleep(500 * time.Microsecond)
		}
	}()
	// Others keep being served quickly while the slow client fills up.
	worst := time.Duration(0)
	deadline := time.Now().Add(20 * time.Second)
	disconnected := false
	for time.Now().Before(deadline) {
		start := time.Now()
		if err := c.Ping(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		worst = max(worst, time.Since(start))
		list := c.ClientList(ctx).Val()
		if strings.Count(list, "\n") == 1 {
			disconnected = true
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !disconnected {
		t.Fatalf("the slow reader was never disconnected; clients:\n%s", c.ClientList(ctx).Val())
	}
	if worst > 500*time.Millisecond {
		t.Fatalf("another client waited %v while the slow reader filled its buffer", worst)
	}
	slow.Close()
	wg.Wait()
	// The slow connection really is closed by the server.
	_ = slow.SetReadDeadline(time.Now().Add(time.Second))
}

// A single reply larger than the hard limit disconnects at once.
func TestOutputBufferLimitSingleReply(t *testing.T) {
	s := testserver.Start(t, "client-output-buffer-limit", "normal 1mb 0 0")
	c := s.Client(2)
	ctx := context.Background()
	c.Set(ctx, "big", strings.Repeat("v", 2<<20), 0)
	got, closed := rawReply(t, s, "GET big\r\n")
	if got != "" || !closed {
		t.Fatalf("reply over the hard limit: got %d bytes (closed %v)", len(got), closed)
	}
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
}

// QUIT's reply is delivered even to a slow reader, before the close.
func TestQuitReplyNotLost(t *testing.T) {
	s := testserver.Start(t)
	got, closed := rawReply(t, s, "PING\r\nQUIT\r\nPING\r\n")
	if got != "+PONG\r\n+OK\r\n" || !closed {
		t.Fatalf("got %q (closed %v)", got, closed)
	}
}
