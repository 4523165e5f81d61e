package engine

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/sessiond/sessiond/persistence"
)

// Engine unit tests for signing keys and refresh families, with injected
// time (see sessions_test.go: the expirer's clock is frozen, so records go
// only when a test reaps them or meets them expired).

func testSigningKey(t testing.TB, n byte) SigningKey {
	t.Helper()
	seed := bytes.Repeat([]byte{n}, ed25519.SeedSize)
	priv := ed25519.NewKeyFromSeed(seed)
	return SigningKey{Kid: "kid-" + string('a'+rune(n)), Seed: seed, Public: priv.Public().(ed25519.PublicKey)}
}

func rawRefresh() (r [RefreshBytes]byte) {
	seq++
	for i := range r {
		r[i] = seq*13 + byte(i)
	}
	r[0], r[1] = seq, 0x5A
	return
}

func rawJti() (r [JTIBytes]byte) {
	seq++
	for i := range r {
		r[i] = seq + byte(i)
	}
	return
}

func sameAccess(a, b AccessToken) bool {
	return a.Kid == b.Kid && a.Jti == b.Jti && a.IssuedAt == b.IssuedAt && a.ExpiresAt == b.ExpiresAt &&
		a.Handle == b.Handle && a.Owner == b.Owner && a.Audience == b.Audience && a.Claims == b.Claims &&
		bytes.Equal(a.Key.Seed, b.Key.Seed)
}

func install(t testing.TB, e *Engine, now int64, k SigningKey) {
	t.Helper()
	upd(t, e, now, func(tx *Tx) error {
		_, _, err := tx.InstallSigningKey(k)
		return err
	})
}

func issueReq(token string) JWTIssue {
	return JWTIssue{Token: token, Refresh: rawRefresh(), Jti: rawJti(), TTL: 900, RefreshTTL: 3_600_000}
}

func issue(t testing.TB, e *Engine, now int64, req JWTIssue) JWTGrant {
	t.Helper()
	var g JWTGrant
	upd(t, e, now, func(tx *Tx) error {
		var err error
		g, err = tx.IssueJWT(req, pol)
		return err
	})
	return g
}

func refresh(t testing.TB, e *Engine, now int64, rt string) JWTGrant {
	t.Helper()
	var g JWTGrant
	upd(t, e, now, func(tx *Tx) error {
		var err error
		g, err = tx.RefreshJWT(JWTRefresh{Refresh: rt, Next: rawRefresh(), Jti: rawJti(), DefaultTTL: 600}, pol)
		return err
	})
	return g
}

func jwtFootprint(t testing.TB, e *Engine, now int64) int {
	n := 0
	view(t, e, now, func(tx *Tx) error { n = tx.JWTFootprint(); return nil })
	return n
}

