package commands_test

import (
	"context"
	"testing"
	"time"

	"github.com/sessiond/sessiond/internal/testserver"
)

// expect reads the next n pub/sub frames and checks them in order.
func expect(t *testing.T, c *rawConn, want ...string) {
	t.Helper()
	for _, w := range want {
		if got := c.read(); got != w {
			t.Fatalf("got %s, want %s", got, w)
		}
	}
}

func TestKeyspaceEvents(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	c := s.Client(2)
	sub := dialRaw(t, s)
	sub.send("psubscribe", "__key*__:*")
	sub.read()

	// Off by default: nothing is published.
	c.Set(ctx, "quiet", "1", 0)
	if err := c.ConfigSet(ctx, "notify-keyspace-events", "KEA").Err(); err != nil {
		t.Fatal(err)
	}
	c.Set(ctx, "k", "v", 0)
	expect(t, sub,
		"[pmessage __key*__:* __keyspace@0__:k set]",
		"[pmessage __key*__:* __keyevent@0__:set k]")
	c.Expire(ctx, "k", time.Hour)
	c.Del(ctx, "k")
	expect(t, sub,
		"[pmessage __key*__:* __keyspace@0__:k expire]",
		"[pmessage __key*__:* __keyevent@0__:expire k]",
		"[pmessage __key*__:* __keyspace@0__:k del]",
		"[pmessage __key*__:* __keyevent@0__:del k]")

	// Keyevent only, hashes/sets/zsets/generic.
	c.ConfigSet(ctx, "notify-keyspace-events", "Eghsz")
	if v := c.ConfigGet(ctx, "notify-keyspace-events").Val()["notify-keyspace-events"]; v != "gshzE" {
		t.Fatalf("normalized flags = %q", v)
	}
	c.HSet(ctx, "h", "a", "1")
	c.HIncrBy(ctx, "h", "n", 1)
	c.HDel(ctx, "h", "a", "n")
	c.SAdd(ctx, "s", "x")
	c.SAdd(ctx, "s", "x") // no change, no event
	c.SRem(ctx, "s", "x")
	c.Do(ctx, "zadd", "z", "1", "m")
	c.Do(ctx, "zincrby", "z", "1", "m")
	c.Do(ctx, "zrem", "z", "m")
	c.Set(ctx, "str", "not a string event: $ is off", 0)
	c.Do(ctx, "sadd", "s1", "a", "b")
	c.Do(ctx, "sadd", "s2", "b")
	c.Do(ctx, "sinterstore", "dst", "s1", "s2")
	c.Do(ctx, "smove", "s1", "s2", "a")
	expect(t, sub,
		"[pmessage __key*__:* __keyevent@0__:hset h]",
		"[pmessage __key*__:* __keyevent@0__:hincrby h]",
		"[pmessage __key*__:* __keyevent@0__:hdel h]",
		"[pmessage __key*__:* __keyevent@0__:del h]",
		"[pmessage __key*__:* __keyevent@0__:sadd s]",
		"[pmessage __key*__:* __keyevent@0__:srem s]",
		"[pmessage __key*__:* __keyevent@0__:del s]",
		"[pmessage __key*__:* __keyevent@0__:zadd z]",
		"[pmessage __key*__:* __keyevent@0__:zincr z]",
		"[pmessage __key*__:* __keyevent@0__:zrem z]",
		"[pmessage __key*__:* __keyevent@0__:del z]",
		"[pmessage __key*__:* __keyevent@0__:sadd s1]",
		"[pmessage __key*__:* __keyevent@0__:sadd s2]",
		"[pmessage __key*__:* __keyevent@0__:sinterstore dst]",
		"[pmessage __key*__:* __keyevent@0__:srem s1]",
		"[pmessage __key*__:* __keyevent@0__:sadd s2]")

	// Keyspace channel of another database.
	c.ConfigSet(ctx, "notify-keyspace-events", "K$")
	db3 := dialRaw(t, s)
	db3.send("select", "3")
	db3.read()
	db3.send("append", "k3", "x")
	db3.read()
	expect(t, sub, "[pmessage __key*__:* __keyspace@3__:k3 append]")
	// "new" when a key is created, not when it is overwritten.
	c.ConfigSet(ctx, "notify-keyspace-events", "En")
	c.Set(ctx, "fresh", "1", 0)
	c.Set(ctx, "fresh", "2", 0)
	c.HSet(ctx, "freshhash", "f", "v")
	c.HSet(ctx, "freshhash", "g", "v")
	expect(t, sub,
		"[pmessage __key*__:* __keyevent@0__:new fresh]",
		"[pmessage __key*__:* __keyevent@0__:new freshhash]")
	if err := c.ConfigSet(ctx, "notify-keyspace-events", "KQ").Err(); err == nil {
		t.Fatal("an invalid class was accepted")
	}
}

// "expired" is published both when the active expirer removes a key and
// when a read finds it expired first.
func TestExpiredEvents(t *testing.T) {
	s := testserver.Start(t, "notify-keyspace-events", "Ex")
	ctx := context.Background()
	c := s.Client(2)
	sub := dialRaw(t, s)
	sub.send("subscribe", "__keyevent@0__:expired")
	sub.read()

	// Active: nobody touches the key.
	c.Set(ctx, "a", "1", 50*time.Millisecond)
	c.HSet(ctx, "h", "f", "v")
	c.PExpire(ctx, "h", 60*time.Millisecond)
	expect(t, sub,
		"[message __keyevent@0__:expired a]",
		"[message __keyevent@0__:expired h]")

	// Lazy: a read right after the deadline removes it (whichever of the
	// read and the expirer comes first, exactly one event is published).
	c.Set(ctx, "b", "1", 20*time.Millisecond)
	time.Sleep(25 * time.Millisecond)
	if err := c.Get(ctx, "b").Err(); err == nil {
		t.Fatal("expired key still readable")
	}
	expect(t, sub, "[message __keyevent@0__:expired b]")
	if n := c.Exists(ctx, "h").Val(); n != 0 {
		t.Fatal("expired hash still exists")
	}
	if n := c.HLen(ctx, "h").Val(); n != 0 {
		t.Fatal("expired hash kept its fields")
	}
}

// A blocked BZPOPMIN served by a ZADD publishes its events after the ZADD's.
func TestBlockedPopEventOrder(t *testing.T) {
	s := testserver.Start(t, "notify-keyspace-events", "Ez")
	ctx := context.Background()
	sub := dialRaw(t, s)
	sub.send("psubscribe", "__keyevent@0__:*")
	sub.read()
	c := s.Client(2)
	done := make(chan error, 1)
	go func() { done <- s.Client(2).Do(ctx, "bzpopmin", "q", "5").Err() }()
	waitBlocked(t, c, 1)
	c.Do(ctx, "zadd", "q", "1", "a")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	expect(t, sub,
		"[pmessage __keyevent@0__:* __keyevent@0__:zadd q]",
		"[pmessage __keyevent@0__:* __keyevent@0__:zpopmin q]")
}
