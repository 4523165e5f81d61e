package commands_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

// rawConn is a hand-driven RESP connection for byte-level pub/sub checks.
type rawConn struct {
	t  *testing.T
	nc net.Conn
	r  *bufio.Reader
}

func dialRaw(t *testing.T, s *testserver.Server) *rawConn {
	nc := s.Dial()
	return &rawConn{t: t, nc: nc, r: bufio.NewReaderSize(nc, 1<<16)}
}

func (c *rawConn) send(args ...string) {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.nc.Write([]byte(b.String())); err != nil {
		c.t.Fatal(err)
	}
}

// read returns the next value as a compact string: arrays, pushes, maps and
// sets as "[a b c]" (prefixed with ">" for a push), nulls as "nil".
func (c *rawConn) read() string {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	v, err := readValue(c.r)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return v
}

func readValue(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("empty line")
	}
	switch line[0] {
	case '+', '-', ':', ',', '#':
		return line[1:], nil
	case '_':
		return "nil", nil
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return "nil", nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	case '*', '>', '~', '%':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return "nil", nil
		}
		if line[0] == '%' {
			n *= 2
		}
		parts := make([]string, n)
		for i := range parts {
			if parts[i], err = readValue(r); err != nil {
				return "", err
			}
		}
		prefix := ""
		if line[0] == '>' {
			prefix = ">"
		}
		return prefix + "[" + strings.Join(parts, " ") + "]", nil
	}
	return "", fmt.Errorf("unexpected %q", line)
}

func TestPubSubBasics(t *testing.T) {
	s := testserver.Start(t)
	pub := s.Client(2)
	ctx := context.Background()
	for _, proto := range []string{"2", "3"} {
		t.Run("RESP"+proto, func(t *testing.T) {
			c := dialRaw(t, s)
			push := ""
			if proto == "3" {
				c.send("hello", "3")
				c.read()
				push = ">"
			}
			c.send("subscribe", "ch1", "ch2")
			if got := c.read(); got != push+"[subscribe ch1 1]" {
				t.Fatalf("subscribe: %s", got)
			}
			if got := c.read(); got != push+"[subscribe ch2 2]" {
				t.Fatalf("subscribe: %s", got)
			}
			c.send("psubscribe", "news.*")
			c.read()
			if n := pub.Publish(ctx, "news.eu", "hi").Val(); n != 1 {
				t.Fatalf("publish to pattern reached %d", n)
			}
			if got := c.read(); got != push+"[pmessage news.* news.eu hi]" {
				t.Fatalf("pmessage: %s", got)
			}
			if n := pub.Publish(ctx, "ch1", "hello").Val(); n != 1 {
				t.Fatalf("publish reached %d", n)
			}
			if got := c.read(); got != push+"[message ch1 hello]" {
				t.Fatalf("message: %s", got)
			}
			testserver.Run(t, pub, []C{
				{Cmd: []any{"pubsub", "channels"}, Want: []any{"ch1", "ch2"}},
				{Cmd: []any{"pubsub", "channels", "*2"}, Want: []any{"ch2"}},
				{Cmd: []any{"pubsub", "numsub", "ch1", "nope"}, Want: []any{"ch1", int64(1), "nope", int64(0)}},
				{Cmd: []any{"pubsub", "numpat"}, Want: int64(1)},
				{Cmd: []any{"pubsub", "bogus"}, WantErr: "ERR unknown subcommand 'bogus'. Try PUBSUB HELP."},
			})
			if proto == "2" {
				// RESP2 subscribers may only (un)subscribe, PING, QUIT, RESET.
				c.send("get", "k")
				if got := c.read(); !strings.HasPrefix(got, "ERR Can't execute 'get'") {
					t.Fatalf("get while subscribed: %s", got)
				}
				c.send("ping")
				if got := c.read(); got != "[pong ]" {
					t.Fatalf("ping while subscribed: %s", got)
				}
			} else {
				// RESP3: commands keep working; pushes arrive between replies.
				pub.Set(ctx, "k", "v", 0)
				c.send("get", "k")
				pub.Publish(ctx, "ch2", "x")
				got := []string{c.read(), c.read()}
				if got[0] != "v" && got[1] != "v" {
					t.Fatalf("get while subscribed in RESP3: %v", got)
				}
			}
			c.send("unsubscribe")
			a, b := c.read(), c.read()
			if !strings.Contains(a+b, "unsubscribe ch1") || !strings.Contains(a+b, "unsubscribe ch2") {
				t.Fatalf("unsubscribe all: %s %s", a, b)
			}
			c.send("punsubscribe", "news.*", "other")
			if got := c.read(); got != push+"[punsubscribe news.* 0]" {
				t.Fatalf("punsubscribe: %s", got)
			}
			if got := c.read(); got != push+"[punsubscribe other 0]" {
				t.Fatalf("punsubscribe: %s", got)
			}
			c.send("unsubscribe")
			if got := c.read(); got != push+"[unsubscribe nil 0]" {
				t.Fatalf("unsubscribe with nothing: %s", got)
			}
			if n := pub.Publish(ctx, "ch1", "gone").Val(); n != 0 {
				t.Fatalf("publish after unsubscribe reached %d", n)
			}
			c.send("ping")
			if got := c.read(); got != "PONG" {
				t.Fatalf("ping after unsubscribe: %s", got)
			}
		})
	}
}

