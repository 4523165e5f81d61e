package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sessiond/sessiond/internal/testserver"
)

// readReplies reads n RESP replies from r, each rendered on one line.
func readReplies(t *testing.T, r *bufio.Reader, n int) []string {
	t.Helper()
	var out []string
	for len(out) < n {
		out = append(out, readReply(t, r))
	}
	return out
}

func readReply(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("read reply: %v", err)
	}
	line = strings.TrimRight(line, "\r\n")
	switch line[0] {
	case '$':
		var n int
		fmt.Sscanf(line[1:], "%d", &n)
		if n < 0 {
			return "(nil)"
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			t.Fatalf("read bulk: %v", err)
		}
		return string(buf[:n])
	case '*', '>':
		var n int
		fmt.Sscanf(line[1:], "%d", &n)
		if n < 0 {
			return "(nil array)"
		}
		parts := make([]string, n)
		for i := range parts {
			parts[i] = readReply(t, r)
		}
		return "[" + strings.Join(parts, " ") + "]"
	}
	return line
}

func dialRaw(t *testing.T, s *testserver.Server) (net.Conn, *bufio.Reader) {
	t.Helper()
	nc := s.Dial()
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	return nc, bufio.NewReader(nc)
}

// A pipeline mixing commands run on the loop, commands run on a goroutine
// (blocking, scripts, KEYS) and writes whose replies wait for an fsync gets
// its replies in the order of its commands.
func TestPipelineOrderAcrossLoopAndGoroutines(t *testing.T) {
	for _, fsync := range []string{"everysec", "always"} {
		t.Run(fsync, func(t *testing.T) {
			s := testserver.Start(t, "appendfsync", fsync)
			nc, r := dialRaw(t, s)
			cmds := []string{
				"SET a 1", "INCR a", "BLPOP nolist 0.05", "GET a", "EVAL \"return redis.call('incr','a')\" 0",
				"KEYS a", "SET b x", "PING", "BRPOP nolist 0.01", "INCR a", "MULTI", "INCR a", "EXEC", "GET a",
			}
			want := []string{
				"+OK", ":2", "(nil array)", "2", ":3",
				"[a]", "+OK", "+PONG", "(nil array)", ":4", "+OK", "+QUEUED", "[:5]", "5",
			}
			if _, err := nc.Write([]byte(strings.Join(cmds, "\r\n") + "\r\n")); err != nil {
				t.Fatal(err)
			}
			got := readReplies(t, r, len(want))
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("reply %d to %q = %q, want %q (all: %q)", i, cmds[i], got[i], want[i], got)
				}
			}
		})
	}
}

