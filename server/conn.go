package server

import (
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessiond/sessiond/config"
)

// clientConn is the socket side of a client: replies written by the
// connection's goroutine, and pushes (pub/sub messages) queued from any
// goroutine into a bounded outbox. Pushes that arrive while a batch of
// commands runs wait until that batch's replies are written, so a SUBSCRIBE
// confirmation always precedes the messages it enables.
type clientConn struct {
	nc  net.Conn
	cfg *config.Config

	writeMu sync.Mutex // serializes socket writes

	outMu     sync.Mutex
	outbox    []byte
	flushing  bool
	inBatch   bool
	closed    bool
	softSince time.Time
	remote    string
	local     string
	done      chan struct{} // closed by Close
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
	c.outMu.Unlock()
	if already {
		return nil
	}
	close(c.done)
	return c.nc.Close()
}

// pubsubLimit returns the pubsub class of client-output-buffer-limit,
// parsing the setting only when it changes (Push runs once per message).
func pubsubLimit(cfg *config.Config) config.OutputLimit {
	v := cfg.Get("client-output-buffer-limit")
	if p := limitCache.Load(); p != nil && p.setting == v {
		return p.limit
	}
	l := cfg.OutputLimits()["pubsub"]
	limitCache.Store(&cachedLimit{setting: v, limit: l})
	return l
}

type cachedLimit struct {
	setting string
	limit   config.OutputLimit
}

var limitCache atomic.Pointer[cachedLimit]

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

// writeReplies writes a batch's replies, enforcing the normal class of
// client-output-buffer-limit on what one batch makes the server hold.
func (c *clientConn) writeReplies(b []byte) bool {
	lim := c.cfg.OutputLimits()["normal"]
	if lim.Hard > 0 && int64(len(b)) > lim.Hard {
		c.Close()
		return false
	}
	return c.write(b)
}

func (c *clientConn) writeFinal(msg string) { c.write([]byte(msg)) }

func (c *clientConn) beginBatch() {
	c.outMu.Lock()
	c.inBatch = true
	c.outMu.Unlock()
}

func (c *clientConn) endBatch() {
	c.outMu.Lock()
	c.inBatch = false
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
	size := int64(len(c.outbox) + len(frame))
	if lim.Hard > 0 && size > lim.Hard {
		c.outMu.Unlock()
		c.Close()
		return false
	}
	if lim.Soft > 0 && size > lim.Soft {
		if c.softSince.IsZero() {
			c.softSince = time.Now()
		} else if time.Since(c.softSince) > time.Duration(lim.SoftSecs)*time.Second {
			c.outMu.Unlock()
			c.Close()
			return false
		}
	} else {
		c.softSince = time.Time{}
	}
	c.outbox = append(c.outbox, frame...)
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
