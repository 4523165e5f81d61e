package engine

import (
	"errors"
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
