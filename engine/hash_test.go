package engine

import (
	"fmt"
	"testing"
)

// A change to one field rewrites only that field's item and the small
// record header, whatever the size of the hash.
func TestHashLayout(t *testing.T) {
	e := openTest(t, ":memory:")
	var before, after string
	_, err := e.Update(t0, func(tx *Tx) error {
		if _, err := tx.HSet(0, "h", []string{"a", "1", "b", "2"}, false); err != nil {
			return err
		}
		before = tx.Version(0, "h")
		if _, err := tx.HSet(0, "h", []string{"a", "1"}, false); err != nil {
			return err
		}
		after = tx.Version(0, "h")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if before == after {
		t.Fatal("HSET left the record's version unchanged: WATCH would miss it")
	}
	_ = e.View(t0, func(tx *Tx) error {
		r, ok := tx.Lookup(0, "h")
		if !ok || r.Type != TypeHash || len(r.Payload) != compPayloadLen {
			t.Fatalf("record %+v", r)
		}
		if n, _ := compHeader(r.Payload); n != 2 {
			t.Fatalf("count %d", n)
		}
		return nil
	})
	// Deleting the key deletes every child.
	_, _ = e.Update(t0, func(tx *Tx) error { tx.Delete(0, "h"); return nil })
	_ = e.View(t0, func(tx *Tx) error {
		n := 0
		p := childPrefix(0, "h")
		tx.bt.AscendGreaterOrEqual("", p, func(k, _ string) bool {
			if len(k) >= len(p) && k[:len(p)] == p {
				n++
				return true
			}
			return false
		})
		if n != 0 {
			t.Fatalf("%d children left after DEL", n)
		}
		return nil
	})
}

func fillHash(b *testing.B, e *Engine, key string, n int) {
	const batch = 5000
	for i := 0; i < n; i += batch {
		pairs := make([]string, 0, 2*batch)
		for j := i; j < i+batch && j < n; j++ {
			pairs = append(pairs, fmt.Sprintf("field:%07d", j), "some value of a session attribute")
		}
		if _, err := e.Update(t0, func(tx *Tx) error { _, err := tx.HSet(0, key, pairs, false); return err }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHSet: setting one field of a hash of 10 and of 100,000 fields
// (go test -bench HSet ./engine). The cost must not grow with the hash.
func BenchmarkHSet(b *testing.B) {
	for _, size := range []int{10, 100_000} {
		b.Run(fmt.Sprintf("fields=%d", size), func(b *testing.B) {
			e := openTest(b, ":memory:")
			fillHash(b, e, "h", size)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				f := fmt.Sprintf("field:%07d", i%size)
				if _, err := e.Update(t0, func(tx *Tx) error {
					_, err := tx.HSet(0, "h", []string{f, "new value"}, false)
					return err
				}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkHGet(b *testing.B) {
	for _, size := range []int{10, 100_000} {
		b.Run(fmt.Sprintf("fields=%d", size), func(b *testing.B) {
			e := openTest(b, ":memory:")
			fillHash(b, e, "h", size)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				f := fmt.Sprintf("field:%07d", i%size)
				_ = e.View(t0, func(tx *Tx) error { _, _, err := tx.HGet(0, "h", f); return err })
			}
		})
	}
}
