package engine

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// Random picks are uniform, including on sets too large to list in full.
func TestPickRandomUniform(t *testing.T) {
	e := openTest(t, ":memory:")
	const n = 3000
	members := make([]string, n)
	for i := range members {
		members[i] = fmt.Sprintf("m%05d", i)
	}
	_, _ = e.Update(t0, func(tx *Tx) error { _, err := tx.SAdd(0, "s", members); return err })
	rnd := rand.New(rand.NewPCG(3, 4))
	hits := make(map[string]int)
	const draws = 300
	_ = e.View(t0, func(tx *Tx) error {
		for i := 0; i < draws; i++ {
			got, _ := tx.SRandMember(0, "s", 100, rnd)
			if len(got) != 100 {
				t.Fatalf("%d picks", len(got))
			}
			uniq := map[string]bool{}
			for _, m := range got {
				if uniq[m] {
					t.Fatalf("distinct picks repeated %s", m)
				}
				uniq[m] = true
				hits[m]++
			}
		}
		return nil
	})
	// 30000 picks over 3000 members: 10 each on average; the first and the
	// last thousand must get about a third each.
	first, last := 0, 0
	for i := 0; i < 1000; i++ {
		first += hits[members[i]]
		last += hits[members[n-1-i]]
	}
	if first < 8500 || first > 11500 || last < 8500 || last > 11500 {
		t.Fatalf("skewed picks: first third %d, last third %d of 30000", first, last)
	}
}

func BenchmarkSAdd(b *testing.B) {
	for _, size := range []int{10, 100_000} {
		b.Run(fmt.Sprintf("members=%d", size), func(b *testing.B) {
			e := openTest(b, ":memory:")
			for i := 0; i < size; i += 5000 {
				var ms []string
				for j := i; j < i+5000 && j < size; j++ {
					ms = append(ms, fmt.Sprint("m", j))
				}
				_, _ = e.Update(t0, func(tx *Tx) error { _, err := tx.SAdd(0, "s", ms); return err })
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				m := fmt.Sprint("new", i)
				_, _ = e.Update(t0, func(tx *Tx) error { _, err := tx.SAdd(0, "s", []string{m}); return err })
			}
		})
	}
}
