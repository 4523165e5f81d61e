package engine

import (
	"errors"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/sessiond/sessiond/persistence"
	"github.com/tidwall/buntdb"
)

// The session counts live in memory: Open counts them from the records (and
// deletes the counters record older versions wrote), a failed transaction
// leaves them as they were, FLUSHALL zeroes them.
func TestSessionCountsRebuiltAndRolledBack(t *testing.T) {
	path := t.TempDir() + "/data.db"
	st, err := persistence.Open(persistence.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	e, err := Open(Options{Store: st, Clock: frozen})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		create(t, e, t0, NewSession{Owner: []string{"a", "b", "b", "", "c"}[i], Idle: 60_000})
	}
	_, tok := create(t, e, t0, NewSession{Owner: "c", Idle: 60_000, Detachable: true})
	upd(t, e, t0, func(tx *Tx) error {
		if !tx.SessionDetach(tok, pol) {
			t.Fatal("detach")
		}
		// A counters record as versions before this one kept it.
		_, _, err := tx.bt.Set(sessCounterKey, "\x06\x03\x01", nil)
		return err
	})
	want := [3]int64{6, 3, 1}
	counts := func(e *Engine) [3]int64 {
		var c [3]int64
		view(t, e, t0, func(tx *Tx) error {
			c[0], c[1], c[2] = tx.SessionCounts()
			return nil
		})
		return c
	}
	if got := counts(e); got != want {
		t.Fatalf("counts %v, want %v", got, want)
	}
	e.Close()
	st.Close()

	e = openTest(t, path)
	if got := counts(e); got != want {
		t.Fatalf("counts after restart %v, want %v", got, want)
	}
	_ = e.db.View(func(bt *buntdb.Tx) error {
		if _, err := bt.Get(sessCounterKey); err != buntdb.ErrNotFound {
			t.Fatal("the old counters record is still there")
		}
		return nil
	})
	failed := errors.New("fail")
	if _, err := e.Update(t0, func(tx *Tx) error {
		if _, err := tx.CreateSession(NewSession{Handle: "h-rolled-back", Token: FormatToken("", rawToken()), Owner: "new"}); err != nil {
			return err
		}
		return failed
	}); err != failed {
		t.Fatal(err)
	}
	if got := counts(e); got != want {
		t.Fatalf("counts after a failed transaction %v, want %v", got, want)
	}
	upd(t, e, t0, func(tx *Tx) error { tx.FlushAll(); return nil })
	if got := counts(e); got != [3]int64{} {
		t.Fatalf("counts after FLUSHALL %v", got)
	}
}

// Revoking an owner's sessions counts the owner gone once, after the last.
func TestRevokeOwnerCountsOwnerOnce(t *testing.T) {
	e := openTest(t, ":memory:")
	for i := 0; i < 3; i++ {
		create(t, e, t0, NewSession{Owner: "x", Idle: 60_000})
	}
	_, keep := create(t, e, t0, NewSession{Owner: "y", Idle: 60_000})
	create(t, e, t0, NewSession{Owner: "y", Idle: 60_000})
	upd(t, e, t0, func(tx *Tx) error {
		if n := tx.RevokeOwner("x", ""); n != 3 {
			t.Fatalf("revoked %d", n)
		}
		if n := tx.RevokeOwner("y", keep); n != 1 {
			t.Fatalf("revoked %d", n)
		}
		if s, o, _ := tx.SessionCounts(); s != 1 || o != 1 {
			t.Fatalf("counts %d sessions %d owners", s, o)
		}
		return nil
	})
}

// A session record written before the META flag existed may have a META
// child: ending it still deletes everything.
func TestSessionEndOldRecordWithMeta(t *testing.T) {
	e := openTest(t, ":memory:")
	s, tok := create(t, e, t0, NewSession{Idle: 60_000, Meta: []string{"ip", "1.2.3.4"}})
	upd(t, e, t0, func(tx *Tx) error {
		enc := encodeSession(&s)
		d := decoder{s: enc}
		d.byte1()
		d.str()
		d.str()
		for i := 0; i < 5; i++ {
			d.uvarint()
		}
		b := []byte(enc)
		b[len(enc)-len(d.s)] &^= 8 | 16 // as the older versions wrote it
		tx.sessSet(sessionKey(s.Handle), encodeRecord(TypeSession, s.Expires, string(b)))
		return nil
	})
	upd(t, e, t0, func(tx *Tx) error {
		if !tx.DestroySession(tok, pol) {
			t.Fatal("destroy")
		}
		return nil
	})
	if n := footprint(t, e); n != 0 {
		t.Fatalf("footprint %d after destroying an old record", n)
	}
}

