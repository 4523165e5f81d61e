// Package server is sessiond's network front: it accepts connections, guards
// the RESP framing, parses commands with redcon's reader, hands them to the
// command layer, and writes replies. It bounds what a client can make the
// server hold (input framing, output buffers, pub/sub backlogs) and never
// lets one slow client hold up another.
package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/sessiond/sessiond/commands"
	"github.com/sessiond/sessiond/config"
	"github.com/sessiond/sessiond/engine"
	"github.com/sessiond/sessiond/internal/logging"
	"github.com/sessiond/sessiond/latency"
	"github.com/sessiond/sessiond/metrics"
	"github.com/sessiond/sessiond/persistence"
	"github.com/sessiond/sessiond/replication"
	"github.com/tidwall/redcon"
)

// Server is a running sessiond.
type Server struct {
	cfg   *config.Config
	store *persistence.Store
	eng   *engine.Engine
	disp  *commands.Dispatcher
	ln    net.Listener
	tlsLn net.Listener // set when tls-port is configured

	loops []*loop   // the event loops serving plain TCP
	acc   *acceptor // deals plain TCP connections out to the loops

	metrics *metrics.Endpoint // /metrics and /health (metrics-port), or nil

	mu       sync.Mutex
	conns    map[*clientConn]struct{} // TLS connections (one goroutine each)
	closing  bool
	stopOnce sync.Once
	stopped  chan struct{}
	wg       sync.WaitGroup

	node *replication.Node // the replicated group's node (replicated.go); nil standalone

	rebind rebinding // CONFIG SET port/bind (rebind.go)
}

// Open loads the data file and builds the engine and the command layer; it
// does not listen yet.
func Open(cfg *config.Config) (*Server, error) {
	fitOpenFilesLimit(cfg)
	path := ":memory:"
	if cfg.Bool("appendonly") && cfg.Get("raft-node-id") == "" {
		path = filepath.Join(cfg.Get("dir"), cfg.Get("appendfilename"))
	}
	policy, err := persistence.ParseFsync(cfg.Get("appendfsync"))
	if err != nil {
		return nil, err
	}
	lat := latency.New()
	store, err := persistence.Open(persistence.Options{
		Latency:               lat,
		OnEvent:               logPersistence,
		Path:                  path,
		Fsync:                 policy,
		AutoRewritePercentage: int(cfg.Int("auto-aof-rewrite-percentage")),
		AutoRewriteMinSize:    cfg.Int("auto-aof-rewrite-min-size"),
	})
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, store: store, conns: map[*clientConn]struct{}{}, stopped: make(chan struct{})}
	var disp *commands.Dispatcher
	eng, err := engine.Open(engine.Options{Store: store, Latency: lat, OnCommit: func(c engine.Commit) {
		if disp != nil {
			disp.OnCommit(c)
		}
	}})
	if err != nil {
		store.Close()
		return nil, err
	}
	disp = commands.NewDispatcher(eng, cfg)
	if err := disp.LoadUsers(); err != nil {
		eng.Close()
		store.Close()
		return nil, err
	}
	disp.PrepareShutdown = s.SyncForShutdown
	disp.Shutdown = func(bool) {
		slog.Warn("shutdown requested by a client (SHUTDOWN)")
		go s.Stop()
	}
	disp.OnUnpause(func() {
		s.mu.Lock()
		loops := s.loops
		s.mu.Unlock()
		for _, l := range loops {
			l.post(l.resumePaused)
		}
	})
	s.eng, s.disp = eng, disp
	if p := cfg.Lookup("appendfsync"); p != nil {
		p.OnChange = func(v string) {
			if f, err := persistence.ParseFsync(v); err == nil {
				store.SetFsync(f)
			}
		}
	}
	return s, nil
}

// logPersistence logs a finished snapshot or data file rewrite.
func logPersistence(what string, took time.Duration, err error) {
	if err != nil {
		slog.Warn(what+" failed", "took", took.String(), "error", err)
		return
	}
	slog.Info(what+" done", "took", took.String())
}