// With one event loop, a client blocked in BLPOP does not hold up the other
// clients of the loop, and is served when another client pushes.
func TestBlockedClientDoesNotStallTheLoop(t *testing.T) {
	s := testserver.Start(t, "io-threads", "1")
	blocked, br := dialRaw(t, s)
	if _, err := blocked.Write([]byte("BLPOP q 5\r\n")); err != nil {
		t.Fatal(err)
	}
	c := s.Client(2)
	ctx := context.Background()
	time.Sleep(50 * time.Millisecond)
	for i := 0; i < 100; i++ {
		if err := c.Set(ctx, "k", i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.RPush(ctx, "q", "v").Err(); err != nil {
		t.Fatal(err)
	}
	if got := readReply(t, br); got != "[q v]" {
		t.Fatalf("BLPOP = %q", got)
	}
	// The connection serves its next command on the loop again.
	if _, err := blocked.Write([]byte("GET k\r\n")); err != nil {
		t.Fatal(err)
	}
	if got := readReply(t, br); got != "99" {
		t.Fatalf("GET after BLPOP = %q", got)
	}
}

// A client that sends a write and half-closes its end still gets the reply,
// also when the reply waits for an fsync (redis-cli --pipe, nc -q).
func TestHalfCloseStillGetsReplies(t *testing.T) {
	for _, fsync := range []string{"everysec", "always"} {
		t.Run(fsync, func(t *testing.T) {
			s := testserver.Start(t, "appendfsync", fsync)
			nc, r := dialRaw(t, s)
			if _, err := nc.Write([]byte("SET a 1\r\nBLPOP nolist 0.05\r\nGET a\r\n")); err != nil {
				t.Fatal(err)
			}
			if err := nc.(*net.TCPConn).CloseWrite(); err != nil {
				t.Fatal(err)
			}
			got := readReplies(t, r, 3)
			if strings.Join(got, ",") != "+OK,(nil array),1" {
				t.Fatalf("replies %q", got)
			}
		})
	}
}

// A client whose commands wait (blocked) while it keeps sending is closed
// once its queued input passes client-query-buffer-limit; others go on.
func TestQueryBufferLimit(t *testing.T) {
	s := testserver.Start(t, "client-query-buffer-limit", "1mb")
	nc, r := dialRaw(t, s)
	if _, err := nc.Write([]byte("BLPOP q 10\r\n")); err != nil {
		t.Fatal(err)
	}
	chunk := []byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$65536\r\n" + strings.Repeat("v", 65536) + "\r\n")
	for i := 0; i < 40; i++ {
		if _, err := nc.Write(chunk); err != nil {
			break // closed by the server
		}
	}
	_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.ReadString('\n'); err == nil {
		t.Fatal("the connection is still open past client-query-buffer-limit")
	}
	if err := s.Client(2).Ping(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
}

// A subscriber on one loop gets messages published from another client, a
// SUBSCRIBE confirmation before the messages it enables.
func TestPushesKeepOrderWithReplies(t *testing.T) {
	s := testserver.Start(t, "io-threads", "2")
	sub, r := dialRaw(t, s)
	if _, err := sub.Write([]byte("SUBSCRIBE ch\r\n")); err != nil {
		t.Fatal(err)
	}
	if got := readReply(t, r); got != "[subscribe ch :1]" {
		t.Fatalf("SUBSCRIBE = %q", got)
	}
	c := s.Client(2)
	ctx := context.Background()
	for i := 0; i < 50; i++ {
		if err := c.Publish(ctx, "ch", fmt.Sprint(i)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 50; i++ {
		if got, want := readReply(t, r), fmt.Sprintf("[message ch %d]", i); got != want {
			t.Fatalf("message %d = %q, want %q", i, got, want)
		}
	}
}

// D3: before AUTH, a client may send at most 10 arguments and bulks of at
// most 16 KB (Redis' limits and words), so it cannot make the server hold
// large input; an AUTH pipelined before a bigger command lifts the limits.
func TestUnauthenticatedInputLimits(t *testing.T) {
	s := testserver.Start(t, "requirepass", "secret")
	for _, tc := range []struct {
		name, payload, want string
	}{
		{"bulk over 16 KB", "*2\r\n$4\r\nAUTH\r\n$524288000\r\n" + strings.Repeat("x", 1000), "-ERR Protocol error: unauthenticated bulk length"},
		{"more than 10 arguments", "*11\r\n$4\r\nPING\r\n", "-ERR Protocol error: unauthenticated multibulk length"},
		{"after a failed AUTH", "AUTH wrong\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$20000\r\n", "-WRONGPASS invalid username-password pair or user is disabled.|-ERR Protocol error: unauthenticated bulk length"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nc, r := dialRaw(t, s)
			if _, err := nc.Write([]byte(tc.payload)); err != nil {
				t.Fatal(err)
			}
			for _, want := range strings.Split(tc.want, "|") {
				if got := readReply(t, r); got != want {
					t.Fatalf("got %q, want %q", got, want)
				}
			}
			if _, err := r.ReadString('\n'); err == nil {
				t.Fatal("connection still open")
			}
		})
	}
	t.Run("AUTH pipelined before a big command", func(t *testing.T) {
		nc, r := dialRaw(t, s)
		big := strings.Repeat("v", 100000)
		args := "*13\r\n$4\r\nMSET\r\n"
		for i := 0; i < 5; i++ {
			args += fmt.Sprintf("$2\r\nk%d\r\n$%d\r\n%s\r\n", i, len(big), big)
		}
		args += "$1\r\nz\r\n$1\r\nz\r\n"
		if _, err := nc.Write([]byte("AUTH secret\r\n" + args + "STRLEN k4\r\n")); err != nil {
			t.Fatal(err)
		}
		got := readReplies(t, r, 3)
		if strings.Join(got, ",") != "+OK,+OK,:100000" {
			t.Fatalf("replies %q", got)
		}
	})
}

// A pipeline of big reads is served in steps (a shared transaction stops
// once a client's replies pass 1 MB); every reply still comes, in order.
func TestBigRepliesInSteps(t *testing.T) {
	s := testserver.Start(t)
	c := s.Client(2)
	ctx := context.Background()
	big := strings.Repeat("b", 3<<20)
	if err := c.Set(ctx, "big", big, 0).Err(); err != nil {
		t.Fatal(err)
	}
	nc, r := dialRaw(t, s)
	var pipe strings.Builder
	for i := 0; i < 12; i++ {
		pipe.WriteString("GET big\r\nINCR n\r\n")
	}
	if _, err := nc.Write([]byte(pipe.String())); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 12; i++ {
		if got := readReply(t, r); got != big {
			t.Fatalf("GET %d: %d bytes", i, len(got))
		}
		if got, want := readReply(t, r), fmt.Sprintf(":%d", i+1); got != want {
			t.Fatalf("INCR %d = %q, want %q", i, got, want)
		}
	}
}

// A line starting with '$' is an inline command, as in Redis (redcon would
// read it as Tile38's protocol and wait forever), and what follows is served.
func TestDollarLineIsInline(t *testing.T) {
	s := testserver.Start(t)
	nc, r := dialRaw(t, s)
	if _, err := nc.Write([]byte("$\r\n$foo bar\r\nPING\r\n")); err != nil {
		t.Fatal(err)
	}
	got := readReplies(t, r, 3)
	if !strings.HasPrefix(got[0], "-ERR unknown command '$'") || !strings.HasPrefix(got[1], "-ERR unknown command '$foo', with args beginning with: 'bar'") || got[2] != "+PONG" {
		t.Fatalf("replies %q", got)
	}
}

// A client already in MULTI that sends EXEC and a blocking pop in one
// packet: the pop runs after EXEC ended the MULTI, so it really blocks, and
// must do so off the loop (the loop decides before running the batch).
func TestBlockingPopAfterExecInOnePacket(t *testing.T) {
	s := testserver.Start(t, "io-threads", "1")
	nc, r := dialRaw(t, s)
	if _, err := nc.Write([]byte("MULTI\r\n")); err != nil {
		t.Fatal(err)
	}
	if got := readReply(t, r); got != "+OK" {
		t.Fatalf("MULTI = %q", got)
	}
	if _, err := nc.Write([]byte("EXEC\r\nBLPOP q 0\r\n")); err != nil {
		t.Fatal(err)
	}
	if got := readReply(t, r); got != "[]" {
		t.Fatalf("EXEC = %q", got)
	}
	// Another client of the same loop is served, and its push wakes the pop.
	if err := s.Client(2).RPush(context.Background(), "q", "v").Err(); err != nil {
		t.Fatal(err)
	}
	if got := readReply(t, r); got != "[q v]" {
		t.Fatalf("BLPOP = %q", got)
	}
}
