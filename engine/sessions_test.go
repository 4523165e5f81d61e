package engine

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sessiond/sessiond/persistence"
)

// Engine unit tests for sessions. Time is injected: every call names its
// "now", and the engine's clock (used only by the active expirer) is frozen
// at the epoch, so nothing expires behind the test's back.

const t0 int64 = 1_700_000_000_000

var frozen = func() time.Time { return time.UnixMilli(0) }

func openTest(t testing.TB, path string) *Engine {
	t.Helper()
	st, err := persistence.Open(persistence.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	e, err := Open(Options{Store: st, Clock: frozen})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(); st.Close() })
	return e
}

var pol = SessionPolicy{RotateGrace: 10_000, ReplayRevoke: true}

var seq byte

func rawToken() (r [TokenBytes]byte) {
	seq++
	for i := range r {
		r[i] = seq*31 + byte(i)
	}
	r[0], r[1] = seq, 0xA5
	return
}

func rawHandle() (r [HandleBytes]byte) {
	seq++
	for i := range r {
		r[i] = seq*17 + byte(i)
	}
	r[0] = seq
	return
}

func upd(t testing.TB, e *Engine, now int64, fn func(tx *Tx) error) {
	t.Helper()
	if _, err := e.Update(now, fn); err != nil {
		t.Fatal(err)
	}
}

func view(t testing.TB, e *Engine, now int64, fn func(tx *Tx) error) {
	t.Helper()
	if err := e.View(now, fn); err != nil {
		t.Fatal(err)
	}
}

func create(t testing.TB, e *Engine, now int64, n NewSession) (Session, string) {
	t.Helper()
	if n.Token == "" {
		n.Token = FormatToken(n.Prefix, rawToken())
	}
	n.Handle = FormatHandle(rawHandle())
	var s Session
	upd(t, e, now, func(tx *Tx) error {
		var err error
		s, err = tx.CreateSession(n)
		return err
	})
	return s, n.Token
}

func footprint(t testing.TB, e *Engine) int {
	n := 0
	view(t, e, t0, func(tx *Tx) error { n = tx.SessionFootprint(); return nil })
	return n
}

func TestSessionDeadlines(t *testing.T) {
	e := openTest(t, ":memory:")
	s, tok := create(t, e, t0, NewSession{Idle: 1000, Absolute: 5000})
	if s.Expires != t0+1000 || s.Nonce != 1 || s.Created != t0 {
		t.Fatalf("created %+v", s)
	}
	// Sliding: each touch moves the deadline to now+idle, capped by the absolute one.
	for _, now := range []int64{t0 + 900, t0 + 1800, t0 + 2700, t0 + 3600} {
		upd(t, e, now, func(tx *Tx) error {
			s, r := tx.SessionTouch(tok, Keep, pol)
			if r != ReasonOK || s.Expires != now+1000 {
				t.Fatalf("touch at +%d: %v %d", now-t0, r, s.Expires-t0)
			}
			return nil
		})
	}
	upd(t, e, t0+4500, func(tx *Tx) error {
		s, r := tx.SessionTouch(tok, Keep, pol)
		if r != ReasonOK || s.Expires != t0+5000 {
			t.Fatalf("absolute cap: %v %d", r, s.Expires-t0)
		}
		return nil
	})
	// Alive at its deadline, gone one millisecond later.
	view(t, e, t0+5000, func(tx *Tx) error {
		if _, r := tx.AuthSession(tok, pol); r != ReasonOK {
			t.Fatalf("at deadline: %v", r)
		}
		return nil
	})
	view(t, e, t0+5001, func(tx *Tx) error {
		if _, r := tx.AuthSession(tok, pol); r != ReasonExpired {
			t.Fatalf("after deadline: %v", r)
		}
		return nil
	})
	// A write meeting it reaps it: nothing is left.
	upd(t, e, t0+5001, func(tx *Tx) error {
		if _, r := tx.AuthSession(tok, pol); r != ReasonExpired {
			t.Fatalf("after deadline (write): %v", r)
		}
		return nil
	})
	if n := footprint(t, e); n != 0 {
		t.Fatalf("footprint after lazy expiry %d", n)
	}
	view(t, e, t0+5001, func(tx *Tx) error {
		if _, r := tx.AuthSession(tok, pol); r != ReasonUnknown {
			t.Fatalf("after reaping: %v", r)
		}
		if n, o, d := tx.SessionCounts(); n != 0 || o != 0 || d != 0 {
			t.Fatalf("counts %d %d %d", n, o, d)
		}
		return nil
	})
}

