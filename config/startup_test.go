package config

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestCheckStartupRefusesUnsupported(t *testing.T) {
	cases := []struct {
		set  map[string]string
		want string // "" = accepted
	}{
		{map[string]string{}, ""},
		{map[string]string{"unixsocket": "/tmp/s.sock"}, `unixsocket "/tmp/s.sock"`},
		{map[string]string{"daemonize": "yes"}, "daemonize yes"},
		{map[string]string{"bind": "127.0.0.1 ::1"}, "exactly one address"},
		{map[string]string{"daemonize": "yes", "unixsocket": "x"}, "unixsocket"},
	}
	for _, tc := range cases {
		c := Defaults()
		for k, v := range tc.set {
			if err := c.Set(k, v); err != nil {
				t.Fatal(err)
			}
		}
		err := c.CheckStartup()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v refused: %v", tc.set, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v: %v, want an error naming %q", tc.set, err, tc.want)
		}
	}
}

func TestExplainUnknown(t *testing.T) {
	c := Defaults()
	err := ExplainUnknown("cluster-enabled", c.Set("cluster-enabled", "yes"))
	if err == nil || !strings.Contains(err.Error(), "cluster-enabled is not supported: sessiond has no Redis Cluster mode") {
		t.Errorf("cluster-enabled: %v", err)
	}
	if err := ExplainUnknown("no-such-thing", c.Set("no-such-thing", "1")); err != ErrUnknown {
		t.Errorf("an unknown name stays ErrUnknown: %v", err)
	}
	dir := t.TempDir()
	path := dir + "/s.conf"
	if err := writeFile(path, "port 7000\nreplicaof 10.0.0.1 6379\n"); err != nil {
		t.Fatal(err)
	}
	if err := Defaults().LoadFile(path); err == nil || !strings.Contains(err.Error(), ":2: replicaof: replicaof is not supported") {
		t.Errorf("config file with replicaof: %v", err)
	}
}

func TestSaveRules(t *testing.T) {
	c := Defaults()
	if err := c.Set("save", "3600 1 300 100"); err != nil {
		t.Fatal(err)
	}
	rules, err := SaveRules(c.Get("save"))
	if err != nil || len(rules) != 2 || rules[1] != (SaveRule{300, 100}) {
		t.Errorf("rules: %v %v", rules, err)
	}
	for _, bad := range []string{"1", "1 x", "-1 5"} {
		if err := c.Set("save", bad); err == nil {
			t.Errorf("save %q accepted", bad)
		}
	}
	if err := c.Set("save", ""); err != nil {
		t.Errorf("save \"\": %v", err)
	}
}

// Every parameter is in --help with its default and a meaning.
func TestUsageListsEveryParameter(t *testing.T) {
	c := Defaults()
	var b bytes.Buffer
	c.Usage(&b)
	out := b.String()
	for _, name := range c.names {
		p := c.params[name]
		if p.Name != name {
			continue // an alias, shown beside its parameter
		}
		if p.Doc() == "" {
			t.Errorf("%s has no description for --help", name)
		}
		if !strings.Contains(out, "--"+name+" ") || !strings.Contains(out, p.Doc()) {
			t.Errorf("--help does not show %s", name)
		}
	}
	if !strings.Contains(out, "default 6379") || !strings.Contains(out, "(always|everysec|no)") {
		t.Errorf("--help lacks defaults:\n%s", out)
	}
}

func writeFile(path, text string) error { return os.WriteFile(path, []byte(text), 0o644) }
