package commands_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/engine"
	"github.com/sessiond/sessiond/internal/testserver"
)

// TOK.* over a real socket, in RESP2 and RESP3.

const tokInfoFields = "owner session transferable sellable price expires unassigned timeout disown_timeout"

func tokInfo(t testing.TB, c *redis.Client, token string) map[string]any {
	t.Helper()
	return doMap(t, c, tokInfoFields, "tok.info", token)
}

// eventually polls cond every 20 ms for up to d.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func tokFootprint(t testing.TB, s *testserver.Server) int {
	n := 0
	_ = s.Engine().View(time.Now().UnixMilli(), func(tx *engine.Tx) error { n = tx.TokenFootprint(); return nil })
	return n
}

func TestTokCommands(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		a := newSess(t, c, "OWNER", "A")
		b := newSess(t, c, "OWNER", "B")
		anon := newSess(t, c)
		testserver.Run(t, c, []C{
			// TOK.ADD: every shape, and the wrong states answered 0.
			{Cmd: []any{"tok.add", "bound", "v1", "SESSION", a.token}, Want: int64(1)},
			{Cmd: []any{"tok.add", "bound", "again"}, Want: int64(0)},
			{Cmd: []any{"tok.add", "xfer", "v2", "session", a.token, "transferable", "ttl", "100"}, Want: int64(1)},
			{Cmd: []any{"tok.add", "free", "v3"}, Want: int64(1)},
			{Cmd: []any{"tok.add", "owned", "v4", "OWNER", "A"}, Want: int64(1)},
			{Cmd: []any{"tok.add", "orphan", "v5", "TRANSFERABLE"}, Want: int64(1)},
			{Cmd: []any{"tok.add", "anon", "v6", "SESSION", anon.token, "TRANSFERABLE"}, Want: int64(1)},
			{Cmd: []any{"tok.add", "same", "v", "SESSION", a.token, "OWNER", "A"}, Want: int64(1)},
			{Cmd: []any{"tok.add", "mismatch", "v", "SESSION", a.token, "OWNER", "B"}, Want: int64(0)},
			{Cmd: []any{"tok.add", "nosess", "v", "SESSION", "not-a-session-token"}, Want: int64(0)},
			{Cmd: []any{"tok.add", "", "v"}, WantErr: "ERR the token must not be empty"},
			{Cmd: []any{"tok.add", "x", "v", "TTL"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"tok.add", "x", "v", "TTL", "abc"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"tok.add", "x", "v", "TTL", "-1"}, WantErr: "ERR invalid expire time in 'tok.add' command"},
			{Cmd: []any{"tok.add", "x", "v", "BOGUS", "1"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"tok.add", "x"}, WantErr: "ERR wrong number of arguments for 'tok.add' command"},
			{Cmd: []any{"tok.get", "x"}, Want: nil},
			// Reads.
			{Cmd: []any{"tok.get", "bound"}, Want: "v1"},
			{Cmd: []any{"tok.get", "nope"}, Want: nil},
			{Cmd: []any{"tok.owner", "bound"}, Want: "A"},
			{Cmd: []any{"tok.owner", "free"}, Want: nil},
			{Cmd: []any{"tok.owner", "owned"}, Want: "A"},
			{Cmd: []any{"tok.owner", "nope"}, Want: nil},
			{Cmd: []any{"tok.session", "bound"}, Want: a.handle},
			{Cmd: []any{"tok.session", "owned"}, Want: nil},
			{Cmd: []any{"tok.session", "anon"}, Want: anon.handle},
			{Cmd: []any{"tok.owner", "anon"}, Want: nil},
			{Cmd: []any{"tok.ttl", "bound"}, Want: int64(-1)},
			{Cmd: []any{"tok.ttl", "nope"}, Want: int64(-2)},
			// Listings.
			{Cmd: []any{"tok.list", "SESSION", a.token}, Want: []any{"bound", "same", "xfer"}},
			{Cmd: []any{"tok.list", "TRANSFERABLE", a.token}, Want: []any{"xfer"}},
			{Cmd: []any{"tok.list", "OWNER", "A"}, Want: []any{"bound", "owned", "same", "xfer"}},
			{Cmd: []any{"tok.list", "OWNER", "nobody"}, Want: []any{}},
			{Cmd: []any{"tok.list", "SESSION", "not-a-session-token"}, Want: []any{}},
			{Cmd: []any{"tok.list", "UNASSIGNED"}, Want: []any{"orphan"}},
			{Cmd: []any{"tok.list", "SELLABLE"}, Want: []any{}},
			{Cmd: []any{"tok.list", "BOGUS"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"tok.list", "SESSION"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"tok.list", "SELLABLE", "x"}, WantErr: "ERR syntax error"},
			// Sellable marks: transferable tokens only; the amount kept as given.
			{Cmd: []any{"tok.sellable", "xfer", "-0012.50"}, Want: int64(1)},
			{Cmd: []any{"tok.sellable", "bound", "1"}, Want: int64(0)},
			{Cmd: []any{"tok.sellable", "nope"}, Want: int64(0)},
			{Cmd: []any{"tok.sellable", "xfer", "1e5"}, WantErr: "ERR amount is not a valid decimal number"},
			{Cmd: []any{"tok.sellable", "xfer", "."}, WantErr: "ERR amount is not a valid decimal number"},
			{Cmd: []any{"tok.sellable", "xfer", "nan"}, WantErr: "ERR amount is not a valid decimal number"},
			{Cmd: []any{"tok.sellable", "xfer", "1", "2"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"tok.sellable", "orphan"}, Want: int64(1)},
			{Cmd: []any{"tok.list", "SELLABLE"}, Want: []any{"orphan", "xfer"}},
			{Cmd: []any{"tok.unsellable", "orphan"}, Want: int64(1)},
			{Cmd: []any{"tok.unsellable", "orphan"}, Want: int64(0)},
			{Cmd: []any{"tok.list", "SELLABLE"}, Want: []any{"xfer"}},
			// Timeouts.
			{Cmd: []any{"tok.expire", "bound", "1000"}, Want: int64(1)},
			{Cmd: []any{"tok.expire", "nope", "10"}, Want: int64(0)},
			{Cmd: []any{"tok.expire", "bound", "x"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"tok.expire", "bound", "-5"}, WantErr: "ERR invalid expire time in 'tok.expire' command"},
			{Cmd: []any{"tok.disowntimeout", "xfer", "30"}, Want: int64(1)},
			{Cmd: []any{"tok.disowntimeout", "bound", "30"}, Want: int64(0)},
			{Cmd: []any{"tok.disowntimeout", "nope", "30"}, Want: int64(0)},
			{Cmd: []any{"tok.disowntimeout", "xfer", "-1"}, WantErr: "ERR invalid expire time in 'tok.disowntimeout' command"},
			// Acquire: unassigned or sellable transferable tokens only.
			{Cmd: []any{"tok.acquire", "bound", b.token}, Want: int64(0)},
			{Cmd: []any{"tok.acquire", "free", b.token}, Want: int64(0)},
			{Cmd: []any{"tok.acquire", "anon", b.token}, Want: int64(0)},
			{Cmd: []any{"tok.acquire", "nope", b.token}, Want: int64(0)},
			{Cmd: []any{"tok.acquire", "orphan", "not-a-session-token"}, Want: int64(0)},
			{Cmd: []any{"tok.acquire", "xfer", a.token}, Want: int64(0)}, // its own
			{Cmd: []any{"tok.acquire", "orphan", b.token}, Want: int64(1)},
			{Cmd: []any{"tok.acquire", "orphan", b.token}, Want: int64(0)},
			{Cmd: []any{"tok.acquire", "xfer", b.token}, Want: int64(1)}, // bought
			{Cmd: []any{"tok.list", "SELLABLE"}, Want: []any{}},
			{Cmd: []any{"tok.list", "UNASSIGNED"}, Want: []any{}},
			{Cmd: []any{"tok.list", "SESSION", b.token}, Want: []any{"orphan", "xfer"}},
			{Cmd: []any{"tok.list", "OWNER", "B"}, Want: []any{"orphan", "xfer"}},
			{Cmd: []any{"tok.list", "TRANSFERABLE", a.token}, Want: []any{}},
			// Transfer: only from the owner that holds it.
			{Cmd: []any{"tok.transfer", "xfer", "A", "C"}, Want: int64(0)},
			{Cmd: []any{"tok.transfer", "bound", "A", "C"}, Want: int64(0)},
			{Cmd: []any{"tok.transfer", "xfer", "B", ""}, Want: int64(0)},
			{Cmd: []any{"tok.transfer", "nope", "B", "C"}, Want: int64(0)},
			{Cmd: []any{"tok.transfer", "xfer", "B", "C"}, Want: int64(1)},
			{Cmd: []any{"tok.transfer", "xfer", "B", "C"}, Want: int64(0)},
			{Cmd: []any{"tok.owner", "xfer"}, Want: "C"},
			{Cmd: []any{"tok.session", "xfer"}, Want: nil},
			{Cmd: []any{"tok.list", "OWNER", "C"}, Want: []any{"xfer"}},
			{Cmd: []any{"tok.list", "OWNER", "B"}, Want: []any{"orphan"}},
			{Cmd: []any{"tok.transfer", "xfer", "C", "C"}, Want: int64(1)},
			// Destroy.
			{Cmd: []any{"tok.destroy", "free"}, Want: int64(1)},
			{Cmd: []any{"tok.destroy", "free"}, Want: int64(0)},
			{Cmd: []any{"tok.get", "free"}, Want: nil},
			{Cmd: []any{"tok.destroy", "bound"}, Want: int64(1)},
			{Cmd: []any{"tok.list", "SESSION", a.token}, Want: []any{"same"}},
			{Cmd: []any{"tok.list", "OWNER", "A"}, Want: []any{"owned", "same"}},
		})
		// TOK.TTL / TOK.INFO after the timeouts above.
		if ttl := do(t, c, "tok.ttl", "owned").(int64); ttl != -1 {
			t.Fatalf("ttl of a token with no timeout %d", ttl)
		}
		do(t, c, "tok.expire", "owned", "50")
		if ttl := do(t, c, "tok.ttl", "owned").(int64); ttl > 50_000 || ttl < 49_000 {
			t.Fatalf("ttl after EXPIRE 50: %d", ttl)
		}
		// TOK.NEW: fresh, prefixed, not stored.
		n1, n2 := do(t, c, "tok.new").(string), do(t, c, "tok.new", "prefix", "tt_").(string)
		if len(n1) != 43 || !strings.HasPrefix(n2, "tt_") || len(n2) != 46 || n1 == n2[3:] {
			t.Fatalf("TOK.NEW %q %q", n1, n2)
		}
		testserver.Run(t, c, []C{
			{Cmd: []any{"tok.get", n1}, Want: nil},
			{Cmd: []any{"tok.new", "PREFIX"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"tok.new", "x", "y"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"tok.add", n2, "fresh"}, Want: int64(1)},
			{Cmd: []any{"tok.get", n2}, Want: "fresh"},
		})
	})
}

