package server

import (
	"testing"

	"github.com/sessiond/sessiond/config"
)

type addrConn struct{ remote, local string }

func (c addrConn) RemoteAddr() string     { return c.remote }
func (c addrConn) LocalAddr() string      { return c.local }
func (c addrConn) Close() error           { return nil }
func (c addrConn) Push(frame []byte) bool { return true }

// D5: with protected mode on and no password, only clients on this machine
// are served; a password or protected-mode no serves everyone. (The remote
// clients are made up: tests send traffic to loopback addresses only.)
func TestProtectedModeDecision(t *testing.T) {
	for _, tc := range []struct {
		protected, pass, remote string
		denied                  bool
	}{
		{"yes", "", "10.1.2.3:5000", true},
		{"yes", "", "[2001:db8::1]:5000", true},
		{"yes", "", "127.0.0.1:5000", false},
		{"yes", "", "127.8.9.10:5000", false},
		{"yes", "", "[::1]:5000", false},
		{"yes", "secret", "10.1.2.3:5000", false},
		{"no", "", "10.1.2.3:5000", false},
		{"yes", "", "not an address", true}, // fails closed
	} {
		cfg := config.Defaults()
		if err := cfg.Set("protected-mode", tc.protected); err != nil {
			t.Fatal(err)
		}
		if err := cfg.Set("requirepass", tc.pass); err != nil {
			t.Fatal(err)
		}
		if got := protectedModeDenies(cfg, nil, addrConn{tc.remote, "10.0.0.1:6379"}); got != tc.denied {
			t.Errorf("protected-mode %s, requirepass %q, client %s: denied %v, want %v", tc.protected, tc.pass, tc.remote, got, tc.denied)
		}
	}
	if cfg := config.Defaults(); !cfg.Bool("protected-mode") {
		t.Error("protected-mode is not on by default")
	}
}

// Protected mode asks the ACLs: a default user with a password, or off,
// counts as protected; requirepass is the default user's password.
func TestProtectedModeWithACL(t *testing.T) {
	cfg := config.Defaults()
	if err := cfg.Set("appendonly", "no"); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Set("dir", t.TempDir()); err != nil {
		t.Fatal(err)
	}
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d := s.Dispatcher()
	remote := addrConn{"10.1.2.3:5000", "10.0.0.1:6379"}
	cl, err := d.NewClient(addrConn{"127.0.0.1:5000", "127.0.0.1:6379"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Release(cl)
	for _, tc := range []struct {
		rules  []string
		denied bool
	}{
		{[]string{"ACL", "SETUSER", "default", "on", "nopass"}, true},
		{[]string{"ACL", "SETUSER", "default", "resetpass", ">pw"}, false},
		{[]string{"ACL", "SETUSER", "default", "nopass", "off"}, false},
		{[]string{"ACL", "SETUSER", "default", "on"}, true},
		{[]string{"CONFIG", "SET", "requirepass", "x"}, false},
	} {
		args := make([][]byte, len(tc.rules))
		for i, r := range tc.rules {
			args[i] = []byte(r)
		}
		cl.W.Reset()
		d.Exec(cl, args)
		if b := cl.W.Bytes(); string(b) != "+OK\r\n" {
			t.Fatalf("%v: %q", tc.rules, b)
		}
		if got := protectedModeDenies(cfg, d, remote); got != tc.denied {
			t.Errorf("after %v: denied %v, want %v", tc.rules, got, tc.denied)
		}
	}
}
