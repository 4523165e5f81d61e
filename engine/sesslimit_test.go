package engine

import (
	"errors"
	"fmt"
	"math/rand"
	"os"
	"strings"
	"testing"
)

// lruCheck asserts the last-use index invariant: every owned session has
// exactly one entry, at the slot its record names, which is not later than
// its last use, and there is no other entry.
func lruCheck(t testing.TB, e *Engine, now int64) {
	t.Helper()
	view(t, e, now, func(tx *Tx) error {
		want := map[string]bool{}
		p := dbPrefix(dbSession)
		tx.bt.AscendGreaterOrEqual("", p, func(k, v string) bool {
			if !strings.HasPrefix(k, p) {
				return false
			}
			r := decodeRecord(k, v)
			s, ok := decodeSession(r.Key, r.Payload)
			if !ok {
				t.Fatalf("undecodable record %q", k)
			}
			if v[headerLen] != sessionVersion {
				t.Fatalf("record %q of version %d", k, v[headerLen])
			}
			if s.Owner != "" {
				if s.lruAt == 0 || s.lruAt > lruSlot(s.LastSeen) {
					t.Fatalf("session %s filed at %d, last used %d", s.Handle, s.lruAt, s.LastSeen)
				}
				want[lruEntry(s.Owner, s.lruAt, s.Handle)] = true
			} else if s.lruAt != 0 {
				t.Fatalf("ownerless session %s filed", s.Handle)
			}
			return true
		})
		mp := string([]byte{'c', dbSessionMeta})
		n := 0
		tx.bt.AscendGreaterOrEqual("", mp, func(k, _ string) bool {
			if !strings.HasPrefix(k, mp) {
				return false
			}
			if !want[k] {
				t.Fatalf("stray last-use entry %q", k)
			}
			n++
			return true
		})
		if n != len(want) {
			t.Fatalf("%d last-use entries for %d owned sessions", n, len(want))
		}
		return nil
	})
}

func lruOf(t testing.TB, e *Engine, now int64, owner string) string {
	t.Helper()
	h := ""
	view(t, e, now, func(tx *Tx) error {
		if s, ok := tx.LeastRecentlyUsed(owner); ok {
			h = s.Handle
		}
		return nil
	})
	return h
}

func touchAt(t testing.TB, e *Engine, now int64, tok string) {
	t.Helper()
	upd(t, e, now, func(tx *Tx) error {
		if _, r := tx.SessionTouch(tok, Keep, pol); r != ReasonOK {
			t.Fatalf("touch: %v", r)
		}
		return nil
	})
}

// The index orders an owner's sessions by last use, exactly (ties inside one
// second are decided by last_seen), and follows touches, validations,
// owner moves and every way a session ends.
func TestLastUseIndex(t *testing.T) {
	e := openTest(t, ":memory:")
	a, ta := create(t, e, t0, NewSession{Owner: "o", Idle: 100_000})
	b, tb := create(t, e, t0+10, NewSession{Owner: "o", Idle: 100_000})
	c, tc := create(t, e, t0+20, NewSession{Owner: "o", Idle: 100_000})
	lruCheck(t, e, t0+20)
	if h := lruOf(t, e, t0+20, "o"); h != a.Handle {
		t.Fatalf("LRU %s, want a", h)
	}
	// Same second: the exact last_seen decides.
	touchAt(t, e, t0+30, ta)
	if h := lruOf(t, e, t0+30, "o"); h != b.Handle {
		t.Fatalf("LRU %s, want b", h)
	}
	// Later seconds: the slot moves.
	touchAt(t, e, t0+5_000, tb)
	touchAt(t, e, t0+6_000, tc)
	if h := lruOf(t, e, t0+6_000, "o"); h != a.Handle {
		t.Fatalf("LRU %s, want a", h)
	}
	lruCheck(t, e, t0+6_000)
	var tc2 string
	upd(t, e, t0+7_000, func(tx *Tx) error {
		r, err := tx.SessionValidate(ta, 1, true, rawToken(), pol)
		if err != nil || r.Reason != ReasonOK {
			t.Fatalf("validate %v %v", r, err)
		}
		r, err = tx.SessionValidate(tc, 1, true, rawToken(), pol)
		if err != nil || r.Reason != ReasonOK {
			t.Fatalf("validate %v %v", r, err)
		}
		tc2 = r.Token
		return nil
	})
	if h := lruOf(t, e, t0+7_000, "o"); h != b.Handle {
		t.Fatalf("LRU %s, want b", h)
	}
	lruCheck(t, e, t0+7_000)
	// Moving c to another owner re-files it; ending sessions unfiles them.
	upd(t, e, t0+8_000, func(tx *Tx) error {
		other := "p"
		if r, err := tx.SessionSetOwner(tc2, "data", Keep, Keep, &other, OwnerLimit{}, pol); r != ReasonOK || err != nil {
			t.Fatalf("move: %v %v", r, err)
		}
		return nil
	})
	lruCheck(t, e, t0+8_000)
	if h := lruOf(t, e, t0+8_000, "p"); h != c.Handle {
		t.Fatalf("LRU of p %s", h)
	}
	view(t, e, t0+8_000, func(tx *Tx) error {
		if n, o, _ := tx.SessionCounts(); n != 3 || o != 2 {
			t.Fatalf("counts %d sessions %d owners", n, o)
		}
		if tx.CountOwnerSessions("o") != 2 || tx.CountOwnerSessions("p") != 1 {
			t.Fatal("owner index not moved")
		}
		return nil
	})
	upd(t, e, t0+9_000, func(tx *Tx) error {
		tx.RevokeOwner("o", "")
		if !tx.DestroySessionHandle(c.Handle) {
			t.Fatal("destroy c")
		}
		return nil
	})
	lruCheck(t, e, t0+9_000)
	if h := lruOf(t, e, t0+9_000, "o"); h != "" {
		t.Fatalf("LRU after revoke %s", h)
	}
	_ = tb
}

