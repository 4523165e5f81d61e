package server_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/config"
	"github.com/sessiond/sessiond/internal/testcerts"
	"github.com/sessiond/sessiond/internal/testserver"
	"github.com/sessiond/sessiond/server"
)

func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	ca := testcerts.NewAuthority(t, "test CA")
	leaf := ca.Sign(t, "127.0.0.1", []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, net.ParseIP("127.0.0.1"))
	certFile, keyFile = leaf.Write(t, dir, "server")
	return certFile, keyFile, ca.Pool()
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// With tls-port set, the server also serves RESP over TLS; both listeners
// share the same data.
func TestTLSListener(t *testing.T) {
	s, port, pool := startTLS(t)
	ctx := context.Background()
	if err := s.Client(2).Set(ctx, "k", "plain", 0).Err(); err != nil {
		t.Fatal(err)
	}
	for _, proto := range []int{2, 3} {
		c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port), Protocol: proto,
			TLSConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}})
		v, err := c.Get(ctx, "k").Result()
		c.Close()
		if err != nil || v != "plain" {
			t.Fatalf("RESP%d over TLS: GET k = %q, %v", proto, v, err)
		}
	}
	// A plaintext client on the TLS port gets nothing useful and does not harm the server.
	nc, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	nc.Write([]byte("PING\r\n"))
	nc.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 64)
	n, _ := nc.Read(buf)
	nc.Close()
	if string(buf[:n]) == "+PONG\r\n" {
		t.Fatal("plaintext PING answered on the TLS port")
	}
	if err := s.Client(2).Ping(ctx).Err(); err != nil {
		t.Fatalf("server unhealthy after a plaintext client on the TLS port: %v", err)
	}
}

// clientCert makes a CA and a client certificate it signs, and returns the
// CA's PEM file and the client's key pair.
func clientCert(t *testing.T, dir string) (caFile string, pair tls.Certificate) {
	t.Helper()
	ca := testcerts.NewAuthority(t, "client CA")
	leaf := ca.Sign(t, "app", []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth})
	return ca.WriteCA(t, dir, "ca.pem"), leaf.Pair
}

// D7: tls-auth-clients yes (the default, as Redis) serves only clients with
// a certificate signed by tls-ca-cert-file; optional also serves clients
// without one; yes or optional without a CA file refuses to start.
func TestTLSClientCertificates(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	caFile, pair := clientCert(t, dir)
	ctx := context.Background()
	ping := func(port int, certs []tls.Certificate) error {
		c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port), Protocol: 2, MaxRetries: -1,
			DialTimeout: 2 * time.Second, ReadTimeout: 2 * time.Second,
			TLSConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", Certificates: certs}})
		defer c.Close()
		return c.Ping(ctx).Err()
	}
	for _, tc := range []struct {
		mode            string
		withCert, plain bool // served with a client certificate, without one
	}{
		{"yes", true, false},
		{"optional", true, true},
		{"no", true, true},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			port := freePort(t)
			testserver.Start(t, "tls-port", strconv.Itoa(port), "tls-cert-file", certFile, "tls-key-file", keyFile,
				"tls-ca-cert-file", caFile, "tls-auth-clients", tc.mode)
			if err := ping(port, []tls.Certificate{pair}); (err == nil) != tc.withCert {
				t.Errorf("with a client certificate: %v", err)
			}
			if err := ping(port, nil); (err == nil) != tc.plain {
				t.Errorf("without a client certificate: err = %v, want served %v", err, tc.plain)
			}
		})
	}
	cfg := config.Defaults()
	for k, v := range map[string]string{"dir": dir, "port": "0", "appendonly": "no", "tls-port": strconv.Itoa(freePort(t)),
		"tls-cert-file": certFile, "tls-key-file": keyFile} {
		if err := cfg.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := server.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := srv.Listen(); err == nil || !strings.Contains(err.Error(), "tls-ca-cert-file") {
		t.Fatalf("tls-auth-clients yes without tls-ca-cert-file: Listen = %v", err)
	}
}