func TestTokInfoReply(t *testing.T) {
	s := testserver.Start(t, "token-disown-timeout", "77")
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		a := newSess(t, c, "OWNER", "A")
		do(t, c, "tok.add", "x", "val", "SESSION", a.token, "TRANSFERABLE", "TTL", "60")
		do(t, c, "tok.sellable", "x", "+3.")
		now := time.Now().UnixMilli()
		m := tokInfo(t, c, "x")
		exp := m["expires"].(int64)
		if m["owner"] != "A" || m["session"] != a.handle || m["transferable"] != int64(1) || m["sellable"] != int64(1) ||
			m["price"] != "+3." || m["unassigned"] != int64(0) || m["timeout"] != int64(60_000) || m["disown_timeout"] != int64(77_000) ||
			exp < now+59_000 || exp > now+60_000 {
			t.Fatalf("TOK.INFO %v", m)
		}
		do(t, c, "tok.disowntimeout", "x", "5")
		do(t, c, "tok.add", "plain", "v")
		m = tokInfo(t, c, "plain")
		if m["owner"] != "" || m["session"] != "" || m["transferable"] != int64(0) || m["sellable"] != int64(0) ||
			m["price"] != "" || m["expires"] != int64(0) || m["unassigned"] != int64(0) || m["timeout"] != int64(0) || m["disown_timeout"] != int64(0) {
			t.Fatalf("TOK.INFO plain %v", m)
		}
		do(t, c, "sess.destroy", a.token)
		m = tokInfo(t, c, "x")
		if m["owner"] != "" || m["session"] != "" || m["unassigned"] != int64(1) || m["sellable"] != int64(1) || m["disown_timeout"] != int64(5000) {
			t.Fatalf("TOK.INFO unassigned %v", m)
		}
		// The disown wait (5 s) comes before the own timeout (60 s).
		if exp := m["expires"].(int64); exp > time.Now().UnixMilli()+5000 {
			t.Fatalf("unassigned expires %d", exp)
		}
		if v := do(t, c, "tok.info", "nope"); v != nil {
			t.Fatalf("TOK.INFO of nothing %v", v)
		}
	})
}

