package server_test

import (
	"bufio"
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

// Issue 13, D4: one client pipelining big reads without reading the replies
// must not have them all built at once (on the event loop's time, in the
// server's memory), nor keep the server working for it once it has gone.

const bigValue = 1 << 20

// getCalls is INFO commandstats' count of GET calls.
func getCalls(t *testing.T, c *redis.Client) int {
	t.Helper()
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if rest, ok := strings.CutPrefix(line, "cmdstat_get:calls="); ok {
			n, _ := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
			return n
		}
	}
	return 0
}

// greedyGets sends prefix and n GETs of key on a connection and reads
// nothing.
func greedyGets(t *testing.T, s *testserver.Server, prefix string, n int, key string) net.Conn {
	t.Helper()
	nc := s.Dial()
	var b strings.Builder
	b.WriteString(prefix)
	for i := 0; i < n; i++ {
		b.WriteString("*2\r\n$3\r\nGET\r\n$" + strconv.Itoa(len(key)) + "\r\n" + key + "\r\n")
	}
	if _, err := nc.Write([]byte(b.String())); err != nil {
		t.Fatal(err)
	}
	return nc
}

// waitFor polls cond until it holds (or fails the test after 10 s).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPipelinedBigReadsRunAsTheReaderTakesThem(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		c.ConfigResetStat(ctx)
		big := strings.Repeat("v", bigValue)
		if err := c.Set(ctx, "big", big, 0).Err(); err != nil {
			t.Fatal(err)
		}
		const n = 64
		nc := greedyGets(t, s, "", n, "big")
		waitFor(t, "the first GET", func() bool { return getCalls(t, c) >= 1 })
		// Another client is served while the greedy one reads nothing...
		if err := c.Set(ctx, "x", "y", 0).Err(); err != nil {
			t.Fatal(err)
		}
		if got, err := c.Get(ctx, "x").Result(); err != nil || got != "y" {
			t.Fatalf("GET x = %q, %v", got, err)
		}
		// ...and the greedy client's GETs ran only as far as its socket took
		// the replies (1 MB waiting, plus what the socket buffers hold), not
		// all 64 of them.
		if calls := getCalls(t, c) - 1; calls >= n/2 { // less GET x
			t.Fatalf("%d of %d GETs ran while their client read nothing", calls, n)
		}
		// Once it reads, every reply comes, in order and whole.
		_ = nc.SetDeadline(time.Now().Add(30 * time.Second))
		r := bufio.NewReaderSize(nc, 64<<10)
		for i := 0; i < n; i++ {
			if got := readReply(t, r); got != big {
				t.Fatalf("reply %d: %d bytes, want the %d-byte value", i, len(got), len(big))
			}
		}
		if calls := getCalls(t, c); calls != n+1 { // and GET x
			t.Fatalf("GET calls = %d after the replies were read, want %d", calls, n+1)
		}
	})
}

func TestGreedyClientGoneStopsItsWork(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		c.ConfigResetStat(ctx)
		if err := c.Set(ctx, "big", strings.Repeat("v", bigValue), 0).Err(); err != nil {
			t.Fatal(err)
		}
		clients := func() int {
			list, err := c.ClientList(ctx).Result()
			if err != nil {
				t.Fatal(err)
			}
			return strings.Count(list, "\n")
		}
		before := clients()
		const n = 64
		nc := greedyGets(t, s, "", n, "big")
		waitFor(t, "the first GET", func() bool { return getCalls(t, c) >= 1 })
		// The client goes away (a reset, as a killed process leaves).
		_ = nc.(*net.TCPConn).SetLinger(0)
		nc.Close()
		waitFor(t, "the greedy client to be dropped", func() bool { return clients() == before })
		if calls := getCalls(t, c); calls >= n/2 {
			t.Fatalf("%d of %d GETs ran for a client that had gone", calls, n)
		}
		if err := c.Set(ctx, "x", "y", 0).Err(); err != nil {
			t.Fatal(err)
		}
	})
}

// A pipeline whose first command runs on a goroutine (a blocking pop) has
// its replies built there; the hard output limit stops it as it passes,
// not after every reply is built.
func TestOffloadedBatchStopsAtTheHardOutputLimit(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		c.ConfigResetStat(ctx)
		if err := c.ConfigSet(ctx, "client-output-buffer-limit", "normal 4mb 0 0").Err(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.ConfigSet(ctx, "client-output-buffer-limit", "normal 0 0 0") })
		if err := c.Set(ctx, "big", strings.Repeat("v", bigValue), 0).Err(); err != nil {
			t.Fatal(err)
		}
		const n = 32
		nc := greedyGets(t, s, "*3\r\n$5\r\nBLPOP\r\n$6\r\nnolist\r\n$4\r\n0.01\r\n", n, "big")
		_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
		// The server closes the connection without a reply: the batch's
		// replies passed the limit before any was written.
		buf := make([]byte, 4096)
		for {
			if _, err := nc.Read(buf); err != nil {
				break
			}
		}
		if calls := getCalls(t, c); calls >= n {
			t.Fatalf("all %d GETs ran for a client past its hard output limit", n)
		}
	})
}

// A client that sends its pipeline, ends its stream (half-close) and only
// then reads gets every reply, even though its commands waited for it to
// read, and the server closes the connection after the last one.
func TestHalfClosedGreedyClientGetsEveryReply(t *testing.T) {
	s := testserver.Start(t)
	c := s.Client(2)
	ctx := context.Background()
	big := strings.Repeat("v", bigValue)
	if err := c.Set(ctx, "big", big, 0).Err(); err != nil {
		t.Fatal(err)
	}
	const n = 16
	nc := greedyGets(t, s, "", n, "big")
	if err := nc.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	_ = nc.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReaderSize(nc, 64<<10)
	for i := 0; i < n; i++ {
		if got := readReply(t, r); got != big {
			t.Fatalf("reply %d: %d bytes", i, len(got))
		}
	}
	if _, err := r.ReadByte(); err == nil {
		t.Fatal("more than the replies came")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the server never closed the half-closed connection")
	}
}