// ErrListen wraps the error of Start when a configured address cannot be
// bound (a port in use, an address not on this machine).
var ErrListen = errors.New("cannot listen")

// Start binds the configured addresses (as Listen), and only then opens the
// data file (as Open): a port already in use stops the server before it
// creates or locks anything on disk.
func Start(cfg *config.Config) (*Server, error) {
	bound := &Server{cfg: cfg}
	if err := bound.Listen(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrListen, err)
	}
	if port := cfg.Int("metrics-port"); port > 0 {
		// Bound before loading too, so /health can say "loading".
		if err := bound.ListenMetrics(net.JoinHostPort(cfg.Get("metrics-bind"), strconv.FormatInt(port, 10))); err != nil {
			bound.closeListeners()
			return nil, err
		}
	}
	s, err := Open(cfg)
	if err != nil {
		bound.closeListeners()
		return nil, err
	}
	s.ln, s.tlsLn, s.metrics = bound.ln, bound.tlsLn, bound.metrics
	if s.metrics != nil {
		s.metrics.Attach(s.disp)
	}
	return s, nil
}

// ListenMetrics serves the Prometheus endpoint (/metrics, /health) on addr
// (port 0 picks a free one; see MetricsAddr). A server that is open already
// is attached at once; /health answers 200 once Serve runs.
func (s *Server) ListenMetrics(addr string) error {
	ep, err := metrics.Listen(addr)
	if err != nil {
		return err
	}
	s.metrics = ep
	if s.disp != nil {
		ep.Attach(s.disp)
	}
	return nil
}

// MetricsAddr is the Prometheus endpoint's address, or nil.
func (s *Server) MetricsAddr() net.Addr {
	if s.metrics == nil {
		return nil
	}
	return s.metrics.Addr()
}

func (s *Server) closeListeners() {
	if s.ln != nil {
		s.ln.Close()
	}
	if s.tlsLn != nil {
		s.tlsLn.Close()
	}
	if s.metrics != nil {
		s.metrics.Close()
	}
}

// Close releases a server that was opened but never served: the engine and
// the data file (Serve does this itself when it returns).
func (s *Server) Close() error {
	if s.metrics != nil {
		s.metrics.Close()
	}
	s.eng.Close()
	return s.store.Close()
}

// Dispatcher returns the command layer (for tests and embedding).
func (s *Server) Dispatcher() *commands.Dispatcher { return s.disp }

// Listen binds the configured addresses: bind:port for plain RESP unless
// port is 0 (then only TLS, as Redis), and bind:tls-port when tls-port is set.
// With neither, there is nowhere to listen and it fails.
func (s *Server) Listen() error {
	port := s.cfg.Int("port")
	if port == 0 {
		if s.cfg.Int("tls-port") == 0 {
			return errors.New("configured to not listen anywhere (port 0 and no tls-port)")
		}
		return s.listenTLS()
	}
	return s.ListenOn(net.JoinHostPort(bindHost(s.cfg.Get("bind")), strconv.FormatInt(port, 10)))
}

// ListenOn binds plain RESP to addr instead of bind:port (port 0 in addr
// picks a free port, which port then reports), then TLS as Listen does; for
// tests and embedding.
func (s *Server) ListenOn(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	s.ln = ln
	if p := ln.Addr().(*net.TCPAddr).Port; int64(p) != s.cfg.Int("port") {
		_ = s.cfg.Set("port", strconv.Itoa(p))
	}
	warnExposure(s.cfg)
	if err := s.listenTLS(); err != nil {
		ln.Close()
		s.ln = nil
		return err
	}
	return nil
}

func (s *Server) listenTLS() error {
	port := s.cfg.Int("tls-port")
	if port <= 0 {
		return nil
	}
	cert, err := tls.LoadX509KeyPair(s.cfg.Get("tls-cert-file"), s.cfg.Get("tls-key-file"))
	if err != nil {
		return fmt.Errorf("tls: load certificate: %w", err)
	}
	tlsAddr := net.JoinHostPort(s.cfg.Get("bind"), strconv.FormatInt(port, 10))
	tcfg, err := s.tlsConfig(cert)
	if err != nil {
		return err
	}
	tln, err := tls.Listen("tcp", tlsAddr, tcfg)
	if err != nil {
		return fmt.Errorf("listen tls %s: %w", tlsAddr, err)
	}
	s.tlsLn = tln
	return nil
}

