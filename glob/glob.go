// Package glob matches strings against Redis-style glob patterns: * ? [abc]
// [^a] [a-z] and backslash escapes, with the semantics of Redis' stringmatchlen.
package glob

// Match reports whether s matches pattern. It is binary-safe and never
// allocates; its running time is bounded (Redis' nesting limit applies).
func Match(pattern, s string) bool {
	skipLongerMatches := false
	return match(pattern, s, false, &skipLongerMatches, 0)
}

// MatchFold is Match ignoring ASCII case.
func MatchFold(pattern, s string) bool {
	skipLongerMatches := false
	return match(pattern, s, true, &skipLongerMatches, 0)
}

func lower(c byte, fold bool) byte {
	if fold && c >= 'A' && c <= 'Z' {
		return c + 32
	}
	return c
}

func match(p, s string, fold bool, skipLonger *bool, nesting int) bool {
	if nesting > 1000 {
		return false
	}
	for len(p) > 0 && len(s) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 1 && p[1] == '*' {
				p = p[1:]
			}
			if len(p) == 1 {
				return true
			}
			for len(s) > 0 {
				if match(p[1:], s, fold, skipLonger, nesting+1) {
					return true
				}
				if *skipLonger {
					return false
				}
				s = s[1:]
			}
			*skipLonger = true
			return false
		case '?':
			s = s[1:]
		case '[':
			p = p[1:]
			not := len(p) > 0 && p[0] == '^'
			if not {
				p = p[1:]
			}
			matched := false
			for {
				if len(p) == 0 {
					break
				}
				if p[0] == '\\' && len(p) >= 2 {
					p = p[1:]
					if p[0] == s[0] {
						matched = true
					}
				} else if p[0] == ']' {
					break
				} else if len(p) >= 3 && p[1] == '-' {
					// As in C: chars are signed, the bounds are ordered
					// before they are folded.
					start, end, c := int8(p[0]), int8(p[2]), int8(s[0])
					if start > end {
						start, end = end, start
					}
					if fold {
						start, end, c = int8(lower(byte(start), true)), int8(lower(byte(end), true)), int8(lower(byte(c), true))
					}
					p = p[2:]
					if c >= start && c <= end {
						matched = true
					}
				} else if lower(p[0], fold) == lower(s[0], fold) {
					matched = true
				}
				p = p[1:]
			}
			if len(p) == 0 {
				// Unterminated class: Redis treats the end as the class end.
				p = "]"
			}
			if not {
				matched = !matched
			}
			if !matched {
				return false
			}
			s = s[1:]
		case '\\':
			if len(p) >= 2 {
				p = p[1:]
			}
			if lower(p[0], fold) != lower(s[0], fold) {
				return false
			}
			s = s[1:]
		default:
			if lower(p[0], fold) != lower(s[0], fold) {
				return false
			}
			s = s[1:]
		}
		p = p[1:]
		if len(s) == 0 {
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			break
		}
	}
	// As in Redis, trailing stars are skipped only after a character was
	// consumed: "*" does not match the empty string (callers treat a lone
	// "*" as "everything" before calling Match, as Redis' do).
	return len(p) == 0 && len(s) == 0
}

// Literal reports whether pattern has no special characters, and so matches
// only itself.
func Literal(pattern string) bool {
	for i := 0; i < len(pattern); i++ {
		switch pattern[i] {
		case '*', '?', '[', '\\':
			return false
		}
	}
	return true
}

// Prefix returns the literal prefix of pattern, before its first special character.
func Prefix(pattern string) string {
	for i := 0; i < len(pattern); i++ {
		switch pattern[i] {
		case '*', '?', '[', '\\':
			return pattern[:i]
		}
	}
	return pattern
}