// Random operations keep the index exact (checked against the records after
// every step), including expiry by the expirer.
func TestLastUseIndexRandom(t *testing.T) {
	e := openTest(t, ":memory:")
	rng := rand.New(rand.NewSource(7))
	now := t0
	var toks []string
	owners := []string{"o1", "o2", "o3"}
	for step := 0; step < 400; step++ {
		now += int64(rng.Intn(1500))
		switch op := rng.Intn(7); {
		case op < 2 || len(toks) == 0:
			n := NewSession{Owner: owners[rng.Intn(3)], Idle: int64(1000 + rng.Intn(20_000)),
				Limit: OwnerLimit{Max: int64(rng.Intn(4)), Refuse: rng.Intn(2) == 0}}
			n.Token, n.Handle = FormatToken("", rawToken()), FormatHandle(rawHandle())
			upd(t, e, now, func(tx *Tx) error {
				if _, err := tx.CreateSession(n); err == nil {
					toks = append(toks, n.Token)
				} else if !IsLimitError(err) {
					t.Fatal(err)
				}
				return nil
			})
		case op == 2:
			upd(t, e, now, func(tx *Tx) error { tx.SessionTouch(toks[rng.Intn(len(toks))], Keep, pol); return nil })
		case op == 3:
			i := rng.Intn(len(toks))
			upd(t, e, now, func(tx *Tx) error {
				if r, _ := tx.SessionValidate(toks[i], 1, true, rawToken(), SessionPolicy{}); r.Reason == ReasonOK {
					toks[i] = r.Token
				}
				return nil
			})
		case op == 4:
			o := owners[rng.Intn(3)]
			upd(t, e, now, func(tx *Tx) error {
				_, _ = tx.SessionSetOwner(toks[rng.Intn(len(toks))], "", Keep, Keep, &o, OwnerLimit{Max: 2}, pol)
				return nil
			})
		case op == 5:
			upd(t, e, now, func(tx *Tx) error { tx.DestroySession(toks[rng.Intn(len(toks))], pol); return nil })
		default:
			e.expireBatchAt(now, 1000)
		}
		lruCheck(t, e, now)
		// The index's answer (write: re-filing; read: every session) is the
		// brute-force one.
		for _, o := range owners {
			var brute Session
			found := false
			view(t, e, now, func(tx *Tx) error {
				for _, s := range tx.OwnerSessions(o) {
					if !found || lruLess(&s, &brute) {
						brute, found = s, true
					}
				}
				if s, ok := tx.LeastRecentlyUsed(o); ok != found || s.Handle != brute.Handle {
					t.Fatalf("step %d owner %s: read LRU %s %v, want %s %v", step, o, s.Handle, ok, brute.Handle, found)
				}
				return nil
			})
			upd(t, e, now, func(tx *Tx) error {
				if s, ok := tx.LeastRecentlyUsed(o); ok != found || s.Handle != brute.Handle {
					t.Fatalf("step %d owner %s: LRU %s %v, want %s %v", step, o, s.Handle, ok, brute.Handle, found)
				}
				return nil
			})
		}
	}
}

// A touch does not write the index: the cost of last-use ordering is paid
// by the limit that needs it, not by every request.
func TestLastUseIndexTouchWritesNothing(t *testing.T) {
	e := openTest(t, ":memory:")
	_, tok := create(t, e, t0, NewSession{Owner: "o", Idle: 100_000})
	entries := func() string {
		var keys []string
		view(t, e, t0, func(tx *Tx) error {
			for _, r := range tx.ownerLRU("o", "", 0) {
				keys = append(keys, r.item)
			}
			return nil
		})
		return strings.Join(keys, ",")
	}
	before := entries()
	for i := int64(1); i <= 5; i++ {
		touchAt(t, e, t0+i*10_000, tok)
	}
	if after := entries(); after != before || before == "" {
		t.Fatalf("index %q -> %q", before, after)
	}
}

