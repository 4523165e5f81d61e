package replication_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/sessiondbin"
	"github.com/sessiond/sessiond/internal/testcerts"
)

// groupCA is a CA and a certificate it signs for the nodes (server and
// client use, as tls-replication needs, naming no address), as PEM files.
type groupCA struct {
	caFile, certFile, keyFile string
	pair                      tls.Certificate
	pool                      *x509.CertPool
}

func newGroupCA(t *testing.T, dir, name string) groupCA {
	t.Helper()
	ca := testcerts.NewAuthority(t, name+" CA")
	leaf := ca.Sign(t, name+" node", []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth})
	c := groupCA{caFile: ca.WriteCA(t, dir, "ca.pem"), pair: leaf.Pair, pool: ca.Pool()}
	c.certFile, c.keyFile = leaf.Write(t, dir, "node")
	return c
}

// A group with tls-replication yes: raft's transport and forwarded writes
// go over TLS, both sides checked against the group's CA. A write sent to a
// follower reaches every node; the nodes announce their TLS ports; the raft
// port serves no one without a certificate of the CA.
func TestGroupOverTLS(t *testing.T) {
	ca := newGroupCA(t, filepath.Join(t.TempDir(), "ca"), "group")
	tlsPorts := map[int]int{}
	for i := 0; i < 3; i++ {
		tlsPorts[i] = sessiondbin.FreePort(t)
	}
	g := newGroupEach(t, 3, func(i int) []string {
		return []string{"--tls-replication", "yes", "--tls-port", strconv.Itoa(tlsPorts[i]),
			"--tls-cert-file", ca.certFile, "--tls-key-file", ca.keyFile, "--tls-ca-cert-file", ca.caFile}
	})
	l := g.waitLeader(-1)
	f := g.follower(l)

	for _, proto := range []int{2, 3} {
		// A client of the follower's TLS port, with a certificate of the CA
		// (tls-auth-clients yes).
		fc := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(tlsPorts[f]), Protocol: proto,
			TLSConfig: &tls.Config{Certificates: []tls.Certificate{ca.pair}, RootCAs: ca.pool, InsecureSkipVerify: true}})
		defer fc.Close()
		key := "tls:" + strconv.Itoa(proto)
		if err := fc.Set(ctx, key, "over tls", 0).Err(); err != nil {
			t.Fatalf("RESP%d: SET on a follower (forwarded over TLS): %v", proto, err)
		}
		for i := range g.nodes {
			if v := get[string](t)(g.client(i).Get(ctx, key).Result()); v != "over tls" {
				t.Fatalf("RESP%d: node %d: %s = %q", proto, i, key, v)
			}
		}
	}
	addr := get[[]string](t)(g.client(f).Do(ctx, "SENTINEL", "get-master-addr-by-name", "sessiond").StringSlice())
	if len(addr) != 2 || addr[1] != strconv.Itoa(tlsPorts[l]) {
		t.Fatalf("SENTINEL get-master-addr-by-name = %v, want the leader's TLS port %d", addr, tlsPorts[l])
	}

	for i := range g.nodes {
		if info := get[string](t)(g.client(i).Info(ctx, "raft").Result()); !strings.Contains(info, "transport:tls") {
			t.Fatalf("node %d: INFO raft does not say transport:tls:\n%s", i, info)
		}
	}

	raftAddr := g.nodes[l].raftAddr()
	// A certificate of the group's CA gets through the handshake.
	good, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", raftAddr,
		&tls.Config{Certificates: []tls.Certificate{ca.pair}, RootCAs: ca.pool, InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("handshake with the group's certificate: %v", err)
	}
	good.Close()
	// One of another CA does not, nor does a client without a certificate.
	rogue := newGroupCA(t, filepath.Join(t.TempDir(), "rogue"), "rogue")
	for name, cfg := range map[string]*tls.Config{
		"another CA's certificate": {Certificates: []tls.Certificate{rogue.pair}, InsecureSkipVerify: true},
		"no certificate":           {InsecureSkipVerify: true},
	} {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", raftAddr, cfg)
		if err == nil {
			// TLS 1.3: the server's verdict on the client's certificate
			// arrives with the first read.
			_ = c.SetDeadline(time.Now().Add(2 * time.Second))
			_, err = c.Write([]byte{0})
			if err == nil {
				_, err = c.Read(make([]byte, 1))
			}
			c.Close()
		}
		var ne net.Error
		if err == nil || errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("%s: the raft port accepted the connection (%v)", name, err)
		}
	}
	// Plain TCP gets nothing either, and the group goes on.
	if c, err := net.DialTimeout("tcp", raftAddr, time.Second); err == nil {
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		_, _ = c.Write([]byte("\x00\x01plaintext raft rpc"))
		if n, _ := c.Read(make([]byte, 64)); n > 0 {
			t.Fatal("the TLS raft port answered plaintext")
		}
		c.Close()
	}
	if err := g.client(l).Set(ctx, "after", "probes", 0).Err(); err != nil {
		t.Fatalf("SET after the probes: %v", err)
	}
	if v := get[string](t)(g.client(f).Get(ctx, "after").Result()); v != "probes" {
		t.Fatalf("follower after the probes: %q", v)
	}
}

// tls-replication without the files it needs refuses to start, saying so.
func TestGroupTLSNeedsCertificates(t *testing.T) {
	dir := t.TempDir()
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	outb, err := exec.CommandContext(cctx, sessiondbin.Path(t), "--port", strconv.Itoa(sessiondbin.FreePort(t)), "--dir", dir,
		"--raft-node-id", "n1", "--raft-bind", "127.0.0.1:"+strconv.Itoa(sessiondbin.FreePort(t)), "--tls-replication", "yes").CombinedOutput()
	out := string(outb)
	if err == nil || cctx.Err() != nil {
		t.Fatalf("started without certificates:\n%s", out)
	}
	if !strings.Contains(out, "tls-replication") || !strings.Contains(out, "tls-ca-cert-file") {
		t.Fatalf("the refusal does not say what is missing:\n%s", out)
	}
}
