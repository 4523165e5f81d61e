package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The file names the server writes inside dir are plain names, from the
// config file and flags at startup as from CONFIG SET.
func TestPlainFileNames(t *testing.T) {
	cases := []struct {
		param, value string
		wantErr      string // "" = accepted
	}{
		{"dbfilename", "dump.db", ""},
		{"dbfilename", "my dump.rdb", ""},
		{"dbfilename", ".hidden", ""},
		{"dbfilename", "..x", ""},
		{"dbfilename", "../x", "dbfilename can't be a path, just a filename"},
		{"dbfilename", "../evil/x.conf", "dbfilename can't be a path, just a filename"},
		{"dbfilename", "/etc/cron.d/x", "dbfilename can't be a path, just a filename"},
		{"dbfilename", "sub/x.db", "dbfilename can't be a path, just a filename"},
		{"dbfilename", "x/", "dbfilename can't be a path, just a filename"},
		{"dbfilename", `..\x`, "dbfilename can't be a path, just a filename"},
		{"dbfilename", ".", "dbfilename can't be a path, just a filename"},
		{"dbfilename", "..", "dbfilename can't be a path, just a filename"},
		{"dbfilename", "x\x00.db", "dbfilename can't be a path, just a filename"},
		{"dbfilename", "", "dbfilename can't be empty"},
		{"appendfilename", "sessiond.db", ""},
		{"appendfilename", "../sessiond.db", "appendfilename can't be a path, just a filename"},
		{"appendfilename", "/tmp/a.db", "appendfilename can't be a path, just a filename"},
		{"appendfilename", "..", "appendfilename can't be a path, just a filename"},
		{"appendfilename", "", "appendfilename can't be empty"},
	}
	for _, tc := range cases {
		c := Defaults()
		err := c.Set(tc.param, tc.value)
		if tc.wantErr == "" {
			if err != nil || c.Get(tc.param) != tc.value {
				t.Errorf("Set(%s, %q) = %v, value %q", tc.param, tc.value, err, c.Get(tc.param))
			}
			continue
		}
		if err == nil || err.Error() != tc.wantErr {
			t.Errorf("Set(%s, %q) = %v, want %q", tc.param, tc.value, err, tc.wantErr)
		}
		if v := c.Get(tc.param); v != c.Lookup(tc.param).Default {
			t.Errorf("refused Set(%s, %q) changed the value to %q", tc.param, tc.value, v)
		}
		// CONFIG SET validates the same way.
		if err := c.Validate(tc.param, tc.value); err == nil || err.Error() != tc.wantErr {
			t.Errorf("Validate(%s, %q) = %v, want %q", tc.param, tc.value, err, tc.wantErr)
		}
	}
}

// A config file that names a path for dbfilename does not start the server.
func TestConfigFileRefusesPathFileName(t *testing.T) {
	c := Defaults()
	err := c.Load(strings.NewReader("dir /var/lib/sessiond\ndbfilename ../../etc/cron.d/x\n"), "sessiond.conf")
	if err == nil || !strings.Contains(err.Error(), "sessiond.conf:2: dbfilename: dbfilename can't be a path, just a filename") {
		t.Fatalf("Load = %v", err)
	}
	if c.Get("dir") != "/var/lib/sessiond" {
		t.Fatalf("dir from the file = %q (the operator may set any dir)", c.Get("dir"))
	}
}

// MaySet applies Immutable, then Protected under each enable-protected-configs.
func TestMaySet(t *testing.T) {
	type want struct{ no, local, yes error }
	cases := []struct {
		param  string
		remote want // a client from another machine
		loc    want // a loopback or unix-socket client
	}{
		{"maxclients", want{nil, nil, nil}, want{nil, nil, nil}},
		{"dbfilename", want{ErrProtected, ErrProtected, nil}, want{ErrProtected, nil, nil}},
		{"DBFILENAME", want{ErrProtected, ErrProtected, nil}, want{ErrProtected, nil, nil}},
		{"dir", want{ErrProtected, ErrProtected, nil}, want{ErrProtected, nil, nil}},
		{"databases", want{ErrImmutable, ErrImmutable, ErrImmutable}, want{ErrImmutable, ErrImmutable, ErrImmutable}},
		// Protected and immutable: immutable wins, as in Redis.
		{"appendfilename", want{ErrImmutable, ErrImmutable, ErrImmutable}, want{ErrImmutable, ErrImmutable, ErrImmutable}},
		{"logfile", want{ErrImmutable, ErrImmutable, ErrImmutable}, want{ErrImmutable, ErrImmutable, ErrImmutable}},
		{"tls-cert-file", want{ErrImmutable, ErrImmutable, ErrImmutable}, want{ErrImmutable, ErrImmutable, ErrImmutable}},
		{"tls-key-file", want{ErrImmutable, ErrImmutable, ErrImmutable}, want{ErrImmutable, ErrImmutable, ErrImmutable}},
		{"unixsocket", want{ErrImmutable, ErrImmutable, ErrImmutable}, want{ErrImmutable, ErrImmutable, ErrImmutable}},
		{"enable-protected-configs", want{ErrImmutable, ErrImmutable, ErrImmutable}, want{ErrImmutable, ErrImmutable, ErrImmutable}},
		{"nosuch", want{ErrUnknown, ErrUnknown, ErrUnknown}, want{ErrUnknown, ErrUnknown, ErrUnknown}},
	}
	for _, mode := range []string{"no", "local", "yes"} {
		c := Defaults()
		if err := c.Set("enable-protected-configs", mode); err != nil {
			t.Fatal(err)
		}
		for _, tc := range cases {
			for _, local := range []bool{false, true} {
				w := tc.remote
				if local {
					w = tc.loc
				}
				exp := map[string]error{"no": w.no, "local": w.local, "yes": w.yes}[mode]
				if got := c.MaySet(tc.param, local); got != exp {
					t.Errorf("enable-protected-configs %s, local %v: MaySet(%s) = %v, want %v", mode, local, tc.param, got, exp)
				}
			}
		}
	}
	if got := Defaults().Get("enable-protected-configs"); got != "no" {
		t.Errorf("enable-protected-configs defaults to %q", got)
	}
	if err := Defaults().Set("enable-protected-configs", "sometimes"); err == nil {
		t.Error("enable-protected-configs sometimes accepted")
	}
	if ErrProtected.Error() != "can't set protected config" || ErrImmutable.Error() != "can't set immutable config" {
		t.Error("refusals are not in Redis' words")
	}
}

// A dir set at run time must be an existing directory (Redis chdir()s to it).
func TestDirLive(t *testing.T) {
	tmp := t.TempDir()
	file := filepath.Join(tmp, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ value, wantErr string }{
		{tmp, ""},
		{".", ""},
		{filepath.Join(tmp, "missing"), "No such file or directory"},
		{file, "Not a directory"},
	}
	c := Defaults()
	for _, tc := range cases {
		err := c.Validate("dir", tc.value)
		if (tc.wantErr == "" && err != nil) || (tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr)) {
			t.Errorf("Validate(dir, %q) = %v, want %q", tc.value, err, tc.wantErr)
		}
	}
	// At startup a missing dir is fine: opening the data file creates it.
	if err := c.Set("dir", filepath.Join(tmp, "missing")); err != nil {
		t.Errorf("startup dir: %v", err)
	}
}