// evict-oldest revokes the least recently used session (its token then
// answers `limit`); refuse writes nothing; expired sessions make room.
func TestOwnerLimit(t *testing.T) {
	e := openTest(t, ":memory:")
	e.SetSessionEventStream(SessionEventStream{Key: "audit", MaxLen: 1000})
	lim := OwnerLimit{Max: 2}
	_, ta := create(t, e, t0, NewSession{Owner: "o", Idle: 60_000, Limit: lim})
	_, tb := create(t, e, t0+1_000, NewSession{Owner: "o", Idle: 60_000, Limit: lim})
	touchAt(t, e, t0+2_000, ta) // b is now the least recently used
	_, tc := create(t, e, t0+3_000, NewSession{Owner: "o", Idle: 60_000, Limit: lim})
	view(t, e, t0+3_000, func(tx *Tx) error {
		if _, r := tx.AuthSession(tb, pol); r != ReasonLimit {
			t.Fatalf("evicted token: %v", r)
		}
		for _, tok := range []string{ta, tc} {
			if _, r := tx.AuthSession(tok, pol); r != ReasonOK {
				t.Fatalf("kept token: %v", r)
			}
		}
		if tx.CountOwnerSessions("o") != 2 {
			t.Fatal("owner above its limit")
		}
		return nil
	})
	if st := e.SessionStats(); st.LimitEvicted.Load() != 1 || st.Revoked.Load() != 1 {
		t.Fatalf("stats evicted %d revoked %d", st.LimitEvicted.Load(), st.Revoked.Load())
	}
	// refuse: nothing written (the footprint is unchanged).
	before := footprint(t, e)
	var err error
	upd(t, e, t0+4_000, func(tx *Tx) error {
		_, err = tx.CreateSession(NewSession{Handle: FormatHandle(rawHandle()), Token: FormatToken("", rawToken()),
			Owner: "o", Idle: 60_000, Limit: OwnerLimit{Max: 2, Refuse: true}})
		return nil
	})
	var le *LimitError
	if !errors.As(err, &le) || err.Error() != "LIMIT owner has reached 2 sessions" {
		t.Fatalf("refuse: %v", err)
	}
	if n := footprint(t, e); n != before {
		t.Fatalf("a refused creation left %d items", n-before)
	}
	// Expired sessions (not reaped yet) make room even under refuse.
	create(t, e, t0+70_000, NewSession{Owner: "o", Idle: 60_000, Limit: OwnerLimit{Max: 2, Refuse: true}})
	lruCheck(t, e, t0+70_000)
	// A lower limit evicts as many as needed, oldest first.
	for i := 0; i < 4; i++ {
		create(t, e, t0+71_000+int64(i), NewSession{Owner: "p", Idle: 60_000})
	}
	create(t, e, t0+72_000, NewSession{Owner: "p", Idle: 60_000, Limit: OwnerLimit{Max: 1}})
	view(t, e, t0+72_000, func(tx *Tx) error {
		if n := tx.CountOwnerSessions("p"); n != 1 {
			t.Fatalf("p has %d sessions", n)
		}
		return nil
	})
	lruCheck(t, e, t0+72_000)
	var events []string
	view(t, e, t0+72_000, func(tx *Tx) error {
		for _, en := range tx.StreamEntries(0, "audit", 1000, false) {
			f := en.Fields
			events = append(events, f[1]+"/"+f[7])
		}
		return nil
	})
	// At t0+70s both of o's sessions are past their deadline: at its limit,
	// refuse reads the owner's sessions and reaps both.
	want := "created/,created/,limit/evict-oldest,revoked/limit,created/,limit/refused,expired/idle,expired/idle,created/," +
		"created/,created/,created/,created/,limit/evict-oldest,revoked/limit,limit/evict-oldest,revoked/limit,limit/evict-oldest,revoked/limit,limit/evict-oldest,revoked/limit,created/"
	if got := strings.Join(events, ","); got != want {
		t.Fatalf("stream events\n%s\nwant\n%s", got, want)
	}
}

