package engine

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func setEX(t *testing.T, e *Engine, now int64, key string, deadline int64) {
	t.Helper()
	update(t, e, now, func(tx *Tx) error {
		_, err := tx.Set(0, key, "v", SetOptions{Deadline: deadline})
		return err
	})
}

func dbsize(e *Engine, now int64) int {
	n := 0
	_ = e.View(now, func(tx *Tx) error { n = tx.DBSize(0); return nil })
	return n
}

// Under ExpiryOff (a follower) nothing expires on its own: the expirer
// deletes nothing and a read that meets an expired key treats it as missing
// without deleting it; ExpireItemsAt (the log's apply) deletes it.
func TestExpiryOffDeletesOnlyThroughTheLog(t *testing.T) {
	var now atomic.Int64
	now.Store(base)
	e := openClocked(t, &now)
	e.SetExpiryMode(ExpiryOff, nil)
	setEX(t, e, base, "a", base+10)
	now.Store(base + 1000)
	if n := e.ExpireCycle(25 * time.Millisecond); n != 0 {
		t.Fatalf("expirer deleted %d records under ExpiryOff", n)
	}
	_ = e.View(base+1000, func(tx *Tx) error {
		if _, ok, _ := tx.GetString(0, "a"); ok {
			t.Fatal("an expired key read as present")
		}
		return nil
	})
	if _, ok := e.points.m[itemKey(0, "a")]; !ok {
		t.Fatal("a read deleted an expired key under ExpiryOff")
	}
	if _, err := e.ExpireItemsAt(base+1000, []string{itemKey(0, "a")}); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.points.m[itemKey(0, "a")]; ok {
		t.Fatal("ExpireItemsAt left an expired key")
	}
	if got := e.stats.ExpiredKeys.Load(); got != 1 {
		t.Fatalf("expired_keys = %d", got)
	}
}

// ExpireItemsAt deletes only what is expired at the entry's time.
func TestExpireItemsAtChecksTheDeadline(t *testing.T) {
	var now atomic.Int64
	now.Store(base)
	e := openClocked(t, &now)
	e.SetExpiryMode(ExpiryOff, nil)
	setEX(t, e, base, "late", base+5000)
	if _, err := e.ExpireItemsAt(base+100, []string{itemKey(0, "late"), itemKey(0, "nosuch")}); err != nil {
		t.Fatal(err)
	}
	if dbsize(e, base+100) != 1 {
		t.Fatal("ExpireItemsAt deleted a record whose deadline had not passed")
	}
}

// Under ExpiryDelegated (the leader) the expirer hands expired records to
// the delegate instead of deleting them; when the delegate fails their
// hints are kept, so a later cycle hands them over again.
func TestExpiryDelegated(t *testing.T) {
	var now atomic.Int64
	now.Store(base)
	e := openClocked(t, &now)
	for i := 0; i < 10; i++ {
		setEX(t, e, base, fmt.Sprint("k", i), base+10)
	}
	setEX(t, e, base, "keep", base+1_000_000)
	// The engine's own expirer goroutine may call the delegate too.
	var mu sync.Mutex
	var got []string
	var fail atomic.Bool
	fail.Store(true)
	e.SetExpiryMode(ExpiryDelegated, func(at int64, items []string) error {
		if fail.Load() {
			return errors.New("not the leader")
		}
		mu.Lock()
		got = append(got, items...)
		mu.Unlock()
		_, err := e.ExpireItemsAt(at, items)
		return err
	})
	now.Store(base + 2000)
	e.ExpireCycle(25 * time.Millisecond)
	if dbsize(e, base+2000) != 11 {
		t.Fatal("records were deleted although the delegate failed")
	}
	fail.Store(false)
	e.ExpireCycle(25 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 10 {
		t.Fatalf("delegate got %d records after a failed cycle, want 10", len(got))
	}
	if n := dbsize(e, base+2000); n != 1 {
		t.Fatalf("DBSIZE %d after the delegated expiry, want 1", n)
	}
}

// SaveTo and ReplaceFrom carry the whole data set, with the hash index,
// deadlines and session counts rebuilt.
func TestReplaceFromSnapshot(t *testing.T) {
	var now atomic.Int64
	now.Store(base)
	src := openClocked(t, &now)
	setEX(t, src, base, "x", base+10)
	setEX(t, src, base, "y", 0)
	update(t, src, base, func(tx *Tx) error {
		for i := 0; i < 3; i++ {
			var h [HandleBytes]byte
			var k [TokenBytes]byte
			h[0], k[0] = byte(i+1), byte(i+1)
			if _, err := tx.CreateSession(NewSession{Handle: FormatHandle(h), Token: FormatToken("", k), Owner: "o"}); err != nil {
				return err
			}
		}
		return nil
	})
	var snap bytes.Buffer
	if err := src.SaveTo(&snap); err != nil {
		t.Fatal(err)
	}
	dst := openClocked(t, &now)
	setEX(t, dst, base, "stale", 0)
	if err := dst.ReplaceFrom(&snap); err != nil {
		t.Fatal(err)
	}
	if n := dbsize(dst, base); n != 2 {
		t.Fatalf("DBSIZE after restore = %d, want 2 (stale must be gone)", n)
	}
	if c := dst.sess.counts.live.Load(); c != 3 {
		t.Fatalf("live sessions after restore = %d, want 3", c)
	}
	now.Store(base + 1000)
	dst.ExpireCycle(25 * time.Millisecond)
	if n := dbsize(dst, base+1000); n != 1 {
		t.Fatalf("the restored deadline of x was not filed: DBSIZE %d", n)
	}
}

// A follower's expirer deletes nothing but drops the hints of records the
// log deleted, so its wheel does not grow with every record ever written.
func TestExpiryOffPrunesHints(t *testing.T) {
	var now atomic.Int64
	now.Store(base)
	e := openClocked(t, &now)
	e.SetExpiryMode(ExpiryOff, nil)
	for i := 0; i < 100; i++ {
		setEX(t, e, base, fmt.Sprint("k", i), base+10)
	}
	setEX(t, e, base, "expired-not-deleted", base+10)
	update(t, e, base, func(tx *Tx) error {
		for i := 0; i < 100; i++ {
			tx.Delete(0, fmt.Sprint("k", i))
		}
		return nil
	})
	now.Store(base + 2000)
	e.ExpireCycle(25 * time.Millisecond)
	var n int
	_ = e.View(base+2000, func(*Tx) error { n = e.exp.n; return nil })
	if n != 1 {
		t.Fatalf("%d hints left on a follower, want 1 (the expired record the leader has yet to delete)", n)
	}
	if _, ok := e.points.m[itemKey(0, "expired-not-deleted")]; !ok {
		t.Fatal("a follower deleted an expired record")
	}
}
