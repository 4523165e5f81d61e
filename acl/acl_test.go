package acl

import (
	"errors"
	"strings"
	"testing"
)

// testCatalog is a small command table: get/set (string), lpush (list),
// config with get/set subcommands, select, publish.
func testCatalog() *Catalog {
	c := NewCatalog()
	c.Add("get", CatString|CatRead|CatFast, nil)
	c.Add("set", CatString|CatWrite|CatSlow, nil)
	c.Add("lpush", CatList|CatWrite|CatFast, nil)
	cfg := c.Add("config", CatSlow, nil)
	c.Add("get", CatAdmin|CatSlow|CatDangerous, cfg)
	c.Add("set", CatAdmin|CatSlow|CatDangerous, cfg)
	c.Add("select", CatConnection|CatFast, nil)
	c.Add("publish", CatPubSub|CatFast, nil)
	c.Add("sess.new", CatSession|CatWrite|CatFast, nil)
	return c
}

func args(s string) [][]byte {
	var out [][]byte
	for _, f := range strings.Fields(s) {
		out = append(out, []byte(f))
	}
	return out
}

func TestRuleErrors(t *testing.T) {
	reg := NewRegistry(testCatalog())
	cases := []struct {
		rules []string
		err   error
		text  string
	}{
		{[]string{"+nosuch"}, ErrUnknownCommand, "Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL"},
		{[]string{"+@nosuch"}, ErrUnknownCommand, ""},
		{[]string{"+config|nosuch"}, ErrUnknownCommand, ""},
		{[]string{"+config|get|x"}, ErrSubFirstArg, "Error in ACL SETUSER modifier '+config|get|x': Allowing first-arg of a subcommand is not supported"},
		{[]string{"+select|"}, ErrSyntax, ""},
		{[]string{"bogus"}, ErrSyntax, ""},
		{[]string{"%~x"}, ErrSyntax, ""},
		{[]string{"%X~x"}, ErrSyntax, ""},
		{[]string{"~a b"}, ErrSyntax, ""},
		{[]string{"allkeys", "~x"}, ErrKeysAfterAll, ""},
		{[]string{"allchannels", "&x"}, ErrChansAfterAll, ""},
		{[]string{"<nosuch"}, ErrNoSuchPassword, ""},
		{[]string{"#abc"}, ErrBadHash, ""},
		{[]string{"#" + strings.Repeat("A", 64)}, ErrBadHash, ""},
		{[]string{"(~x", "+get"}, nil, "Unmatched parenthesis in acl selector starting at '(~x'."},
		{[]string{"(+nosuch)"}, ErrUnknownCommand, ""},
	}
	for _, tc := range cases {
		_, _, err := reg.SetUser("u", tc.rules)
		if err == nil {
			t.Errorf("%v: accepted", tc.rules)
			continue
		}
		if tc.err != nil && !errors.Is(err, tc.err) {
			t.Errorf("%v: got %v, want %v", tc.rules, err, tc.err)
		}
		if tc.text != "" && err.Error() != tc.text {
			t.Errorf("%v: got %q, want %q", tc.rules, err.Error(), tc.text)
		}
		if reg.Lookup("u") != nil {
			t.Errorf("%v: a failed SETUSER created the user", tc.rules)
		}
	}
}

