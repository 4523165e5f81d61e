package engine

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/sessiond/sessiond/persistence"
)

// Many goroutines writing through UpdateShared: every successful write is
// kept, a failing one reports its own error without affecting the others,
// and every successful write gets a durability ticket.
func TestUpdateSharedCombinesWithoutCrossTalk(t *testing.T) {
	st, err := persistence.Open(persistence.Options{Path: t.TempDir() + "/d.db", Fsync: persistence.FsyncNo})
	if err != nil {
		t.Fatal(err)
	}
	e, err := Open(Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { e.Close(); st.Close() }()
	errOdd := errors.New("odd")
	const workers, per = 32, 200
	var wg sync.WaitGroup
	failures := make([]int, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < per; i++ {
				key := fmt.Sprintf("w%d:%d", w, i)
				ticket, err := e.UpdateShared(1000, func(tx *Tx) error {
					if i%2 == 1 {
						return errOdd // fails before writing, as the contract requires
					}
					tx.PutString(0, key, "v", 0)
					return nil
				})
				switch {
				case i%2 == 1 && err != errOdd:
					t.Errorf("%s: err = %v, want errOdd", key, err)
				case i%2 == 0 && (err != nil || ticket == 0):
					t.Errorf("%s: err = %v, ticket = %d", key, err, ticket)
				}
				if err != nil {
					failures[w]++
				}
			}
		}(w)
	}
	wg.Wait()
	_ = e.View(1000, func(tx *Tx) error {
		if n := tx.DBSize(0); n != workers*per/2 {
			t.Errorf("dbsize = %d, want %d", n, workers*per/2)
		}
		return nil
	})
	if c := e.Stats().WriteCommits.Load(); c >= workers*per/2 {
		t.Logf("no combining happened (%d commits for %d writes); fine on an idle machine", c, workers*per/2)
	}
}

// A panic in one combined function rolls back only its writes: the panic
// reaches its own caller, the other callers' writes are kept, and the
// combiner keeps serving.
func TestUpdateSharedPanicIsolated(t *testing.T) {
	st, err := persistence.Open(persistence.Options{Path: ":memory:"})
	if err != nil {
		t.Fatal(err)
	}
	e, err := Open(Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { e.Close(); st.Close() }()
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				key := fmt.Sprintf("w%d:%d", w, i)
				bad := (w+i)%7 == 0
				func() {
					defer func() {
						if p := recover(); (p != nil) != bad {
							t.Errorf("%s: panic %v, expected panic %v", key, p, bad)
						}
					}()
					_, err := e.UpdateShared(1000, func(tx *Tx) error {
						tx.PutString(0, key, "v", 0)
						if bad {
							panic("boom")
						}
						return nil
					})
					if err != nil {
						t.Errorf("%s: %v", key, err)
					}
				}()
			}
		}(w)
	}
	wg.Wait()
	_ = e.View(1000, func(tx *Tx) error {
		for w := 0; w < 16; w++ {
			for i := 0; i < 100; i++ {
				key := fmt.Sprintf("w%d:%d", w, i)
				if got, want := tx.Exists(0, key), (w+i)%7 != 0; got != want {
					t.Errorf("%s exists = %v, want %v", key, got, want)
				}
			}
		}
		return nil
	})
}