func TestSessionIdleOnly(t *testing.T) {
	e := openTest(t, ":memory:")
	_, tok := create(t, e, t0, NewSession{Idle: 1000})
	_, forever := create(t, e, t0, NewSession{})
	upd(t, e, t0+1001, func(tx *Tx) error {
		if _, r := tx.SessionTouch(tok, Keep, pol); r != ReasonExpired {
			t.Fatalf("idle passed: %v", r)
		}
		s, r := tx.SessionTouch(forever, Keep, pol)
		if r != ReasonOK || s.Expires != 0 || s.Remaining(tx.Now) != -1 {
			t.Fatalf("no timeouts: %v %+v", r, s)
		}
		return nil
	})
}

func TestSessionValidateRotation(t *testing.T) {
	e := openTest(t, ":memory:")
	s, tok := create(t, e, t0, NewSession{Idle: 60_000, Prefix: "sid_"})
	var res, again ValidateResult
	upd(t, e, t0+10, func(tx *Tx) error {
		var err error
		res, err = tx.SessionValidate(tok, 1, true, rawToken(), pol)
		return err
	})
	if res.Reason != ReasonOK || res.Nonce != 2 || res.Token == tok || res.Token[:4] != "sid_" {
		t.Fatalf("validate: %+v", res)
	}
	// A repeat of the same (token, nonce) within the grace: the same successor.
	upd(t, e, t0+5000, func(tx *Tx) error {
		var err error
		again, err = tx.SessionValidate(tok, 1, true, rawToken(), pol)
		return err
	})
	if again.Token != res.Token || again.Nonce != 2 || again.Reason != ReasonOK {
		t.Fatalf("repeat: %+v want %+v", again, res)
	}
	upd(t, e, t0+5000, func(tx *Tx) error {
		if r, _ := tx.SessionValidate(tok, 7, true, rawToken(), pol); r.Reason != ReasonNonce {
			t.Fatalf("repeat with another nonce: %+v", r)
		}
		if r, _ := tx.SessionValidate(res.Token, 1, true, rawToken(), pol); r.Reason != ReasonNonce {
			t.Fatalf("successor with old nonce: %+v", r)
		}
		// The old token still reads within the grace.
		if _, r := tx.SessionGet(tok, true, pol); r != ReasonOK {
			t.Fatalf("old token within grace: %v", r)
		}
		return nil
	})
	// NOROTATE: same token, nonce+1.
	upd(t, e, t0+6000, func(tx *Tx) error {
		r, _ := tx.SessionValidate(res.Token, 2, false, rawToken(), pol)
		if r.Reason != ReasonOK || r.Token != res.Token || r.Nonce != 3 {
			t.Fatalf("norotate: %+v", r)
		}
		return nil
	})
	// After the grace the old token is a replay, and the session is revoked.
	upd(t, e, t0+10+10_001, func(tx *Tx) error {
		if r, _ := tx.SessionValidate(tok, 1, true, rawToken(), pol); r.Reason != ReasonReplayed {
			t.Fatalf("replay: %+v", r)
		}
		if _, ok := tx.SessionByHandle(s.Handle); ok {
			t.Fatal("session survived a replay")
		}
		if r, _ := tx.SessionValidate(res.Token, 3, true, rawToken(), pol); r.Reason != ReasonRevoked {
			t.Fatalf("current token after replay: %+v", r)
		}
		return nil
	})
	if n := footprint(t, e); n != 1 {
		t.Fatalf("footprint after revoke: %d, want the tombstone only", n)
	}
	// The tombstone goes with its deadline (min(expiry, now+RevokedTombstoneTTL)).
	if n := e.expireBatchAt(t0+10_010+60_001, 100); n != 1 {
		t.Fatalf("reaped %d", n)
	}
	if n := footprint(t, e); n != 0 {
		t.Fatalf("footprint after tombstone expiry: %d", n)
	}
	if st := e.SessionStats(); st.Rotated.Load() != 1 || st.Replayed.Load() != 1 || st.Revoked.Load() != 1 {
		t.Fatalf("stats rotated %d replayed %d revoked %d", st.Rotated.Load(), st.Replayed.Load(), st.Revoked.Load())
	}
}

