package engine

import (
	"math/big"
	"strings"
)

// INCRBYFLOAT and HINCRBYFLOAT compute in C's long double (x87 extended
// precision: a 64-bit mantissa) and print the result with "%.17Lf" minus
// trailing zeros. A big.Float at 64 bits of precision, rounding to nearest
// even, reproduces both the arithmetic and the text exactly, so results such
// as -9223372036854775808 + 13.5 = -9223372036854775794.5 match Redis digit
// for digit where float64 would not.

const ldPrec = 64

var (
	// ldMax is LDBL_MAX, (2 - 2^-63) * 2^16383.
	ldMax = func() *big.Float {
		m := new(big.Float).SetPrec(ldPrec).SetMantExp(big.NewFloat(1), 16384)
		ulp := new(big.Float).SetPrec(ldPrec).SetMantExp(big.NewFloat(1), 16384-64)
		return m.Sub(m, ulp)
	}()
	// ldTrueMin is the smallest positive (subnormal) long double, 2^-16445.
	ldTrueMin = new(big.Float).SetPrec(ldPrec).SetMantExp(big.NewFloat(1), -16445)
)

// maxLongDoubleChars is Redis' MAX_LONG_DOUBLE_CHARS.
const maxLongDoubleChars = 5 * 1024

// ParseLongDouble parses s as Redis' string2ld does (strtold on the whole
// string): decimal or hexadecimal ("0x1.8p3") floats and "inf"/"infinity",
// with no leading space, nothing left over, no NaN, and no overflow or
// underflow to zero. inf reports an infinite value (only valid as an increment
// that then fails).
func ParseLongDouble(s string) (f *big.Float, inf int, err error) {
	if len(s) == 0 || len(s) >= maxLongDoubleChars || !strtoldSyntax(s) {
		return nil, 0, ErrNotFloat
	}
	body := strings.TrimLeft(s, "+-")
	if lb := strings.ToLower(body); lb == "inf" || lb == "infinity" {
		if s[0] == '-' {
			return nil, -1, nil
		}
		return nil, 1, nil
	}
	hex := len(body) > 1 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X')
	if !mantissaNonZero(body, hex) {
		// Zero, whatever the exponent ("0e99999999999999999999" is 0 to
		// strtold; big.ParseFloat would call the exponent an overflow).
		z := new(big.Float).SetPrec(ldPrec)
		if s[0] == '-' {
			z.Neg(z)
		}
		return z, 0, nil
	}
	f, _, perr := big.ParseFloat(s, 0, ldPrec, big.ToNearestEven)
	if perr != nil {
		return nil, 0, ErrNotFloat
	}
	a := new(big.Float).Abs(f)
	if a.Cmp(ldMax) > 0 {
		return nil, 0, ErrNotFloat // ERANGE, HUGE_VAL
	}
	if a.Sign() == 0 || a.Cmp(ldTrueMin) < 0 {
		return nil, 0, ErrNotFloat // ERANGE: a non-zero value rounds to zero
	}
	return f, 0, nil
}

// strtoldSyntax reports whether strtold would consume all of s: optional
// sign, then inf/infinity, or a decimal float with optional exponent, or a
// hexadecimal float with optional binary exponent. (NaN is refused anyway.)
func strtoldSyntax(s string) bool {
	i := 0
	if s[0] == '+' || s[0] == '-' {
		i++
	}
	rest := strings.ToLower(s[i:])
	if rest == "inf" || rest == "infinity" {
		return true
	}
	digit := func(c byte, hex bool) bool {
		return c >= '0' && c <= '9' || hex && (c|0x20 >= 'a' && c|0x20 <= 'f')
	}
	hex := len(rest) > 2 && rest[0] == '0' && rest[1] == 'x' && (digit(rest[2], true) || rest[2] == '.' && len(rest) > 3 && digit(rest[3], true))
	j := 0
	if hex {
		j = 2
	}
	n := 0
	for j < len(rest) && digit(rest[j], hex) {
		j, n = j+1, n+1
	}
	if j < len(rest) && rest[j] == '.' {
		j++
		for j < len(rest) && digit(rest[j], hex) {
			j, n = j+1, n+1
		}
	}
	if n == 0 {
		return false
	}
	if j < len(rest) && (!hex && rest[j] == 'e' || hex && rest[j] == 'p') {
		j++
		if j < len(rest) && (rest[j] == '+' || rest[j] == '-') {
			j++
		}
		k := 0
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j, k = j+1, k+1
		}
		if k == 0 {
			return false // strtold would stop before the exponent letter
		}
	}
	return j == len(rest)
}

// FormatLongDouble prints f as Redis' ld2string in human mode: "%.17Lf"
// without trailing zeros (and "-0" as "0").
func FormatLongDouble(f *big.Float) string {
	s := f.Text('f', 17)
	if strings.IndexByte(s, '.') >= 0 {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// IncrLongDouble adds incr to cur (both as stored or sent: strings) the way
// INCRBYFLOAT does and returns the new value's text. cur "" means 0. It
// fails with ErrNotFloat when cur is not a number (the caller maps an
// unparsable incr before) and ErrNaN when the result is infinite.
func IncrLongDouble(cur, incr string) (string, error) {
	a := new(big.Float).SetPrec(ldPrec)
	if cur != "" {
		v, inf, err := ParseLongDouble(cur)
		if err != nil || inf != 0 {
			return "", ErrNotFloat
		}
		a = v
	}
	d, inf, err := ParseLongDouble(incr)
	if err != nil {
		return "", ErrNotFloat
	}
	if inf != 0 {
		return "", ErrNaN
	}
	sum := new(big.Float).SetPrec(ldPrec).SetMode(big.ToNearestEven).Add(a, d)
	if new(big.Float).Abs(sum).Cmp(ldMax) > 0 {
		return "", ErrNaN
	}
	return FormatLongDouble(sum), nil
}
