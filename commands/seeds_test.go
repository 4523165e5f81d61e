package commands_test

import (
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

// Scenario tests: each walks one seed's API (../shared/seeds) through the
// SESS.* commands that serve it, one command per library call.

// Seed 000, node-session-tokens: createSession / validateSession(token,
// nonce) / destroySession. A failed validation is a result, not an error.
func TestSeed000NodeSessionTokens(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		// createSession -> {sessionToken, nonce: 1, expiration}
		created := doMap(t, c, newFields, "sess.new")
		token := created["token"].(string)
		if created["nonce"] != int64(1) || created["expires"].(int64) <= time.Now().UnixMilli() {
			t.Fatalf("createSession: %v", created)
		}
		// validateSession(token, 1) -> success, newSessionInformation{token, nonce 2, expiration}
		v1 := doMap(t, c, okFields, "sess.validate", token, 1)
		if v1["ok"] != int64(1) || v1["nonce"] != int64(2) || v1["token"] == token {
			t.Fatalf("validate 1: %v", v1)
		}
		// ... and again with the new pair: the nonce keeps advancing.
		v2 := doMap(t, c, okFields, "sess.validate", v1["token"], 2)
		if v2["ok"] != int64(1) || v2["nonce"] != int64(3) || v2["token"] == v1["token"] {
			t.Fatalf("validate 2: %v", v2)
		}
		// A wrong nonce: success false with a reason, never an error.
		bad := doMap(t, c, failFields, "sess.validate", v2["token"], 2)
		wantReason(t, bad, "nonce")
		// The right nonce still works after a failed attempt.
		v3 := doMap(t, c, okFields, "sess.validate", v2["token"], 3)
		if v3["ok"] != int64(1) || v3["nonce"] != int64(4) {
			t.Fatalf("validate 3: %v", v3)
		}
		// destroySession(token): complete; afterwards the token is unknown.
		testserver.Run(t, c, []C{{Cmd: []any{"sess.destroy", v3["token"]}, Want: int64(1)}})
		wantReason(t, doMap(t, c, failFields, "sess.validate", v3["token"], 4), "unknown")
		// A token that never existed: a result too.
		wantReason(t, doMap(t, c, failFields, "sess.validate", "b0c96728-4c44-4c0a-9fca-5563fb1ebe44", 1), "unknown")
	})
}

