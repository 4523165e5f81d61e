package commands

import "testing"

type addrConn struct {
	fakeConn
	remote, local string
}

func (c addrConn) RemoteAddr() string { return c.remote }
func (c addrConn) LocalAddr() string  { return c.local }

// enable-protected-configs local trusts loopback and unix-socket clients only.
func TestIsLocalClient(t *testing.T) {
	cases := []struct {
		remote, local string
		want          bool
	}{
		{"127.0.0.1:50000", "127.0.0.1:6379", true},
		{"127.8.9.10:50000", "127.0.0.1:6379", true},
		{"[::1]:50000", "[::1]:6379", true},
		{"[::ffff:127.0.0.1]:50000", "[::ffff:127.0.0.1]:6379", true},
		{"192.0.2.7:50000", "192.0.2.2:6379", false},
		{"10.0.0.1:50000", "127.0.0.1:6379", false},
		{"[2001:db8::1]:50000", "[2001:db8::2]:6379", false},
		{"[fe80::1%eth0]:50000", "[fe80::2%eth0]:6379", false},
		{"0.0.0.0:1", "0.0.0.0:6379", false},
		// unix sockets: Go's unnamed peer, Redis' "path:0", an abstract socket.
		{"", "/run/sessiond.sock", true},
		{"@", "/run/sessiond.sock", true},
		{"/run/sessiond.sock:0", "/run/sessiond.sock", true},
		{"", "@sessiond", true},
		// Unparsable TCP-looking peers fail closed.
		{"", "", false},
		{"localhost:1", "127.0.0.1:6379", false},
		{"garbage", "127.0.0.1:6379", false},
	}
	for _, tc := range cases {
		if got := IsLocalClient(addrConn{remote: tc.remote, local: tc.local}); got != tc.want {
			t.Errorf("IsLocalClient(remote %q, local %q) = %v, want %v", tc.remote, tc.local, got, tc.want)
		}
	}
	if IsLocalClient(nil) {
		t.Error("a client without a connection is local")
	}
}