func TestDescribe(t *testing.T) {
	reg := NewRegistry(testCatalog())
	cases := []struct {
		rules []string
		want  string
	}{
		{nil, "off resetchannels -@all"},
		{[]string{"on", "nopass", "~*", "&*", "+@all"}, "on nopass ~* &* +@all"},
		{[]string{"on", ">p", "~app:*", "%R~ro:*", "%W~wo:*", "+@string", "-set"},
			// get is the whole of @read in this catalog: the best fit.
			"on #" + HashPassword("p") + " ~app:* %R~ro:* %W~wo:* resetchannels -@all +@read"},
		{[]string{"+@all", "-@string", "+get"}, "off resetchannels +@all -set"},
		{[]string{"+@all", "-config|set"}, "off resetchannels +@all -config|set"},
		{[]string{"-@all", "+config|get"}, "off resetchannels -@all +config|get"},
		{[]string{"+select|0", "+select|1"}, "off resetchannels -@all +select|0 +select|1"},
		{[]string{"+@all", "-@session"}, "off resetchannels +@all -@session"},
		{[]string{"+get", "(~x +set)"}, "off resetchannels -@all +@read (~x resetchannels -@all +set)"},
		{[]string{"%RW~k"}, "off ~k resetchannels -@all"},
		{[]string{"skip-sanitize-payload"}, "off skip-sanitize-payload resetchannels -@all"},
	}
	for i, tc := range cases {
		name := "d" + string(rune('a'+i))
		_, u, err := reg.SetUser(name, tc.rules)
		if err != nil {
			t.Fatalf("%v: %v", tc.rules, err)
		}
		got := u.Describe(reg.Catalog)
		if got != tc.want {
			t.Errorf("%v: got %q, want %q", tc.rules, got, tc.want)
		}
		// The description is a rule set that rebuilds the same user.
		words, _ := MergeSelectorArgs(strings.Fields(got))
		_, again, err := reg.SetUser(name+"2", words)
		if err != nil {
			t.Fatalf("%q does not parse back: %v", got, err)
		}
		if d := again.Describe(reg.Catalog); d != got {
			t.Errorf("round trip of %q gave %q", got, d)
		}
	}
}

func TestCheck(t *testing.T) {
	cat := testCatalog()
	reg := NewRegistry(cat)
	_, u, err := reg.SetUser("app", []string{"on", "nopass", "+get", "+set", "+lpush", "+publish", "+config|get", "+select|0",
		"~app:*", "%R~ro:*", "%W~wo:*", "&news", "(+get ~other:*)"})
	if err != nil {
		t.Fatal(err)
	}
	req := func(cmd, a string, access KeyAccess, keys ...int) *Request {
		r := &Request{Cmd: cat.Lookup(cmd), Args: args(a)}
		for _, k := range keys {
			r.Keys = append(r.Keys, KeyRef{Pos: k, Access: access})
		}
		return r
	}
	cases := []struct {
		name string
		r    *Request
		want Denial
		pos  int
	}{
		{"allowed key", req("get", "get app:1", KeyRead, 1), Allowed, 0},
		{"other key", req("get", "get x", KeyRead, 1), DeniedKey, 1},
		{"selector key", req("get", "get other:1", KeyRead, 1), Allowed, 0},
		{"selector lacks command", req("set", "set other:1 v", KeyWrite, 1), DeniedKey, 1},
		{"read pattern reads", req("get", "get ro:1", KeyRead, 1), Allowed, 0},
		{"read pattern refuses writes", req("set", "set ro:1 v", KeyWrite, 1), DeniedKey, 1},
		{"write pattern writes", req("lpush", "lpush wo:1 v", KeyWrite, 1), Allowed, 0},
		{"write pattern refuses reads", req("get", "get wo:1", KeyRead, 1), DeniedKey, 1},
		{"write pattern refuses read-write", req("set", "set wo:1 v", KeyRead|KeyWrite, 1), DeniedKey, 1},
		{"existence needs any pattern", req("get", "get wo:1", KeyNone, 1), Allowed, 0},
		{"command denied", req("config|set", "config set a b", 0), DeniedCmd, 0},
		{"subcommand allowed", req("config|get", "config get a", 0), Allowed, 0},
		{"first arg allowed", req("select", "select 0", 0), Allowed, 0},
		{"first arg denied", req("select", "select 1", 0), DeniedCmd, 0},
		{"no-auth command", &Request{Cmd: cat.Lookup("sess.new"), Args: args("sess.new"), NoAuth: true}, Allowed, 0},
	}
	for _, tc := range cases {
		got, pos := u.Check(tc.r)
		if got != tc.want || pos != tc.pos {
			t.Errorf("%s: got %v at %d, want %v at %d", tc.name, got, pos, tc.want, tc.pos)
		}
	}
	pub := func(ch string, pattern bool) *Request {
		return &Request{Cmd: cat.Lookup("publish"), Args: args("publish " + ch + " m"), Channels: []ChannelRef{{Pos: 1, Pattern: pattern}}}
	}
	if d, _ := u.Check(pub("news", false)); d != Allowed {
		t.Errorf("channel news: %v", d)
	}
	if d, pos := u.Check(pub("other", false)); d != DeniedChannel || pos != 1 {
		t.Errorf("channel other: %v %d", d, pos)
	}
	if u.Unrestricted() || !reg.Default().User().Unrestricted() {
		t.Errorf("unrestricted: app %v, default %v", u.Unrestricted(), reg.Default().User().Unrestricted())
	}
}