func TestJWTSigningKeys(t *testing.T) {
	e := openTest(t, ":memory:")
	k1, k2, k3 := testSigningKey(t, 1), testSigningKey(t, 2), testSigningKey(t, 3)
	upd(t, e, t0, func(tx *Tx) error {
		if _, ok := tx.CurrentSigningKey(); ok {
			t.Fatal("a key before any was installed")
		}
		if _, _, err := tx.InstallSigningKey(SigningKey{Kid: "x", Seed: []byte{1}}); !errors.Is(err, ErrBadSigningKey) {
			t.Fatalf("bad material: %v", err)
		}
		cur, installed, err := tx.InstallSigningKey(k1)
		if err != nil || !installed || cur.Kid != k1.Kid || cur.Created != t0 {
			t.Fatalf("install: %v %v %+v", err, installed, cur)
		}
		// A concurrent first use loses: the installed key stays.
		cur, installed, _ = tx.InstallSigningKey(k2)
		if installed || cur.Kid != k1.Kid {
			t.Fatalf("second install replaced the key: %+v", cur)
		}
		return nil
	})
	// k1 signs a token expiring at t0/1000+900 s, and an earlier one later on.
	tok := func(n int64) string {
		_, tk := create(t, e, n, NewSession{Idle: 3_600_000})
		return tk
	}
	g := issue(t, e, t0+10, issueReq(tok(t0+10)))
	if g.Access.Kid != k1.Kid || !bytes.Equal(g.Access.Key.Seed, k1.Seed) {
		t.Fatalf("issued with %+v", g.Access)
	}
	short := issueReq(tok(t0 + 20))
	short.TTL = 5
	issue(t, e, t0+20, short)
	lastExp := (t0/1000 + 900) * 1000
	upd(t, e, t0+1000, func(tx *Tx) error {
		old, had, err := tx.RotateSigningKey(k2)
		if err != nil || !had || old.Kid != k1.Kid || old.Expires != lastExp || old.Retired != t0+1000 {
			t.Fatalf("rotate: %v %v %+v", err, had, old)
		}
		if _, _, err := tx.RotateSigningKey(k2); !errors.Is(err, ErrBadSigningKey) {
			t.Fatalf("rotating to a kid in use: %v", err)
		}
		return nil
	})
	// k2 signs nothing; rotating again retires it at once.
	upd(t, e, t0+2000, func(tx *Tx) error {
		old, _, _ := tx.RotateSigningKey(k3)
		if old.Kid != k2.Kid || old.Expires != t0+2000 {
			t.Fatalf("unused key retired until %d", old.Expires)
		}
		return nil
	})
	kids := func(now int64) (out []string) {
		view(t, e, now, func(tx *Tx) error {
			for _, k := range tx.SigningKeys() {
				out = append(out, k.Kid)
			}
			return nil
		})
		return
	}
	if got := kids(t0 + 2000); len(got) != 3 || got[0] != k3.Kid || got[1] != k2.Kid || got[2] != k1.Kid {
		t.Fatalf("keys at rotation: %v", got)
	}
	if got := kids(t0 + 2001); len(got) != 2 || got[1] != k1.Kid {
		t.Fatalf("keys after k2's deadline: %v", got)
	}
	if got := kids(lastExp); len(got) != 2 {
		t.Fatalf("k1 dropped before its last token expired: %v", got)
	}
	if got := kids(lastExp + 1); len(got) != 1 || got[0] != k3.Kid {
		t.Fatalf("keys after k1's last token expired: %v", got)
	}
	if n := e.expireBatchAt(lastExp+1, 100); n < 2 {
		t.Fatalf("expirer reaped %d records, want the two retired keys", n)
	}
	view(t, e, lastExp+1, func(tx *Tx) error {
		if _, ok := tx.SigningKeyByID(k1.Kid); ok {
			t.Fatal("k1 still stored")
		}
		if k, ok := tx.SigningKeyByID(k3.Kid); !ok || k.Retired != 0 || !bytes.Equal(k.Public, k3.Public) {
			t.Fatalf("k3: %+v", k)
		}
		return nil
	})
}

func TestJWTIssueAndRefresh(t *testing.T) {
	e := openTest(t, ":memory:")
	s, tok := create(t, e, t0, NewSession{Owner: "alice", Idle: 3_600_000})
	req := issueReq(tok)
	req.Audience, req.Claims, req.Touch = "app", `{"role":"admin"}`, true
	// No key yet: the engine asks for one and writes nothing.
	if _, err := e.Update(t0+1, func(tx *Tx) error { _, err := tx.IssueJWT(req, pol); return err }); !errors.Is(err, ErrNoSigningKey) {
		t.Fatalf("without a key: %v", err)
	}
	if n := jwtFootprint(t, e, t0+1); n != 0 {
		t.Fatalf("failed issue wrote %d items", n)
	}
	k := testSigningKey(t, 7)
	install(t, e, t0, k)
	g := issue(t, e, t0+1500, req)
	a := g.Access
	if g.Reason != ReasonOK || a.Kid != k.Kid || a.Handle != s.Handle || a.Owner != "alice" || a.Audience != "app" ||
		a.Claims != `{"role":"admin"}` || a.IssuedAt != (t0+1500)/1000 || a.ExpiresAt != a.IssuedAt+900 || a.Jti != req.Jti ||
		g.Refresh != FormatToken("", req.Refresh) {
		t.Fatalf("grant %+v", g)
	}
	view(t, e, t0+1500, func(tx *Tx) error {
		if s2, _ := tx.SessionByHandle(s.Handle); s2.LastSeen != t0+1500 {
			t.Fatal("issue did not touch")
		}
		return nil
	})
	// Refresh: a new pair with the family's claims; the TTL defaults.
	g2 := refresh(t, e, t0+5000, g.Refresh)
	if g2.Reason != ReasonOK || g2.Refresh == g.Refresh || g2.Access.Jti == a.Jti || g2.Access.Claims != a.Claims ||
		g2.Access.ExpiresAt-g2.Access.IssuedAt != 600 || g2.Access.Audience != "app" {
		t.Fatalf("refresh %+v", g2)
	}
	// Retries within the grace (10 s): the same pair.
	for _, at := range []int64{t0 + 5000, t0 + 9000, t0 + 15_000} {
		if again := refresh(t, e, at, g.Refresh); again.Refresh != g2.Refresh || !sameAccess(again.Access, g2.Access) {
			t.Fatalf("retry at +%d: %+v, want %+v", at-t0, again, g2)
		}
	}
	g3 := refresh(t, e, t0+16_000, g2.Refresh)
	if g3.Reason != ReasonOK {
		t.Fatal(g3.Reason)
	}
	var cur, rot int
	view(t, e, t0+16_000, func(tx *Tx) error { cur, rot = tx.RefreshTokenCount(s.Handle); return nil })
	if cur != 1 || rot != 2 {
		t.Fatalf("%d current %d rotated", cur, rot)
	}
	// After the grace: theft. The session and the family are revoked.
	if r := refresh(t, e, t0+15_001, g.Refresh); r.Reason != ReasonReplayed {
		t.Fatalf("reuse after the grace: %v", r.Reason)
	}
	for _, rt := range []string{g.Refresh, g2.Refresh, g3.Refresh} {
		if r := refresh(t, e, t0+15_002, rt); r.Reason != ReasonRevoked {
			t.Fatalf("family token after revocation: %v", r.Reason)
		}
	}
	view(t, e, t0+15_002, func(tx *Tx) error {
		if r := tx.CheckJWT(k.Kid, k.Public, s.Handle); r != ReasonRevoked {
			t.Fatalf("CheckJWT after revocation: %v", r)
		}
		if _, r := tx.AuthSession(tok, pol); r != ReasonRevoked {
			t.Fatalf("session token after revocation: %v", r)
		}
		return nil
	})
	// The tombstone goes after RevokedTombstoneTTL, with every entry.
	later := t0 + 15_001 + RevokedTombstoneTTL + 1
	e.expireBatchAt(later, 1000)
	if n := jwtFootprint(t, e, later); n != 0 {
		t.Fatalf("%d items after the tombstone expired", n)
	}
	if r := refresh(t, e, later, g3.Refresh); r.Reason != ReasonUnknown {
		t.Fatal(r.Reason)
	}
}