// D7: port 0 means no plain listener, as in Redis: with tls-port the server
// serves TLS only, and with neither it refuses to start.
func TestPortZeroMeansNoPlainListener(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	open := func(params map[string]string) *server.Server {
		t.Helper()
		cfg := config.Defaults()
		for k, v := range params {
			if err := cfg.Set(k, v); err != nil {
				t.Fatal(err)
			}
		}
		srv, err := server.Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return srv
	}
	srv := open(map[string]string{"dir": t.TempDir(), "port": "0", "appendonly": "no"})
	if err := srv.Listen(); err == nil || !strings.Contains(err.Error(), "not listen anywhere") {
		t.Fatalf("port 0 without tls-port: Listen = %v", err)
	}
	srv.Close()

	tlsPort := freePort(t)
	srv = open(map[string]string{"dir": t.TempDir(), "port": "0", "appendonly": "no", "tls-port": strconv.Itoa(tlsPort),
		"tls-cert-file": certFile, "tls-key-file": keyFile, "tls-auth-clients": "no"})
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	defer func() { cancel(); <-done }()
	if got := srv.Addr().String(); got != "127.0.0.1:"+strconv.Itoa(tlsPort) {
		t.Errorf("Addr = %s, want the TLS address", got)
	}
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(tlsPort), Protocol: 2, MaxRetries: -1,
		TLSConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}})
	defer c.Close()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("TLS with port 0: %v", err)
	}
}

// A client on the TLS port shows its memory in CLIENT LIST (the commands it
// queued in MULTI), and client eviction counts and disconnects it.
func TestTLSClientMemory(t *testing.T) {
	s, port, pool := startTLS(t)
	ctx := context.Background()
	admin := s.Client(2)
	admin.Do(ctx, "client", "no-evict", "on")
	for _, proto := range []int{2, 3} {
		c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port), Protocol: proto, MaxRetries: -1,
			TLSConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}})
		conn := c.Conn()
		name := "tls" + strconv.Itoa(proto)
		conn.Do(ctx, "client", "setname", name)
		conn.Do(ctx, "multi")
		conn.Do(ctx, "set", "k", strings.Repeat("x", 300000))
		var line string
		for _, l := range strings.Split(admin.ClientList(ctx).Val(), "\n") {
			if strings.Contains(l, " name="+name+" ") {
				line = l
			}
		}
		var multiMem, totMem int64
		for _, kv := range strings.Fields(line) {
			k, v, _ := strings.Cut(kv, "=")
			n, _ := strconv.ParseInt(v, 10, 64)
			switch k {
			case "multi-mem":
				multiMem = n
			case "tot-mem":
				totMem = n
			}
		}
		if multiMem < 300000 || totMem < multiMem {
			t.Errorf("RESP%d over TLS: multi-mem=%d tot-mem=%d with a 300000-byte SET queued (%q)", proto, multiMem, totMem, line)
		}
		// Over maxmemory-clients, the TLS client is the largest: evicted.
		if err := admin.ConfigSet(ctx, "maxmemory-clients", "200000").Err(); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(admin.ClientList(ctx).Val(), " name="+name+" ") {
			t.Errorf("RESP%d over TLS: the client over maxmemory-clients is still listed", proto)
		}
		if err := conn.Do(ctx, "ping").Err(); err == nil {
			t.Errorf("RESP%d over TLS: the evicted client still answers", proto)
		}
		admin.ConfigSet(ctx, "maxmemory-clients", "0")
		conn.Close()
		c.Close()
	}
}

// startTLS starts a server with a TLS port (self-signed, no client
// certificates) beside its plain one; it returns the TLS port and the CA.
func startTLS(t *testing.T) (*testserver.Server, int, *x509.CertPool) {
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	port := freePort(t)
	s := testserver.Start(t, "tls-port", strconv.Itoa(port), "tls-cert-file", certFile, "tls-key-file", keyFile, "tls-auth-clients", "no")
	return s, port, pool
}
