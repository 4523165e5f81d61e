package engine

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// listModel is the reference for the middle edits: a plain slice with
// Redis' semantics written the obvious way.
type listModel []string

func (m listModel) insert(before bool, pivot, val string) (listModel, int64) {
	if len(m) == 0 {
		return m, 0
	}
	i := slices.Index(m, pivot)
	if i < 0 {
		return m, -1
	}
	if !before {
		i++
	}
	m = slices.Insert(m, i, val)
	return m, int64(len(m))
}

func (m listModel) rem(count int64, val string) (listModel, int64) {
	var out listModel
	removed := int64(0)
	limit := count
	if limit < 0 {
		limit = -limit
	}
	if count >= 0 {
		for _, v := range m {
			if v == val && (limit == 0 || removed < limit) {
				removed++
				continue
			}
			out = append(out, v)
		}
		return out, removed
	}
	for i := len(m) - 1; i >= 0; i-- {
		if m[i] == val && removed < limit {
			removed++
			continue
		}
		out = append(listModel{m[i]}, out...)
	}
	return out, removed
}

func (m listModel) trim(start, stop int64) listModel {
	n := int64(len(m))
	if start < 0 {
		start += n
	}
	if stop < 0 {
		stop += n
	}
	start = max(start, 0)
	if start > stop || start >= n {
		return nil
	}
	stop = min(stop, n-1)
	return append(listModel(nil), m[start:stop+1]...)
}

func (m listModel) pos(val string, rank, count, maxlen int64) []int64 {
	var out []int64
	matches := int64(0)
	n := int64(len(m))
	for j := int64(0); j < n && (maxlen == 0 || j < maxlen); j++ {
		i := j
		if rank < 0 {
			i = n - 1 - j
		}
		if m[i] != val {
			continue
		}
		matches++
		r := rank
		if r < 0 {
			r = -r
		}
		if matches >= r {
			out = append(out, i)
			if count > 0 && int64(len(out)) >= count {
				break
			}
		}
	}
	return out
}