// Seed 002, session_tokens, TokenTables: the token half of its lifecycle end
// to end, one command per library call.
func TestSeed002TokenLifecycle(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, "token-disown-timeout", "3")
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		// Owner A logs in (add_session).
		a := newSess(t, c, "OWNER", "ucwid:A")
		// create_token with the app's prefix; add_session_bounded_token, with
		// a timeout longer than the session's; add_transferable_token;
		// set_token_sellable.
		bound := do(t, c, "tok.new", "PREFIX", "b_").(string)
		xfer := do(t, c, "tok.new", "PREFIX", "t_").(string)
		testserver.Run(t, c, []C{
			{Cmd: []any{"tok.add", bound, `{"step":1}`, "SESSION", a.token, "TTL", "100000"}, Want: int64(1)},
			{Cmd: []any{"tok.add", xfer, `{"asset":9}`, "SESSION", a.token, "TRANSFERABLE"}, Want: int64(1)},
			{Cmd: []any{"tok.sellable", xfer, "-4.20"}, Want: int64(1)},
			// transition_token_is_active, from_token, token -> session,
			// token_is_transferable, session -> tokens, owner -> tokens,
			// list_tranferable_tokens, list_sellable_tokens.
			{Cmd: []any{"tok.get", bound}, Want: `{"step":1}`},
			{Cmd: []any{"tok.owner", xfer}, Want: "ucwid:A"},
			{Cmd: []any{"tok.session", bound}, Want: a.handle},
			{Cmd: []any{"tok.list", "SESSION", a.token}, Want: []any{bound, xfer}},
			{Cmd: []any{"tok.list", "OWNER", "ucwid:A"}, Want: []any{bound, xfer}},
			{Cmd: []any{"tok.list", "TRANSFERABLE", a.token}, Want: []any{xfer}},
			{Cmd: []any{"tok.list", "SELLABLE"}, Want: []any{xfer}},
			{Cmd: []any{"tok.list", "UNASSIGNED"}, Want: []any{}},
		})
		if m := tokInfo(t, c, xfer); m["transferable"] != int64(1) || m["price"] != "-4.20" {
			t.Fatalf("token_is_transferable / price %v", m)
		}
		if m := doMap(t, c, infoFields, "sess.info", a.token); m["tokens"] != int64(2) {
			t.Fatalf("SESS.INFO tokens %v", m["tokens"])
		}
		// A's session ends (destroy_session): the bound token goes with it in
		// the same transaction; the transferable one is unassigned.
		testserver.Run(t, c, []C{
			{Cmd: []any{"sess.destroy", a.token}, Want: int64(1)},
			{Cmd: []any{"tok.get", bound}, Want: nil},
			{Cmd: []any{"tok.get", xfer}, Want: `{"asset":9}`},
			{Cmd: []any{"tok.owner", xfer}, Want: nil},
			{Cmd: []any{"tok.session", xfer}, Want: nil},
			{Cmd: []any{"tok.list", "UNASSIGNED"}, Want: []any{xfer}},
			{Cmd: []any{"tok.list", "OWNER", "ucwid:A"}, Want: []any{}},
		})
		if m := tokInfo(t, c, xfer); m["unassigned"] != int64(1) {
			t.Fatalf("unassigned %v", m)
		}
		// Owner B logs in; B's session acquires it (acquire_token); it lists under B.
		b := newSess(t, c, "OWNER", "ucwid:B")
		testserver.Run(t, c, []C{
			{Cmd: []any{"tok.acquire", xfer, b.token}, Want: int64(1)},
			{Cmd: []any{"tok.owner", xfer}, Want: "ucwid:B"},
			{Cmd: []any{"tok.session", xfer}, Want: b.handle},
			{Cmd: []any{"tok.list", "OWNER", "ucwid:B"}, Want: []any{xfer}},
			{Cmd: []any{"tok.list", "SESSION", b.token}, Want: []any{xfer}},
			{Cmd: []any{"tok.list", "UNASSIGNED"}, Want: []any{}},
			// transfer_token back to A: only its owner may yield it.
			{Cmd: []any{"tok.transfer", xfer, "ucwid:A", "ucwid:B"}, Want: int64(0)},
			{Cmd: []any{"tok.transfer", xfer, "ucwid:B", "ucwid:A"}, Want: int64(1)},
			{Cmd: []any{"tok.list", "OWNER", "ucwid:A"}, Want: []any{xfer}},
			{Cmd: []any{"tok.list", "OWNER", "ucwid:B"}, Want: []any{}},
			{Cmd: []any{"tok.owner", xfer}, Want: "ucwid:A"},
			// destroy_token
			{Cmd: []any{"tok.destroy", xfer}, Want: int64(1)},
			{Cmd: []any{"tok.list", "OWNER", "ucwid:A"}, Want: []any{}},
		})
		// An unassigned token left alone expires after the disown timeout
		// (3 s here, wide enough that a loaded machine cannot miss the
		// unassigned window). Its session ends by expiry: nobody touches it.
		a2 := newSess(t, c, "OWNER", "ucwid:A", "IDLE", "1")
		left := do(t, c, "tok.new").(string)
		do(t, c, "tok.add", left, "v", "SESSION", a2.token, "TRANSFERABLE")
		eventually(t, 5*time.Second, "session expiry disowns the token", func() bool {
			return len(do(t, c, "tok.list", "UNASSIGNED").([]any)) == 1
		})
		if ttl := do(t, c, "tok.ttl", left).(int64); ttl > 3000 || ttl < 0 {
			t.Fatalf("disown wait left %d", ttl)
		}
		eventually(t, 6*time.Second, "the unassigned token expires", func() bool {
			return do(t, c, "tok.get", left) == nil
		})
		testserver.Run(t, c, []C{
			{Cmd: []any{"tok.list", "UNASSIGNED"}, Want: []any{}},
			{Cmd: []any{"tok.acquire", left, b.token}, Want: int64(0)},
		})
		eventually(t, 2*time.Second, "nothing left behind", func() bool { return tokFootprint(t, s) == 0 })
		info := do(t, c, "info", "tokens").(string)
		for _, want := range []string{"tokens_live:0\r\n", "tokens_unassigned:0\r\n", "tokens_sellable:0\r\n"} {
			if !strings.Contains(info, want) {
				t.Fatalf("INFO tokens lacks %q:\n%s", want, info)
			}
		}
	})
}