// A plain SET writes without looking the key up first; what it replaced is
// dealt with as before: an expired value is expired (event and count), a
// value of another type loses its children and the key is "new" again.
func TestPlainSetOverwrites(t *testing.T) {
	st, err := persistence.Open(persistence.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var events []string
	e, err := Open(Options{Store: st, Clock: frozen, OnCommit: func(c Commit) {
		for _, ev := range c.Events {
			events = append(events, ev.Name+":"+ev.Key)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { e.Close(); st.Close() }()
	e.SetNotifyMask(NotifyMask("KEAn"))
	upd(t, e, t0, func(tx *Tx) error {
		tx.PutString(0, "exp", "v", t0+10)
		tx.PutString(0, "str", "v", 0)
		_, err := tx.HSet(0, "hash", []string{"f", "v", "g", "w"}, false)
		return err
	})
	events = nil
	upd(t, e, t0+11, func(tx *Tx) error {
		for _, k := range []string{"exp", "str"} {
			if _, err := tx.Set(0, k, "x", SetOptions{}); err != nil {
				return err
			}
		}
		for _, k := range []string{"hash", "fresh"} { // the command's path
			tx.SetPrepared(PrepareSet(0, []byte(k), []byte("x"), 0))
		}
		return nil
	})
	want := "expired:exp new:exp set:exp set:str new:hash set:hash new:fresh set:fresh"
	if got := strings.Join(events, " "); got != want {
		t.Fatalf("events\n%s\nwant\n%s", got, want)
	}
	if n := e.Stats().ExpiredKeys.Load(); n != 1 {
		t.Fatalf("expired_keys %d", n)
	}
	view(t, e, t0+11, func(tx *Tx) error {
		if v, ok, err := tx.GetString(0, "hash"); v != "x" || !ok || err != nil {
			t.Fatalf("hash -> %q %v %v", v, ok, err)
		}
		n := 0
		p := childPrefix(0, "hash")
		tx.bt.AscendGreaterOrEqual("", p, func(k, _ string) bool {
			if strings.HasPrefix(k, p) {
				n++
			}
			return strings.HasPrefix(k, p)
		})
		if n != 0 {
			t.Fatalf("%d children of the former hash left", n)
		}
		return nil
	})
}

// CreateSession claims the token's entry and the handle's record by writing
// them: a refused claim leaves everything as it was; an expired holder is
// reaped and the claim goes through, as the lookups did.
func TestCreateSessionClaims(t *testing.T) {
	e := openTest(t, ":memory:")
	s1, tok1 := create(t, e, t0, NewSession{Owner: "o", Idle: 1000})
	before := footprint(t, e)
	try := func(now int64, n NewSession) error {
		_, err := e.Update(now, func(tx *Tx) error {
			_, err := tx.CreateSession(n)
			return err
		})
		return err
	}
	if err := try(t0+1, NewSession{Handle: "fresh-handle", Token: tok1, Owner: "p"}); err != ErrTokenInUse {
		t.Fatalf("token in use: %v", err)
	}
	if err := try(t0+1, NewSession{Handle: s1.Handle, Token: FormatToken("", rawToken()), Owner: "p"}); err != ErrHandleInUse {
		t.Fatalf("handle in use: %v", err)
	}
	if n := footprint(t, e); n != before {
		t.Fatalf("footprint %d -> %d after refused creates", before, n)
	}
	view(t, e, t0+1, func(tx *Tx) error {
		if s, r := tx.AuthSession(tok1, pol); r != ReasonOK || s.Owner != "o" {
			t.Fatalf("the first session after refused creates: %v %+v", r, s)
		}
		if n, o, _ := tx.SessionCounts(); n != 1 || o != 1 {
			t.Fatalf("counts %d %d", n, o)
		}
		return nil
	})
	// Expired: the handle can be claimed; the old session is reaped with
	// everything it had.
	tok2 := FormatToken("", rawToken())
	if err := try(t0+1001, NewSession{Handle: s1.Handle, Token: tok2, Owner: "q", Idle: 1000}); err != nil {
		t.Fatalf("claim over an expired session: %v", err)
	}
	view(t, e, t0+1001, func(tx *Tx) error {
		if _, r := tx.AuthSession(tok1, pol); r != ReasonUnknown {
			t.Fatalf("the expired session's token: %v", r)
		}
		s, r := tx.AuthSession(tok2, pol)
		if r != ReasonOK || s.Owner != "q" || s.Handle != s1.Handle {
			t.Fatalf("new session: %v %+v", r, s)
		}
		if n, o, _ := tx.SessionCounts(); n != 1 || o != 1 {
			t.Fatalf("counts %d %d", n, o)
		}
		if got := tx.OwnerSessions("o"); len(got) != 0 {
			t.Fatalf("the expired session is still listed: %+v", got)
		}
		return nil
	})
	if n := footprint(t, e); n != before {
		t.Fatalf("footprint %d, want %d", n, before)
	}
}

// A session's end skips the tokens and JWT hooks only when its record says
// it never had a bound token or a refresh family. The mark survives a write
// of the record from a copy taken before it, in the same transaction (here:
// the token is added, then the session is touched from the earlier copy).
func TestSessionDepsMarkSurvivesStaleCopies(t *testing.T) {
	e := openTest(t, ":memory:")
	install(t, e, t0, testSigningKey(t, 1))
	_, tokA := create(t, e, t0, NewSession{Owner: "alice", Idle: 60_000})
	_, tokB := create(t, e, t0, NewSession{Owner: "bob", Idle: 60_000})
	upd(t, e, t0+1, func(tx *Tx) error {
		s, r := tx.AuthSession(tokA, pol)
		if r != ReasonOK {
			t.Fatal(r)
		}
		stale := s
		if !tx.AddTransitionToken(NewTransitionToken{Token: "bound-to-a", Value: "v", Session: &s}) {
			t.Fatal("add")
		}
		tx.touchSession(&stale)
		return nil
	})
	upd(t, e, t0+2, func(tx *Tx) error {
		_, err := tx.IssueJWT(JWTIssue{Token: tokB, Refresh: rawRefresh(), Jti: rawJti(), TTL: 900,
			RefreshTTL: 3_600_000, Touch: true}, pol)
		return err
	})
	if n := jwtFootprint(t, e, t0+2); n == 0 {
		t.Fatal("no refresh family")
	}
	upd(t, e, t0+3, func(tx *Tx) error {
		if !tx.DestroySession(tokA, pol) || !tx.DestroySession(tokB, pol) {
			t.Fatal("destroy")
		}
		return nil
	})
	view(t, e, t0+3, func(tx *Tx) error {
		if _, ok := tx.LookupTransitionToken("bound-to-a"); ok {
			t.Fatal("the bound token outlived its session")
		}
		return nil
	})
	if n := jwtFootprint(t, e, t0+3); n != 0 {
		t.Fatalf("the refresh family outlived its session: %d items", n)
	}
	if n := footprint(t, e); n != 0 {
		t.Fatalf("session footprint %d", n)
	}
}

// A key with the largest deadline is neither expired nor re-filed forever.
func TestLargestDeadlineIsNotRefiledForever(t *testing.T) {
	e := openTest(t, ":memory:")
	upd(t, e, t0, func(tx *Tx) error {
		tx.PutString(0, "far", "v", math.MaxInt64)
		return nil
	})
	if n, more := e.expireBatch(t0, 128, 0); n != 0 || more {
		t.Fatalf("expired %d, more %v", n, more)
	}
}

// A data file written by the version before the expiry wheel and the
// in-memory counts (testdata/sessions-v0.db: a plain key with a deadline,
// three sessions of two owners, one with META and a rotated token, one
// detached, one with a bound transition token) loads: deadlines to the
// millisecond, counts, and everything goes when the sessions end.
func TestLoadsFileOfPreviousVersion(t *testing.T) {
	src, err := os.ReadFile("testdata/sessions-v0.db")
	if err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/data.db"
	if err := os.WriteFile(path, src, 0o644); err != nil {
		t.Fatal(err)
	}
	e := openTest(t, path)
	view(t, e, t0+10, func(tx *Tx) error {
		if d, ok := tx.Deadline(0, "plain"); !ok || d != t0+1234 {
			t.Fatalf("plain key deadline %d %v", d, ok)
		}
		if n, o, d := tx.SessionCounts(); n != 3 || o != 2 || d != 1 {
			t.Fatalf("counts %d %d %d", n, o, d)
		}
		var raw [TokenBytes]byte
		raw[0] = 7
		if s, r := tx.AuthSession(FormatToken("", raw), pol); r != ReasonOK || s.Handle != "handle-a" || !s.meta {
			t.Fatalf("rotated session: %v %+v", r, s)
		}
		if _, ok := tx.LookupTransitionToken("bound-to-c"); !ok {
			t.Fatal("bound token missing")
		}
		return nil
	})
	if n := e.expireBatchAt(t0+1235, 100); n != 1 {
		t.Fatalf("expired %d at the plain key's deadline", n)
	}
	if n := e.expireBatchAt(t0+10+120_001, 100); n != 2 {
		t.Fatalf("expired %d sessions", n)
	}
	upd(t, e, t0+10+120_001, func(tx *Tx) error {
		if !tx.DestroySessionHandle("handle-b") {
			t.Fatal("destroy the detached session")
		}
		if _, ok := tx.LookupTransitionToken("bound-to-c"); ok {
			t.Fatal("the bound token outlived its session")
		}
		if n, o, d := tx.SessionCounts(); n != 0 || o != 0 || d != 0 {
			t.Fatalf("counts %d %d %d", n, o, d)
		}
		return nil
	})
	if n := footprint(t, e); n != 0 {
		t.Fatalf("footprint %d", n)
	}
}