// tlsConfig is the TLS port's configuration: its certificate, TLS 1.2 or
// later, and client certificates as tls-auth-clients and tls-ca-cert-file say.
func (s *Server) tlsConfig(cert tls.Certificate) (*tls.Config, error) {
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	mode := s.cfg.Get("tls-auth-clients")
	caFile := s.cfg.Get("tls-ca-cert-file")
	if mode == "no" {
		return cfg, nil
	}
	if caFile == "" {
		return nil, fmt.Errorf("tls: tls-auth-clients %s needs tls-ca-cert-file, the CA certificates that sign client certificates (or set tls-auth-clients no)", mode)
	}
	pool, err := loadCAs(caFile)
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	cfg.ClientCAs = pool
	cfg.ClientAuth = tls.RequireAndVerifyClientCert
	if mode == "optional" {
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	}
	return cfg, nil
}

// loadCAs reads the CA certificates of tls-ca-cert-file.
func loadCAs(caFile string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("read tls-ca-cert-file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no PEM certificate in tls-ca-cert-file %s", caFile)
	}
	return pool, nil
}

// Addr is the bound address.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	ln := s.ln // CONFIG SET port swaps it under the lock
	s.mu.Unlock()
	if ln == nil {
		return s.TLSAddr()
	}
	return ln.Addr()
}

// TLSAddr is the bound TLS address, or nil without tls-port.
func (s *Server) TLSAddr() net.Addr {
	if s.tlsLn == nil {
		return nil
	}
	return s.tlsLn.Addr()
}

// Serve accepts connections until ctx is done or SHUTDOWN is received, then
// closes every connection and the data file (flushing it).
func (s *Server) Serve(ctx context.Context) error {
	go func() {
		select {
		case <-ctx.Done():
			s.Stop()
		case <-s.stopped:
		}
	}()
	if err := s.startGroup(); err != nil {
		s.Stop()
		s.eng.Close()
		s.store.Close()
		return err
	}
	s.installRebind() // before any client can CONFIG SET
	errs := make(chan error, 2)
	var loops sync.WaitGroup
	n := int(s.cfg.Int("io-threads"))
	s.mu.Lock()
	for i := 0; i < n && !s.closing; i++ {
		l, err := newLoop(s)
		if err != nil {
			s.mu.Unlock()
			s.Stop()
			return fmt.Errorf("event loop: %w", err)
		}
		s.loops = append(s.loops, l)
		loops.Add(1)
		go func() {
			defer loops.Done()
			l.run()
		}()
	}
	s.mu.Unlock()
	if s.ln != nil {
		acc, err := newAcceptor(s, s.ln.(*net.TCPListener), s.loops)
		if err != nil {
			s.Stop()
			loops.Wait()
			return fmt.Errorf("accept: %w", err)
		}
		s.mu.Lock()
		s.acc = acc
		closing := s.closing
		s.mu.Unlock()
		if closing {
			acc.wake()
		}
		loops.Add(1)
		go func() {
			defer loops.Done()
			acc.run()
		}()
	}
	if s.tlsLn != nil {
		loops.Add(1)
		go func() {
			defer loops.Done()
			if err := s.acceptLoop(s.tlsLn); err != nil {
				errs <- err
				s.Stop()
			}
		}()
	}
	ic := &idleCollector{commands: s.disp.CommandsProcessed, stop: make(chan struct{})}
	go ic.run()
	go s.sampleMetrics(ic.stop)
	if s.metrics != nil {
		s.metrics.SetServing(true)
		defer s.metrics.Close()
	}
	<-s.stopped
	loops.Wait()
	close(ic.stop)
	var acceptErr error
	select {
	case acceptErr = <-errs:
	default:
	}
	s.wg.Wait()
	s.stopGroup()
	s.eng.Close()
	if err := s.store.Close(); err != nil {
		return err
	}
	return acceptErr
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// acceptLoop serves the TLS listener, a goroutine per connection, until it is
// closed. A failed accept (out of file descriptors, say) is logged, backs
// off and is retried: it never stops the server.
func (s *Server) acceptLoop(ln net.Listener) error {
	backoff := 5 * time.Millisecond
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.isClosing() || errors.Is(err, net.ErrClosed) {
				return nil
			}
			s.disp.CountRejected()
			slog.Warn("accept tls failed", "error", err)
			time.Sleep(backoff)
			if backoff < time.Second {
				backoff *= 2
			}
			continue
		}
		backoff = 5 * time.Millisecond
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveConn(nc)
		}()
	}
}

