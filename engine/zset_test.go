package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

func TestSortableOrder(t *testing.T) {
	vals := []float64{math.Inf(-1), -1e300, -2.5, -1, -math.SmallestNonzeroFloat64, 0, math.SmallestNonzeroFloat64, 1, 1.5, 1.754e12, 1e300, math.Inf(1)}
	for i := 1; i < len(vals); i++ {
		a, b := sortable(vals[i-1]), sortable(vals[i])
		if string(a[:]) >= string(b[:]) {
			t.Fatalf("sortable(%g) >= sortable(%g)", vals[i-1], vals[i])
		}
		if got := unsortable(string(b[:])); got != vals[i] {
			t.Fatalf("round trip %g -> %g", vals[i], got)
		}
	}
	if a, b := sortable(math.Copysign(0, -1)), sortable(0); a != b {
		t.Fatal("-0 and 0 sort apart")
	}
}

// The score index orders like Redis (score, then member bytes), whatever
// the insertion order, and ranges by score and rank agree with a sort.
func TestZSetOrder(t *testing.T) {
	e := openTest(t, ":memory:")
	rnd := rand.New(rand.NewPCG(1, 2))
	var items []ScoreMember
	seen := map[string]bool{}
	for len(items) < 500 {
		m := fmt.Sprint(rnd.IntN(100000))
		if seen[m] {
			continue
		}
		seen[m] = true
		items = append(items, ScoreMember{m, float64(rnd.IntN(50)) - 25})
	}
	_, err := e.Update(t0, func(tx *Tx) error { _, err := tx.ZAdd(0, "z", ZAddOptions{}, items); return err })
	if err != nil {
		t.Fatal(err)
	}
	want := append([]ScoreMember(nil), items...)
	sort.Slice(want, func(i, j int) bool {
		if want[i].Score != want[j].Score {
			return want[i].Score < want[j].Score
		}
		return want[i].Member < want[j].Member
	})
	_ = e.View(t0, func(tx *Tx) error {
		got, _ := tx.ZRange(0, "z", ZRangeSpec{By: ByRank, Start: 0, Stop: -1})
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatal("rank order differs from (score, member) order")
		}
		rev, _ := tx.ZRange(0, "z", ZRangeSpec{By: ByScore, Rev: true, Score: ScoreRange{Min: -3, Max: 3, MinEx: true}, Count: -1})
		var exp []ScoreMember
		for i := len(want) - 1; i >= 0; i-- {
			if want[i].Score > -3 && want[i].Score <= 3 {
				exp = append(exp, want[i])
			}
		}
		if fmt.Sprint(rev) != fmt.Sprint(exp) {
			t.Fatalf("reverse score range: %d items, want %d", len(rev), len(exp))
		}
		for _, i := range []int{0, 17, 499} {
			r, _, ok, _ := tx.ZRank(0, "z", want[i].Member, false)
			if !ok || r != int64(i) {
				t.Fatalf("rank of %v = %d", want[i], r)
			}
		}
		return nil
	})
}

// BenchmarkZAdd: adding a member to a sorted set of 10 and of 100,000
// members, and reading a page of a score range from the large one.
func BenchmarkZAdd(b *testing.B) {
	for _, size := range []int{10, 100_000} {
		b.Run(fmt.Sprintf("members=%d", size), func(b *testing.B) {
			e := openTest(b, ":memory:")
			for i := 0; i < size; i += 5000 {
				var items []ScoreMember
				for j := i; j < i+5000 && j < size; j++ {
					items = append(items, ScoreMember{fmt.Sprintf("sess:%07d", j), 1.754e12 + float64(j)})
				}
				_, _ = e.Update(t0, func(tx *Tx) error { _, err := tx.ZAdd(0, "z", ZAddOptions{}, items); return err })
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				m := fmt.Sprintf("sess:%07d", i%size)
				if _, err := e.Update(t0, func(tx *Tx) error {
					_, err := tx.ZAdd(0, "z", ZAddOptions{}, []ScoreMember{{m, 1.8e12 + float64(i)}})
					return err
				}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkZRangeByScorePage(b *testing.B) {
	e := openTest(b, ":memory:")
	const size = 100_000
	for i := 0; i < size; i += 5000 {
		var items []ScoreMember
		for j := i; j < i+5000; j++ {
			items = append(items, ScoreMember{fmt.Sprintf("sess:%07d", j), 1.754e12 + float64(j)})
		}
		_, _ = e.Update(t0, func(tx *Tx) error { _, err := tx.ZAdd(0, "z", ZAddOptions{}, items); return err })
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		lo := 1.754e12 + float64(i%(size-100))
		_ = e.View(t0, func(tx *Tx) error {
			got, _ := tx.ZRange(0, "z", ZRangeSpec{By: ByScore, Score: ScoreRange{Min: lo, Max: math.Inf(1)}, Count: 100})
			if len(got) != 100 {
				b.Fatalf("page of %d", len(got))
			}
			return nil
		})
	}
}
