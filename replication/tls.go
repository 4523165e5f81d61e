package replication

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/hashicorp/raft"
)

// Between the nodes of a group, TLS (Redis' tls-replication) carries both
// raft's transport and the forwarding of writes to the leader's RESP port.
// Every node presents its certificate and checks the other's against the
// group's CA certificates, both ways: a peer is a member because the CA
// signed its certificate. Host names are not checked (as Redis does not for
// its replication links): nodes are reached at the addresses of raft-peers
// and announce-ip, which certificates need not name.

// TLSConfig is what a node needs for TLS between nodes.
type TLSConfig struct {
	Cert tls.Certificate // this node's, presented as server and as client
	CAs  *x509.CertPool  // what a peer's certificate must chain to
}

// server is the configuration of the raft listener: a client certificate
// signed by the CA is required.
func (c *TLSConfig) server() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{c.Cert}, ClientCAs: c.CAs,
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}
}

// Client is the configuration a node dials a peer with (raft, forwarding).
func (c *TLSConfig) Client() *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{c.Cert},
		MinVersion:   tls.VersionTLS12,
		// The chain is verified below, against the group's CA, without a
		// host name.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("tls: the peer presented no certificate")
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: c.CAs, Intermediates: inter,
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
			if err != nil {
				return fmt.Errorf("tls: peer certificate: %w", err)
			}
			return nil
		},
	}
}

// tlsStream is raft's stream layer over TLS.
type tlsStream struct {
	net.Listener
	advertise net.Addr
	client    *tls.Config
}

func newTLSStream(bind string, advertise net.Addr, c *TLSConfig) (*tlsStream, error) {
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, err
	}
	return &tlsStream{Listener: tls.NewListener(ln, c.server()), advertise: advertise, client: c.Client()}, nil
}

// Dial implements raft.StreamLayer.
func (s *tlsStream) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: timeout}, Config: s.client}
	return d.Dial("tcp", string(addr))
}

// Addr implements raft.StreamLayer: the address peers reach this node at.
func (s *tlsStream) Addr() net.Addr { return s.advertise }