// Session-bound tokens die with their session whatever ends it, even when
// their own timeout is longer; transferable ones become unassigned.
func TestTokSessionEndCauses(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, "session-rotate-grace", "0")
	c := s.Client(3)
	setup := func(name string, sessArgs ...any) sess {
		x := newSess(t, c, append([]any{"OWNER", "o:" + name}, sessArgs...)...)
		do(t, c, "tok.add", name+":bound", "v", "SESSION", x.token, "TTL", "3600")
		do(t, c, "tok.add", name+":xfer", "v", "SESSION", x.token, "TRANSFERABLE")
		return x
	}
	check := func(name string) {
		t.Helper()
		if v := do(t, c, "tok.get", name+":bound"); v != nil {
			t.Errorf("%s: bound token outlived its session", name)
		}
		if m := tokInfo(t, c, name+":xfer"); m["unassigned"] != int64(1) {
			t.Errorf("%s: transferable token not unassigned: %v", name, m)
		}
	}
	// Rotation, regeneration, detach and attach keep the session (its
	// handle): its tokens stay with it.
	k := setup("keep", "DETACHABLE")
	next := validate(t, c, k.token, 1)["token"].(string)
	regen := doMap(t, c, newTokenFields, "sess.regenerate", next)["token"].(string)
	testserver.Run(t, c, []C{
		{Cmd: []any{"tok.list", "SESSION", regen}, Want: []any{"keep:bound", "keep:xfer"}},
		{Cmd: []any{"sess.detach", regen}, Want: int64(1)},
		{Cmd: []any{"tok.get", "keep:bound"}, Want: "v"},
		{Cmd: []any{"tok.list", "SESSION", regen}, Want: []any{}}, // a detached token does not authenticate
	})
	back := doMap(t, c, newTokenFields, "sess.attach", "HANDLE", k.handle, "OWNER", "o:keep")["token"].(string)
	testserver.Run(t, c, []C{{Cmd: []any{"tok.list", "SESSION", back}, Want: []any{"keep:bound", "keep:xfer"}}})
	if m := tokInfo(t, c, "keep:xfer"); m["session"] != k.handle || m["unassigned"] != int64(0) {
		t.Fatalf("transferable token of a kept session %v", m)
	}

	d := setup("destroy")
	do(t, c, "sess.destroy", d.token)
	check("destroy")
	h := setup("handle")
	do(t, c, "sess.destroy", "HANDLE", h.handle)
	check("handle")
	r := setup("revoke")
	do(t, c, "sess.revoke", "HANDLE", r.handle)
	check("revoke")
	setup("owner")
	do(t, c, "sess.revoke", "OWNER", "o:owner")
	check("owner")
	p := setup("replay")
	validate(t, c, p.token, 1)
	time.Sleep(5 * time.Millisecond)
	wantReason(t, validate(t, c, p.token, 1), "replayed")
	check("replay")
	setup("expiry", "IDLE", "1")
	eventually(t, 3*time.Second, "the expirer ends the session", func() bool {
		return do(t, c, "tok.get", "expiry:bound") == nil
	})
	check("expiry")
	setup("flush")
	do(t, c, "flushall")
	for _, tok := range []string{"flush:bound", "flush:xfer", "destroy:xfer"} {
		if v := do(t, c, "tok.get", tok); v != nil {
			t.Errorf("FLUSHALL kept %s", tok)
		}
	}
	if n := tokFootprint(t, s); n != 0 {
		t.Fatalf("FLUSHALL left %d token items", n)
	}
}

