package server

import (
	"crypto/tls"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sessiond/sessiond/replication"
)

// startGroup makes this server a node of a replicated group when
// raft-node-id is set (README "A replicated group"). The raft log and its
// snapshots under raft-dir are then the node's persistence: the data set is
// rebuilt from them at start, so the data file is not used.
func (s *Server) startGroup() error {
	id := s.cfg.Get("raft-node-id")
	if id == "" {
		return nil
	}
	bind := s.cfg.Get("raft-bind")
	if bind == "" {
		return fmt.Errorf("raft-node-id %q needs raft-bind host:port", id)
	}
	dir := s.cfg.Get("raft-dir")
	if dir == "" {
		dir = filepath.Join(s.cfg.Get("dir"), "raft")
	}
	var groupTLS *replication.TLSConfig
	if s.cfg.Bool("tls-replication") {
		var err error
		if groupTLS, err = s.groupTLS(); err != nil {
			return err
		}
	}
	s.disp.PrepareGroup()
	node, err := replication.Open(replication.Config{
		NodeID:    id,
		Bind:      bind,
		Peers:     s.cfg.Get("raft-peers"),
		Dir:       dir,
		Announce:  announceAddr(s),
		Password:  func() string { return s.cfg.Get("requirepass") },
		SyncLog:   s.cfg.Get("appendfsync") == "always",
		TLS:       groupTLS,
		LogOutput: os.Stderr,
		OnLeaderChange: func(isLeader bool, leaderID string) {
			s.disp.LeaderChanged(isLeader, leaderID)
		},
	}, s.disp)
	if err != nil {
		return err
	}
	s.disp.SetReplicator(node)
	s.node = node
	node.Start()
	log.Printf("raft: node %s of group %s, raft on %s, clients on %s, state in %s", id, s.cfg.Get("raft-group-name"), bind, node.Announce(), dir)
	return nil
}

// announceAddr is the RESP address other nodes and Sentinel answers give
// for this node: announce-ip/announce-port, else the bind address and port.
func announceAddr(s *Server) string {
	host := s.cfg.Get("announce-ip")
	if host == "" {
		host = strings.Fields(s.cfg.Get("bind") + " 127.0.0.1")[0]
		if host == "0.0.0.0" || host == "::" || host == "*" {
			host = "127.0.0.1"
		}
	}
	port := s.cfg.Int("announce-port")
	if port == 0 && s.cfg.Bool("tls-replication") {
		port = s.cfg.Int("tls-port")
	}
	if port == 0 {
		port = s.cfg.Int("port")
	}
	return net.JoinHostPort(host, strconv.FormatInt(port, 10))
}

// groupTLS loads what tls-replication needs: this node's certificate (the
// TLS port's) and the CA certificates peers' must chain to. Followers
// forward writes to the leader's TLS port, so one is required.
func (s *Server) groupTLS() (*replication.TLSConfig, error) {
	certFile, keyFile, caFile := s.cfg.Get("tls-cert-file"), s.cfg.Get("tls-key-file"), s.cfg.Get("tls-ca-cert-file")
	if certFile == "" || keyFile == "" || caFile == "" || s.cfg.Int("tls-port") == 0 {
		return nil, fmt.Errorf("tls-replication yes needs tls-port, tls-cert-file, tls-key-file and tls-ca-cert-file (the CA that signs every node's certificate)")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("tls-replication: load certificate: %w", err)
	}
	pool, err := loadCAs(caFile)
	if err != nil {
		return nil, fmt.Errorf("tls-replication: %w", err)
	}
	return &replication.TLSConfig{Cert: cert, CAs: pool}, nil
}

// stopGroup leaves the group (the node stays a member) before the engine closes.
func (s *Server) stopGroup() {
	if s.node != nil {
		if err := s.node.Close(); err != nil {
			log.Printf("raft: close: %v", err)
		}
	}
}

// proposeAsync sends the writes at the front of cmds to the replicated log
// from the loop, on a group's leader: no goroutine waits for the commit.
// The connection waits (stDurable, as for an fsync) until the entry is
// applied and its replies are written; the commands after them go back to
// the input. It reports false when it took nothing (not the leader, or not
// a write): the caller offloads them as before.
func (c *loopConn) proposeAsync(cmds [][][]byte) bool {
	n := c.l.s.disp.ProposeAsync(c.cl, cmds, c.proposedLater)
	if n == 0 {
		return false
	}
	c.setState(stDurable)
	if n < len(cmds) {
		c.putBack(cmds[n:])
	}
	return true
}

// proposedLater is ProposeAsync's release: on the loop, the replies are
// written to the client's writer and the connection goes on (resume).
func (c *loopConn) proposedLater(finish func()) {
	c.l.post(func() {
		if !c.torn {
			finish()
		}
		c.resume()
	})
}