// The middle edits agree with a slice model through random sequences mixed
// with pushes and pops at both ends (so head and tail numbers drift both
// ways), and an emptied list leaves no record and no children.
func TestListMiddleEdits(t *testing.T) {
	var now atomic.Int64
	now.Store(base)
	e := openClocked(t, &now)
	rnd := rand.New(rand.NewPCG(7, 8))
	var m listModel
	val := func() string { return fmt.Sprint("v", rnd.IntN(6)) }
	for step := 0; step < 3000; step++ {
		update(t, e, base, func(tx *Tx) error {
			op := rnd.IntN(9)
			switch op {
			case 0, 1:
				v := val()
				left := op == 0
				if _, err := tx.ListPush(0, "l", []string{v}, left, false); err != nil {
					t.Fatal(err)
				}
				if left {
					m = append(listModel{v}, m...)
				} else {
					m = append(m, v)
				}
			case 2:
				got, _, _ := tx.ListPop(0, "l", rnd.IntN(2) == 0, 1)
				_ = got
				// Keep the model in step by re-reading below.
				m = nil
				all, _ := tx.ListRange(0, "l", 0, -1)
				m = all
			case 3, 4:
				before, pivot, v := rnd.IntN(2) == 0, val(), fmt.Sprint("i", step)
				var want int64
				m, want = m.insert(before, pivot, v)
				got, err := tx.ListInsert(0, "l", before, pivot, v)
				if err != nil || got != want {
					t.Fatalf("step %d: LINSERT %v %s = %d, %v; want %d", step, before, pivot, got, err, want)
				}
			case 5:
				count, v := int64(rnd.IntN(5)-2), val()
				var want int64
				m, want = m.rem(count, v)
				got, err := tx.ListRem(0, "l", count, v)
				if err != nil || got != want {
					t.Fatalf("step %d: LREM %d %s = %d, %v; want %d", step, count, v, got, err, want)
				}
			case 6:
				if rnd.IntN(4) != 0 {
					return nil // trims shrink fast; keep lists long enough
				}
				start, stop := int64(rnd.IntN(7)-2), int64(rnd.IntN(40)-3)
				m = m.trim(start, stop)
				if err := tx.ListTrim(0, "l", start, stop); err != nil {
					t.Fatal(err)
				}
			case 7:
				rank := int64(rnd.IntN(3) + 1)
				if rnd.IntN(2) == 0 {
					rank = -rank
				}
				count, maxlen, v := int64(rnd.IntN(3)), int64(rnd.IntN(12)), val()
				want := m.pos(v, rank, count, maxlen)
				got, _, err := tx.ListPos(0, "l", v, rank, count, maxlen)
				if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("step %d: LPOS %s rank %d count %d maxlen %d = %v; want %v (list %v)", step, v, rank, count, maxlen, got, want, m)
				}
			case 8:
				fromLeft, toLeft := rnd.IntN(2) == 0, rnd.IntN(2) == 0
				v, ok, err := tx.ListMove(0, "l", "l", fromLeft, toLeft)
				if err != nil || ok != (len(m) > 0) {
					t.Fatalf("step %d: LMOVE l l: %v %v", step, ok, err)
				}
				if ok {
					if fromLeft {
						m = m[1:]
					} else {
						m = m[:len(m)-1]
					}
					if toLeft {
						m = append(listModel{v}, m...)
					} else {
						m = append(m, v)
					}
				}
			}
			got, _ := tx.ListRange(0, "l", 0, -1)
			if strings.Join(got, ",") != strings.Join(m, ",") {
				t.Fatalf("step %d op %d: list %v, model %v", step, op, got, m)
			}
			if n, _ := tx.ListLen(0, "l"); n != int64(len(m)) {
				t.Fatalf("step %d: LLEN %d, model %d", step, n, len(m))
			}
			if tx.Exists(0, "l") != (len(m) > 0) {
				t.Fatalf("step %d: exists %v with %d elements", step, tx.Exists(0, "l"), len(m))
			}
			return nil
		})
	}
	// Emptied by the edits themselves: nothing is left behind.
	update(t, e, base, func(tx *Tx) error {
		tx.ListPush(0, "x", []string{"a", "b", "a"}, false, false)
		if n, _ := tx.ListRem(0, "x", 0, "a"); n != 2 {
			t.Fatalf("LREM removed %d", n)
		}
		tx.ListTrim(0, "x", 1, 0)
		tx.ListPush(0, "y", []string{"a"}, false, false)
		tx.ListMove(0, "y", "z", true, true)
		return nil
	})
	_ = e.View(base, func(tx *Tx) error {
		for _, k := range []string{"x", "y"} {
			if tx.Exists(0, k) {
				t.Fatalf("%s still exists", k)
			}
			n := 0
			tx.bt.AscendGreaterOrEqual("", childPrefix(0, k), func(key, _ string) bool {
				if strings.HasPrefix(key, childPrefix(0, k)) {
					n++
				}
				return false
			})
			if n != 0 {
				t.Fatalf("children of %s left behind", k)
			}
		}
		if got, _ := tx.ListRange(0, "z", 0, -1); fmt.Sprint(got) != "[a]" {
			t.Fatalf("z = %v", got)
		}
		return nil
	})
}

// Missing keys and wrong types.
func TestListEditsMissingAndWrongType(t *testing.T) {
	var now atomic.Int64
	now.Store(base)
	e := openClocked(t, &now)
	update(t, e, base, func(tx *Tx) error {
		if n, err := tx.ListInsert(0, "none", true, "a", "b"); n != 0 || err != nil {
			t.Fatalf("LINSERT missing: %d %v", n, err)
		}
		if n, err := tx.ListRem(0, "none", 0, "a"); n != 0 || err != nil {
			t.Fatalf("LREM missing: %d %v", n, err)
		}
		if err := tx.ListTrim(0, "none", 0, 1); err != nil || tx.Exists(0, "none") {
			t.Fatalf("LTRIM missing: %v", err)
		}
		if _, ok, err := tx.ListPos(0, "none", "a", 1, 0, 0); ok || err != nil {
			t.Fatalf("LPOS missing: %v %v", ok, err)
		}
		if _, ok, err := tx.ListMove(0, "none", "d", true, true); ok || err != nil || tx.Exists(0, "d") {
			t.Fatalf("LMOVE missing: %v %v", ok, err)
		}
		tx.put(0, "s", TypeString, 0, "x")
		tx.ListPush(0, "l", []string{"a"}, false, false)
		if _, err := tx.ListInsert(0, "s", true, "a", "b"); err != ErrWrongType {
			t.Fatal("LINSERT on a string")
		}
		if _, _, err := tx.ListMove(0, "l", "s", true, true); err != ErrWrongType {
			t.Fatal("LMOVE to a string")
		}
		if got, _ := tx.ListRange(0, "l", 0, -1); fmt.Sprint(got) != "[a]" {
			t.Fatalf("LMOVE to a string changed the source: %v", got)
		}
		return nil
	})
}