func TestSessionReplayNoRevoke(t *testing.T) {
	e := openTest(t, ":memory:")
	_, tok := create(t, e, t0, NewSession{})
	p := SessionPolicy{RotateGrace: 0, ReplayRevoke: false}
	var res ValidateResult
	upd(t, e, t0, func(tx *Tx) error { res, _ = tx.SessionValidate(tok, 1, true, rawToken(), p); return nil })
	upd(t, e, t0+1, func(tx *Tx) error {
		if r, _ := tx.SessionValidate(tok, 1, true, rawToken(), p); r.Reason != ReasonReplayed {
			t.Fatalf("replay: %+v", r)
		}
		if r, _ := tx.SessionValidate(res.Token, 2, true, rawToken(), p); r.Reason != ReasonOK {
			t.Fatalf("session should survive: %+v", r)
		}
		return nil
	})
}

func TestSessionRememberedTokensBounded(t *testing.T) {
	old := MaxRememberedTokens
	MaxRememberedTokens = 4
	defer func() { MaxRememberedTokens = old }()
	e := openTest(t, ":memory:")
	s, tok := create(t, e, t0, NewSession{})
	nonce := uint64(1)
	first := tok
	for i := 0; i < 20; i++ {
		upd(t, e, t0+int64(i), func(tx *Tx) error {
			r, err := tx.SessionValidate(tok, nonce, true, rawToken(), pol)
			tok, nonce = r.Token, r.Nonce
			return err
		})
	}
	// record + the current token's entry + 3 rotated-out tokens (entries and children).
	if n := footprint(t, e); n != 1+1+3*2 {
		t.Fatalf("footprint %d", n)
	}
	view(t, e, t0+100, func(tx *Tx) error {
		if _, r := tx.AuthSession(first, pol); r != ReasonUnknown {
			t.Fatalf("forgotten token: %v", r)
		}
		return nil
	})
	upd(t, e, t0+100, func(tx *Tx) error {
		if !tx.DestroySessionHandle(s.Handle) {
			t.Fatal("destroy")
		}
		return nil
	})
	if n := footprint(t, e); n != 0 {
		t.Fatalf("footprint after destroy %d", n)
	}
}

func TestSessionRegenerateAndData(t *testing.T) {
	e := openTest(t, ":memory:")
	s, tok := create(t, e, t0, NewSession{Owner: "u1", Data: "hello", Meta: []string{"ip", "1.2.3.4"}})
	var next string
	upd(t, e, t0+1, func(tx *Tx) error {
		var r Reason
		var err error
		var s2 Session
		s2, next, r, err = tx.SessionRegenerate(tok, rawToken(), pol)
		if err != nil || r != ReasonOK || s2.Handle != s.Handle {
			t.Fatalf("regenerate %v %v", r, err)
		}
		return nil
	})
	view(t, e, t0+2, func(tx *Tx) error {
		if _, r := tx.AuthSession(tok, pol); r != ReasonUnknown {
			t.Fatalf("old token after regenerate: %v", r)
		}
		d, r := tx.SessionGet(next, false, pol)
		if r != ReasonOK || d != "hello" {
			t.Fatalf("data %q %v", d, r)
		}
		if m := tx.SessionMeta(s.Handle); len(m) != 2 || m[1] != "1.2.3.4" {
			t.Fatalf("meta %v", m)
		}
		return nil
	})
}

