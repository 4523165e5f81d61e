package glob

import (
	"strings"
	"testing"
)

// refMatch is a line-by-line transliteration of Redis 7.0's
// stringmatchlen_impl (src/util.c), including its reliance on the NUL byte
// after the pattern and on C's signed char. It is the reference Match is
// fuzzed against.
func refMatch(pattern, str string, nocase bool) bool {
	skip := 0
	p := append([]byte(pattern), 0) // sds strings are NUL-terminated
	s := append([]byte(str), 0)
	return refImpl(p, 0, len(pattern), s, 0, len(str), nocase, &skip, 0)
}

func sc(b byte) int { return int(int8(b)) } // C char is signed on x86

func ctolower(c int) int {
	if c >= 'A' && c <= 'Z' {
		return c + 32
	}
	return c
}

func refImpl(pat []byte, pi, patternLen int, str []byte, si, stringLen int, nocase bool, skipLonger *int, nesting int) bool {
	if nesting > 1000 {
		return false
	}
	for patternLen != 0 && stringLen != 0 {
		switch pat[pi] {
		case '*':
			for patternLen != 0 && pat[pi+1] == '*' {
				pi++
				patternLen--
			}
			if patternLen == 1 {
				return true
			}
			for stringLen != 0 {
				if refImpl(pat, pi+1, patternLen-1, str, si, stringLen, nocase, skipLonger, nesting+1) {
					return true
				}
				if *skipLonger != 0 {
					return false
				}
				si++
				stringLen--
			}
			*skipLonger = 1
			return false
		case '?':
			si++
			stringLen--
		case '[':
			pi++
			patternLen--
			not := pat[pi] == '^'
			if not {
				pi++
				patternLen--
			}
			match := false
			for {
				if pat[pi] == '\\' && patternLen >= 2 {
					pi++
					patternLen--
					if pat[pi] == str[si] {
						match = true
					}
				} else if pat[pi] == ']' {
					break
				} else if patternLen == 0 {
					pi--
					patternLen++
					break
				} else if patternLen >= 3 && pat[pi+1] == '-' {
					start, end, c := sc(pat[pi]), sc(pat[pi+2]), sc(str[si])
					if start > end {
						start, end = end, start
					}
					if nocase {
						start, end, c = ctolower(start), ctolower(end), ctolower(c)
					}
					pi += 2
					patternLen -= 2
					if c >= start && c <= end {
						match = true
					}
				} else {
					if !nocase {
						if pat[pi] == str[si] {
							match = true
						}
					} else if ctolower(sc(pat[pi])) == ctolower(sc(str[si])) {
						match = true
					}
				}
				pi++
				patternLen--
			}
			if not {
				match = !match
			}
			if !match {
				return false
			}
			si++
			stringLen--
		case '\\':
			if patternLen >= 2 {
				pi++
				patternLen--
			}
			fallthrough
		default:
			if !nocase {
				if pat[pi] != str[si] {
					return false
				}
			} else if ctolower(sc(pat[pi])) != ctolower(sc(str[si])) {
				return false
			}
			si++
			stringLen--
		}
		pi++
		patternLen--
		if stringLen == 0 {
			for pat[pi] == '*' {
				pi++
				patternLen--
			}
			break
		}
	}
	return patternLen == 0 && stringLen == 0
}

func TestReferenceAgrees(t *testing.T) {
	for _, c := range []struct{ p, s string }{
		{"*", ""}, {"a*", "abc"}, {"h[a-b]llo", "hbllo"}, {"[a-\xff]", "\x90"}, {"[\xff-a]", "\xff"},
		{"[Z-a]", "q"}, {"[a-Z]", "_"}, {`[\]]`, "]"}, {"[", "a"}, {"a[", "a["}, {"[^", "x"}, {"\\", "\\"},
		{"*\x00*", "a\x00b"}, {"[a-", "-"}, {"[]", "]"}, {"[]]", "]"}, {"a\\", "a\\"}, {"**a*", "ba"},
	} {
		for _, fold := range []bool{false, true} {
			var got bool
			if fold {
				got = MatchFold(c.p, c.s)
			} else {
				got = Match(c.p, c.s)
			}
			if want := refMatch(c.p, c.s, fold); got != want {
				t.Errorf("Match(%q, %q, fold %v) = %v, Redis says %v", c.p, c.s, fold, got, want)
			}
		}
	}
}

// FuzzMatch: Match and MatchFold agree with Redis' stringmatchlen on every
// pattern and string, and stay bounded.
//
//	go test ./glob -run '^$' -fuzz FuzzMatch -fuzztime 3m
func FuzzMatch(f *testing.F) {
	for _, c := range []struct{ p, s string }{
		{"*", "abc"}, {"h?llo", "hello"}, {"h[^e]llo", "hallo"}, {`h\*llo`, "h*llo"}, {"[a-z]*", "Q"},
		{"a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaa"}, {"[\xff-a]", "\x90"}, {"[", ""}, {"*[a", "ba"},
	} {
		f.Add(c.p, c.s)
	}
	f.Fuzz(func(t *testing.T, p, s string) {
		if got, want := Match(p, s), refMatch(p, s, false); got != want {
			t.Fatalf("Match(%q, %q) = %v, Redis says %v", p, s, got, want)
		}
		if got, want := MatchFold(p, s), refMatch(p, s, true); got != want {
			t.Fatalf("MatchFold(%q, %q) = %v, Redis says %v", p, s, got, want)
		}
		if pre := Prefix(p); Match(p, s) && !strings.HasPrefix(s, pre) {
			t.Fatalf("Prefix(%q) = %q, but %q matches", p, pre, s)
		}
		if Literal(p) && Match(p, s) != (p == s) {
			t.Fatalf("Literal(%q) but Match(%q) = %v", p, s, Match(p, s))
		}
	})
}