// Tokens are not keys: KEYS, SCAN, DBSIZE never show them; FLUSHDB keeps them.
func TestTokInvisible(t *testing.T) {
	s := testserver.Start(t)
	c := s.Client(2)
	a := newSess(t, c, "OWNER", "o")
	do(t, c, "tok.add", "t1", "v", "SESSION", a.token, "TRANSFERABLE")
	do(t, c, "tok.sellable", "t1", "1")
	do(t, c, "tok.add", "t2", "v", "TRANSFERABLE")
	do(t, c, "set", "plain", "1")
	testserver.Run(t, c, []C{
		{Cmd: []any{"keys", "*"}, Want: []any{"plain"}},
		{Cmd: []any{"dbsize"}, Want: int64(1)},
		{Cmd: []any{"scan", "0", "count", "1000"}, Want: []any{"0", []any{"plain"}}},
		{Cmd: []any{"flushdb"}, Want: "OK"},
		{Cmd: []any{"tok.get", "t1"}, Want: "v"},
		{Cmd: []any{"tok.list", "SELLABLE"}, Want: []any{"t1"}},
		{Cmd: []any{"tok.list", "UNASSIGNED"}, Want: []any{"t2"}},
	})
}

// Tokens, their indexes and their timeouts survive a restart.
func TestTokPersistence(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, "appendfsync", "always", "token-disown-timeout", "5")
	c := s.Client(3)
	a := newSess(t, c, "OWNER", "A")
	do(t, c, "tok.add", "b", "vb", "SESSION", a.token, "TTL", "600")
	do(t, c, "tok.add", "x", "vx", "SESSION", a.token, "TRANSFERABLE")
	do(t, c, "tok.sellable", "x", "-1.5")
	do(t, c, "tok.add", "u", "vu", "TRANSFERABLE") // unassigned: 5 s
	do(t, c, "tok.add", "f", "vf", "OWNER", "A", "TTL", "1")
	before := tokInfo(t, c, "b")
	s.Restart()
	c = s.Client(2)
	after := tokInfo(t, c, "b")
	if after["expires"] != before["expires"] || after["session"] != a.handle || after["owner"] != "A" {
		t.Fatalf("bound token across restart: %v, was %v", after, before)
	}
	testserver.Run(t, c, []C{
		{Cmd: []any{"tok.get", "x"}, Want: "vx"},
		{Cmd: []any{"tok.list", "SESSION", a.token}, Want: []any{"b", "x"}},
		{Cmd: []any{"tok.list", "OWNER", "A"}, Want: []any{"b", "f", "x"}},
		{Cmd: []any{"tok.list", "SELLABLE"}, Want: []any{"x"}},
		{Cmd: []any{"tok.list", "UNASSIGNED"}, Want: []any{"u"}},
	})
	if m := tokInfo(t, c, "x"); m["price"] != "-1.5" {
		t.Fatalf("price across restart %v", m)
	}
	// The timeouts keep running across the restart.
	eventually(t, 8*time.Second, "timeouts across a restart", func() bool {
		return do(t, c, "tok.get", "f") == nil && do(t, c, "tok.get", "u") == nil
	})
	// The session-end hook works on the restarted server.
	do(t, c, "sess.destroy", a.token)
	testserver.Run(t, c, []C{
		{Cmd: []any{"tok.get", "b"}, Want: nil},
		{Cmd: []any{"tok.list", "UNASSIGNED"}, Want: []any{"x"}},
	})
	s.Restart()
	c = s.Client(3)
	testserver.Run(t, c, []C{{Cmd: []any{"tok.list", "UNASSIGNED"}, Want: []any{"x"}}})
	eventually(t, 8*time.Second, "disown wait across a restart", func() bool { return do(t, c, "tok.get", "x") == nil })
}

