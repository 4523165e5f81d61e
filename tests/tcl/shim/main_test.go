package main

import (
	"strings"
	"testing"

	"github.com/sessiond/sessiond/config"
)

// The shim comments out what sessiond would refuse, so the suite's servers
// start: unknown parameters, bad values, and values refused at startup.
func TestRefusal(t *testing.T) {
	for _, tc := range []struct {
		name, value, want string // want: "" accepted, else a word of the reason
	}{
		{"port", "6390", ""},
		{"appendfsync", "everysec", ""},
		{"user", "alice on >pw ~* +@all", ""},
		{"pidfile", "/var/run/redis.pid", "no such parameter"},
		{"appendfsync", "sometimes", "one of"},
		{"unixsocket", "/tmp/redis.sock", "TCP only"},
		{"daemonize", "yes", "foreground"},
	} {
		got := refusal(config.Defaults(), tc.name, tc.value)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("refusal(%s %s) = %q, want %q", tc.name, tc.value, got, tc.want)
		}
	}
}
