package server

import (
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sessiond/sessiond/config"
)

// clientConn is the socket side of a client: replies written by the
// connection's goroutine, and pushes (pub/sub messages) queued from any
// goroutine into a bounded outbox. Pushes that arrive while a batch of
// commands runs wait until that batch's replies are written, so a SUBSCRIBE
// confirmation always precedes the messages it enables.
//
// Replies are written straight to the socket while the client keeps up. When
// a write cannot complete within stallTimeout (the client is not reading),
// the rest goes to the outbox, a drain goroutine takes over, and the
// connection keeps serving commands with their replies queued behind: the
// queue is the client's output buffer, bounded by client-output-buffer-limit
// (normal class for replies, pubsub class for pushes), past which the client
// is disconnected. Other clients are never held up.
type clientConn struct {
	nc  net.Conn
	cfg *config.Config

	writeMu sync.Mutex // serializes socket writes

	outMu     sync.Mutex
	outbox    []byte
	held      []byte // pushes that arrived during a batch, queued after its replies
	flushing  bool
	inBatch   bool
	closed    bool
	softSince time.Time
	remote    string
	local     string
	done      chan struct{} // closed by Close
	stats     bufStats      // buffer figures for CLIENT LIST (connmem.go)
}

func newClientConn(nc net.Conn, cfg *config.Config) *clientConn {
	return &clientConn{nc: nc, cfg: cfg, remote: nc.RemoteAddr().String(), local: nc.LocalAddr().String(), done: make(chan struct{})}
}

func (c *clientConn) RemoteAddr() string { return c.remote }
func (c *clientConn) LocalAddr() string  { return c.local }

// Done is closed when the connection is closed (a blocked command gives up).
func (c *clientConn) Done() <-chan struct{} { return c.done }

// Close disconnects the client; safe to call more than once, from any goroutine.
func (c *clientConn) Close() error {
	c.outMu.Lock()
	already := c.closed
	c.closed = true
	c.outbox = nil
	c.held = nil
	c.outMu.Unlock()
	if already {
		return nil
	}
	close(c.done)
	return c.nc.Close()
}

// pubsubLimit and normalLimit return a class of client-output-buffer-limit,
// parsing the setting only when it changes (they run once per message or
// reply batch).
func pubsubLimit(cfg *config.Config) config.OutputLimit { return classLimit(cfg, 0, "pubsub") }
func normalLimit(cfg *config.Config) config.OutputLimit { return classLimit(cfg, 1, "normal") }

func classLimit(cfg *config.Config, slot int, class string) config.OutputLimit {
	v := cfg.Get("client-output-buffer-limit")
	if p := limitCache[slot].Load(); p != nil && p.setting == v {
		return p.limit
	}
	l := cfg.OutputLimits()[class]
	limitCache[slot].Store(&cachedLimit{setting: v, limit: l})
	return l
}

type cachedLimit struct {
	setting string
	limit   config.OutputLimit
}

var limitCache [2]atomic.Pointer[cachedLimit]

// writeTimeout bounds a single socket write: a client that reads nothing for
// this long is disconnected rather than holding a goroutine forever.
const writeTimeout = 60 * time.Second

func (c *clientConn) write(b []byte) bool {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	_ = c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, err := c.nc.Write(b)
	if err != nil {
		c.Close()
		return false
	}
	return true
}

// stallTimeout is how long a reply write may block before the connection
// hands the rest to its drain goroutine and goes on serving commands.
const stallTimeout = 20 * time.Millisecond

// writeReplies writes a batch's replies (b is reused by the caller). It
// reports false when the connection is closed or has passed its limit.
func (c *clientConn) writeReplies(b []byte) bool {
	lim := normalLimit(c.cfg)
	if lim.Hard > 0 && int64(len(b)) > lim.Hard {
		c.Close()
		return false
	}
	c.outMu.Lock()
	if c.closed {
		c.outMu.Unlock()
		return false
	}
	if c.flushing {
		// Earlier output is still draining: queue behind it.
		ok := c.queueLocked(b, lim)
		c.outMu.Unlock()
		return ok
	}
	c.flushing = true // the socket is ours until we hand it over
	c.outMu.Unlock()

	c.writeMu.Lock()
	_ = c.nc.SetWriteDeadline(time.Now().Add(stallTimeout))
	n, err := c.nc.Write(b)
	c.writeMu.Unlock()
	if err != nil && !isTimeout(err) {
		c.Close()
		return false
	}
	c.outMu.Lock()
	defer c.outMu.Unlock()
	if c.closed {
		return false
	}
	if n < len(b) {
		// The client is not keeping up: its output buffer starts here.
		rest := append([]byte(nil), b[n:]...)
		c.outbox = append(rest, c.outbox...)
		go c.drain()
		return c.checkLimitLocked(lim)
	}
	if len(c.outbox) > 0 && !c.inBatch {
		go c.drain()
		return true
	}
	c.flushing = false
	return true
}

// queueLocked appends replies to the outbox, enforcing the normal limit.
func (c *clientConn) queueLocked(b []byte, lim config.OutputLimit) bool {
	c.outbox = append(c.outbox, b...)
	return c.checkLimitLocked(lim)
}