func TestTokExpiryAndDefaults(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	c := s.Client(2)
	testserver.Run(t, c, []C{
		{Cmd: []any{"config", "set", "token-default-ttl", "100"}, Want: "OK"},
		{Cmd: []any{"tok.add", "d", "v"}, Want: int64(1)},
		{Cmd: []any{"tok.add", "none", "v", "TTL", "0"}, Want: int64(1)},
		{Cmd: []any{"tok.add", "short", "v", "TTL", "1"}, Want: int64(1)},
		{Cmd: []any{"tok.ttl", "none"}, Want: int64(-1)},
		{Cmd: []any{"config", "set", "token-default-ttl", "0"}, Want: "OK"},
		{Cmd: []any{"config", "get", "token-disown-timeout"}, Want: []any{"token-disown-timeout", "3600"}},
	})
	if ttl := do(t, c, "tok.ttl", "d").(int64); ttl > 100_000 || ttl < 99_000 {
		t.Fatalf("token-default-ttl: %d", ttl)
	}
	// Alive at once, gone after its second, reaped by the active expirer.
	if do(t, c, "tok.get", "short") == nil {
		t.Fatal("short token gone at once")
	}
	eventually(t, 3*time.Second, "the active expirer reaps the token", func() bool {
		return strings.Contains(do(t, c, "info", "tokens").(string), "tokens_live:2\r\n")
	})
	testserver.Run(t, c, []C{
		{Cmd: []any{"tok.get", "short"}, Want: nil},
		{Cmd: []any{"tok.ttl", "short"}, Want: int64(-2)},
		// Config applies to tokens disowned after it changes.
		{Cmd: []any{"config", "set", "token-disown-timeout", "0"}, Want: "OK"},
		{Cmd: []any{"tok.add", "forever", "v", "TRANSFERABLE"}, Want: int64(1)},
		{Cmd: []any{"tok.ttl", "forever"}, Want: int64(-1)},
		{Cmd: []any{"config", "set", "token-disown-timeout", "1"}, Want: "OK"},
		{Cmd: []any{"tok.add", "soon", "v", "TRANSFERABLE"}, Want: int64(1)},
		{Cmd: []any{"tok.list", "UNASSIGNED"}, Want: []any{"forever", "soon"}},
	})
	eventually(t, 3*time.Second, "the unassigned token expires", func() bool {
		return do(t, c, "tok.get", "soon") == nil
	})
	testserver.Run(t, c, []C{{Cmd: []any{"tok.list", "UNASSIGNED"}, Want: []any{"forever"}}})
}

