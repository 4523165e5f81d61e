package engine

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// hashFields returns HGETALL's fields of key.
func hashFields(t *testing.T, e *Engine, key string) []string {
	t.Helper()
	var fields []string
	_ = e.View(t0, func(tx *Tx) error {
		var err error
		fields, _, err = tx.HGetAll(0, key)
		return err
	})
	return fields
}

// A small hash lists its fields in insertion order, through updates,
// deletes, increments and a copy; past either limit it lists them in field
// order for good.
func TestHashInsertionOrder(t *testing.T) {
	e := openTest(t, ":memory:")
	e.SetHashListpackLimits(4, 8)
	update(t, e, t0, func(tx *Tx) error {
		_, err := tx.HSet(0, "h", []string{"z", "1", "b", "2", "m", "3"}, false)
		return err
	})
	if got := hashFields(t, e, "h"); !reflect.DeepEqual(got, []string{"z", "b", "m"}) {
		t.Fatalf("order %v", got)
	}
	update(t, e, t0, func(tx *Tx) error {
		if _, err := tx.HSet(0, "h", []string{"b", "changed"}, false); err != nil { // an update keeps its place
			return err
		}
		if _, err := tx.HDel(0, "h", []string{"z", "nope"}); err != nil {
			return err
		}
		if _, err := tx.HIncrBy(0, "h", "a", 5); err != nil {
			return err
		}
		_, err := tx.HIncrByFloat(0, "h", "c", 1.5)
		return err
	})
	if got := hashFields(t, e, "h"); !reflect.DeepEqual(got, []string{"b", "m", "a", "c"}) {
		t.Fatalf("order after changes %v", got)
	}
	// The whole hash from HRANDFIELD and HSCAN: the same order, one step.
	_ = e.View(t0, func(tx *Tx) error {
		fields, _, _ := tx.HRandField(0, "h", 10, rand.New(rand.NewPCG(1, 2)))
		if !reflect.DeepEqual(fields, []string{"b", "m", "a", "c"}) {
			t.Errorf("HRANDFIELD 10: %v", fields)
		}
		var scanned []string
		cur, _ := tx.HScan(0, "h", 0, 1, func(f, _ string) { scanned = append(scanned, f) })
		if cur != 0 || !reflect.DeepEqual(scanned, []string{"b", "m", "a", "c"}) {
			t.Errorf("HSCAN: cursor %d, %v", cur, scanned)
		}
		return nil
	})
	// DUMP/RESTORE keeps the order.
	update(t, e, t0, func(tx *Tx) error {
		d, _ := tx.Dump(0, "h")
		return tx.Restore(0, "copy", d, 0, false)
	})
	if got := hashFields(t, e, "copy"); !reflect.DeepEqual(got, []string{"b", "m", "a", "c"}) {
		t.Fatalf("restored order %v", got)
	}
	// A fifth field: large, field order, and it stays large when it shrinks.
	update(t, e, t0, func(tx *Tx) error {
		_, err := tx.HSet(0, "h", []string{"0", "x"}, false)
		return err
	})
	if got := hashFields(t, e, "h"); !reflect.DeepEqual(got, []string{"0", "a", "b", "c", "m"}) {
		t.Fatalf("large hash order %v", got)
	}
	update(t, e, t0, func(tx *Tx) error {
		_, err := tx.HDel(0, "h", []string{"0", "a"})
		return err
	})
	if got := hashFields(t, e, "h"); !reflect.DeepEqual(got, []string{"b", "c", "m"}) {
		t.Fatalf("shrunk large hash order %v", got)
	}
	// A long value makes a small hash large too; so does a long field.
	update(t, e, t0, func(tx *Tx) error {
		if _, err := tx.HSet(0, "v", []string{"y", "1", "x", strings.Repeat("v", 9)}, false); err != nil {
			return err
		}
		_, err := tx.HSet(0, "f", []string{"y", "1", strings.Repeat("f", 9), "1"}, false)
		return err
	})
	if got := hashFields(t, e, "v"); !reflect.DeepEqual(got, []string{"x", "y"}) {
		t.Fatalf("long value: order %v", got)
	}
	if got := hashFields(t, e, "f"); !reflect.DeepEqual(got, []string{strings.Repeat("f", 9), "y"}) {
		t.Fatalf("long field: order %v", got)
	}
	// Deleting the last field deletes the key and its order.
	update(t, e, t0, func(tx *Tx) error {
		_, err := tx.HDel(0, "copy", []string{"a", "b", "c", "m"})
		return err
	})
	_ = e.View(t0, func(tx *Tx) error {
		p := childPrefix(0, "copy")
		tx.bt.AscendGreaterOrEqual("", p, func(k, _ string) bool {
			if strings.HasPrefix(k, p) {
				t.Errorf("child %q left after the last HDEL", k)
			}
			return false
		})
		return nil
	})
}

// With entries 0 no hash keeps an order (every hash is large at once).
func TestHashOrderOff(t *testing.T) {
	e := openTest(t, ":memory:")
	e.SetHashListpackLimits(0, 64)
	update(t, e, t0, func(tx *Tx) error {
		_, err := tx.HSet(0, "h", []string{"b", "1", "a", "2"}, false)
		return err
	})
	if got := hashFields(t, e, "h"); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Fatalf("order %v", got)
	}
}

// BenchmarkHSetSmall builds 100-field hashes one field per HSET: the cost
// the insertion order adds to small hashes.
func BenchmarkHSetSmall(b *testing.B) {
	e := openTest(b, ":memory:")
	for i := 0; i < b.N; i++ {
		key := fmt.Sprint("h", i/100)
		if _, err := e.Update(t0, func(tx *Tx) error {
			_, err := tx.HSet(0, key, []string{fmt.Sprint("field", i%100), "value"}, false)
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
}