func TestSessionDetachAttach(t *testing.T) {
	e := openTest(t, ":memory:")
	p := pol
	p.DetachedTimeout = 50_000
	s, tok := create(t, e, t0, NewSession{Owner: "alice", Idle: 1000, Absolute: 100_000})
	upd(t, e, t0, func(tx *Tx) error {
		if tx.SessionDetach(tok, p) {
			t.Fatal("detached a non-detachable session")
		}
		if !tx.SessionAllowDetach(tok, p) || !tx.SessionDetach(tok, p) {
			t.Fatal("detach")
		}
		return nil
	})
	// It neither authenticates nor idles out.
	view(t, e, t0+20_000, func(tx *Tx) error {
		if _, r := tx.AuthSession(tok, p); r != ReasonDetached {
			t.Fatalf("detached token: %v", r)
		}
		if got := tx.DetachedSessions("alice", false); len(got) != 1 || got[0] != s.Handle {
			t.Fatalf("detached list %v", got)
		}
		if got := tx.DetachedSessions("", true); len(got) != 1 {
			t.Fatalf("all detached %v", got)
		}
		if _, _, d := tx.SessionCounts(); d != 1 {
			t.Fatalf("detached count %d", d)
		}
		return nil
	})
	var fresh string
	upd(t, e, t0+20_000, func(tx *Tx) error {
		if _, _, ok, _ := tx.SessionAttach(s.Handle, "mallory", rawToken()); ok {
			t.Fatal("attached for another owner")
		}
		s2, tk, ok, err := tx.SessionAttach(s.Handle, "alice", rawToken())
		if !ok || err != nil || s2.Expires != t0+21_000 {
			t.Fatalf("attach %v %v %+v", ok, err, s2)
		}
		fresh = tk
		return nil
	})
	view(t, e, t0+20_500, func(tx *Tx) error {
		if _, r := tx.AuthSession(tok, p); r != ReasonUnknown {
			t.Fatalf("pre-detach token after attach: %v", r)
		}
		if _, r := tx.AuthSession(fresh, p); r != ReasonOK {
			t.Fatalf("fresh token: %v", r)
		}
		if got := tx.DetachedSessions("", true); len(got) != 0 {
			t.Fatalf("detached after attach %v", got)
		}
		return nil
	})
	// Detached timeout: a detached session lives until detach+timeout.
	upd(t, e, t0+20_500, func(tx *Tx) error {
		if !tx.SessionDetach(fresh, p) {
			t.Fatal("detach again")
		}
		return nil
	})
	view(t, e, t0+20_500+50_001, func(tx *Tx) error {
		if _, ok := tx.SessionByHandle(s.Handle); ok {
			t.Fatal("detached session outlived session-detached-timeout")
		}
		return nil
	})
	e.expireBatchAt(t0+20_500+50_001, 100)
	if n := footprint(t, e); n != 0 {
		t.Fatalf("footprint %d", n)
	}
}

