package engine

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/sessiond/sessiond/persistence"
)

// Engine unit tests for transition tokens. Time is injected (every call
// names its "now"); the engine clock is frozen at the epoch so the active
// expirer never runs behind the test's back: expiry is driven explicitly
// with expireBatchAt.

const tk0 int64 = 1_800_000_000_000

var tokPol = SessionPolicy{RotateGrace: 10_000, ReplayRevoke: true}

func tokOpen(t testing.TB, path string, disown int64) *Engine {
	t.Helper()
	st, err := persistence.Open(persistence.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	e, err := Open(Options{Store: st, Clock: frozen})
	if err != nil {
		t.Fatal(err)
	}
	e.SetTokenPolicy(func() TokenPolicy { return TokenPolicy{DisownTimeout: disown} })
	var once sync.Once
	closeFn := func() { once.Do(func() { e.Close(); st.Close() }) }
	tokClosers[e] = closeFn
	t.Cleanup(closeFn)
	return e
}

var tokClosers = map[*Engine]func(){}

// tokClose closes an engine and its store (as a shutdown does), once.
func tokClose(e *Engine) { tokClosers[e]() }

func tokUpd(t testing.TB, e *Engine, now int64, fn func(tx *Tx)) {
	t.Helper()
	if _, err := e.Update(now, func(tx *Tx) error { fn(tx); return nil }); err != nil {
		t.Fatal(err)
	}
}

func tokView(t testing.TB, e *Engine, now int64, fn func(tx *Tx)) {
	t.Helper()
	if err := e.View(now, func(tx *Tx) error { fn(tx); return nil }); err != nil {
		t.Fatal(err)
	}
}

var tokSeq int

// tokSession creates a session and returns it with its token.
func tokSession(t testing.TB, e *Engine, now int64, owner string, idle int64) (Session, string) {
	t.Helper()
	tokSeq++
	n := NewSession{Owner: owner, Idle: idle,
		Token:  fmt.Sprintf("session-token-%06d-xxxxxxxxxxxxxxxx", tokSeq),
		Handle: fmt.Sprintf("handle-%06d", tokSeq)}
	var s Session
	if _, err := e.Update(now, func(tx *Tx) error {
		var err error
		s, err = tx.CreateSession(n)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return s, n.Token
}

func tokAdd(t testing.TB, e *Engine, now int64, n NewTransitionToken, sessToken string) bool {
	t.Helper()
	added := false
	tokUpd(t, e, now, func(tx *Tx) {
		if sessToken != "" {
			s, r := tx.AuthSession(sessToken, tokPol)
			if r != ReasonOK {
				return
			}
			n.Session = &s
		}
		added = tx.AddTransitionToken(n)
	})
	return added
}

func tokInfo(t testing.TB, e *Engine, now int64, token string) (TransitionToken, bool) {
	t.Helper()
	var tt TransitionToken
	var ok bool
	tokView(t, e, now, func(tx *Tx) { tt, ok = tx.LookupTransitionToken(token) })
	return tt, ok
}

// tokConsistent checks that the index entries and the counters are exactly
// what the records imply.
func tokConsistent(t testing.TB, e *Engine) {
	t.Helper()
	tokView(t, e, 0, func(tx *Tx) {
		want := map[string]bool{}
		var counts TokenCounts
		p := dbPrefix(dbToken)
		tx.bt.AscendGreaterOrEqual("", p, func(k, v string) bool {
			if !strings.HasPrefix(k, p) {
				return false
			}
			r := decodeRecord(k, v)
			tt, ok := decodeTok(r.Payload)
			if !ok {
				t.Errorf("undecodable token record %q", k)
				return true
			}
			tt.hash = tokHashOf(r.Key)
			if tt.hash != HashToken(tt.Token) {
				t.Errorf("record of %q under another hash", tt.Token)
			}
			if r.Deadline != tt.effective() {
				t.Errorf("%q header deadline %d, effective %d", tt.Token, r.Deadline, tt.effective())
			}
			for _, ik := range tokIndexKeys(&tt) {
				want[ik] = true
			}
			c := tokClass(&tt)
			counts.Live += c.Live
			counts.Bound += c.Bound
			counts.Transferable += c.Transferable
			counts.Unassigned += c.Unassigned
			counts.Sellable += c.Sellable
			return true
		})
		got := map[string]bool{}
		for _, db := range []int{dbTokSession, dbTokOwner, dbTokList} {
			p := dbPrefix(db)
			tx.bt.AscendGreaterOrEqual("", p, func(k, _ string) bool {
				if !strings.HasPrefix(k, p) {
					return false
				}
				got[k] = true
				return true
			})
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("index entries:\n got %q\nwant %q", keysOf(got), keysOf(want))
		}
		if c := tx.TokenCounts(); c != counts {
			t.Errorf("counters %+v, records say %+v", c, counts)
		}
	})
}

func keysOf(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestTokenSessionEndEveryCause(t *testing.T) {
	for _, cause := range []string{"destroy", "revoke", "replay", "expiry", "lazy-expiry", "revoke-owner"} {
		t.Run(cause, func(t *testing.T) {
			e := tokOpen(t, ":memory:", 60_000)
			s, st := tokSession(t, e, tk0, "alice", 1000)
			// A bound token whose own timeout is far longer than the session's.
			if !tokAdd(t, e, tk0, NewTransitionToken{Token: "bound", Value: "v1", Timeout: 3_600_000}, st) {
				t.Fatal("add bound")
			}
			if !tokAdd(t, e, tk0, NewTransitionToken{Token: "xfer", Value: "v2", Transferable: true}, st) {
				t.Fatal("add transferable")
			}
			tokUpd(t, e, tk0, func(tx *Tx) {
				if !tx.SetTokenSellable("xfer", "-12.50") {
					t.Fatal("sellable")
				}
			})
			tokView(t, e, tk0, func(tx *Tx) {
				if got := tx.SessionTokens(s.Handle, false); fmt.Sprint(got) != "[bound xfer]" {
					t.Fatalf("session tokens %v", got)
				}
				if got := tx.SessionTokens(s.Handle, true); fmt.Sprint(got) != "[xfer]" {
					t.Fatalf("transferable %v", got)
				}
				if got := tx.OwnerTokens("alice"); fmt.Sprint(got) != "[bound xfer]" {
					t.Fatalf("owner tokens %v", got)
				}
				if n := tx.SessionTokenCount(s.Handle); n != 2 {
					t.Fatalf("SESS.INFO tokens %d", n)
				}
				if c := tx.TokenCounts(); c != (TokenCounts{Live: 2, Bound: 1, Transferable: 1, Sellable: 1}) {
					t.Fatalf("counts %+v", c)
				}
			})
			tokConsistent(t, e)
			end := tk0 + 10
			switch cause {
			case "destroy":
				tokUpd(t, e, end, func(tx *Tx) { tx.DestroySession(st, tokPol) })
			case "revoke":
				tokUpd(t, e, end, func(tx *Tx) { tx.RevokeSession(s.Handle) })
			case "revoke-owner":
				tokUpd(t, e, end, func(tx *Tx) { tx.RevokeOwner("alice", "") })
			case "replay":
				short := SessionPolicy{RotateGrace: 100, ReplayRevoke: true}
				tokUpd(t, e, tk0+1, func(tx *Tx) {
					if _, err := tx.SessionValidate(st, 1, true, rawToken(), short); err != nil {
						t.Fatal(err)
					}
				})
				end = tk0 + 1 + short.RotateGrace + 1
				tokUpd(t, e, end, func(tx *Tx) {
					if _, r := tx.AuthSession(st, short); r != ReasonReplayed {
						t.Fatalf("replay: %v", r)
					}
				})
			case "expiry":
				end = tk0 + 1001
				e.expireBatchAt(end, 100)
			case "lazy-expiry":
				end = tk0 + 1001
				tokUpd(t, e, end, func(tx *Tx) {
					if _, ok := tx.SessionByHandle(s.Handle); ok {
						t.Fatal("session alive")
					}
				})
			}
			if _, ok := tokInfo(t, e, end, "bound"); ok {
				t.Fatal("bound token outlived its session")
			}
			x, ok := tokInfo(t, e, end, "xfer")
			if !ok || !x.Unassigned() || x.Owner != "" || x.Session != "" || x.DisownedAt != end || x.Expires != end+60_000 {
				t.Fatalf("transferable after the session: %v %+v", ok, x)
			}
			if !x.Sellable || x.Price != "-12.50" || x.Value != "v2" {
				t.Fatalf("transferable lost its mark or value: %+v", x)
			}
			tokView(t, e, end, func(tx *Tx) {
				if got := tx.UnassignedTokens(); fmt.Sprint(got) != "[xfer]" {
					t.Fatalf("unassigned %v", got)
				}
				if got := tx.OwnerTokens("alice"); len(got) != 0 {
					t.Fatalf("owner still lists %v", got)
				}
				if got := tx.SessionTokens(s.Handle, false); len(got) != 0 {
					t.Fatalf("session still lists %v", got)
				}
				if c := tx.TokenCounts(); c != (TokenCounts{Live: 1, Transferable: 1, Unassigned: 1, Sellable: 1}) {
					t.Fatalf("counts %+v", c)
				}
			})
			tokConsistent(t, e)
			// Left alone, the unassigned token expires at the end of its wait.
			e.expireBatchAt(end+60_000, 100)
			if _, ok := tokInfo(t, e, end+60_000, "xfer"); !ok {
				t.Fatal("gone at its deadline")
			}
			e.expireBatchAt(end+60_001, 100)
			if _, ok := tokInfo(t, e, end+60_001, "xfer"); ok {
				t.Fatal("unassigned token outlived its disown wait")
			}
			tokView(t, e, end, func(tx *Tx) {
				if n := tx.TokenFootprint(); n != 0 {
					t.Fatalf("footprint %d", n)
				}
				if c := tx.TokenCounts(); c != (TokenCounts{}) {
					t.Fatalf("counts %+v", c)
				}
			})
		})
	}
}

func TestTokenAcquireTransfer(t *testing.T) {
	e := tokOpen(t, ":memory:", 0) // unassigned tokens wait forever
	a, sa := tokSession(t, e, tk0, "A", 0)
	b, sb := tokSession(t, e, tk0, "B", 0)
	tokAdd(t, e, tk0, NewTransitionToken{Token: "bound", Value: "x"}, sa)
	tokAdd(t, e, tk0, NewTransitionToken{Token: "t1", Value: "y", Transferable: true}, sa)
	tokAdd(t, e, tk0, NewTransitionToken{Token: "free", Value: "z", Owner: "A"}, "")
	// Wrong states are plain false.
	tokUpd(t, e, tk0, func(tx *Tx) {
		if tx.AcquireToken("bound", b) {
			t.Error("acquired a bound token")
		}
		if tx.AcquireToken("t1", b) {
			t.Error("acquired a held token that is not sellable")
		}
		if tx.AcquireToken("free", b) || tx.AcquireToken("nope", b) {
			t.Error("acquired a free or missing token")
		}
		if tx.TransferToken("t1", "B", "C") {
			t.Error("transferred someone else's token")
		}
		if tx.TransferToken("bound", "A", "B") || tx.TransferToken("free", "A", "B") {
			t.Error("transferred a token that is not transferable")
		}
		if tx.SetTokenSellable("bound", "1") || tx.SetDisownTimeout("bound", 5) || tx.UnsetTokenSellable("t1") {
			t.Error("sellable/disown on a token that is not transferable, or unsellable unmarked")
		}
	})
	// Sellable: another session may buy it; the mark goes with the sale.
	tokUpd(t, e, tk0+1, func(tx *Tx) {
		if !tx.SetTokenSellable("t1", "3.14") {
			t.Fatal("sellable")
		}
		if tx.AcquireToken("t1", a) {
			t.Error("acquired its own token")
		}
		if !tx.AcquireToken("t1", b) {
			t.Fatal("buy")
		}
	})
	x, _ := tokInfo(t, e, tk0+1, "t1")
	if x.Owner != "B" || x.Session != b.Handle || x.Sellable || x.Price != "" {
		t.Fatalf("after buying %+v", x)
	}
	tokConsistent(t, e)
	// Transfer back to A: only B may, and it leaves B's session.
	tokUpd(t, e, tk0+2, func(tx *Tx) {
		if tx.TransferToken("t1", "A", "B") {
			t.Error("A transferred B's token")
		}
		if !tx.TransferToken("t1", "B", "A") {
			t.Fatal("transfer")
		}
		if got := tx.OwnerTokens("A"); fmt.Sprint(got) != "[bound free t1]" {
			t.Errorf("A lists %v", got)
		}
		if got := tx.SessionTokens(b.Handle, false); len(got) != 0 {
			t.Errorf("B's session lists %v", got)
		}
		if tx.TransferToken("t1", "A", "") || !tx.TransferToken("t1", "A", "A") {
			t.Error("transfer to nobody / to itself")
		}
	})
	tokConsistent(t, e)
	// A token held by an owner alone is not disowned when a session ends.
	tokUpd(t, e, tk0+3, func(tx *Tx) { tx.DestroySessionHandle(a.Handle) })
	x, ok := tokInfo(t, e, tk0+3, "t1")
	if !ok || x.Owner != "A" || x.Unassigned() {
		t.Fatalf("owner-held token after a session end: %v %+v", ok, x)
	}
	if _, ok := tokInfo(t, e, tk0+3, "free"); !ok {
		t.Fatal("free token died with a session")
	}
	if _, ok := tokInfo(t, e, tk0+3, "bound"); ok {
		t.Fatal("bound token survived")
	}
	// Disown wait 0: an unassigned token waits until its own timeout only.
	tokAdd(t, e, tk0+4, NewTransitionToken{Token: "u", Value: "", Transferable: true}, "")
	u, _ := tokInfo(t, e, tk0+4, "u")
	if !u.Unassigned() || u.Expires != 0 {
		t.Fatalf("unassigned from birth %+v", u)
	}
	tokUpd(t, e, tk0+5, func(tx *Tx) {
		if !tx.AcquireToken("u", b) {
			t.Fatal("acquire unassigned")
		}
	})
	tokConsistent(t, e)
	// Owner mismatch with a session is refused; an existing token is refused.
	if tokAdd(t, e, tk0+6, NewTransitionToken{Token: "m", Owner: "Z"}, sb) {
		t.Error("added with another owner than the session's")
	}
	if tokAdd(t, e, tk0+6, NewTransitionToken{Token: "u", Value: "again"}, "") {
		t.Error("added an existing token")
	}
	tokConsistent(t, e)
}

func TestTokenTimeouts(t *testing.T) {
	e := tokOpen(t, ":memory:", 10_000)
	tokAdd(t, e, tk0, NewTransitionToken{Token: "a", Value: "1", Timeout: 5000}, "")
	tokAdd(t, e, tk0, NewTransitionToken{Token: "u", Value: "2", Transferable: true, Timeout: 50_000}, "")
	a, _ := tokInfo(t, e, tk0, "a")
	u, _ := tokInfo(t, e, tk0, "u")
	if a.Expires != tk0+5000 || a.Timeout != 5000 || u.Expires != tk0+10_000 || u.DisownTimeout != -1 {
		t.Fatalf("deadlines %+v %+v", a, u)
	}
	tokUpd(t, e, tk0+1000, func(tx *Tx) {
		// EXPIRE counts from now; 0 removes the own timeout.
		tx.ExpireToken("a", 2000)
		// Own disown wait, counted from when it was disowned.
		tx.SetDisownTimeout("u", 20_000)
	})
	a, _ = tokInfo(t, e, tk0+1000, "a")
	u, _ = tokInfo(t, e, tk0+1000, "u")
	if a.Expires != tk0+3000 || u.Expires != tk0+20_000 || tx0Wait(e, &u) != 20_000 {
		t.Fatalf("after EXPIRE/DISOWNTIMEOUT %+v %+v", a, u)
	}
	tokUpd(t, e, tk0+1000, func(tx *Tx) { tx.ExpireToken("u", 5000) })
	if u, _ = tokInfo(t, e, tk0+1000, "u"); u.Expires != tk0+6000 {
		t.Fatalf("own timeout before the disown deadline: %+v", u)
	}
	tokUpd(t, e, tk0+1000, func(tx *Tx) { tx.ExpireToken("u", 0); tx.SetDisownTimeout("u", 0) })
	if u, _ = tokInfo(t, e, tk0+1000, "u"); u.Expires != 0 {
		t.Fatalf("no timeouts left: %+v", u)
	}
	// A disown wait already over expires the token at once.
	tokUpd(t, e, tk0+30_000, func(tx *Tx) {
		if !tx.SetDisownTimeout("u", 1000) {
			t.Fatal("disowntimeout")
		}
	})
	if _, ok := tokInfo(t, e, tk0+30_000, "u"); ok {
		t.Fatal("alive past its disown wait")
	}
	// Invisible to a read past its deadline; reaped by the next write that meets it.
	tokView(t, e, tk0+3001, func(tx *Tx) {
		if _, ok := tx.LookupTransitionToken("a"); ok {
			t.Fatal("alive past its deadline")
		}
	})
	tokUpd(t, e, tk0+3001, func(tx *Tx) {
		if tx.DestroyToken("a") {
			t.Fatal("destroyed an expired token")
		}
	})
	tokView(t, e, tk0+3001, func(tx *Tx) {
		if n := tx.TokenFootprint(); n != 0 {
			t.Fatalf("footprint %d", n)
		}
	})
	tokConsistent(t, e)
}

func tx0Wait(e *Engine, tt *TransitionToken) int64 {
	var w int64
	_ = e.View(0, func(tx *Tx) error { w = tx.DisownWait(tt); return nil })
	return w
}

// Listings read an index, not every token.
func TestTokenListsReadIndexes(t *testing.T) {
	e := tokOpen(t, ":memory:", 0)
	_, st := tokSession(t, e, tk0, "few", 0)
	for i := 0; i < 3; i++ {
		tokAdd(t, e, tk0, NewTransitionToken{Token: fmt.Sprintf("mine%d", i), Transferable: i == 0}, st)
	}
	tokUpd(t, e, tk0, func(tx *Tx) {
		for i := 0; i < 2000; i++ {
			tx.AddTransitionToken(NewTransitionToken{Token: fmt.Sprintf("other%d", i), Owner: fmt.Sprintf("o%d", i%50)})
		}
	})
	var s Session
	tokView(t, e, tk0, func(tx *Tx) { s, _ = tx.SessionByToken(HashToken(st)) })
	for name, fn := range map[string]func(tx *Tx) []string{
		"owner":        func(tx *Tx) []string { return tx.OwnerTokens("few") },
		"session":      func(tx *Tx) []string { return tx.SessionTokens(s.Handle, false) },
		"transferable": func(tx *Tx) []string { return tx.SessionTokens(s.Handle, true) },
		"sellable":     func(tx *Tx) []string { return tx.SellableTokens() },
		"unassigned":   func(tx *Tx) []string { return tx.UnassignedTokens() },
	} {
		before := e.TokenWork()
		tokView(t, e, tk0, func(tx *Tx) { fn(tx) })
		if w := e.TokenWork() - before; w > 6 {
			t.Errorf("%s listing read %d items", name, w)
		}
	}
}

// Random operations keep the indexes and counters exactly in step with the
// records.
func TestTokenRandomConsistency(t *testing.T) {
	e := tokOpen(t, ":memory:", 5000)
	rnd := rand.New(rand.NewPCG(1, 2))
	type sess struct {
		s   Session
		tok string
	}
	var sessions []sess
	now := tk0
	owners := []string{"A", "B", "C"}
	recent := func() string { // a recent session's token: more likely alive
		return sessions[max(0, len(sessions)-1-rnd.IntN(4))].tok
	}
	for step := 0; step < 4000; step++ {
		now += int64(rnd.IntN(20))
		tok := fmt.Sprintf("t%d", rnd.IntN(16))
		owner := owners[rnd.IntN(len(owners))]
		switch op := rnd.IntN(15); op {
		case 0:
			s, st := tokSession(t, e, now, owner, int64(2000+rnd.IntN(20_000)))
			sessions = append(sessions, sess{s, st})
		case 1, 2, 3:
			n := NewTransitionToken{Token: tok, Value: "v", Transferable: rnd.IntN(2) == 0, Timeout: int64(rnd.IntN(3) * 10_000)}
			st := ""
			if len(sessions) > 0 && rnd.IntN(3) > 0 {
				st = recent()
			} else if rnd.IntN(2) == 0 {
				n.Owner = owner
			}
			tokAdd(t, e, now, n, st)
		default:
			tokUpd(t, e, now, func(tx *Tx) {
				switch op {
				case 4, 5:
					if len(sessions) > 0 {
						if s, r := tx.AuthSession(recent(), tokPol); r == ReasonOK {
							tx.AcquireToken(tok, s)
						}
					}
				case 6:
					tx.TransferToken(tok, owner, owners[rnd.IntN(len(owners))])
				case 7:
					tx.DestroyToken(tok)
				case 8:
					tx.SetTokenSellable(tok, fmt.Sprint(rnd.IntN(100)))
				case 9:
					tx.UnsetTokenSellable(tok)
				case 10:
					tx.ExpireToken(tok, int64(rnd.IntN(3)*5000))
				case 11:
					tx.SetDisownTimeout(tok, int64(rnd.IntN(3)*2000))
				case 12:
					if len(sessions) > 0 {
						tx.DestroySession(sessions[rnd.IntN(len(sessions))].tok, tokPol)
					}
				case 13:
					if rnd.IntN(4) == 0 {
						tx.RevokeOwner(owner, "")
					}
				case 14:
					if len(sessions) > 0 {
						tx.SessionValidate(sessions[rnd.IntN(len(sessions))].tok, 1, true, rawToken(), SessionPolicy{ReplayRevoke: true})
					}
				}
			})
		}
		if rnd.IntN(10) == 0 {
			e.expireBatchAt(now, 1000)
		}
		if step%100 == 0 {
			tokConsistent(t, e)
			if t.Failed() {
				t.Fatalf("inconsistent at step %d", step)
			}
		}
	}
	st := e.TokenStats()
	t.Logf("added %d acquired %d transferred %d disowned %d expired %d destroyed %d ended with session %d",
		st.Added.Load(), st.Acquired.Load(), st.Transferred.Load(), st.Disowned.Load(), st.Expired.Load(), st.Destroyed.Load(), st.EndedWithSession.Load())
	if st.Acquired.Load() == 0 || st.Transferred.Load() == 0 || st.Disowned.Load() == 0 || st.EndedWithSession.Load() == 0 || st.Expired.Load() == 0 {
		t.Fatal("the random walk missed a state change")
	}
	e.expireBatchAt(now+1_000_000, 100_000)
	tokConsistent(t, e)
	tokUpd(t, e, now+1_000_000, func(tx *Tx) {
		for i := 0; i < 16; i++ {
			tx.DestroyToken(fmt.Sprintf("t%d", i))
		}
	})
	tokView(t, e, now, func(tx *Tx) {
		if n := tx.TokenFootprint(); n != 0 {
			t.Fatalf("footprint after everything went: %d", n)
		}
		if c := tx.TokenCounts(); c != (TokenCounts{}) {
			t.Fatalf("counts after everything went: %+v", c)
		}
	})
}

func TestTokenPersistence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data.db")
	e := tokOpen(t, path, 4000)
	s, st := tokSession(t, e, tk0, "A", 0)
	tokAdd(t, e, tk0, NewTransitionToken{Token: "b", Value: "vb", Timeout: 9000}, st)
	tokAdd(t, e, tk0, NewTransitionToken{Token: "x", Value: "vx", Transferable: true}, st)
	tokUpd(t, e, tk0, func(tx *Tx) { tx.SetTokenSellable("x", "0.5"); tx.SetDisownTimeout("x", 7000) })
	tokClose(e)

	e2 := tokOpen(t, path, 4000)
	b, ok := tokInfo(t, e2, tk0+1, "b")
	if !ok || b.Expires != tk0+9000 || b.Session != s.Handle || b.Owner != "A" || b.Value != "vb" {
		t.Fatalf("bound after restart %v %+v", ok, b)
	}
	tokView(t, e2, tk0+1, func(tx *Tx) {
		if got := tx.SellableTokens(); fmt.Sprint(got) != "[x]" {
			t.Fatalf("sellable after restart %v", got)
		}
		if got := tx.SessionTokens(s.Handle, false); fmt.Sprint(got) != "[b x]" {
			t.Fatalf("session after restart %v", got)
		}
	})
	tokConsistent(t, e2)
	// The session-end hook is registered on the reopened engine too.
	tokUpd(t, e2, tk0+100, func(tx *Tx) { tx.DestroySession(st, tokPol) })
	x, ok := tokInfo(t, e2, tk0+100, "x")
	if _, alive := tokInfo(t, e2, tk0+100, "b"); alive || !ok || !x.Unassigned() || x.Expires != tk0+7100 {
		t.Fatalf("after the session ended %v %+v", ok, x)
	}
	tokClose(e2)
	e3 := tokOpen(t, path, 4000)
	e3.expireBatchAt(tk0+7100, 100)
	if _, ok := tokInfo(t, e3, tk0+7100, "x"); !ok {
		t.Fatal("unassigned token lost across restart")
	}
	e3.expireBatchAt(tk0+7101, 100)
	if _, ok := tokInfo(t, e3, tk0+7101, "x"); ok {
		t.Fatal("unassigned token outlived its wait across a restart")
	}
	tokConsistent(t, e3)
}

// A session and its bound token expiring in the same expirer batch: the
// token goes with the session, and is not expired a second time.
func TestTokenExpiresWithSessionInOneBatch(t *testing.T) {
	e := tokOpen(t, ":memory:", 1000)
	_, st := tokSession(t, e, tk0, "A", 1000)
	tokAdd(t, e, tk0, NewTransitionToken{Token: "b", Timeout: 1500}, st)
	tokAdd(t, e, tk0, NewTransitionToken{Token: "x", Transferable: true, Timeout: 1500}, st)
	tokAdd(t, e, tk0, NewTransitionToken{Token: "other"}, "")
	e.expireBatchAt(tk0+2000, 100)
	tokConsistent(t, e)
	tokView(t, e, tk0+2000, func(tx *Tx) {
		if c := tx.TokenCounts(); c != (TokenCounts{Live: 1}) {
			t.Fatalf("counts %+v", c)
		}
	})
}
