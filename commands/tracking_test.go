package commands_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

// TestTrackingResp3Push: a RESP3 client that read a key gets one
// "invalidate" push after its reply when another client writes the key,
// then nothing more until it reads the key again; a flush is a null push.
func TestTrackingResp3Push(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	w := s.Client(2)
	c := dialRaw(t, s)
	for _, step := range [][]string{{"HELLO", "3"}, {"CLIENT", "TRACKING", "on"}} {
		c.send(step...)
		c.read()
	}
	w.Set(ctx, "k", "1", 0)
	c.send("GET", "k")
	if got := c.read(); got != "1" {
		t.Fatalf("GET = %q", got)
	}
	w.Set(ctx, "other", "x", 0) // not read: no invalidation
	w.Set(ctx, "k", "2", 0)
	w.Set(ctx, "k", "3", 0) // forgotten after the first
	c.send("PING")
	if got := c.read(); got != ">[invalidate [k]]" {
		t.Fatalf("push = %q", got)
	}
	if got := c.read(); got != "PONG" {
		t.Fatalf("after push = %q", got)
	}
	// Its own write: invalidation after the reply (no NOLOOP).
	c.send("GET", "k")
	c.read()
	c.send("INCR", "k")
	if got := c.read(); got != "4" {
		t.Fatalf("INCR = %q", got)
	}
	if got := c.read(); got != ">[invalidate [k]]" {
		t.Fatalf("own write push = %q", got)
	}
	c.send("GET", "k")
	c.read()
	w.FlushAll(ctx)
	c.send("PING")
	if got := c.read(); got != ">[invalidate nil]" {
		t.Fatalf("flush push = %q", got)
	}
	c.read()
}

// TestTrackingRedirectResp2: invalidations redirected to a RESP2 client
// subscribed to __redis__:invalidate, in default, NOLOOP and BCAST modes.
func TestTrackingRedirectResp2(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	sub := dialRaw(t, s)
	sub.send("CLIENT", "ID")
	redir := sub.read()
	sub.send("SUBSCRIBE", "__redis__:invalidate")
	sub.read()
	c := s.Client(2)
	w := s.Client(2)
	testserver.Run(t, c, []C{
		{Cmd: []any{"client", "tracking", "on", "redirect", redir, "noloop"}, Want: "OK"},
		{Cmd: []any{"mget", "a", "b"}, Want: []any{nil, nil}},
		{Cmd: []any{"set", "a", "mine"}, Want: "OK"}, // NOLOOP: not reported
	})
	w.Set(ctx, "b", "theirs", 0)
	if got := sub.read(); got != "[message __redis__:invalidate [b]]" {
		t.Fatalf("redirected = %q", got)
	}
	testserver.Run(t, c, []C{
		{Cmd: []any{"client", "tracking", "off"}, Want: "OK"},
		{Cmd: []any{"client", "tracking", "on", "bcast", "prefix", "user:", "redirect", redir}, Want: "OK"},
		{Cmd: []any{"client", "tracking", "on", "bcast", "prefix", "us"}, WantErr: "ERR Prefix 'us' overlaps with an existing prefix 'user:'. Prefixes for a single client must not overlap."},
	})
	w.MSet(ctx, "user:1", "x", "user:2", "y", "other", "z")
	if got := sub.read(); got != "[message __redis__:invalidate [user:1 user:2]]" {
		t.Fatalf("bcast = %q", got)
	}
}

func TestTrackingInfoAndErrors(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		id, err := c.ClientID(context.Background()).Result()
		if err != nil {
			t.Fatal(err)
		}
		self := strconv.FormatInt(id, 10)
		testserver.Run(t, c, []C{
			{Cmd: []any{"client", "getredir"}, Want: int64(-1)},
			{Cmd: []any{"client", "trackinginfo"}, Want: kv(c, "flags", []any{"off"}, "redirect", int64(-1), "prefixes", []any{})},
			{Cmd: []any{"client", "tracking", "maybe"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"client", "tracking", "on", "prefix", "a"}, WantErr: "ERR PREFIX option requires BCAST mode to be enabled"},
			{Cmd: []any{"client", "tracking", "on", "optin", "optout"}, WantErr: "ERR You can't use both OPTIN and OPTOUT"},
			{Cmd: []any{"client", "tracking", "on", "redirect", "999999"}, WantErr: "ERR The client ID you want redirect to does not exist"},
			{Cmd: []any{"client", "caching", "yes"}, WantErr: "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled"},
			{Cmd: []any{"client", "tracking", "on", "optin", "redirect", self}, Want: "OK"},
			{Cmd: []any{"client", "tracking", "on", "optout"}, WantErr: "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode."},
			{Cmd: []any{"client", "caching", "no"}, WantErr: "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."},
			{Cmd: []any{"client", "caching", "yes"}, Want: "OK"},
			{Cmd: []any{"client", "trackinginfo"}, Want: kv(c, "flags", []any{"on", "optin", "caching-yes"}, "redirect", id, "prefixes", []any{})},
			{Cmd: []any{"client", "getredir"}, Want: id},
			{Cmd: []any{"client", "tracking", "off"}, Want: "OK"},
		})
	})
}