// checkLimitLocked disconnects the client when its queued output passes the
// hard limit, or has stayed over the soft limit for its period.
func (c *clientConn) checkLimitLocked(lim config.OutputLimit) bool {
	if overLimit(lim, int64(len(c.outbox)+len(c.held)), &c.softSince) {
		c.closed = true
		c.outbox, c.held = nil, nil
		close(c.done)
		_ = c.nc.Close()
		return false
	}
	return true
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// overLimit reports whether pending output of size bytes breaks lim: over
// the hard limit, or over the soft limit for longer than its period
// (*softSince, when it went over, is kept up to date).
func overLimit(lim config.OutputLimit, size int64, softSince *time.Time) bool {
	if lim.Hard > 0 && size > lim.Hard {
		return true
	}
	if lim.Soft <= 0 || size <= lim.Soft {
		*softSince = time.Time{}
		return false
	}
	if softSince.IsZero() {
		*softSince = time.Now()
		return false
	}
	return time.Since(*softSince) > time.Duration(lim.SoftSecs)*time.Second
}

// writeFinal writes a last message (a protocol error) after any queued output.
func (c *clientConn) writeFinal(msg string) {
	c.outMu.Lock()
	if c.flushing {
		c.outbox = append(c.outbox, msg...)
		c.outMu.Unlock()
		return
	}
	c.outMu.Unlock()
	c.write([]byte(msg))
}

// finish waits (at most writeTimeout) for queued output to reach the socket,
// then closes the connection: the reply to QUIT, or the last replies before
// an error, are not lost behind a slow reader.
func (c *clientConn) finish() {
	deadline := time.Now().Add(writeTimeout)
	for {
		c.outMu.Lock()
		idle := !c.flushing && len(c.outbox) == 0
		closed := c.closed
		c.outMu.Unlock()
		if idle || closed || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	c.Close()
}

func (c *clientConn) beginBatch() {
	c.outMu.Lock()
	c.inBatch = true
	c.outMu.Unlock()
}

func (c *clientConn) endBatch() {
	c.outMu.Lock()
	c.inBatch = false
	if len(c.held) > 0 {
		c.outbox = append(c.outbox, c.held...)
		c.held = c.held[:0]
	}
	start := len(c.outbox) > 0 && !c.flushing && !c.closed
	if start {
		c.flushing = true
	}
	c.outMu.Unlock()
	if start {
		go c.drain()
	}
}

// Push queues an out-of-band frame. It never blocks: a subscriber whose
// backlog passes the pubsub hard limit, or stays over the soft limit for its
// period, is disconnected.
func (c *clientConn) Push(frame []byte) bool {
	lim := pubsubLimit(c.cfg)
	c.outMu.Lock()
	if c.closed {
		c.outMu.Unlock()
		return false
	}
	if c.inBatch {
		c.held = append(c.held, frame...)
	} else {
		c.outbox = append(c.outbox, frame...)
	}
	if !c.checkLimitLocked(lim) {
		c.outMu.Unlock()
		return false
	}
	start := !c.flushing && !c.inBatch
	if start {
		c.flushing = true
	}
	c.outMu.Unlock()
	if start {
		go c.drain()
	}
	return true
}

func (c *clientConn) drain() {
	var spare []byte
	for {
		c.outMu.Lock()
		if len(c.outbox) == 0 || c.closed {
			c.flushing = false
			c.outMu.Unlock()
			return
		}
		buf := c.outbox
		c.outbox = spare[:0]
		c.outMu.Unlock()
		if !c.write(buf) {
			return
		}
		spare = buf
	}
}

// WatchPeer reports, while a command blocks (BZPOPMIN), whether the peer
// closes its end: it peeks at the socket without consuming anything, so a
// client that gave up is not served an element it will never read. gone is
// nil when the connection cannot be watched (not plain TCP). stop ends the
// watch and restores the socket for the connection's reader.
func (c *clientConn) WatchPeer() (gone <-chan struct{}, stop func()) {
	nc := c.nc
	if cc, ok := nc.(countingConn); ok {
		nc = cc.Conn
	}
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nil, func() {}
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil, func() {}
	}
	ch := make(chan struct{})
	exited := make(chan struct{})
	var stopped atomic.Bool
	go func() {
		defer close(exited)
		var b [1]byte
		_ = rc.Read(func(fd uintptr) bool {
			if stopped.Load() {
				return true
			}
			n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			if err == syscall.EAGAIN || err == syscall.EINTR {
				return false // nothing yet: wait until readable
			}
			if n == 0 || err != nil {
				close(ch) // EOF or reset: the peer is gone
			}
			return true // data (a pipelined command) or gone: stop watching
		})
	}()
	return ch, func() {
		stopped.Store(true)
		_ = c.nc.SetReadDeadline(time.Unix(1, 0)) // wakes the watcher
		<-exited
		_ = c.nc.SetReadDeadline(time.Time{}) // the read loop sets its own
	}
}
