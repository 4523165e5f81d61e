//go:build cgo

package engine

import (
	"math"
	"testing"

	"github.com/sessiond/sessiond/internal/credis"
)

// These fuzz targets compare the Go parsers with Redis' own C code, built
// with cgo against the C library (internal/credis): string2ll, the strtod
// checks of getDoubleFromObject, string2ld, and INCRBYFLOAT's long double
// arithmetic printed by ld2string.
//
//	go test ./engine -run '^$' -fuzz FuzzIntVsRedis -fuzztime 3m
//	go test ./engine -run '^$' -fuzz FuzzFloatVsRedis -fuzztime 3m
//	go test ./engine -run '^$' -fuzz FuzzIncrByFloatVsRedis -fuzztime 3m

func FuzzIntVsRedis(f *testing.F) {
	for _, s := range []string{"0", "-0", "12", "-9223372036854775808", "9223372036854775808", "+1", "01", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseRedisInt(s)
		want, ok := credis.String2ll(s)
		if (err == nil) != ok || ok && got != want {
			t.Fatalf("ParseRedisInt(%q) = %d, %v; Redis: %d, %v", s, got, err, want, ok)
		}
	})
}

func FuzzFloatVsRedis(f *testing.F) {
	for _, s := range []string{"1", "1.5", "1.754E12", "+inf", "-Infinity", "nan", "nan(1)", " 1", "1 ", "1_0", "0x10", "0x1.8p3",
		"0x", "0x.p1", "0x.8", "1e", "1e-400", "4e-324", "2e-324", "1e400", "1e+", ".5", "5.", ".", "-.e1", "0e-999", "0x1p-1080", "\x001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseRedisFloat(s)
		want, ok := credis.String2d(s)
		if (err == nil) != ok || ok && math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("ParseRedisFloat(%q) = %v, %v; Redis: %v, %v", s, got, err, want, ok)
		}
		_, inf, lerr := ParseLongDouble(s)
		_ = inf
		if (lerr == nil) != credis.String2ld(s) {
			t.Fatalf("ParseLongDouble(%q): %v; Redis string2ld accepts: %v", s, lerr, credis.String2ld(s))
		}
	})
}

func FuzzIncrByFloatVsRedis(f *testing.F) {
	for _, c := range [][2]string{{"", "1.5"}, {"-9223372036854775808", "13.5"}, {"5016", "1e-3"}, {"1e4932", "1e4932"},
		{"0.1", "0.2"}, {"1", "+inf"}, {"abc", "1"}, {"1", "0x10"}, {"3e-4950", "0"}, {"-1", "1"}} {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, cur, incr string) {
		got, err := IncrLongDouble(cur, incr)
		want, st := credis.IncrByFloat(cur, cur != "", incr)
		switch {
		case st == 0 && (err != nil || got != want):
			t.Fatalf("INCRBYFLOAT %q by %q = %q, %v; Redis: %q", cur, incr, got, err, want)
		case st == 1 && err != ErrNotFloat:
			t.Fatalf("INCRBYFLOAT %q by %q = %q, %v; Redis: not a valid float", cur, incr, got, err)
		case st == 2 && err != ErrNaN:
			t.Fatalf("INCRBYFLOAT %q by %q = %q, %v; Redis: NaN or Infinity", cur, incr, got, err)
		}
	})
}
