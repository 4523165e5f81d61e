package engine

import (
	"errors"
	"fmt"
	"math/rand"
	"sync/atomic"
	"testing"

	"github.com/sessiond/sessiond/persistence"
	"github.com/tidwall/buntdb"
)

// checkPoints asserts that the hash index holds exactly the tree's items,
// and that the memory estimate and the eviction candidate lists match them.
func checkPoints(t *testing.T, e *Engine) {
	t.Helper()
	_ = e.db.View(func(bt *buntdb.Tx) error {
		n, cands, vols := 0, 0, 0
		var used int64
		_ = bt.Ascend("", func(k, v string) bool {
			n++
			got, ok := e.points.m[k]
			if !ok || got.v != v {
				t.Fatalf("hash index has %q = %q (present %v), tree has %q", k, got.v, ok, v)
			}
			used += itemCost(k, v, evictable(k))
			if evictable(k) != (got.k != nil) {
				t.Fatalf("%q: candidate %v, has metadata %v", k, evictable(k), got.k != nil)
			}
			if got.k != nil {
				cands++
				if en := e.points.mem.all[got.k.all]; en.key != k || en != got.k {
					t.Fatalf("%q: candidate list slot %d holds %q", k, got.k.all, en.key)
				}
				if (deadlineOf(v) != 0) != (got.k.vol >= 0) {
					t.Fatalf("%q: deadline %d, volatile slot %d", k, deadlineOf(v), got.k.vol)
				}
				if got.k.vol >= 0 {
					vols++
					if en := e.points.mem.vol[got.k.vol]; en.key != k {
						t.Fatalf("%q: volatile list slot %d holds %q", k, got.k.vol, en.key)
					}
				}
			}
			return true
		})
		if n != len(e.points.m) {
			t.Fatalf("hash index has %d items, tree %d", len(e.points.m), n)
		}
		if used != e.points.used.Load() {
			t.Fatalf("memory estimate %d, items cost %d", e.points.used.Load(), used)
		}
		if cands != len(e.points.mem.all) || vols != len(e.points.mem.vol) {
			t.Fatalf("candidate lists hold %d/%d, index %d/%d", len(e.points.mem.all), len(e.points.mem.vol), cands, vols)
		}
		return nil
	})
}

// The hash index follows every write, and a transaction that fails (an
// error, a panic, FLUSHALL then an error) leaves it as it was.
func TestPointsFollowWritesAndRollbacks(t *testing.T) {
	var now atomic.Int64
	now.Store(base)
	e := openClocked(t, &now)
	rng := rand.New(rand.NewSource(1))
	errFail := errors.New("fail")
	for round := 0; round < 300; round++ {
		fail := rng.Intn(4) == 0
		flush := rng.Intn(40) == 0
		func() {
			defer func() { _ = recover() }()
			_, _ = e.Update(now.Load(), func(tx *Tx) error {
				for i := 0; i < 1+rng.Intn(8); i++ {
					db, key := rng.Intn(2), fmt.Sprint("k", rng.Intn(50))
					switch rng.Intn(4) {
					case 0, 1:
						if _, err := tx.Set(db, key, fmt.Sprint("v", round, i), SetOptions{}); err != nil {
							return err
						}
					case 2:
						tx.Delete(db, key)
					case 3:
						if _, err := tx.HSet(db, "h"+key, []string{"f", "x"}, false); err != nil && !errors.Is(err, ErrWrongType) {
							return err
						}
					}
				}
				if flush {
					tx.FlushAll()
				}
				if fail {
					if rng.Intn(2) == 0 {
						panic("boom")
					}
					return errFail
				}
				return nil
			})
		}()
		checkPoints(t, e)
	}
	// Reads go through the index.
	update(t, e, now.Load(), func(tx *Tx) error {
		_, err := tx.Set(0, "greeting", "hello", SetOptions{})
		return err
	})
	_ = e.View(now.Load(), func(tx *Tx) error {
		if v, ok, err := tx.GetString(0, "greeting"); err != nil || !ok || v != "hello" {
			t.Fatalf("GET greeting = %q %v %v", v, ok, err)
		}
		return nil
	})
}

// The index is rebuilt from the data file at Open.
func TestPointsLoadedAtOpen(t *testing.T) {
	path := t.TempDir() + "/d.db"
	st, err := persistence.Open(persistence.Options{Path: path, Fsync: persistence.FsyncNo})
	if err != nil {
		t.Fatal(err)
	}
	e, err := Open(Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		update(t, e, base, func(tx *Tx) error {
			_, err := tx.Set(0, fmt.Sprint("k", i), "v", SetOptions{})
			return err
		})
	}
	e.Close()
	st.Close()
	st, err = persistence.Open(persistence.Options{Path: path, Fsync: persistence.FsyncNo})
	if err != nil {
		t.Fatal(err)
	}
	e, err = Open(Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { e.Close(); st.Close() }()
	checkPoints(t, e)
	if len(e.points.m) < 100 {
		t.Fatalf("index has %d items after reopening, want at least 100", len(e.points.m))
	}
}