func TestJWTRefreshFamilyRules(t *testing.T) {
	e := openTest(t, ":memory:")
	install(t, e, t0, testSigningKey(t, 9))
	s, tok := create(t, e, t0, NewSession{Idle: 3_600_000, Detachable: true})
	// The family's deadline is absolute: rotation never extends it.
	req := issueReq(tok)
	req.RefreshTTL, req.TTL, req.FamilyTTL = 20_000, 30, 30
	g := issue(t, e, t0, req)
	g = refresh(t, e, t0+19_000, g.Refresh)
	if g.Access.ExpiresAt-g.Access.IssuedAt != 30 {
		t.Fatal("family TTL not kept")
	}
	if r := refresh(t, e, t0+20_000, g.Refresh); r.Reason != ReasonOK {
		t.Fatalf("at the deadline: %v", r.Reason)
	}
	if r := refresh(t, e, t0+20_001, g.Refresh); r.Reason != ReasonExpired {
		t.Fatalf("after the deadline: %v", r.Reason)
	}
	// SESS.JWT again: a new family; the old chain is forgotten.
	g1 := issue(t, e, t0+21_000, issueReq(tok))
	g2 := issue(t, e, t0+22_000, issueReq(tok))
	if r := refresh(t, e, t0+22_001, g1.Refresh); r.Reason != ReasonUnknown {
		t.Fatalf("token of a replaced family: %v", r.Reason)
	}
	view(t, e, t0+22_001, func(tx *Tx) error {
		if c, r := tx.RefreshTokenCount(s.Handle); c != 1 || r != 0 {
			t.Fatalf("replaced family left %d/%d", c, r)
		}
		return nil
	})
	// Remembered rotated-out tokens are bounded.
	defer func(n uint64) { MaxRememberedTokens = n }(MaxRememberedTokens)
	MaxRememberedTokens = 4
	first := g2.Refresh
	rt := first
	for i := 0; i < 10; i++ {
		rt = refresh(t, e, t0+23_000+int64(i), rt).Refresh
	}
	view(t, e, t0+24_000, func(tx *Tx) error {
		if c, r := tx.RefreshTokenCount(s.Handle); c != 1 || r != 3 {
			t.Fatalf("remembered %d current %d rotated, want 1 and 3", c, r)
		}
		return nil
	})
	if r := refresh(t, e, t0+60_000, first); r.Reason != ReasonUnknown {
		t.Fatalf("a forgotten token: %v", r.Reason)
	}
	// A detached session refreshes nothing, and verifies nothing.
	upd(t, e, t0+60_000, func(tx *Tx) error {
		if !tx.SessionDetach(tok, pol) {
			t.Fatal("detach")
		}
		return nil
	})
	if r := refresh(t, e, t0+60_001, rt); r.Reason != ReasonDetached {
		t.Fatalf("detached: %v", r.Reason)
	}
	view(t, e, t0+60_001, func(tx *Tx) error {
		if r := tx.CheckJWT("", nil, s.Handle); r != ReasonDetached {
			t.Fatalf("CheckJWT detached: %v", r)
		}
		return nil
	})
}

