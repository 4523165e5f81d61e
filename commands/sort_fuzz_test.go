//go:build cgo

package commands

import (
	"math"
	"strings"
	"testing"

	"github.com/sessiond/sessiond/internal/credis"
)

// FuzzSortWeightVsRedis compares SORT's numeric weight parser with C's
// strtod as sort.c uses it (internal/credis):
//
//	go test ./commands -run '^$' -fuzz FuzzSortWeightVsRedis -fuzztime 2m
func FuzzSortWeightVsRedis(f *testing.F) {
	for _, s := range []string{"", " ", "1", " 1", "1 ", "-1.5", "+-1", "1e400", "1e-400", "4e-324", "0e-999", "0x10", "0x1p3",
		"0X.8", "inf", "-Infinity", "nan", "1_0", "0x1_0", ".", "5.", ".5e", "0x", "\t\n2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.IndexByte(s, 0) >= 0 {
			return // C stops at NUL; Redis' strings may hold one (a known difference)
		}
		got, ok := strtod(s)
		want, wantOK := credis.SortWeight(s)
		if ok != wantOK || ok && got != want && !(math.IsInf(got, 0) && got == want) {
			t.Fatalf("strtod(%q) = %v, %v; C: %v, %v", s, got, ok, want, wantOK)
		}
	})
}
