package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessiond/sessiond/persistence"
)

// openClocked opens an in-memory engine whose active expirer reads *now (Unix ms).
func openClocked(t *testing.T, now *atomic.Int64) *Engine {
	t.Helper()
	st, err := persistence.Open(persistence.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := Open(Options{Store: st, Clock: func() time.Time { return time.UnixMilli(now.Load()) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(); st.Close() })
	return e
}

const base = int64(1_800_000_000_000)

func update(t *testing.T, e *Engine, now int64, fn func(tx *Tx) error) {
	t.Helper()
	if _, err := e.Update(now, fn); err != nil {
		t.Fatal(err)
	}
}

// A key is alive at its deadline and gone one millisecond later, for readers
// at once (lazy expiry) and from the store right after.
func TestLazyExpiry(t *testing.T) {
	var now atomic.Int64
	now.Store(base)
	e := openClocked(t, &now)
	update(t, e, base, func(tx *Tx) error {
		tx.PutString(0, "k", "v", base+100)
		return nil
	})
	_ = e.View(base+100, func(tx *Tx) error {
		if !tx.Exists(0, "k") {
			t.Fatal("key gone at its deadline")
		}
		return nil
	})
	now.Store(base + 101)
	_ = e.View(base+101, func(tx *Tx) error {
		if tx.Exists(0, "k") || len(tx.Keys(0, "*")) != 0 {
			t.Fatal("key visible after its deadline")
		}
		return nil
	})
	_ = e.View(base+101, func(tx *Tx) error {
		if n := tx.DBSize(0); n != 0 {
			t.Fatalf("expired key not reclaimed after a read met it: DBSIZE %d", n)
		}
		return nil
	})
	if got := e.Stats().ExpiredKeys.Load(); got != 1 {
		t.Fatalf("expired_keys = %d", got)
	}
}

// The active expirer deletes in batches within its time budget: a cycle with
// a tiny budget deletes one batch, not everything; cycles together delete
// all expired keys and nothing else.
func TestActiveExpireBatches(t *testing.T) {
	var now atomic.Int64
	now.Store(base)
	e := openClocked(t, &now)
	const n = 5000
	update(t, e, base, func(tx *Tx) error {
		for i := 0; i < n; i++ {
			tx.PutString(0, fmt.Sprintf("k%d", i), "v", base+10)
		}
		tx.PutString(0, "alive", "v", base+1_000_000)
		tx.PutString(0, "forever", "v", 0)
		return nil
	})
	now.Store(base + 20)
	// (The background expirer runs too; together they must delete exactly
	// the expired keys, one cycle at most one batch when out of budget.)
	if first := e.ExpireCycle(0); first > expireBatch {
		t.Fatalf("a zero-budget cycle deleted %d keys, more than one batch (%d)", first, expireBatch)
	}
	for i := 0; i < 1000 && e.Stats().ExpiredKeys.Load() < n; i++ {
		e.ExpireCycle(time.Millisecond)
	}
	if got := e.Stats().ExpiredKeys.Load(); got != n {
		t.Fatalf("expired %d keys, want %d", got, n)
	}
	_ = e.View(now.Load(), func(tx *Tx) error {
		if got := tx.DBSize(0); got != 2 {
			t.Fatalf("DBSIZE %d after expiry, want 2", got)
		}
		return nil
	})
}

// SetDeadline with a deadline not after now deletes the key (EXPIRE with a
// non-positive TTL).
func TestSetDeadlineInPastDeletes(t *testing.T) {
	var now atomic.Int64
	now.Store(base)
	e := openClocked(t, &now)
	update(t, e, base, func(tx *Tx) error {
		tx.PutString(0, "k", "v", 0)
		if !tx.SetDeadline(0, "k", base) || tx.Exists(0, "k") {
			t.Fatal("deadline at now did not delete the key")
		}
		return nil
	})
}

// A full Scan returns every key present throughout exactly once, with any
// COUNT, while keys are inserted and deleted between calls.
func TestScanCursorGuarantee(t *testing.T) {
	var now atomic.Int64
	now.Store(base)
	e := openClocked(t, &now)
	stable := map[string]bool{}
	update(t, e, base, func(tx *Tx) error {
		for i := 0; i < 1000; i++ {
			k := fmt.Sprintf("s%04d", i)
			stable[k] = true
			tx.PutString(0, k, "v", 0)
		}
		return nil
	})
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, count := range []int{1, 7, 100, 5000} {
		seen := map[string]int{}
		var cursor uint64
		for {
			var keys []string
			_ = e.View(base, func(tx *Tx) error {
				cursor, keys = tx.Scan(0, cursor, ScanOptions{Count: count})
				return nil
			})
			for _, k := range keys {
				seen[k]++
			}
			// Churn around the stable keys between calls.
			update(t, e, base, func(tx *Tx) error {
				for j := 0; j < 5; j++ {
					k := fmt.Sprintf("s%04d-%d", rnd.IntN(1000), rnd.IntN(3))
					if rnd.IntN(2) == 0 {
						tx.PutString(0, k, "v", 0)
					} else {
						tx.Delete(0, k)
					}
				}
				return nil
			})
			if cursor == 0 {
				break
			}
		}
		for k := range stable {
			if seen[k] != 1 {
				t.Fatalf("COUNT %d: %s returned %d times", count, k, seen[k])
			}
		}
	}
}

// Lists keep order through pushes and pops at both ends, copy and rename
// with their children, and vanish when emptied.
func TestListLayout(t *testing.T) {
	var now atomic.Int64
	now.Store(base)
	e := openClocked(t, &now)
	var model []string
	update(t, e, base, func(tx *Tx) error {
		rnd := rand.New(rand.NewPCG(3, 4))
		for i := 0; i < 2000; i++ {
			v := fmt.Sprint(i)
			switch rnd.IntN(4) {
			case 0:
				tx.ListPush(0, "l", []string{v}, true, false)
				model = append([]string{v}, model...)
			case 1:
				tx.ListPush(0, "l", []string{v}, false, false)
				model = append(model, v)
			case 2:
				got, _, _ := tx.ListPop(0, "l", true, 1)
				if len(model) > 0 {
					if len(got) != 1 || got[0] != model[0] {
						t.Fatalf("LPOP %v, want %s", got, model[0])
					}
					model = model[1:]
				}
			case 3:
				got, _, _ := tx.ListPop(0, "l", false, 1)
				if len(model) > 0 {
					if len(got) != 1 || got[0] != model[len(model)-1] {
						t.Fatalf("RPOP %v, want %s", got, model[len(model)-1])
					}
					model = model[:len(model)-1]
				}
			}
		}
		got, _ := tx.ListRange(0, "l", 0, -1)
		if strings.Join(got, ",") != strings.Join(model, ",") {
			t.Fatalf("list %v, model %v", got, model)
		}
		if !tx.Copy(0, "l", 1, "l2", false) {
			t.Fatal("COPY failed")
		}
		if ok, err := tx.Rename(0, "l", "l3", false); !ok || err != nil {
			t.Fatal("RENAME failed", err)
		}
		for _, k := range []struct {
			db  int
			key string
		}{{1, "l2"}, {0, "l3"}} {
			got, _ := tx.ListRange(k.db, k.key, 0, -1)
			if strings.Join(got, ",") != strings.Join(model, ",") {
				t.Fatalf("%s after copy/rename: %v", k.key, got)
			}
		}
		tx.ListPop(0, "l3", true, int64(len(model)))
		if tx.Exists(0, "l3") {
			t.Fatal("emptied list still exists")
		}
		return nil
	})
	// Nothing of l3 is left behind.
	_ = e.View(base, func(tx *Tx) error {
		n := 0
		tx.bt.AscendGreaterOrEqual("", childPrefix(0, "l3"), func(k, _ string) bool {
			if strings.HasPrefix(k, childPrefix(0, "l3")) {
				n++
			}
			return false
		})
		if n != 0 {
			t.Fatal("children of a deleted list left behind")
		}
		return nil
	})
}

// LCS returns a common subsequence of maximal length (checked against an
// independent dynamic program).
func TestLCSProperties(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	gen := func() string {
		b := make([]byte, rnd.IntN(30))
		for i := range b {
			b[i] = "abc"[rnd.IntN(3)]
		}
		return string(b)
	}
	isSubseq := func(sub, s string) bool {
		i := 0
		for j := 0; j < len(s) && i < len(sub); j++ {
			if s[j] == sub[i] {
				i++
			}
		}
		return i == len(sub)
	}
	for n := 0; n < 2000; n++ {
		a, b := gen(), gen()
		r := LCS(a, b, 0, true)
		// Independent length: classic DP.
		dp := make([][]int, len(a)+1)
		for i := range dp {
			dp[i] = make([]int, len(b)+1)
		}
		for i := 1; i <= len(a); i++ {
			for j := 1; j <= len(b); j++ {
				if a[i-1] == b[j-1] {
					dp[i][j] = dp[i-1][j-1] + 1
				} else {
					dp[i][j] = max(dp[i-1][j], dp[i][j-1])
				}
			}
		}
		if r.Len != dp[len(a)][len(b)] || len(r.Str) != r.Len || !isSubseq(r.Str, a) || !isSubseq(r.Str, b) {
			t.Fatalf("LCS(%q, %q) = %+v, want length %d", a, b, r, dp[len(a)][len(b)])
		}
		for _, m := range r.Matches {
			if a[m.AStart:m.AEnd+1] != b[m.BStart:m.BEnd+1] || m.Len != m.AEnd-m.AStart+1 {
				t.Fatalf("LCS(%q, %q): bad range %+v", a, b, m)
			}
		}
	}
}

// Stream IDs: "*" is the time in ms, then increments within a millisecond;
// "<ms>-*" continues the sequence; XDEL tracks the first and maximal
// deleted IDs; a group's lag follows the entries read.
func TestStreamIDs(t *testing.T) {
	var now atomic.Int64
	now.Store(base)
	e := openClocked(t, &now)
	update(t, e, base, func(tx *Tx) error {
		var ids []string
		for i := 0; i < 3; i++ {
			id, _, err := tx.XAdd(0, "s", XAddArgs{}, []string{"f", "v"})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id.String())
		}
		want := []string{fmt.Sprintf("%d-0", base), fmt.Sprintf("%d-1", base), fmt.Sprintf("%d-2", base)}
		if fmt.Sprint(ids) != fmt.Sprint(want) {
			t.Fatalf("IDs %v, want %v", ids, want)
		}
		id, _, _ := tx.XAdd(0, "s", XAddArgs{ID: StreamID{Ms: uint64(base)}, IDGiven: true}, []string{"f", "v"})
		if id.String() != fmt.Sprintf("%d-3", base) {
			t.Fatalf("<ms>-* gave %v", id)
		}
		if _, _, err := tx.XAdd(0, "s", XAddArgs{ID: StreamID{Ms: 1, Seq: 1}, IDGiven: true, SeqGiven: true}, []string{"f", "v"}); err != ErrStreamIDSmall {
			t.Fatalf("smaller ID: %v", err)
		}
		first := StreamID{Ms: uint64(base)}
		if n, _ := tx.XDel(0, "s", []StreamID{first}); n != 1 {
			t.Fatal("XDEL")
		}
		meta, _, _, _ := tx.StreamInfo(0, "s")
		if meta.Length != 3 || meta.First != (StreamID{uint64(base), 1}) || meta.MaxDeleted != first || meta.EntriesAdded != 4 {
			t.Fatalf("meta after XDEL: %+v", meta)
		}
		if err := tx.XGroupCreate(0, "s", "g", StreamID{}, false, false, -1); err != nil {
			t.Fatal(err)
		}
		got, served, err := tx.XReadGroup(0, "s", XReadGroupArgs{Group: "g", Consumer: "c", New: true, Count: 2})
		if err != nil || !served || len(got) != 2 {
			t.Fatalf("XREADGROUP: %v %v %v", got, served, err)
		}
		_, groups, _, _ := tx.StreamInfo(0, "s")
		if len(groups) != 1 || len(groups[0].PEL) != 2 || groups[0].LastID != got[1].ID {
			t.Fatalf("group after read: %+v", groups)
		}
		if n, _ := tx.XAck(0, "s", "g", []StreamID{got[0].ID}); n != 1 {
			t.Fatal("XACK")
		}
		return nil
	})
}

// A hint is due no later than the moment its record can expire (deadline
// + 1), after now, and exactly then when that is near.
func TestDueTime(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 100_000; i++ {
		now := base + r.Int64N(1_000_000)
		d := now + r.Int64N(1<<r.IntN(42))
		due := dueTime(d, now)
		if due > d+1 || due <= now {
			t.Fatalf("dueTime(%d, now %d) = %d", d-now, now, due-now)
		}
		if d+1-now <= expFine && due != d+1 {
			t.Fatalf("near deadline %d filed at %d", d-now, due-now)
		}
	}
	if due := dueTime(math.MaxInt64, base); due <= base {
		t.Fatalf("the largest deadline is due at %d (overflow)", due)
	}
}

// However spread the deadlines, the wheel keeps a few thousand buckets.
func TestExpWheelBucketsBounded(t *testing.T) {
	w := newExpWheel()
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 200_000; i++ {
		w.file(fmt.Sprint(i), base+1+r.Int64N(30*86400_000), base)
	}
	if len(w.buckets) > 3000 || w.n != 200_000 {
		t.Fatalf("%d buckets for %d hints", len(w.buckets), w.n)
	}
}

// Moving a deadline later files no hint; the expirer re-files the record
// when the old hint comes due and expires it at its true deadline, to the
// millisecond. An earlier deadline, a persisted or deleted key are right too.
func TestExpiryHintsFollowDeadlines(t *testing.T) {
	var now atomic.Int64
	now.Store(0) // the background expirer sees nothing due
	e := openClocked(t, &now)
	update(t, e, base, func(tx *Tx) error {
		tx.PutString(0, "touched", "v", base+10_000)
		tx.PutString(0, "shortened", "v", base+10_000)
		tx.PutString(0, "persisted", "v", base+10_000)
		tx.PutString(0, "deleted", "v", base+10_000)
		return nil
	})
	hints := e.exp.n
	update(t, e, base+5000, func(tx *Tx) error {
		for i := int64(0); i < 100; i++ {
			if _, err := tx.Set(0, "touched", "v", SetOptions{Deadline: base + 20_000 + i}); err != nil {
				return err
			}
		}
		tx.SetDeadline(0, "shortened", base+7000)
		tx.SetDeadline(0, "persisted", 0)
		tx.Delete(0, "deleted")
		return nil
	})
	if e.exp.n != hints+1 {
		t.Fatalf("hints %d -> %d: only the shortened deadline files one", hints, e.exp.n)
	}
	alive := func(at int64, want ...string) {
		t.Helper()
		_ = e.View(at, func(tx *Tx) error {
			got := tx.Keys(0, "*")
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("at +%d: keys %v, want %v", at-base, got, want)
			}
			return nil
		})
	}
	if n := e.expireBatchAt(base+7000, 100); n != 0 {
		t.Fatalf("expired %d at the deadline", n)
	}
	if n := e.expireBatchAt(base+7001, 100); n != 1 {
		t.Fatalf("expired %d one ms after the shortened deadline", n)
	}
	alive(base+7001, "persisted", "touched")
	if n := e.expireBatchAt(base+20_099, 100); n != 0 {
		t.Fatalf("expired %d before the touched deadline", n)
	}
	if n := e.expireBatchAt(base+20_100, 100); n != 1 {
		t.Fatalf("expired %d one ms after the touched deadline", n)
	}
	alive(base+20_100, "persisted")
	if e.exp.n != 0 {
		t.Fatalf("%d hints left", e.exp.n)
	}
}