func TestTokInfoSection(t *testing.T) {
	s := testserver.Start(t)
	c := s.Client(3)
	a := newSess(t, c, "OWNER", "o")
	do(t, c, "tok.add", "b1", "v", "SESSION", a.token)
	do(t, c, "tok.add", "b2", "v", "SESSION", a.token)
	do(t, c, "tok.add", "x", "v", "SESSION", a.token, "TRANSFERABLE")
	do(t, c, "tok.add", "u", "v", "TRANSFERABLE")
	do(t, c, "tok.add", "f", "v")
	do(t, c, "tok.sellable", "x")
	do(t, c, "tok.sellable", "u", "2")
	check := func(want ...string) {
		t.Helper()
		info := do(t, c, "info").(string)
		if !strings.Contains(info, "# Tokens\r\n") {
			t.Fatalf("no tokens section in INFO:\n%s", info)
		}
		for _, w := range want {
			if !strings.Contains(info, w+"\r\n") {
				t.Fatalf("INFO lacks %q:\n%s", w, info)
			}
		}
	}
	check("tokens_live:5", "tokens_bound:2", "tokens_transferable:2", "tokens_unassigned:1", "tokens_sellable:2", "tokens_added:5")
	if m := doMap(t, c, infoFields, "sess.info", a.token); m["tokens"] != int64(3) {
		t.Fatalf("SESS.INFO tokens %v", m["tokens"])
	}
	do(t, c, "sess.destroy", a.token)
	check("tokens_live:3", "tokens_bound:0", "tokens_transferable:2", "tokens_unassigned:2", "tokens_sellable:2", "tokens_disowned:1", "tokens_ended_with_session:2")
}