// A publisher at full speed while one subscriber never reads: the others
// get every message, the stuck one is cut off at the pubsub output limit,
// and the publisher is never slowed down by it.
func TestStuckSubscriber(t *testing.T) {
	s := testserver.Start(t, "client-output-buffer-limit", "pubsub 2mb 1mb 60")
	ctx := context.Background()
	stuck := dialRaw(t, s)
	stuck.send("subscribe", "feed")
	if got := stuck.read(); got != "[subscribe feed 1]" {
		t.Fatalf("stuck subscribe: %s", got)
	}
	// From here on the stuck client never reads.
	const total = 30000
	payload := strings.Repeat("x", 1000)
	var wg sync.WaitGroup
	counts := make([]int, 2)
	for i := range counts {
		good := dialRaw(t, s)
		good.send("subscribe", "feed")
		good.read()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for counts[i] < total {
				_ = good.nc.SetReadDeadline(time.Now().Add(20 * time.Second))
				v, err := readValue(good.r)
				if err != nil {
					t.Errorf("good subscriber %d: %v after %d messages", i, err, counts[i])
					return
				}
				if !strings.HasPrefix(v, "[message feed ") {
					t.Errorf("unexpected %q", v)
					return
				}
				counts[i]++
			}
		}()
	}
	pub := s.Client(2)
	start := time.Now()
	receivers := map[int64]int{}
	for sent := 0; sent < total; {
		p := pub.Pipeline()
		var cmds []*redis.IntCmd
		for j := 0; j < 200 && sent < total; j++ {
			cmds = append(cmds, p.Publish(ctx, "feed", payload))
			sent++
		}
		if _, err := p.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		for _, c := range cmds {
			receivers[c.Val()]++
		}
	}
	elapsed := time.Since(start)
	wg.Wait()
	if counts[0] != total || counts[1] != total {
		t.Fatalf("good subscribers got %v of %d", counts, total)
	}
	if receivers[2] == 0 {
		t.Fatalf("the stuck subscriber was never disconnected: receivers %v", receivers)
	}
	// The stuck connection is closed by the server.
	_ = stuck.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := io.Copy(io.Discard, stuck.r); err != nil {
		t.Fatalf("stuck subscriber: %v after %d bytes, want EOF", err, n)
	}
	t.Logf("published %d x %dB in %v (%.0f msg/s); receivers per publish: %v",
		total, len(payload), elapsed, float64(total)/elapsed.Seconds(), receivers)
}

// The idle timeout closes idle normal clients, never subscribers.
func TestSubscriberIgnoresIdleTimeout(t *testing.T) {
	s := testserver.Start(t, "timeout", "1")
	sub := dialRaw(t, s)
	sub.send("subscribe", "ch")
	sub.read()
	idle := dialRaw(t, s)
	idle.send("ping")
	idle.read()
	time.Sleep(2500 * time.Millisecond)
	if n := s.Client(2).Publish(context.Background(), "ch", "still here").Val(); n != 1 {
		t.Fatalf("publish reached %d subscribers after the idle timeout", n)
	}
	if got := sub.read(); got != "[message ch still here]" {
		t.Fatalf("subscriber: %s", got)
	}
	_ = idle.nc.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := idle.r.ReadByte(); err == nil {
		t.Fatal("idle normal client was not disconnected")
	}
}

// CLIENT REPLY OFF silences replies but not pub/sub traffic; SKIP drops
// one reply.
func TestClientReplyModes(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	c := dialRaw(t, s)
	c.send("client", "reply", "skip")
	c.send("ping", "skipped")
	c.send("ping", "seen")
	expect(t, c, "seen")
	c.send("client", "reply", "off")
	c.send("set", "k", "v")
	c.send("get", "nosuchcmd-but-silenced", "x")
	c.send("subscribe", "ch")
	expect(t, c, "[subscribe ch 1]")
	s.Client(2).Publish(ctx, "ch", "hello")
	expect(t, c, "[message ch hello]")
	c.send("unsubscribe", "ch")
	expect(t, c, "[unsubscribe ch 0]")
	c.send("client", "reply", "on")
	expect(t, c, "OK")
	c.send("get", "k")
	expect(t, c, "v")
}