// A bound session answers `binding` to another fingerprint; with
// BindingRevoke it is revoked. No BIND presented: not checked. No BIND at
// creation: any fingerprint.
func TestSessionBinding(t *testing.T) {
	e := openTest(t, ":memory:")
	_, bound := create(t, e, t0, NewSession{Idle: 60_000, Bind: "fp-1", HasBind: true})
	_, free := create(t, e, t0, NewSession{Idle: 60_000})
	with := func(fp string, revoke bool) SessionPolicy {
		p := pol
		p.Bind, p.HasBind, p.BindingRevoke = fp, true, revoke
		return p
	}
	upd(t, e, t0+1, func(tx *Tx) error {
		cases := []struct {
			tok  string
			p    SessionPolicy
			want Reason
		}{
			{bound, with("fp-1", false), ReasonOK},
			{bound, with("fp-2", false), ReasonBinding},
			{bound, with("", false), ReasonBinding},
			{bound, pol, ReasonOK},
			{free, with("anything", true), ReasonOK},
			{bound, with("fp-1", false), ReasonOK}, // reject kept the session
			{bound, with("fp-x", true), ReasonBinding},
			{bound, with("fp-1", false), ReasonRevoked},
		}
		for i, c := range cases {
			if _, r := tx.AuthSession(c.tok, c.p); r != c.want {
				t.Fatalf("case %d: %v, want %v", i, r, c.want)
			}
		}
		return nil
	})
	if n := e.SessionStats().BindingMismatch.Load(); n != 3 {
		t.Fatalf("mismatches %d", n)
	}
}

// Every event reaches the stream with owner and reason, including those of
// the expirer, in the order of the transactions; the stream is capped.
func TestSessionEventStream(t *testing.T) {
	e := openTest(t, ":memory:")
	e.SetSessionEventStream(SessionEventStream{Key: "audit", MaxLen: 5})
	s, tok := create(t, e, t0, NewSession{Owner: "o", Idle: 1_000, Absolute: 500})
	if n := e.expireBatchAt(t0+501, 100); n != 1 {
		t.Fatalf("expired %d", n)
	}
	var got []string
	view(t, e, t0+501, func(tx *Tx) error {
		for _, en := range tx.StreamEntries(0, "audit", 100, false) {
			got = append(got, fmt.Sprint(en.Fields))
		}
		return nil
	})
	want := []string{
		fmt.Sprintf("[event created handle %s owner o reason  at %d]", s.Handle, t0),
		fmt.Sprintf("[event expired handle %s owner o reason absolute at %d]", s.Handle, t0+501),
	}
	if strings.Join(got, "|") != strings.Join(want, "|") || strings.Contains(strings.Join(got, ""), tok) {
		t.Fatalf("stream\n%v\nwant\n%v", got, want)
	}
	for i := 0; i < 10; i++ {
		create(t, e, t0+1000, NewSession{})
	}
	view(t, e, t0+1000, func(tx *Tx) error {
		if n, _ := tx.XLen(0, "audit"); n != 5 {
			t.Fatalf("stream length %d, want the cap 5", n)
		}
		return nil
	})
	// A key of another type: the events are counted as lost, the sessions live.
	e.SetSessionEventStream(SessionEventStream{Key: "str"})
	upd(t, e, t0, func(tx *Tx) error { tx.PutString(0, "str", "x", 0); return nil })
	create(t, e, t0+1000, NewSession{})
	if n := e.SessionEventStreamErrors(); n != 1 {
		t.Fatalf("stream errors %d", n)
	}
}

// The version-0 data file: its records are migrated to version 2 at Open
// and its owned sessions filed in the last-use index.
func TestMigratesSessionRecords(t *testing.T) {
	src, err := os.ReadFile("testdata/sessions-v0.db")
	if err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/data.db"
	if err := os.WriteFile(path, src, 0o644); err != nil {
		t.Fatal(err)
	}
	e := openTest(t, path)
	lruCheck(t, e, t0+10)
	view(t, e, t0+10, func(tx *Tx) error {
		for _, o := range []string{"alice", "carol"} {
			if s, ok := tx.LeastRecentlyUsed(o); !ok || s.Owner != o {
				t.Fatalf("LRU of %s: %+v %v", o, s, ok)
			}
		}
		return nil
	})
}

// An expired session later in the order than a live one makes the room:
// evict-oldest does not evict the live one.
func TestOwnerLimitExpiredMakesRoom(t *testing.T) {
	e := openTest(t, ":memory:")
	_, live := create(t, e, t0, NewSession{Owner: "q", Idle: 60_000})
	create(t, e, t0+10, NewSession{Owner: "q", Idle: 1_000})
	create(t, e, t0+5_000, NewSession{Owner: "q", Idle: 60_000, Limit: OwnerLimit{Max: 2}})
	view(t, e, t0+5_000, func(tx *Tx) error {
		if _, r := tx.AuthSession(live, pol); r != ReasonOK {
			t.Fatalf("live session: %v", r)
		}
		if n := tx.CountOwnerSessions("q"); n != 2 {
			t.Fatalf("q has %d sessions", n)
		}
		return nil
	})
	if n := e.SessionStats().LimitEvicted.Load(); n != 0 {
		t.Fatalf("evicted %d", n)
	}
	lruCheck(t, e, t0+5_000)
}
