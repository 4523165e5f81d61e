package server

import (
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/sessiond/sessiond/commands"
)

// bufStats holds a connection's buffer figures for CLIENT LIST, which reads
// them from other goroutines: the loop that owns the buffers publishes them
// between its passes over the connection, storing only what changed.
type bufStats struct {
	qbuf, qbufFree, argv, obl, omem, rbs, alloc atomic.Int64
	last                                        commands.ConnBuffers // owned by the publisher
}

// Buffers implements commands.BufferReporter.
func (s *bufStats) Buffers() commands.ConnBuffers {
	return commands.ConnBuffers{
		QueryBuf: s.qbuf.Load(), QueryBufFree: s.qbufFree.Load(), ArgvMem: s.argv.Load(),
		OutBuf: s.obl.Load(), OutMem: s.omem.Load(), ReplyBuf: s.rbs.Load(), Alloc: s.alloc.Load(),
	}
}

// publish stores b (only the figures that changed); it reports whether
// anything did.
func (s *bufStats) publish(b commands.ConnBuffers) bool {
	if b == s.last {
		return false
	}
	s.last = b
	s.qbuf.Store(b.QueryBuf)
	s.qbufFree.Store(b.QueryBufFree)
	s.argv.Store(b.ArgvMem)
	s.obl.Store(b.OutBuf)
	s.omem.Store(b.OutMem)
	s.rbs.Store(b.ReplyBuf)
	s.alloc.Store(b.Alloc)
	return true
}

// loopConnOverhead is the memory of a loop connection's own structures.
const loopConnOverhead = int64(unsafe.Sizeof(loopConn{}) + unsafe.Sizeof(guard{}))

// Buffers implements commands.BufferReporter.
func (c *loopConn) Buffers() commands.ConnBuffers { return c.stats.Buffers() }

// buffers measures the connection's buffers (on the loop). The reply
// buffer belongs to the goroutine running the client's commands unless
// idle: its last figure stands meanwhile.
func (c *loopConn) buffers(idle bool) commands.ConnBuffers {
	argv, parsed, carried := c.guard.inProgress()
	inCap := cap(c.inbuf)
	if len(c.in) > 0 {
		inCap = cap(c.in)
	}
	qbuf := int64(len(c.in)) - parsed + carried
	if qbuf < 0 {
		qbuf = 0
	}
	c.mu.Lock()
	held := int64(len(c.held))
	c.mu.Unlock()
	rbs := c.stats.last.ReplyBuf
	if idle {
		rbs = int64(cap(c.cl.W.Bytes()))
	}
	return commands.ConnBuffers{
		QueryBuf:     qbuf,
		QueryBufFree: int64(inCap - len(c.in)),
		ArgvMem:      argv,
		OutBuf:       int64(len(c.out)),
		OutMem:       int64(len(c.out)) + held,
		ReplyBuf:     rbs,
		Alloc:        loopConnOverhead + int64(inCap) + int64(cap(c.guard.carry)) + int64(cap(c.out)) + held + rbs,
	}
}

// publishMem publishes the connection's buffers and, when they changed,
// the client's memory (which may evict clients, this one among them). It
// runs on the loop while the client's commands are not running.
func (c *loopConn) publishMem() {
	if c.torn {
		return
	}
	idle := c.state == stIdle
	b := c.buffers(idle)
	c.stats.publish(b)
	// Even when the buffers did not change: the commands just run may have
	// changed what the client holds beside them (WATCH, SUBSCRIBE, MULTI).
	c.l.s.disp.ClientMemory(c.cl, b.Alloc, idle)
}

// inputBufMin is the least room kept in a client's input buffer once it
// has been shrunk for the size of its recent commands.
const inputBufMin = 1024

// resizeInput gives back input-buffer room a client does not use, as
// Redis' clientsCronResizeQueryBuffer: all of it once the client has been
// idle for more than 2 s, and down to its recent peak when the buffer is
// more than 32 KB and twice that peak. A client sending big values keeps
// the room they need between ticks instead of growing a buffer for each.
func (c *loopConn) resizeInput(now time.Time) {
	if len(c.in) == 0 && cap(c.inbuf) > 0 {
		switch {
		case now.Sub(c.cl.LastInteraction()) > 2*time.Second:
			c.inbuf = nil
		case cap(c.inbuf) > 32*1024 && int64(cap(c.inbuf))/2 > c.inPeak:
			c.inbuf = make([]byte, 0, max(c.inPeak, inputBufMin))
		}
	}
	c.inPeak = int64(len(c.in))
	// The reply buffer: a big reply's room is given back once it is sent.
	if c.state == stIdle && c.cl.W.Len() == 0 && cap(c.cl.W.Bytes()) > 64*1024 {
		c.cl.W.Release()
	}
}

// Buffers implements commands.BufferReporter.
func (c *clientConn) Buffers() commands.ConnBuffers { return c.stats.Buffers() }

// clientConnOverhead is a goroutine connection's own structures: the
// connection, its guard with its read buffer, and the RESP reader's buffer
// (an estimate: redcon keeps it to itself).
const clientConnOverhead = int64(unsafe.Sizeof(clientConn{})+unsafe.Sizeof(guard{})) + guardBufSize + 4096

// publishMem publishes the buffers of a goroutine connection (the TLS path)
// and the client's memory, between batches on the connection's goroutine.
// Input still inside the RESP reader is not seen until its command is
// whole, nor is output queued by pushes between batches.
func (c *clientConn) publishMem(d *commands.Dispatcher, cl *commands.Client, g *guard) {
	argv, _, carried := g.inProgress()
	c.outMu.Lock()
	out, held, outCap := int64(len(c.outbox)), int64(len(c.held)), int64(cap(c.outbox))
	c.outMu.Unlock()
	rbs := int64(cap(cl.W.Bytes()))
	b := commands.ConnBuffers{
		QueryBuf: carried,
		ArgvMem:  argv,
		OutBuf:   out,
		OutMem:   out + held,
		ReplyBuf: rbs,
		Alloc:    clientConnOverhead + outCap + held + rbs + carried + argv,
	}
	c.stats.publish(b)
	d.ClientMemory(cl, b.Alloc, true)
}
