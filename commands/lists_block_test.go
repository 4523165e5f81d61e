package commands_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

// blockedReply is blockedCall with the reply formatted for comparison:
// "nil", "err <text>" or the value printed by fmt.
func blockedReply(s *testserver.Server, proto int, args ...any) <-chan string {
	in := blockedCall(s.Client(proto), args...)
	out := make(chan string, 1)
	go func() {
		r := <-in
		switch {
		case r.err == redis.Nil:
			out <- "nil"
		case r.err != nil:
			out <- "err " + r.err.Error()
		default:
			out <- fmt.Sprint(r.v)
		}
	}()
	return out
}

// Blocking list commands really block: a push from another client wakes
// them, clients are served in the order they blocked, moves chain into
// other blocked clients, and timeouts answer null.
func TestListBlocking(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		proto := 2
		if c.Options().Protocol == 3 {
			proto = 3
		}
		c.FlushAll(ctx)

		// BLPOP woken by an RPUSH from another client.
		r := blockedReply(s, proto, "blpop", "none", "q", "0")
		waitBlocked(t, c, 1)
		must(t, c, "rpush", "q", "a")
		if got := await(t, r); got != "[q a]" {
			t.Fatalf("blpop: %s", got)
		}
		if n := c.Exists(ctx, "q").Val(); n != 0 {
			t.Fatal("the pushed element stayed")
		}

		// Two blocked clients are served in the order they blocked, each
		// with one element of the same push.
		r1 := blockedReply(s, proto, "brpop", "q", "0")
		waitBlocked(t, c, 1)
		r2 := blockedReply(s, proto, "blpop", "q", "0")
		waitBlocked(t, c, 2)
		must(t, c, "rpush", "q", "x", "y", "z")
		if got1, got2 := await(t, r1), await(t, r2); got1 != "[q z]" || got2 != "[q x]" {
			t.Fatalf("served %s, %s; want [q z], [q x]", got1, got2)
		}
		if got := c.LRange(ctx, "q", 0, -1).Val(); fmt.Sprint(got) != "[y]" {
			t.Fatalf("left %v", got)
		}
		c.Del(ctx, "q")

		// BLMOVE into a list another client BLPOPs: the element travels
		// through both.
		rm := blockedReply(s, proto, "blmove", "src", "dst", "right", "left", "0")
		waitBlocked(t, c, 1)
		rp := blockedReply(s, proto, "blpop", "dst", "0")
		waitBlocked(t, c, 2)
		must(t, c, "lpush", "src", "m")
		if got := await(t, rm); got != "m" {
			t.Fatalf("blmove: %s", got)
		}
		if got := await(t, rp); got != "[dst m]" {
			t.Fatalf("blpop after blmove: %s", got)
		}
		if n := c.Exists(ctx, "src", "dst").Val(); n != 0 {
			t.Fatalf("%d lists left", n)
		}

		// BLMPOP with a count, woken by a transaction's pushes.
		rb := blockedReply(s, proto, "blmpop", "0", "2", "m1", "m2", "right", "count", "10")
		waitBlocked(t, c, 1)
		if _, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.RPush(ctx, "m2", 1, 2, 3)
			p.RPush(ctx, "m2", 4)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if got := await(t, rb); got != "[m2 [4 3 2 1]]" {
			t.Fatalf("blmpop: %s", got)
		}

		// A destination of another type fails the blocked BRPOPLPUSH and
		// leaves the element where it was.
		c.Set(ctx, "str", "v", 0)
		rw := blockedReply(s, proto, "brpoplpush", "w", "str", "0")
		waitBlocked(t, c, 1)
		must(t, c, "rpush", "w", "a", "b")
		if got := await(t, rw); !strings.HasPrefix(got, "err WRONGTYPE") {
			t.Fatalf("brpoplpush to a string: %s", got)
		}
		if got := c.LRange(ctx, "w", 0, -1).Val(); fmt.Sprint(got) != "[a b]" {
			t.Fatalf("source after a failed move: %v", got)
		}

		// A key that turns into another type does not wake a BLPOP.
		rs := blockedReply(s, proto, "blpop", "k", "0")
		waitBlocked(t, c, 1)
		c.Set(ctx, "k", "v", 0)
		c.Del(ctx, "k")
		must(t, c, "rpush", "k", "late")
		if got := await(t, rs); got != "[k late]" {
			t.Fatalf("blpop after a string came and went: %s", got)
		}

		// Timeouts answer null, after the timeout.
		for _, cmd := range [][]any{
			{"blpop", "none", "0.1"},
			{"brpoplpush", "none", "dst", "0.1"},
			{"blmove", "none", "dst", "left", "left", "0.1"},
			{"blmpop", "0.1", "1", "none", "left"},
		} {
			start := time.Now()
			if err := c.Do(ctx, cmd...).Err(); err != redis.Nil {
				t.Fatalf("%v: %v, want a null", cmd, err)
			}
			if time.Since(start) < 90*time.Millisecond {
				t.Fatalf("%v returned before its timeout", cmd)
			}
		}
		if n := blockedClients(t, c); n != 0 {
			t.Fatalf("blocked_clients = %d after all served", n)
		}
	})
}