// Stop begins a graceful shutdown: no new connections; open ones are closed.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		if s.metrics != nil {
			s.metrics.SetServing(false)
		}
		s.mu.Lock()
		s.closing = true
		conns := make([]*clientConn, 0, len(s.conns))
		for c := range s.conns {
			conns = append(conns, c)
		}
		ln := s.ln // CONFIG SET port swaps it under the lock
		s.mu.Unlock()
		if ln != nil {
			ln.Close()
		}
		if s.tlsLn != nil {
			s.tlsLn.Close()
		}
		for _, c := range conns {
			c.Close()
		}
		s.mu.Lock()
		loops, acc := s.loops, s.acc
		s.mu.Unlock()
		for _, l := range loops {
			l.stop()
		}
		if acc != nil {
			acc.wake()
		}
		close(s.stopped)
	})
}

func (s *Server) track(c *clientConn, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		if s.closing {
			return false
		}
		s.conns[c] = struct{}{}
		return true
	}
	delete(s.conns, c)
	return true
}

func (s *Server) serveConn(nc net.Conn) {
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
		if ka := s.cfg.Int("tcp-keepalive"); ka > 0 {
			_ = tc.SetKeepAlive(true)
			_ = tc.SetKeepAlivePeriod(time.Duration(ka) * time.Second)
		}
	}
	nc = countingConn{Conn: nc, d: s.disp}
	conn := newClientConn(nc, s.cfg)
	if protectedModeDenies(s.cfg, s.disp, conn) {
		_ = nc.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = nc.Write([]byte(msgProtectedMode))
		nc.Close()
		return
	}
	if !s.track(conn, true) {
		nc.Close()
		return
	}
	defer s.track(conn, false)
	defer conn.finish()
	cl, err := s.disp.NewClient(conn)
	if err != nil {
		_, _ = nc.Write([]byte("-" + err.Error() + "\r\n"))
		return
	}
	defer s.disp.Release(cl)
	defer func() {
		if r := recover(); r != nil {
			slog.Warn("internal error serving a client", "client", cl.ID, "panic", fmt.Sprint(r))
		}
	}()
	g := newGuard(nc, s.cfg.Int("proto-max-bulk-len"))
	g.unauth = !cl.Authed
	g.authed = func() bool { return cl.Authed }
	rd := redcon.NewReader(g)
	for {
		if t := s.cfg.Int("timeout"); t > 0 && !cl.Subscribed() {
			_ = nc.SetReadDeadline(time.Now().Add(time.Duration(t) * time.Second))
		} else {
			_ = nc.SetReadDeadline(time.Time{})
		}
		cmds, err := rd.ReadCommands()
		if err != nil {
			var pe *ProtocolError
			switch {
			case errors.As(err, &pe):
				logging.Verbose("protocol error from client", "client", cl.ID, "addr", conn.remote, "error", pe.Msg)
				conn.writeFinal("-" + pe.Msg + "\r\n")
			case isRedconProtocolError(err):
				logging.Verbose("protocol error from client", "client", cl.ID, "addr", conn.remote, "error", redconMessage(err))
				conn.writeFinal("-ERR Protocol error: " + redconMessage(err) + "\r\n")
			}
			return
		}
		conn.beginBatch()
		args := make([][][]byte, len(cmds))
		for i := range cmds {
			args[i] = cmds[i].Args
		}
		alive := true
		stop := func() bool {
			if cl.CloseAfterReply {
				return true
			}
			if cl.W.Len() >= flushThreshold && !s.flush(conn, cl) {
				alive = false
				return true
			}
			return false
		}
		// A command CLIENT PAUSE holds waits here (this goroutine is the
		// connection's own) once the replies before it are out.
		for start := 0; start < len(args) && alive && !cl.CloseAfterReply; {
			if s.disp.Paused(cl, args[start]) {
				if !s.flush(conn, cl) {
					return
				}
				s.disp.WaitUnpaused(cl, args[start], conn.done)
			}
			end := start + 1
			for end < len(args) && !s.disp.Paused(cl, args[end]) && !s.disp.StartsPause(args[end-1]) {
				end++
			}
			s.disp.ExecBatch(cl, args[start:end], stop)
			start = end
		}
		if alive {
			// Before the replies go: the client's next command sees
			// its memory as of this batch.
			conn.publishMem(s.disp, cl, g)
		}
		if !alive || !s.flush(conn, cl) {
			return
		}
		conn.endBatch()
		if cl.CloseAfterReply {
			return
		}
	}
}