func TestSessionOwnerIndex(t *testing.T) {
	e := openTest(t, ":memory:")
	const others = 100_000
	batch := 5000
	for i := 0; i < others; i += batch {
		upd(t, e, t0, func(tx *Tx) error {
			for j := i; j < i+batch; j++ {
				var h [HandleBytes]byte
				var k [TokenBytes]byte
				copy(h[:], fmt.Sprintf("h%015d", j))
				copy(k[:], fmt.Sprintf("t%031d", j))
				if _, err := tx.CreateSession(NewSession{Handle: FormatHandle(h), Token: FormatToken("", k), Owner: fmt.Sprintf("user%d", j%5000)}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	var mine []string
	for i := 0; i < 3; i++ {
		s, _ := create(t, e, t0+int64(i), NewSession{Owner: "me"})
		mine = append(mine, s.Handle)
	}
	before := e.SessionWork()
	var list []Session
	view(t, e, t0+10, func(tx *Tx) error { list = tx.OwnerSessions("me"); return nil })
	work := e.SessionWork() - before
	if len(list) != 3 || list[0].Handle != mine[2] || list[2].Handle != mine[0] {
		t.Fatalf("list %v", list)
	}
	// 3 index entries + 3 records.
	if work != 6 {
		t.Fatalf("LIST of 3 sessions among %d read %d items", others, work)
	}
	view(t, e, t0+10, func(tx *Tx) error {
		if n, o, _ := tx.SessionCounts(); n != others+3 || o != 5001 {
			t.Fatalf("counts %d %d", n, o)
		}
		if n := tx.CountOwnerSessions("me"); n != 3 {
			t.Fatalf("count owner %d", n)
		}
		return nil
	})
	before = e.SessionWork()
	upd(t, e, t0+10, func(tx *Tx) error {
		if n := tx.RevokeOwner("me", ""); n != 3 {
			t.Fatalf("revoked %d", n)
		}
		return nil
	})
	if w := e.SessionWork() - before; w > 40 {
		t.Fatalf("REVOKE OWNER read %d items", w)
	}
	view(t, e, t0+10, func(tx *Tx) error {
		if n, o, _ := tx.SessionCounts(); n != others || o != 5000 {
			t.Fatalf("counts after revoke %d %d", n, o)
		}
		return nil
	})
}

func TestSessionRevokeOwnerExcept(t *testing.T) {
	e := openTest(t, ":memory:")
	_, a := create(t, e, t0, NewSession{Owner: "bob"})
	_, b := create(t, e, t0, NewSession{Owner: "bob"})
	_, c := create(t, e, t0, NewSession{Owner: "carol"})
	upd(t, e, t0, func(tx *Tx) error {
		if n := tx.RevokeOwner("bob", b); n != 1 {
			t.Fatalf("revoked %d", n)
		}
		if _, r := tx.AuthSession(a, pol); r != ReasonRevoked {
			t.Fatalf("a: %v", r)
		}
		if _, r := tx.AuthSession(b, pol); r != ReasonOK {
			t.Fatalf("b: %v", r)
		}
		if _, r := tx.AuthSession(c, pol); r != ReasonOK {
			t.Fatalf("c: %v", r)
		}
		return nil
	})
}

func TestSessionEndHook(t *testing.T) {
	e := openTest(t, ":memory:")
	var got []string
	e.OnSessionEnd(func(tx *Tx, s Session, why SessionEndReason) {
		if _, ok := tx.SessionByHandle(s.Handle); ok {
			t.Error("session still visible in its end hook")
		}
		got = append(got, s.Owner+":"+why.String())
	})
	_, a := create(t, e, t0, NewSession{Owner: "a"})
	create(t, e, t0, NewSession{Owner: "b", Idle: 1000})
	c, _ := create(t, e, t0, NewSession{Owner: "c"})
	_, d := create(t, e, t0, NewSession{Owner: "d"})
	upd(t, e, t0, func(tx *Tx) error {
		tx.DestroySession(a, pol)
		tx.RevokeSession(c.Handle)
		r, _ := tx.SessionValidate(d, 1, true, rawToken(), SessionPolicy{ReplayRevoke: true})
		_ = r
		return nil
	})
	upd(t, e, t0+1, func(tx *Tx) error {
		tx.SessionValidate(d, 1, true, rawToken(), SessionPolicy{ReplayRevoke: true})
		return nil
	})
	e.expireBatchAt(t0+1001, 100)
	want := []string{"a:destroyed", "c:revoked", "d:replayed", "b:expired"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("hooks %v want %v", got, want)
	}
}

func TestSessionPersistence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data.db")
	st, err := persistence.Open(persistence.Options{Path: path, Fsync: persistence.FsyncAlways})
	if err != nil {
		t.Fatal(err)
	}
	e, err := Open(Options{Store: st, Clock: frozen})
	if err != nil {
		t.Fatal(err)
	}
	s, tok := create(t, e, t0+123, NewSession{Owner: "p", Data: "d", Idle: 1500, Absolute: 10_007})
	var next ValidateResult
	upd(t, e, t0+200, func(tx *Tx) error {
		next, err = tx.SessionValidate(tok, 1, true, rawToken(), pol)
		return err
	})
	e.Close()
	st.Close()
	raw, _ := os.ReadFile(path)
	for _, secret := range []string{tok, next.Token, tok[:20], next.Token[:20]} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Fatalf("data file holds a token")
		}
	}
	e2 := openTest(t, path)
	view(t, e2, t0+201, func(tx *Tx) error {
		s2, r := tx.AuthSession(next.Token, pol)
		if r != ReasonOK || s2.Expires != t0+1700 || s2.Created != t0+123 || s2.Nonce != 2 || s2.Owner != "p" || s2.Handle != s.Handle {
			t.Fatalf("after restart %v %+v", r, s2)
		}
		return nil
	})
	upd(t, e2, t0+300, func(tx *Tx) error {
		again, _ := tx.SessionValidate(tok, 1, true, rawToken(), pol)
		if again.Token != next.Token {
			t.Fatalf("successor lost across restart")
		}
		return nil
	})
	view(t, e2, t0+1800+1, func(tx *Tx) error {
		if _, r := tx.AuthSession(next.Token, pol); r != ReasonExpired {
			t.Fatalf("expiry across restart: %v", r)
		}
		return nil
	})
}

func BenchmarkSessionCreate(b *testing.B) {
	e := openTest(b, ":memory:")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var h [HandleBytes]byte
		var k [TokenBytes]byte
		copy(h[:], fmt.Sprintf("h%015d", i))
		copy(k[:], fmt.Sprintf("t%031d", i))
		upd(b, e, t0, func(tx *Tx) error {
			_, err := tx.CreateSession(NewSession{Handle: FormatHandle(h), Token: FormatToken("", k), Owner: fmt.Sprintf("user%d", i%5000), Idle: 3600_000})
			return err
		})
	}
}

func BenchmarkSessionValidate(b *testing.B) {
	e := openTest(b, ":memory:")
	_, tok := create(b, e, t0, NewSession{Owner: "o", Idle: 3600_000})
	nonce := uint64(1)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var k [TokenBytes]byte
		copy(k[:], fmt.Sprintf("v%031d", i))
		upd(b, e, t0+int64(i), func(tx *Tx) error {
			r, err := tx.SessionValidate(tok, nonce, true, k, pol)
			tok, nonce = r.Token, r.Nonce
			return err
		})
	}
}

