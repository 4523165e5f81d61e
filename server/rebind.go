package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Runtime rebinding: CONFIG SET port and CONFIG SET bind move the plain-TCP
// listener, as Redis does. The new address is bound first (CheckLive): when
// that fails the setting is refused with Redis' words and the server keeps
// listening where it was; when it succeeds the acceptor moves to the new
// listener and the old one is closed (OnChange). Connections already open
// stay.

// rebinding holds the listener CheckLive bound for the change OnChange
// applies next.
type rebinding struct {
	mu      sync.Mutex
	pending net.Listener
}

// bindHost turns a bind setting into a host to listen on: "*" (and "0.0.0.0")
// is every IPv4 address; only the first address of a list is bound (the
// plain listener is one socket).
func bindHost(v string) string {
	f := strings.Fields(v)
	if len(f) == 0 {
		return ""
	}
	h := strings.TrimPrefix(f[0], "-")
	if h == "*" {
		return "0.0.0.0"
	}
	return h
}

// installRebind makes port and bind settable at run time (Serve calls it
// once the plain listener, if any, is served).
func (s *Server) installRebind() {
	for _, name := range []string{"port", "bind"} {
		p := s.cfg.Lookup(name)
		if p == nil {
			continue
		}
		p.CheckLive = func(v string) error { return s.bindPending(name, v) }
	}
	s.cfg.Follow(s.swapListener, "port", "bind")
}

// bindPending binds the address the setting name=v would make (refusing it
// in Redis' words when that fails) and keeps the listener for swapListener.
func (s *Server) bindPending(name, v string) error {
	if s.cfg.Get("raft-node-id") != "" {
		// The other nodes announce this node's RESP address (SENTINEL, ROLE).
		return errors.New("the address of a node of a replicated group is set at startup only")
	}
	host, port := bindHost(s.cfg.Get("bind")), s.cfg.Get("port")
	if name == "port" {
		port = v
	} else {
		host = bindHost(v)
	}
	fail := errors.New("Failed to bind to specified addresses.")
	if name == "port" {
		fail = errors.New("Unable to listen on this port")
		if n, err := strconv.Atoi(port); err != nil || n <= 0 {
			// Port 0 (no plain listener) is a startup setting.
			return fail
		}
	}
	addr := net.JoinHostPort(host, port)
	s.mu.Lock()
	cur := s.ln
	s.mu.Unlock()
	if cur != nil && sameAddr(cur.Addr(), host, port) {
		return nil // already there
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		slog.Warn("CONFIG SET could not listen on the new address; still listening on the old one", "addr", addr, "error", err)
		if name == "port" {
			// Redis appends the system's words: "Address already in use".
			var errno syscall.Errno
			if errors.As(err, &errno) {
				msg := errno.Error()
				return fmt.Errorf("%w: %s", fail, strings.ToUpper(msg[:1])+msg[1:])
			}
		}
		return fail
	}
	s.rebind.mu.Lock()
	if s.rebind.pending != nil {
		s.rebind.pending.Close()
	}
	s.rebind.pending = ln
	s.rebind.mu.Unlock()
	return nil
}

func sameAddr(a net.Addr, host, port string) bool {
	ta, ok := a.(*net.TCPAddr)
	if !ok || strconv.Itoa(ta.Port) != port {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.Equal(ta.IP)
}

// swapListener moves the acceptor to the listener bindPending bound.
func (s *Server) swapListener() {
	s.rebind.mu.Lock()
	ln := s.rebind.pending
	s.rebind.pending = nil
	s.rebind.mu.Unlock()
	if ln == nil {
		return // the address did not change (or a startup Set)
	}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		ln.Close()
		return
	}
	acc, err := newAcceptor(s, ln.(*net.TCPListener), s.loops)
	if err != nil {
		s.mu.Unlock()
		ln.Close()
		slog.Warn("CONFIG SET: cannot serve the new listener; still on the old one", "error", err)
		return
	}
	oldLn, oldAcc := s.ln, s.acc
	s.ln, s.acc = ln, acc
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		acc.run()
	}()
	if oldAcc != nil {
		oldAcc.wake()
	}
	if oldLn != nil {
		oldLn.Close()
	}
	slog.Info("now listening", "addr", ln.Addr().String())
}