// flushThreshold is how many reply bytes a long pipeline accumulates before
// they are written out mid-batch.
const flushThreshold = 64 * 1024

// flush makes the batch's writes durable as the fsync policy requires, then
// writes the pending replies. It reports false when the connection is gone
// or has passed its output limit.
func (s *Server) flush(conn *clientConn, cl *commands.Client) bool {
	if t := cl.Ticket(); t != 0 {
		if err := s.eng.WaitDurable(t); err != nil {
			// The writes may not be on disk: their replies are not sent and
			// the connection closes (see loopConn.durableLater).
			slog.Warn("connection closed without its replies: fsync failed", "client", cl.ID, "error", err)
			cl.W.Reset()
			return false
		}
	}
	if cl.W.Len() == 0 {
		return true
	}
	ok := conn.writeReplies(cl.W.Bytes())
	cl.W.Reset()
	return ok
}

func isRedconProtocolError(err error) bool {
	return err != nil && err.Error() != "EOF" && !errors.Is(err, os.ErrDeadlineExceeded) && !isNetClosed(err) && isProtocolText(err.Error())
}

func isProtocolText(s string) bool {
	return len(s) > len("Protocol error: ") && s[:len("Protocol error: ")] == "Protocol error: "
}

func redconMessage(err error) string {
	s := err.Error()
	if isProtocolText(s) {
		s = s[len("Protocol error: "):]
	}
	if s == "unbalanced quotes in request" || s == "unbalanced quotes" {
		return "unbalanced quotes in request"
	}
	return s
}

func isNetClosed(err error) bool { return errors.Is(err, net.ErrClosed) }

// countingConn counts a TLS connection's bytes for INFO's network fields
// (the event loops count their own).
type countingConn struct {
	net.Conn
	d *commands.Dispatcher
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.d.CountRead(n)
	}
	return n, err
}

func (c countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if n > 0 {
		c.d.CountWrite(n)
	}
	return n, err
}

// sampleMetrics feeds INFO's instantaneous metrics, and applies the save
// rules every second, until stop closes.
func (s *Server) sampleMetrics(stop <-chan struct{}) {
	t := time.NewTicker(commands.SampleEvery)
	defer t.Stop()
	for i := 1; ; i++ {
		select {
		case <-stop:
			return
		case now := <-t.C:
			s.disp.SampleMetrics()
			if i%10 == 0 {
				s.disp.AutoSave(now)
			}
		}
	}
}

// SyncForShutdown makes every write committed so far durable before a
// shutdown that saves (SHUTDOWN, SHUTDOWN SAVE, a signal). When the data
// file cannot be flushed it logs Redis' words and returns the error: the
// caller keeps the server running rather than exit with writes it
// acknowledged possibly lost.
func (s *Server) SyncForShutdown() error {
	err := s.store.Sync()
	if err == nil {
		err = s.store.WriteError()
	}
	if err != nil {
		slog.Error("Error trying to save the DB, can't exit.", "error", err)
		return fmt.Errorf("flushing the data file before shutdown: %w", err)
	}
	return nil
}