// TOK.* inside MULTI/EXEC join EXEC's one transaction.
func TestTokMultiExec(t *testing.T) {
	s := testserver.Start(t)
	c := s.Client(2)
	a := newSess(t, c, "OWNER", "A")
	cmds, err := c.TxPipelined(bg, func(p redis.Pipeliner) error {
		p.Do(bg, "tok.add", "m", "v", "SESSION", a.token, "TRANSFERABLE")
		p.Do(bg, "tok.sellable", "m", "5")
		p.Do(bg, "tok.transfer", "m", "A", "B")
		p.Do(bg, "tok.owner", "m")
		p.Do(bg, "tok.list", "OWNER", "B")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, cmd := range cmds {
		got = append(got, fmt.Sprint(cmd.(*redis.Cmd).Val()))
	}
	if strings.Join(got, " ") != "1 1 1 B [m]" {
		t.Fatalf("EXEC replies %v", got)
	}
}

// With many tokens of other owners and sessions, every listing reads its
// own index only (engine work counted).
func TestTokListsReadIndexes(t *testing.T) {
	s := testserver.Start(t, "appendfsync", "no")
	c := s.Client(2)
	a := newSess(t, c, "OWNER", "A")
	do(t, c, "tok.add", "a1", "v", "SESSION", a.token)
	do(t, c, "tok.add", "a2", "v", "SESSION", a.token, "TRANSFERABLE")
	do(t, c, "tok.sellable", "a2")
	do(t, c, "tok.add", "u1", "v", "TRANSFERABLE")
	const others = 20_000
	for i := 0; i < others; i += 1000 {
		p := c.Pipeline()
		for j := i; j < i+1000; j++ {
			p.Do(bg, "tok.add", fmt.Sprintf("other:%d", j), "v", "OWNER", fmt.Sprintf("user:%d", j%1000))
		}
		if _, err := p.Exec(bg); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		args []any
		want int
	}{
		{[]any{"tok.list", "SESSION", a.token}, 2},
		{[]any{"tok.list", "TRANSFERABLE", a.token}, 1},
		{[]any{"tok.list", "OWNER", "A"}, 2},
		{[]any{"tok.list", "OWNER", "user:7"}, others / 1000},
		{[]any{"tok.list", "SELLABLE"}, 1},
		{[]any{"tok.list", "UNASSIGNED"}, 1},
	} {
		before := s.Engine().TokenWork()
		n := len(do(t, c, tc.args...).([]any))
		work := s.Engine().TokenWork() - before
		if n != tc.want || work > int64(2*tc.want+2) {
			t.Errorf("%v: %d tokens, %d items read", tc.args, n, work)
		}
	}
}