// Inside MULTI the blocking list commands never block, whatever their
// timeout, and answer Redis' nulls: a null array for the pops, a null bulk
// for the moves (Redis' "Blocking commands ignores the timeout").
func TestListBlockingInMulti(t *testing.T) {
	s := testserver.Start(t)
	raw := dialRaw(t, s)
	for _, cmd := range [][]string{
		{"multi"},
		{"blpop", "empty", "0"},
		{"brpop", "empty", "0"},
		{"brpoplpush", "empty1", "empty2", "0"},
		{"blmove", "empty1", "empty2", "LEFT", "LEFT", "0"},
		{"blmpop", "0", "1", "empty", "left"},
		{"exec"},
	} {
		raw.send(cmd...)
	}
	var lines []string
	for i := 0; i < 1+5+1+5; i++ {
		_ = raw.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, err := raw.r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, strings.TrimSpace(line))
	}
	want := "+OK +QUEUED +QUEUED +QUEUED +QUEUED +QUEUED *5 *-1 *-1 $-1 $-1 *-1"
	if got := strings.Join(lines, " "); got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
	// RESP3: the same nulls, decoded by go-redis.
	c := s.Client(3)
	ctx := context.Background()
	cmds, _ := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Do(ctx, "blpop", "empty", "0")
		p.Do(ctx, "blmove", "empty1", "empty2", "left", "left", "0")
		p.Do(ctx, "blmpop", "0", "1", "empty", "left")
		return nil
	})
	for _, cmd := range cmds {
		if cmd.Err() != redis.Nil {
			t.Fatalf("%v: %v, want a null", cmd.Args(), cmd.Err())
		}
	}
	if n := blockedClients(t, c); n != 0 {
		t.Fatalf("blocked_clients = %d", n)
	}
}

// Keyspace events of the list edits and moves, in Redis' order: a move
// notifies the push on the destination before the pop on the source, and
// an emptied list adds a del; edits that change nothing notify nothing.
func TestListEvents(t *testing.T) {
	s := testserver.Start(t, "notify-keyspace-events", "Elg")
	ctx := context.Background()
	sub := dialRaw(t, s)
	sub.send("psubscribe", "__keyevent@0__:*")
	sub.read()
	c := s.Client(2)
	for _, cmd := range [][]any{
		{"rpush", "src", "a"},
		{"lmove", "src", "dst", "left", "right"},
		{"linsert", "dst", "before", "a", "b"},
		{"linsert", "dst", "before", "zz", "q"},
		{"lrem", "dst", "1", "b"},
		{"lrem", "dst", "1", "zz"},
		{"ltrim", "dst", "0", "-1"},
		{"ltrim", "dst", "1", "0"},
		{"rpush", "m", "x"},
		{"lmpop", "1", "m", "right"},
		{"rpush", "end", "e"},
	} {
		if err := c.Do(ctx, cmd...).Err(); err != nil {
			t.Fatalf("%v: %v", cmd, err)
		}
	}
	ev := func(name, key string) string {
		return fmt.Sprintf("[pmessage __keyevent@0__:* __keyevent@0__:%s %s]", name, key)
	}
	expect(t, sub,
		ev("rpush", "src"),
		ev("rpush", "dst"), ev("lpop", "src"), ev("del", "src"),
		ev("linsert", "dst"),
		ev("lrem", "dst"),
		ev("ltrim", "dst"),
		ev("ltrim", "dst"), ev("del", "dst"),
		ev("rpush", "m"), ev("rpop", "m"), ev("del", "m"),
		ev("rpush", "end"))

	// A blocked BLMOVE served by a push notifies after the push.
	done := blockedReply(s, 2, "blmove", "q", "out", "left", "left", "5")
	waitBlocked(t, c, 1)
	c.RPush(ctx, "q", "j")
	if got := await(t, done); got != "j" {
		t.Fatalf("blmove: %s", got)
	}
	expect(t, sub, ev("rpush", "q"), ev("lpush", "out"), ev("lpop", "q"), ev("del", "q"))
}

// CLIENT UNBLOCK ends a blocked BLPOP as a timeout (null) or with an
// UNBLOCKED error; a client that is not blocked gives 0.
func TestClientUnblock(t *testing.T) {
	s := testserver.Start(t)
	c := s.Client(2)
	ctx := context.Background()
	blocked := s.Client(2)
	id := blocked.ClientID(ctx).Val()
	for _, tc := range []struct {
		args []any
		want string
	}{
		{[]any{"client", "unblock", id}, "nil"},
		{[]any{"client", "unblock", id, "TIMEOUT"}, "nil"},
		{[]any{"client", "unblock", id, "error"}, "err " + "UNBLOCKED client unblocked via CLIENT UNBLOCK"},
	} {
		out := make(chan string, 1)
		go func() {
			v, err := blocked.Do(ctx, "blpop", "l", "0").Result()
			switch {
			case err == redis.Nil:
				out <- "nil"
			case err != nil:
				out <- "err " + err.Error()
			default:
				out <- fmt.Sprint(v)
			}
		}()
		waitBlocked(t, c, 1)
		if n := mustInt(t, c, tc.args...); n != 1 {
			t.Fatalf("%v = %d", tc.args, n)
		}
		if got := await(t, out); got != tc.want {
			t.Fatalf("%v: blocked client got %s, want %s", tc.args, got, tc.want)
		}
	}
	testserver.Run(t, c, []C{
		{Cmd: []any{"client", "unblock", id}, Want: int64(0)},
		{Cmd: []any{"client", "unblock", "x"}, WantErr: "ERR value is not an integer or out of range"},
		{Cmd: []any{"client", "unblock", id, "later"}, WantErr: "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"},
	})
	// The client and the list still work afterwards.
	r := blockedReply(s, 2, "blpop", "l", "0")
	waitBlocked(t, c, 1)
	c.LPush(ctx, "l", "foo")
	if got := await(t, r); got != "[l foo]" {
		t.Fatalf("after unblocks: %s", got)
	}
}