// Seed 001, token-session: new / newWttl / get (autoTouch) / getNtouch /
// set / setWttl / regenerate / touch / destroy, and a genid of its own.
func TestSeed001TokenSession(t *testing.T) {
	s := testserver.Start(t)
	lastSeen := func(c *redis.Client, token string) int64 {
		t.Helper()
		return doMap(t, c, infoFields, "sess.info", token)["last_seen"].(int64)
	}
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		do(t, c, "config", "set", "session-auto-touch", "yes")
		// new(data) -> {sessionId, data}
		sid := newSess(t, c, "DATA", `{"name":"jhon","count":0}`).token
		// newWttl(data, 600)
		short := doMap(t, c, newFields, "sess.new", "DATA", `{"n":1}`, "IDLE", "600")
		if short["idle"] != int64(600_000) {
			t.Fatalf("newWttl: %v", short)
		}
		// genid: the application forms the id; it is still stored only as a hash.
		genid := "uuid-1b4e28ba-2fa1-11d2-883f-0016d3cca427"
		testserver.Run(t, c, []C{
			{Cmd: []any{"sess.new", "TOKEN", genid, "DATA", "g"}, Any: true},
			{Cmd: []any{"sess.get", genid}, Want: "g"},
			{Cmd: []any{"sess.new", "TOKEN", genid}, Want: nil}, // not unique: refused
		})

		// get(sid) with autoTouch: data, and the session is touched.
		before := lastSeen(c, sid)
		time.Sleep(15 * time.Millisecond)
		testserver.Run(t, c, []C{{Cmd: []any{"sess.get", sid}, Want: `{"name":"jhon","count":0}`}})
		touched := lastSeen(c, sid)
		if touched <= before {
			t.Fatalf("get with autoTouch did not touch: %d -> %d", before, touched)
		}
		// autoTouch off: get leaves it, getNtouch touches.
		do(t, c, "config", "set", "session-auto-touch", "no")
		time.Sleep(15 * time.Millisecond)
		testserver.Run(t, c, []C{{Cmd: []any{"sess.get", sid}, Want: `{"name":"jhon","count":0}`}})
		if got := lastSeen(c, sid); got != touched {
			t.Fatalf("get with autoTouch off touched: %d -> %d", touched, got)
		}
		testserver.Run(t, c, []C{{Cmd: []any{"sess.get", sid, "TOUCH"}, Want: `{"name":"jhon","count":0}`}})
		if got := lastSeen(c, sid); got <= touched {
			t.Fatal("getNtouch did not touch")
		}
		do(t, c, "config", "set", "session-auto-touch", "yes")

		// set(sid, data) replaces the data and touches.
		time.Sleep(15 * time.Millisecond)
		before = lastSeen(c, sid)
		time.Sleep(15 * time.Millisecond)
		testserver.Run(t, c, []C{
			{Cmd: []any{"sess.set", sid, `{"name":"jhon","count":1}`}, Want: int64(1)},
			{Cmd: []any{"sess.get", sid, "NOTOUCH"}, Want: `{"name":"jhon","count":1}`},
		})
		if lastSeen(c, sid) <= before {
			t.Fatal("set did not touch")
		}
		// setWttl(sid, data, 60): data and a per-session ttl at once.
		testserver.Run(t, c, []C{{Cmd: []any{"sess.set", sid, `{"count":2}`, "IDLE", "60"}, Want: int64(1)}})
		if ttl := do(t, c, "sess.ttl", sid).(int64); ttl > 60_000 || ttl < 59_000 {
			t.Fatalf("setWttl ttl %d", ttl)
		}
		// touch(sid): the period starts again.
		if ttl := do(t, c, "sess.touch", sid).(int64); ttl != 60_000 {
			t.Fatalf("touch -> %d", ttl)
		}
		// regenerate(sid) -> newSid: same data, the old id is dead.
		r := doMap(t, c, newTokenFields, "sess.regenerate", sid)
		newSid := r["token"].(string)
		testserver.Run(t, c, []C{
			{Cmd: []any{"sess.get", newSid}, Want: `{"count":2}`},
			{Cmd: []any{"sess.get", sid}, Want: nil},
			// destroy(newSid): gone.
			{Cmd: []any{"sess.destroy", newSid}, Want: int64(1)},
			{Cmd: []any{"sess.get", newSid}, Want: nil},
			{Cmd: []any{"sess.touch", newSid}, Want: int64(-2)},
		})
	})
}