// TestTrackingSessions: a session read by SESS.GET is tracked under its
// token; SESS.SET by another client, and the session's end, invalidate it.
func TestTrackingSessions(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	w := s.Client(2)
	newSession := func() string {
		t.Helper()
		res, err := w.Do(ctx, "sess.new", "data", "v1").Slice()
		if err != nil {
			t.Fatal(err)
		}
		return res[1].(string)
	}
	tok, tok2 := newSession(), newSession()
	c := dialRaw(t, s)
	for _, step := range [][]string{{"HELLO", "3"}, {"CLIENT", "TRACKING", "on"}} {
		c.send(step...)
		c.read()
	}
	c.send("SESS.GET", tok)
	if got := c.read(); got != "v1" {
		t.Fatalf("SESS.GET = %q", got)
	}
	c.send("SESS.GET", tok2, "NOTOUCH")
	c.read()
	// Its own touch changes nothing it caches: no invalidation.
	c.send("SESS.GET", tok)
	c.read()
	if err := w.Do(ctx, "sess.set", tok, "v2").Err(); err != nil {
		t.Fatal(err)
	}
	c.send("PING")
	if got := c.read(); got != ">[invalidate ["+tok+"]]" {
		t.Fatalf("after SESS.SET: %q", got)
	}
	c.read()
	if err := w.Do(ctx, "sess.destroy", tok2).Err(); err != nil {
		t.Fatal(err)
	}
	c.send("PING")
	if got := c.read(); got != ">[invalidate ["+tok2+"]]" {
		t.Fatalf("after SESS.DESTROY: %q", got)
	}
	c.read()
}

func TestCommandGetkeysandflags(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		testserver.Run(t, c, []C{
			{Cmd: []any{"command", "getkeysandflags", "set", "k1", "v1"}, Want: []any{[]any{"k1", []any{"OW", "update"}}}},
			{Cmd: []any{"command", "getkeysandflags", "lmove", "k1", "k2", "left", "right"}, Want: []any{[]any{"k1", []any{"RW", "access", "delete"}}, []any{"k2", []any{"RW", "insert"}}}},
			{Cmd: []any{"command", "getkeysandflags", "sort", "k1", "store", "k2"}, Want: []any{[]any{"k1", []any{"RO", "access"}}, []any{"k2", []any{"OW", "update"}}}},
			{Cmd: []any{"command", "getkeysandflags", "get", "k"}, Want: []any{[]any{"k", []any{"RO", "access"}}}},
			{Cmd: []any{"command", "getkeysandflags", "ping"}, WantErr: "ERR The command has no key arguments"},
			{Cmd: []any{"command", "getkeys", "eval", "return 1", "0"}, Want: []any{}},
			{Cmd: []any{"command", "getkeys", "eval", "return 1", "1", "k", "arg"}, Want: []any{"k"}},
			{Cmd: []any{"command", "getkeys", "xgroup", "create", "key", "g", "$"}, Want: []any{"key"}},
		})
	})
}

// TestTrackingEvictionBeforeReply: a key evicted before a command runs (the
// command found memory over maxmemory) is invalidated ahead of that
// command's reply, a read included, as Redis' performEvictions does; the
// evicting commit sends nothing more.
func TestTrackingEvictionBeforeReply(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	admin := s.Client(2)
	c := dialRaw(t, s)
	for _, step := range [][]string{{"HELLO", "3"}, {"CLIENT", "TRACKING", "on"}} {
		c.send(step...)
		c.read()
	}
	info := admin.InfoMap(ctx, "memory").Val()["Memory"]
	base, err := strconv.ParseInt(info["used_memory"], 10, 64)
	if err != nil {
		t.Fatalf("used_memory %q: %v", info["used_memory"], err)
	}
	t.Cleanup(func() { admin.ConfigSet(ctx, "maxmemory", "0") })
	admin.ConfigSet(ctx, "maxmemory-policy", "volatile-random")
	admin.ConfigSet(ctx, "maxmemory", strconv.FormatInt(base+100*1024, 10))
	c.send("SETEX", "volatile-key", "10000", "x")
	c.read()
	c.send("GET", "volatile-key")
	if got := c.read(); got != "x" {
		t.Fatalf("GET = %q", got)
	}
	c.send("SETBIT", "big-key", "1600000", "0") // 200 kB: now over the limit
	c.read()
	c.send("GETBIT", "big-key", "0")
	if got := c.read(); got != ">[invalidate [volatile-key]]" {
		t.Fatalf("first frame after GETBIT = %q, want the invalidation before the reply", got)
	}
	if got := c.read(); got != "0" {
		t.Fatalf("GETBIT = %q", got)
	}
	c.send("PING")
	if got := c.read(); got != "PONG" {
		t.Fatalf("after GETBIT = %q (a second invalidation?)", got)
	}
	if n := admin.Exists(ctx, "volatile-key").Val(); n != 0 {
		t.Fatalf("volatile-key not evicted")
	}
}
