package commands_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/sessiond/sessiond/internal/testserver"
)

// Spring Session Data Redis in indexed mode (RedisIndexedSessionRepository),
// replayed command by command as the repository issues them: it configures
// keyspace events itself, stores a session as a hash with PEXPIREAT, keeps
// an "expires" shadow key (APPEND + PEXPIRE) whose expiry it listens for,
// indexes sessions by principal in sets, tracks expirations in a sorted set
// scored by the deadline (a Java double, printed like 1.754E12), and
// publishes a created event.
func TestSpringSessionIndexed(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	c := s.Client(2)

	// ConfigureNotifyKeyspaceEventsAction: read the flags, add E, g and x.
	flags := c.ConfigGet(ctx, "notify-keyspace-events").Val()["notify-keyspace-events"]
	if err := c.ConfigSet(ctx, "notify-keyspace-events", flags+"Egx").Err(); err != nil {
		t.Fatal(err)
	}

	// The repository's message listener container.
	listener := dialRaw(t, s)
	listener.send("subscribe", "__keyevent@0__:expired", "__keyevent@0__:del")
	listener.read()
	listener.read()
	listener.send("psubscribe", "spring:session:event:0:created:*")
	listener.read()

	const id = "9f3c2a1e-7b44-4d1b-9a55-2f0a6c1d8e01"
	sessionKey := "spring:session:sessions:" + id
	expiresKey := "spring:session:sessions:expires:" + id
	principalKey := "spring:session:index:org.springframework.session.FindByIndexNameSessionRepository.PRINCIPAL_NAME_INDEX_NAME:alice"
	expirationsKey := "spring:session:sessions:expirations"
	now := time.Now().UnixMilli()
	deadline := now + 1800_000
	javaScore := func(ms int64) string { // Double.toString of a deadline: 1.754001234567E12
		return strconv.FormatFloat(float64(ms)/1e12, 'f', -1, 64) + "E12"
	}

	testserver.Run(t, c, []C{
		{Cmd: []any{"hmset", sessionKey,
			"creationTime", fmt.Sprint(now), "lastAccessedTime", fmt.Sprint(now),
			"maxInactiveInterval", "1800", "sessionAttr:SPRING_SECURITY_CONTEXT", "\xac\xed\x00\x05sr\x00..."}, Want: "OK"},
		{Cmd: []any{"pexpireat", sessionKey, fmt.Sprint(deadline + 300_000)}, Want: int64(1)},
		{Cmd: []any{"append", expiresKey, ""}, Want: int64(0)},
		{Cmd: []any{"pexpire", expiresKey, "1800000"}, Want: int64(1)},
		{Cmd: []any{"sadd", principalKey, id}, Want: int64(1)},
		{Cmd: []any{"zadd", expirationsKey, "1.754E12", id}, Want: int64(1)},
		{Cmd: []any{"zadd", expirationsKey, javaScore(deadline), "other-session"}, Want: int64(1)},
		{Cmd: []any{"publish", "spring:session:event:0:created:" + id, "\xac\xed\x00\x05t\x00created"}, Want: int64(1)},
		// Lookups the repository makes.
		{Cmd: []any{"hgetall", sessionKey}, Any: true},
		{Cmd: []any{"hget", sessionKey, "maxInactiveInterval"}, Want: "1800"},
		{Cmd: []any{"smembers", principalKey}, Want: []any{id}},
		{Cmd: []any{"zscore", expirationsKey, id}, Want: "1754000000000"},
		// The cleanup task: sessions whose deadline passed, oldest first.
		{Cmd: []any{"zrevrangebyscore", expirationsKey, fmt.Sprint(now), "-inf", "limit", "0", "100"}, Want: []any{id}},
		{Cmd: []any{"zrangebyscore", expirationsKey, "-inf", fmt.Sprint(now), "limit", "0", "100"}, Want: []any{id}},
		{Cmd: []any{"zrem", expirationsKey, id}, Want: int64(1)},
		// Attribute change (delta save).
		{Cmd: []any{"hmset", sessionKey, "lastAccessedTime", fmt.Sprint(now + 1000), "sessionAttr:cart", "3 items"}, Want: "OK"},
		{Cmd: []any{"hlen", sessionKey}, Want: int64(5)},
		{Cmd: []any{"pttl", sessionKey}, Any: true},
	})
	expect(t, listener, "[pmessage spring:session:event:0:created:* spring:session:event:0:created:"+id+" \xac\xed\x00\x05t\x00created]")

	// Logout: the repository deletes the expires key (a del event it
	// listens to), the session hash and the index entry.
	testserver.Run(t, c, []C{
		{Cmd: []any{"del", expiresKey}, Want: int64(1)},
		{Cmd: []any{"srem", principalKey, id}, Want: int64(1)},
		{Cmd: []any{"del", sessionKey}, Want: int64(1)},
		{Cmd: []any{"smembers", principalKey}, Want: []any{}},
	})
	expect(t, listener,
		"[message __keyevent@0__:del "+expiresKey+"]",
		"[message __keyevent@0__:del "+principalKey+"]", // its last member went
		"[message __keyevent@0__:del "+sessionKey+"]")

	// Expiry: the shadow key expires first and the listener learns of it.
	id2 := "second"
	testserver.Run(t, c, []C{
		{Cmd: []any{"hmset", "spring:session:sessions:" + id2, "creationTime", fmt.Sprint(now), "maxInactiveInterval", "1"}, Want: "OK"},
		{Cmd: []any{"append", "spring:session:sessions:expires:" + id2, ""}, Want: int64(0)},
		{Cmd: []any{"pexpire", "spring:session:sessions:expires:" + id2, "100"}, Want: int64(1)},
		{Cmd: []any{"sadd", "spring:session:expirations:" + fmt.Sprint((now/60000+1)*60000), "expires:" + id2}, Want: int64(1)},
	})
	expect(t, listener, "[message __keyevent@0__:expired spring:session:sessions:expires:"+id2+"]")
	// The repository then reads the session to publish its expired event.
	if v := c.HGet(ctx, "spring:session:sessions:"+id2, "maxInactiveInterval").Val(); v != "1" {
		t.Fatalf("session hash gone with its shadow key: %q", v)
	}
}