// The wheel is rebuilt from the data file: after a restart the expirer
// finds the records and their deadlines, to the millisecond.
func TestExpiryAfterRestart(t *testing.T) {
	path := t.TempDir() + "/data.db"
	open := func() (*Engine, func()) {
		st, err := persistence.Open(persistence.Options{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		e, err := Open(Options{Store: st, Clock: func() time.Time { return time.UnixMilli(0) }})
		if err != nil {
			t.Fatal(err)
		}
		return e, func() { e.Close(); st.Close() }
	}
	e, closeFn := open()
	update(t, e, base, func(tx *Tx) error {
		tx.PutString(0, "a", "v", base+1234)
		tx.PutString(0, "b", "v", base+3_600_000)
		tx.PutString(0, "c", "v", 0)
		return nil
	})
	closeFn()
	e, closeFn = open()
	defer closeFn()
	_ = e.View(base, func(tx *Tx) error {
		if d, ok := tx.Deadline(0, "a"); !ok || d != base+1234 {
			t.Fatalf("deadline after restart %d %v", d, ok)
		}
		return nil
	})
	if n := e.expireBatchAt(base+1234, 100); n != 0 {
		t.Fatalf("expired %d at the deadline", n)
	}
	if n := e.expireBatchAt(base+1235, 100); n != 1 {
		t.Fatalf("expired %d after the deadline", n)
	}
	if n := e.expireBatchAt(base+3_600_001, 100); n != 1 {
		t.Fatalf("expired %d after the second deadline", n)
	}
	_ = e.View(base+3_600_001, func(tx *Tx) error {
		if got := tx.Keys(0, "*"); len(got) != 1 || got[0] != "c" {
			t.Fatalf("keys %v", got)
		}
		return nil
	})
}