func TestJWTCheck(t *testing.T) {
	e := openTest(t, ":memory:")
	k := testSigningKey(t, 4)
	install(t, e, t0, k)
	s, tok := create(t, e, t0, NewSession{Idle: 1000})
	issue(t, e, t0, issueReq(tok))
	view(t, e, t0+500, func(tx *Tx) error {
		if r := tx.CheckJWT(k.Kid, k.Public, s.Handle); r != ReasonOK {
			t.Fatalf("live: %v", r)
		}
		if r := tx.CheckJWT(k.Kid, testSigningKey(t, 5).Public, s.Handle); r != ReasonSignature {
			t.Fatalf("another public key under the kid: %v", r)
		}
		if r := tx.CheckJWT("nope", k.Public, s.Handle); r != ReasonSignature {
			t.Fatalf("unknown kid: %v", r)
		}
		if r := tx.CheckJWT("hs-kid", nil, s.Handle); r != ReasonOK {
			t.Fatalf("caller-managed key: %v", r)
		}
		if r := tx.CheckJWT(k.Kid, k.Public, "nosuch"); r != ReasonUnknown {
			t.Fatalf("unknown sid: %v", r)
		}
		return nil
	})
	view(t, e, t0+1001, func(tx *Tx) error {
		if r := tx.CheckJWT(k.Kid, k.Public, s.Handle); r != ReasonExpired {
			t.Fatalf("expired session: %v", r)
		}
		return nil
	})
	// The session's expiry takes its family with it.
	e.expireBatchAt(t0+1001, 100)
	if n := jwtFootprint(t, e, t0+1001); n != 0 {
		t.Fatalf("session expiry left %d items", n)
	}
	// Destroy too.
	_, tok2 := create(t, e, t0+2000, NewSession{})
	g := issue(t, e, t0+2000, issueReq(tok2))
	refresh(t, e, t0+2001, g.Refresh)
	upd(t, e, t0+2002, func(tx *Tx) error { tx.DestroySession(tok2, pol); return nil })
	if n := jwtFootprint(t, e, t0+2002); n != 0 {
		t.Fatalf("destroy left %d items", n)
	}
}

func TestJWTPersistence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data.db")
	st, err := persistence.Open(persistence.Options{Path: path, Fsync: persistence.FsyncAlways})
	if err != nil {
		t.Fatal(err)
	}
	e, err := Open(Options{Store: st, Clock: frozen})
	if err != nil {
		t.Fatal(err)
	}
	k := testSigningKey(t, 11)
	install(t, e, t0, k)
	s, tok := create(t, e, t0, NewSession{Owner: "p"})
	req := issueReq(tok)
	req.Claims = `{"c":1}`
	g1 := issue(t, e, t0+100, req)
	g2 := refresh(t, e, t0+200, g1.Refresh)
	e.Close()
	st.Close()
	raw, _ := os.ReadFile(path)
	for _, secret := range []string{g1.Refresh, g2.Refresh, g1.Refresh[:20], g2.Refresh[:20]} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Fatal("data file holds a refresh token")
		}
	}
	e2 := openTest(t, path)
	view(t, e2, t0+300, func(tx *Tx) error {
		cur, ok := tx.CurrentSigningKey()
		if !ok || cur.Kid != k.Kid || !bytes.Equal(cur.Seed, k.Seed) {
			t.Fatalf("key after reopen: %+v", cur)
		}
		if r := tx.CheckJWT(k.Kid, k.Public, s.Handle); r != ReasonOK {
			t.Fatal(r)
		}
		return nil
	})
	if again := refresh(t, e2, t0+300, g1.Refresh); again.Refresh != g2.Refresh || !sameAccess(again.Access, g2.Access) {
		t.Fatal("grace retry lost across reopen")
	}
	if g3 := refresh(t, e2, t0+400, g2.Refresh); g3.Reason != ReasonOK || g3.Access.Claims != `{"c":1}` {
		t.Fatalf("refresh after reopen: %+v", g3)
	}
}
