package acl

import (
	"strings"
	"testing"
)

// FuzzSetUserRules feeds random rule lists to ACL SETUSER's parser. A rule
// list is refused or it builds a user; a built user's description must be a
// rule list that builds the same user again (ACL LIST / ACL SAVE round
// trip), and checking any command against it must not panic.
func FuzzSetUserRules(f *testing.F) {
	for _, seed := range []string{
		"on >pw ~app:* +@session",
		"+@all -config|set %R~r:* %W~w:* &news",
		"(~x +get) (%RW~y +set) clearselectors",
		"+select|0 +select|1 -select",
		"reset nopass allkeys allchannels allcommands",
		"#" + strings.Repeat("a", 64) + " !" + strings.Repeat("a", 64),
		"%RW %R~ %~x ( )",
		"(~a",
	} {
		f.Add(seed)
	}
	cat := testCatalog()
	f.Fuzz(func(t *testing.T, line string) {
		reg := NewRegistry(cat)
		_, u, err := reg.SetUser("f", strings.Fields(line))
		if err != nil {
			return
		}
		d := u.Describe(cat)
		words, err := MergeSelectorArgs(strings.Fields(d))
		if err != nil {
			t.Fatalf("%q: description %q does not merge: %v", line, d, err)
		}
		_, again, err := reg.SetUser("g", words)
		if err != nil {
			t.Fatalf("%q: description %q refused: %v", line, d, err)
		}
		if d2 := again.Describe(cat); d2 != d {
			t.Fatalf("%q: description %q rebuilt as %q", line, d, d2)
		}
		for _, cmd := range []string{"get", "set", "config|get", "select", "publish"} {
			r := &Request{Cmd: cat.Lookup(cmd), Args: args(cmd + " k v"), Keys: []KeyRef{{Pos: 1, Access: KeyRead}},
				Channels: []ChannelRef{{Pos: 2}}}
			u.Check(r)
		}
	})
}