// Seed 002, session_tokens (TokenTables): sessions with owners, general and
// per-session timeouts, time left, detach/attach, detached listings,
// destroy, and the owner <-> session mappings.
func TestSeed002SessionTokens(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		do(t, c, "config", "set", "session-idle-timeout", "3600")
		// add_session(session_token, ownership_key): the app's token creator,
		// with its optional prefix.
		tok := "app_" + strings.Repeat("7f3a", 8)
		owner := "ucwid:alice"
		add := doMap(t, c, newFields, "sess.new", "TOKEN", tok, "OWNER", owner)
		handle := add["handle"].(string)
		time.Sleep(2 * time.Millisecond) // newest first is by creation ms
		// A token drawn by the server with a prefix.
		other := newSess(t, c, "OWNER", owner, "PREFIX", "app_")
		if !strings.HasPrefix(other.token, "app_") {
			t.Fatalf("prefix %q", other.token)
		}
		// active_session(session_token, ownership_key)
		testserver.Run(t, c, []C{
			{Cmd: []any{"sess.active", tok, "OWNER", owner}, Want: int64(1)},
			{Cmd: []any{"sess.active", tok, "OWNER", "ucwid:bob"}, Want: int64(0)},
		})
		// Mappings: owner -> sessions, session -> owner.
		list := do(t, c, "sess.list", "OWNER", owner).([]any)
		if len(list) != 2 {
			t.Fatalf("owner -> sessions: %v", list)
		}
		if m, _ := fieldMap(t, list[1]); m["handle"] != handle {
			t.Fatalf("oldest last: %v", m)
		}
		if got := doMap(t, c, infoFields, "sess.info", tok)["owner"]; got != owner {
			t.Fatalf("session -> owner: %v", got)
		}

		// set_general_session_timeout: the default for new sessions.
		do(t, c, "config", "set", "session-idle-timeout", "120")
		g := doMap(t, c, newFields, "sess.new", "OWNER", "ucwid:carol")
		if g["idle"] != int64(120_000) {
			t.Fatalf("general timeout: %v", g)
		}
		// set_session_timeout / get_session_timeout / get_session_time_left
		testserver.Run(t, c, []C{{Cmd: []any{"sess.expire", tok, "IDLE", "300"}, Want: int64(1)}})
		if got := doMap(t, c, infoFields, "sess.info", tok)["idle"]; got != int64(300_000) {
			t.Fatalf("get_session_timeout %v", got)
		}
		if left := do(t, c, "sess.ttl", tok).(int64); left > 300_000 || left < 299_000 {
			t.Fatalf("get_session_time_left %d", left)
		}
		// "never time out until the server destroys it"
		testserver.Run(t, c, []C{
			{Cmd: []any{"sess.expire", other.token, "IDLE", "0"}, Want: int64(1)},
			{Cmd: []any{"sess.expire", other.token, "ABSOLUTE", "0"}, Want: int64(1)},
			{Cmd: []any{"sess.ttl", other.token}, Want: int64(-1)},
		})

		// allow_session_detach / detach_session / list_detached_sessions
		testserver.Run(t, c, []C{
			{Cmd: []any{"sess.detach", tok}, Want: int64(0)}, // not detachable yet
			{Cmd: []any{"sess.allowdetach", tok}, Want: int64(1)},
			{Cmd: []any{"sess.detach", tok}, Want: int64(1)},
			{Cmd: []any{"sess.active", tok, "OWNER", owner}, Want: int64(0)},
			{Cmd: []any{"sess.detached"}, Want: []any{handle}},
			{Cmd: []any{"sess.detached", "OWNER", owner}, Want: []any{handle}},
			{Cmd: []any{"sess.count", "OWNER", owner}, Want: int64(2)},
		})
		// attach_session: the owner logs back in to the kept session.
		a := doMap(t, c, newTokenFields, "sess.attach", "HANDLE", handle, "OWNER", owner)
		back := a["token"].(string)
		testserver.Run(t, c, []C{
			{Cmd: []any{"sess.active", back, "OWNER", owner}, Want: int64(1)},
			{Cmd: []any{"sess.active", tok}, Want: int64(0)},
			{Cmd: []any{"sess.detached"}, Want: []any{}},
		})
		if got := doMap(t, c, infoFields, "sess.info", back); got["handle"] != handle || got["detached"] != int64(0) {
			t.Fatalf("attached session %v", got)
		}
		// destroy_session: this one; then log out everywhere.
		testserver.Run(t, c, []C{
			{Cmd: []any{"sess.destroy", back}, Want: int64(1)},
			{Cmd: []any{"sess.active", back}, Want: int64(0)},
			{Cmd: []any{"sess.count", "OWNER", owner}, Want: int64(1)},
			{Cmd: []any{"sess.revoke", "OWNER", owner}, Want: int64(1)},
			{Cmd: []any{"sess.list", "OWNER", owner}, Want: []any{}},
			{Cmd: []any{"sess.count"}, Want: int64(1)},
		})
		do(t, c, "config", "set", "session-idle-timeout", "3600")
	})
}
