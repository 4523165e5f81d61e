package engine

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseRedisInt: ParseRedisInt accepts exactly the canonical decimal
// form of an int64 (what strconv.FormatInt prints), as Redis' string2ll.
//
//	go test ./engine -run '^$' -fuzz FuzzParseRedisInt -fuzztime 3m
func FuzzParseRedisInt(f *testing.F) {
	for _, s := range []string{"0", "-0", "00", "1", "-1", "+1", " 1", "1 ", "9223372036854775807", "9223372036854775808",
		"-9223372036854775808", "-9223372036854775809", "18446744073709551616", "1e3", "", "-", "01", "1\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseRedisInt(s)
		n, perr := strconv.ParseInt(s, 10, 64)
		want := perr == nil && strconv.FormatInt(n, 10) == s
		if (err == nil) != want || want && got != n {
			t.Fatalf("ParseRedisInt(%q) = %d, %v; canonical int64: %v (%d)", s, got, err, want, n)
		}
	})
}

// FuzzParseRedisFloat: whatever ParseRedisFloat accepts, strconv reads as
// the same float64 (after the hex exponent strtod lets one omit); it never
// accepts spaces, underscores, NaN or a non-zero value that underflows; and
// every float64 it prints with strconv it reads back exactly.
//
//	go test ./engine -run '^$' -fuzz FuzzParseRedisFloat -fuzztime 3m
func FuzzParseRedisFloat(f *testing.F) {
	for _, s := range []string{"1", "1.5", "-1.5e10", "1.754E12", "+inf", "-inf", "Infinity", "nan", " 1", "1 ", "1_0",
		"0x10", "0x1.8p3", "0x", "1e", "1e-400", "1e400", ".5", "5.", ".", "-.e1", "4e-324", "0e-999", "(1.5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseRedisFloat(s)
		if err != nil {
			return
		}
		if math.IsNaN(got) || strings.ContainsAny(s, " \t\n\r\v\f_") {
			t.Fatalf("ParseRedisFloat(%q) accepted %v", s, got)
		}
		t2 := s
		low := strings.ToLower(strings.TrimLeft(s, "+-"))
		if strings.HasPrefix(low, "0x") && !strings.Contains(low, "p") {
			t2 += "p0"
		}
		want, perr := strconv.ParseFloat(t2, 64)
		if perr != nil || math.Float64bits(want) != math.Float64bits(got) {
			t.Fatalf("ParseRedisFloat(%q) = %v, strconv says %v %v", s, got, want, perr)
		}
		if back, err := ParseRedisFloat(strconv.FormatFloat(got, 'g', -1, 64)); !math.IsInf(got, 0) && (err != nil || back != got) {
			t.Fatalf("%v does not round-trip: %v %v", got, back, err)
		}
	})
}