func TestAuthenticate(t *testing.T) {
	reg := NewRegistry(testCatalog())
	if _, _, err := reg.SetUser("a", []string{"on", ">one", ">two"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := reg.SetUser("off", []string{"off", "nopass"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		user, pass string
		ok         bool
	}{
		{"a", "one", true}, {"a", "two", true}, {"a", "three", false}, {"nosuch", "one", false},
		{"off", "", false}, {"default", "anything", true},
	} {
		if got := reg.Authenticate(tc.user, tc.pass) != nil; got != tc.ok {
			t.Errorf("%s/%s: got %v", tc.user, tc.pass, got)
		}
	}
	if _, _, err := reg.SetUser("a", []string{"<one"}); err != nil {
		t.Fatal(err)
	}
	if reg.Authenticate("a", "one") != nil || reg.Authenticate("a", "two") == nil {
		t.Error("<one did not remove only that password")
	}
}

func TestParseFile(t *testing.T) {
	reg := NewRegistry(testCatalog())
	users, err := reg.ParseFile("user alice on >a ~* +@all\n# comment\n\nuser bob on nopass +get ~b:*\n", "users.acl")
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 3 || users["default"] == nil || !users["default"].Unrestricted() {
		t.Fatalf("users: %v", users)
	}
	for text, want := range map[string]string{
		"user a on\nuser a off\n": "users.acl:2: Duplicate user 'a' found.",
		"nouser a\n":              "users.acl:1 should start with user keyword.",
		"user a +nosuch\n":        "users.acl:1: Unknown command or category name in ACL.",
	} {
		_, err := reg.ParseFile(text, "users.acl")
		if err == nil || err.Error() != want {
			t.Errorf("%q: got %v, want %q", text, err, want)
		}
	}
}

func TestLogGroups(t *testing.T) {
	var l Log
	now := timeAt(0)
	l.Add(LogEntry{Reason: "command", Context: "toplevel", Object: "get", Username: "u"}, now, 3)
	l.Add(LogEntry{Reason: "command", Context: "toplevel", Object: "get", Username: "u"}, timeAt(1), 3)
	if e := l.Entries(-1); len(e) != 1 || e[0].Count != 2 {
		t.Fatalf("repeat not grouped: %+v", e)
	}
	l.Add(LogEntry{Reason: "command", Context: "toplevel", Object: "get", Username: "u"}, timeAt(120), 3)
	for i := 0; i < 5; i++ {
		l.Add(LogEntry{Reason: "key", Object: string(rune('a' + i))}, timeAt(121), 3)
	}
	e := l.Entries(-1)
	if len(e) != 3 || e[0].Object != "e" {
		t.Fatalf("not trimmed to 3 newest: %+v", e)
	}
	if len(l.Entries(2)) != 2 {
		t.Error("Entries(2)")
	}
	l.Reset()
	if len(l.Entries(-1)) != 0 {
		t.Error("Reset")
	}
}
