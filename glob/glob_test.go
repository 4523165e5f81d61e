package glob

import "testing"

func TestMatch(t *testing.T) {
	cases := []struct {
		p, s string
		want bool
	}{
		{"*", "", false}, // as Redis' stringmatchlen; KEYS/SCAN treat "*" as all before matching
		{"*", "abc", true},
		{"a*", "abc", true},
		{"a*c", "abc", true},
		{"a*d", "abc", false},
		{"h?llo", "hello", true},
		{"h?llo", "hllo", false},
		{"h[ae]llo", "hallo", true},
		{"h[ae]llo", "hillo", false},
		{"h[^e]llo", "hallo", true},
		{"h[^e]llo", "hello", false},
		{"h[a-b]llo", "hbllo", true},
		{"h[a-b]llo", "hcllo", false},
		{`h\*llo`, "h*llo", true},
		{`h\*llo`, "hello", false},
		{"foo*", "foo", true},
		{"*bar", "foobar", true},
		{"*bar", "foobaz", false},
		{"sess:*", "sess:abc", true},
		{"a[", "a[", false},
		{"**a", "a", true},
	}
	for _, c := range cases {
		if got := Match(c.p, c.s); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.p, c.s, got, c.want)
		}
	}
	if !MatchFold("MAXMEM*", "maxmemory") {
		t.Error("MatchFold is not case-insensitive")
	}
}

func TestPathologicalPatternIsBounded(t *testing.T) {
	p := "a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b"
	s := "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	if Match(p, s) {
		t.Fatal("matched")
	}
}