func BenchmarkSessionGetTouch(b *testing.B) {
	e := openTest(b, ":memory:")
	_, tok := create(b, e, t0, NewSession{Owner: "o", Idle: 3600_000, Data: string(make([]byte, 1000))})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		upd(b, e, t0+int64(i), func(tx *Tx) error {
			_, r := tx.SessionGet(tok, true, pol)
			if r != ReasonOK {
				b.Fatal(r)
			}
			return nil
		})
	}
}

func TestSessionAttachNeedsOwner(t *testing.T) {
	e := openTest(t, ":memory:")
	s, tok := create(t, e, t0, NewSession{Detachable: true})
	upd(t, e, t0, func(tx *Tx) error {
		if !tx.SessionDetach(tok, pol) {
			t.Fatal("detach")
		}
		if _, _, ok, _ := tx.SessionAttach(s.Handle, "", rawToken()); ok {
			t.Fatal("attached an ownerless session")
		}
		return nil
	})
}

func TestSessionDataInlineAndLarge(t *testing.T) {
	e := openTest(t, ":memory:")
	big := string(bytes.Repeat([]byte("x"), InlineDataMax+1))
	s, tok := create(t, e, t0, NewSession{Data: big})
	if n := footprint(t, e); n != 3 { // record, token entry, data child
		t.Fatalf("footprint with a large blob %d", n)
	}
	upd(t, e, t0+1, func(tx *Tx) error {
		if d, r := tx.SessionGet(tok, true, pol); r != ReasonOK || d != big {
			t.Fatalf("large data %v", r)
		}
		if tx.SessionSet(tok, "small", Keep, Keep, pol) != ReasonOK {
			t.Fatal("set small")
		}
		return nil
	})
	if n := footprint(t, e); n != 2 { // the child is gone
		t.Fatalf("footprint after small set %d", n)
	}
	view(t, e, t0+2, func(tx *Tx) error {
		if d := tx.SessionData(s.Handle); d != "small" {
			t.Fatalf("data %q", d)
		}
		return nil
	})
	upd(t, e, t0+3, func(tx *Tx) error {
		tx.SessionSet(tok, big+"y", Keep, Keep, pol)
		if d, _ := tx.SessionGet(tok, false, pol); d != big+"y" {
			t.Fatal("large again")
		}
		tx.DestroySession(tok, pol)
		return nil
	})
	if n := footprint(t, e); n != 0 {
		t.Fatalf("footprint after destroy %d", n)
	}
}
