package server

import (
	"bytes"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/sessiond/sessiond/commands"
	"github.com/sessiond/sessiond/config"
	"github.com/sessiond/sessiond/internal/logging"
	"github.com/tidwall/redcon"
	"golang.org/x/sys/unix"
)

// connState says who may run a loop connection's commands right now.
type connState uint8

const (
	// stIdle: the loop parses and runs the connection's commands.
	stIdle connState = iota
	// stRunning: the loop is running a batch of them; pushes wait.
	stRunning
	// stOffloaded: a goroutine runs commands that may block or take long;
	// the loop keeps reading input but runs nothing until it is done.
	stOffloaded
	// stDurable: the batch's replies wait for the fsync that covers its
	// writes (appendfsync always), or on a replicated group's leader for
	// the commit of its log entry (proposeAsync); input waits behind them.
	stDurable
)

// loopConn is a client connection served by an event loop. Its replies
// leave in the order its commands came: a batch run on the loop, a batch
// run by a goroutine (blocking pops, scripts) and a batch whose replies wait
// for an fsync all hold back what follows until their replies are queued.
// Pub/sub pushes, which may arrive from any goroutine, are queued after the
// replies of the batch in progress.
type loopConn struct {
	l      *loop
	fd     int
	cl     *commands.Client
	remote string
	local  string
	guard  *guard

	// Owned by the loop's goroutine.
	in            []byte        // validated input not yet run
	inbuf         []byte        // the array c.in starts over in once it is empty
	queued        bool          // on the loop's ready list
	batch         [][][]byte    // the commands parsed for the loop's shared pass
	shared        int           // how many of batch ran in the shared transaction
	out           []byte        // output the socket has not taken yet
	flat          [][]byte      // backing array of parsed arguments
	cmds          [][][]byte    // the commands of the current pass
	protoErr      string        // a framing error to answer once the input before it ran
	stalledAt     int64         // guard.complete when c.in last held no complete command
	wantOut       bool          // EPOLLOUT is on
	closeAfterOut bool          // close once out is written (QUIT, a protocol error)
	softSince     time.Time     // when out went over the soft output limit
	torn          bool          // the socket is closed and the client released
	peerEOF       bool          // the peer closed its end while a batch waited
	paused        bool          // CLIENT PAUSE holds the commands at the front of in
	gone          chan struct{} // closed at peerEOF (WatchPeer)
	inPeak        int64         // the most input held since the last tick (resizeInput)
	stats         bufStats      // buffer figures for CLIENT LIST (connmem.go)

	mu         sync.Mutex
	state      connState // written by the loop under mu; read by Push
	held       []byte    // pushes not yet queued on out
	pushPosted bool      // a task to queue held is on its way
	closed     bool
	done       chan struct{} // closed by Close
}

func newLoopConn(l *loop, fd int, remote, local string) *loopConn {
	return &loopConn{
		l: l, fd: fd, remote: remote, local: local,
		guard:     newGuard(nil, l.s.cfg.Int("proto-max-bulk-len")),
		done:      make(chan struct{}),
		gone:      make(chan struct{}),
		stalledAt: -1,
	}
}

// RemoteAddr implements commands.Conn.
func (c *loopConn) RemoteAddr() string { return c.remote }

// LocalAddr implements commands.Conn.
func (c *loopConn) LocalAddr() string { return c.local }

// Done is closed when the connection is closed or its peer has gone: a
// blocked command gives up.
func (c *loopConn) Done() <-chan struct{} { return c.done }

// Close disconnects the client. It is safe from any goroutine and more than
// once; the socket is closed by the loop, after a command running off the
// loop for this client has returned.
func (c *loopConn) Close() error {
	if c.markClosed() {
		c.l.post(c.teardownWhenIdle)
	}
	return nil
}

// markClosed marks the connection closed; it reports false if it already was.
func (c *loopConn) markClosed() bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	c.closed = true
	c.held = nil
	c.mu.Unlock()
	close(c.done)
	return true
}

func (c *loopConn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

func (c *loopConn) setState(s connState) {
	c.mu.Lock()
	c.state = s
	c.mu.Unlock()
}

// Push queues an out-of-band frame (a pub/sub message). It never blocks: a
// subscriber whose backlog passes the pubsub limit is disconnected.
func (c *loopConn) Push(frame []byte) bool {
	lim := pubsubLimit(c.l.s.cfg)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	c.held = append(c.held, frame...)
	if lim.Hard > 0 && int64(len(c.held)) > lim.Hard {
		c.mu.Unlock()
		c.Close()
		return false
	}
	post := c.state == stIdle && !c.pushPosted
	if post {
		c.pushPosted = true
	}
	c.mu.Unlock()
	if post {
		c.l.post(c.flushPushes)
	}
	return true
}

// flushPushes queues held pushes on out (on the loop, between batches).
func (c *loopConn) flushPushes() {
	if c.torn {
		return
	}
	c.mu.Lock()
	c.pushPosted = false
	if c.state != stIdle {
		c.mu.Unlock()
		return // the batch in progress queues them after its replies
	}
	held := c.held
	c.held = nil
	c.mu.Unlock()
	if len(held) > 0 {
		c.send(nil, held)
		if c.checkPushLimit() {
			c.publishMem()
		}
	}
}

// onReadable reads what the socket has and serves it. A big argument in
// progress is read to its end while the socket has it (as Redis reads a
// big bulk at once), so the client's input is whole when others look at it
// (CLIENT LIST, client eviction) rather than one read buffer at a time.
func (c *loopConn) onReadable() {
	// At most maxBigReads reads per event, so one client's big value does
	// not hold the loop's other clients for long.
	for i := 0; i < maxBigReads && c.readOnce(); i++ {
	}
}

// maxBigReads bounds the reads of one readiness event (4 MB).
const maxBigReads = 64

// readOnce does one read for onReadable; it reports whether to read again.
func (c *loopConn) readOnce() bool {
	if c.torn {
		return false
	}
	n, err := unix.Read(c.fd, c.l.readBuf)
	if err == unix.EAGAIN || err == unix.EINTR {
		return false
	}
	if err != nil { // reset: the peer can take nothing more
		c.abandon()
		return false
	}
	if n == 0 { // the end of the peer's stream
		c.peerGone()
		return false
	}
	c.l.s.disp.CountRead(n)
	if c.protoErr != "" || c.closeAfterOut {
		return false // closing: what it sends now is never run
	}
	c.guard.unauth = !c.cl.Authed
	data := c.guard.feed(c.l.readBuf[:n])
	if c.guard.err != nil {
		c.protoErr = c.guard.err.(*ProtocolError).Msg
	}
	if len(c.in) == 0 {
		c.in = append(c.inbuf[:0], data...)
		c.inbuf = c.in[:0]
	} else {
		grown := cap(c.in) < len(c.in)+len(data)
		c.in = append(c.in, data...)
		if grown {
			// Keep the grown buffer for the next commands: resizeInput
			// gives the room back once it goes unused.
			c.inbuf = c.in[:0]
		}
		if limit := c.l.s.cfg.Int("client-query-buffer-limit"); int64(len(c.in)) > limit {
			slog.Warn("closing client: query buffer over client-query-buffer-limit", "client", c.cl.ID, "addr", c.remote, "limit", limit)
			c.Close()
			return false
		}
	}
	if n := int64(len(c.in)); n > c.inPeak {
		c.inPeak = n
	}
	if c.state == stIdle && !c.queued {
		c.queued = true
		c.l.ready = append(c.l.ready, c)
	} else {
		c.publishMem() // not served this pass: its input waits, and counts
	}
	// Until the socket has nothing more (EAGAIN ends the next read): more
	// of the argument may arrive while the reads take what came.
	return c.guard.state == stPayload && c.guard.payload > 0 && c.guard.err == nil
}

// peerGone handles the end of the peer's stream. Commands the peer sent
// before it still run and get their replies, as with Redis, when a batch of
// them is waiting (on a goroutine, or for an fsync); a blocked command sees
// WatchPeer fire and gives up.
func (c *loopConn) peerGone() {
	if c.state == stIdle && len(c.in) == 0 && len(c.out) == 0 {
		c.teardown()
		return
	}
	if !c.peerEOF {
		c.peerEOF = true
		close(c.gone)
		// Level-triggered epoll would report the closed stream again and
		// again until the batch is done: watch for writability only.
		c.l.watchOutput(c, c.wantOut)
	}
	if c.state != stIdle {
		return // resume finishes it
	}
	// Idle with input or replies left: its commands waited for their
	// replies to drain (see backedUp). They run, then it closes once the
	// replies are out.
	switch {
	case len(c.in) > 0 && !c.backedUp():
		if !c.queued {
			c.queued = true
			c.l.ready = append(c.l.ready, c)
		}
	case len(c.in) == 0:
		c.closeAfterOut = true
		c.maybeFinish()
	}
}

// WatchPeer reports, while a command blocks, when the peer has closed its
// end (read returned EOF), so a client that gave up is not served an
// element it will never read.
func (c *loopConn) WatchPeer() (<-chan struct{}, func()) { return c.gone, func() {} }

// abandon closes a connection whose socket failed: the loop stops watching
// it at once (an error is reported by epoll until the socket is closed).
func (c *loopConn) abandon() {
	c.markClosed()
	_ = unix.EpollCtl(c.l.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
	c.teardownWhenIdle()
}

// teardownWhenIdle closes the socket and releases the client, unless a
// goroutine is still running a command of this client: then it happens when
// that command returns (it sees Done closed).
func (c *loopConn) teardownWhenIdle() {
	if c.torn || c.state == stOffloaded || c.state == stDurable {
		return // resume tears it down
	}
	c.teardown()
}

func (c *loopConn) teardown() {
	if c.torn {
		return
	}
	if c.paused {
		c.paused = false
		c.l.s.disp.PauseHeld(-1)
	}
	c.markClosed()
	c.torn = true
	c.l.forget(c)
	c.l.s.disp.Release(c.cl)
	c.in, c.inbuf, c.out, c.flat, c.cmds, c.batch = nil, nil, nil, nil, nil, nil
}

// process runs the complete commands in c.in while the loop may run them.
func (c *loopConn) process() {
	for {
		for c.state == stIdle && !c.torn && !c.closeAfterOut && !c.backedUp() && !c.paused && c.guard.complete != c.stalledAt {
			cmds := c.parse()
			if len(cmds) == 0 {
				// Only the start of a command: wait until the guard has seen
				// another command end rather than parse it again on every
				// read (a big value arrives in many reads).
				c.stalledAt = c.guard.complete
				break
			}
			c.runBatch(cmds, false)
		}
		if c.state != stIdle || c.torn || c.closeAfterOut || c.backedUp() || c.paused || c.guard.authHeld == nil {
			break
		}
		// Everything before an unauthenticated client's oversized header
		// has run: it stands, or an AUTH among those commands lifted it.
		more := c.guard.resolveAuth(c.cl.Authed)
		if err := c.guard.err; err != nil {
			c.protoErr = err.(*ProtocolError).Msg
			break
		}
		c.in = append(c.in, more...)
	}
	if c.state == stIdle && !c.torn && !c.paused && c.protoErr != "" && !c.closeAfterOut {
		logging.Verbose("protocol error from client", "client", c.cl.ID, "addr", c.remote, "error", c.protoErr)
		c.send(nil, []byte("-"+c.protoErr+"\r\n"))
		c.closeAfterOut = true
		c.in = nil
		c.maybeFinish()
	}
	if c.peerEOF && c.state == stIdle && !c.torn && !c.closeAfterOut && !c.backedUp() {
		// The peer ended its stream while its replies held its commands
		// back (peerGone): everything it sent has run now.
		c.closeAfterOut = true
		c.maybeFinish()
	}
}

// maxPass bounds the commands parsed and run in one pass over a
// connection's input, so their replies are written out in steps.
const maxPass = 1024

// parse takes the complete commands at the front of c.in. The arguments
// point into c.in, which is not touched until they have run.
func (c *loopConn) parse() [][][]byte {
	cmds := c.cmds[:0]
	c.flat = c.flat[:0]
	rest := c.in
	for len(rest) > 0 && len(cmds) < maxPass {
		if cap(c.flat)-len(c.flat) < 8 {
			// Earlier commands keep the old array; later ones use a new one.
			c.flat = make([][]byte, 0, 2*cap(c.flat)+64)
		}
		start := len(c.flat)
		if rest[0] == '$' {
			// redcon reads a line starting with '$' as Tile38's protocol
			// and waits forever for a space; Redis reads it as an inline
			// command (and answers "unknown command").
			nl := bytes.IndexByte(rest, '\n')
			if nl < 0 {
				break
			}
			if args := bytes.Fields(rest[:nl]); len(args) > 0 {
				cmds = append(cmds, args)
			}
			rest = rest[nl+1:]
			continue
		}
		complete, args, _, left, err := redcon.ReadNextCommand(rest, c.flat[start:start])
		if err != nil {
			c.protoErr = "ERR Protocol error: " + redconMessage(err)
			rest = nil
			break
		}
		if !complete {
			break
		}
		rest = left
		if len(args) == 0 {
			continue // an empty line, skipped as Redis does
		}
		if len(args) <= cap(c.flat)-start && &args[0] == &c.flat[start : start+1][0] {
			c.flat = c.flat[:start+len(args)]
		}
		cmds = append(cmds, args)
	}
	c.cmds = cmds
	c.in = rest
	return cmds
}

// runBatch runs one pass of commands: on the loop as long as they are quick,
// then, from the first one that may block or take long, on a goroutine.
// ran says that commands of this pass already ran (in the loop's shared
// transaction), so their replies are pending in the client's writer.
func (c *loopConn) runBatch(cmds [][][]byte, ran bool) {
	d := c.l.s.disp
	for i, args := range cmds {
		if d.Paused(c.cl, args) {
			c.holdPaused(cmds[i:])
			cmds = cmds[:i]
			break
		}
		if d.StartsPause(args) && i+1 < len(cmds) {
			// What follows a CLIENT PAUSE is decided after it ran: put it
			// back in front of the input for the next pass.
			c.in = append(rebuild(cmds[i+1:]), c.in...)
			c.stalledAt = -1
			cmds = cmds[:i+1]
			break
		}
	}
	split := len(cmds)
	for i, args := range cmds {
		if d.RunsLong(c.cl, args) {
			split = i
			break
		}
	}
	// A client whose replies back up on its socket runs nothing more until
	// they drain (see outPause): what it sent waits as input.
	hold := c.backedUp()
	if hold || (split > 0 && !c.l.s.eng.TryShort()) {
		split = 0 // long work holds the database: run them all on a goroutine
	}
	if split > 0 {
		c.setState(stRunning)
		n := d.ExecBatch(c.cl, cmds[:split], c.batchStop)
		c.l.s.eng.EndShort()
		ran = true
		if n < split {
			split, hold = n, true
		}
	}
	if ran {
		if c.torn {
			return
		}
		if t := c.cl.Ticket(); t != 0 {
			if !c.l.s.eng.NotifyDurable(t, c.durableLater) {
				c.setState(stDurable)
				if split < len(cmds) {
					c.putBack(cmds[split:])
				}
				return
			}
		}
		c.endBatch()
		if c.torn || c.closeAfterOut {
			return
		}
	}
	if split < len(cmds) {
		if hold || c.backedUp() {
			c.putBack(cmds[split:])
			return
		}
		if c.proposeAsync(cmds[split:]) {
			return
		}
		c.offload(cmds[split:])
	}
}

// putBack returns commands that were parsed but not run to the front of the
// input, to run in a later pass.
func (c *loopConn) putBack(cmds [][][]byte) {
	c.in = append(rebuild(cmds), c.in...)
	c.stalledAt = -1
}

// outPause is how many reply bytes may wait on a client's socket before the
// loop stops running its commands, when no hard output limit is set (the
// default for normal clients): a client that pipelines big reads without
// reading the replies gets them built a step at a time, as it takes them,
// instead of all at once in the server's memory and on the loop's time.
// With a hard limit the client's commands keep running, as in Redis, and
// the limit disconnects it (checked as each step of replies is queued).
const outPause = 1 << 20

// backedUp reports whether the client's unwritten replies have reached
// outPause with no hard limit and no client eviction (maxmemory-clients)
// to stop them; its commands then wait until the socket takes them
// (onWritable).
func (c *loopConn) backedUp() bool {
	return len(c.out) >= outPause && normalLimit(c.l.s.cfg).Hard == 0 && !c.l.s.disp.Evictable(c.cl)
}

// holdPaused puts commands that CLIENT PAUSE holds back in front of the
// input: the connection runs nothing more until the pause ends
// (loop.resumePaused), and its commands then run in order.
func (c *loopConn) holdPaused(cmds [][][]byte) {
	c.putBack(cmds)
	c.paused = true
	c.l.paused = append(c.l.paused, c)
	c.l.s.disp.PauseHeld(1)
}

// batchStop is ExecBatch's check between commands: it writes out replies
// that have piled up, and stops the batch when the client is going away or
// its replies back up on the socket.
func (c *loopConn) batchStop() bool {
	if c.cl.CloseAfterReply {
		return true
	}
	if c.cl.W.Len() >= flushThreshold && !c.cl.WritesPending() && !c.queueReplies(nil) {
		return true
	}
	return c.backedUp() || c.isClosed()
}

// durableLater is called by the syncer once the batch's writes are on disk.
//
// When the fsync failed, the batch's writes may not be on disk: its replies
// are not sent (an acknowledgement would promise what appendfsync always
// cannot keep) and the connection is closed, so the client sees an error
// instead of an OK. Writes are refused with MISCONF until the file can be
// flushed again.
func (c *loopConn) durableLater(err error) {
	if err != nil {
		slog.Warn("connection closed without its replies: fsync failed", "client", c.cl.ID, "error", err)
		c.markClosed()
	}
	c.l.post(c.resume)
}

// resume queues the replies of the batch that waited (for an fsync or for a
// goroutine) and goes on with the input that arrived meanwhile.
func (c *loopConn) resume() {
	if c.torn {
		return
	}
	if c.isClosed() {
		c.state = stIdle
		c.teardown()
		return
	}
	c.endBatch()
	if !c.torn && !c.closeAfterOut {
		c.process()
	}
	c.publishMem()
	if c.peerEOF && c.state == stIdle && !c.torn {
		// No more input will come: what was sent before the end has run;
		// close once its replies are out.
		c.closeAfterOut = true
		c.maybeFinish()
	}
}

// endBatch queues the batch's replies, then the pushes held during it, and
// lets the loop run the connection's commands again.
func (c *loopConn) endBatch() {
	c.mu.Lock()
	c.state = stIdle
	held := c.held
	c.held = nil
	c.mu.Unlock()
	if !c.queueReplies(held) {
		return
	}
	if c.cl.CloseAfterReply {
		c.closeAfterOut = true
		c.in = nil
		c.maybeFinish()
	}
}

// queueReplies sends the replies in the client's writer, then held pushes,
// and enforces the normal output limit; it reports whether the connection
// is still open. A reply that would take the output over the hard limit
// closes the connection before any of it is written, as Redis decides when
// it queues a reply.
func (c *loopConn) queueReplies(held []byte) bool {
	replies := c.cl.W.Bytes()
	if lim := normalLimit(c.l.s.cfg); lim.Hard > 0 && int64(len(c.out)+len(replies)) > lim.Hard {
		c.cl.W.Reset()
		c.markClosed()
		c.out = nil
		c.teardownWhenIdle()
		return false
	}
	c.send(replies, held)
	c.cl.W.Reset()
	return !c.torn && c.checkOutputLimit()
}

// offload runs cmds on a goroutine of their own; the loop serves the
// connection again once they are done.
func (c *loopConn) offload(cmds [][][]byte) {
	owned := make([][][]byte, len(cmds))
	for i, args := range cmds {
		owned[i] = commands.CloneArgs(args)
	}
	c.setState(stOffloaded)
	s := c.l.s
	// A blocking command's first try (resolving XREAD's "$", taking its
	// place in line) must come before whatever other clients sent after it,
	// as in Redis: the loop waits until the command sleeps or has run. Not
	// while long work holds the database (the first try would wait for it);
	// holding the gate shared meanwhile keeps new long work from starting.
	var settled chan struct{}
	if s.disp.Blocks(c.cl, owned[0]) && s.eng.TryShort() {
		settled = make(chan struct{})
		var once sync.Once
		c.cl.OnPark = func() { once.Do(func() { close(settled) }) }
	}
	settle := func() {
		if park := c.cl.OnPark; park != nil {
			c.cl.OnPark = nil
			park()
		}
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer c.l.post(c.resume)
		defer func() {
			if r := recover(); r != nil {
				slog.Warn("internal error serving a client", "client", c.cl.ID, "panic", fmt.Sprint(r))
				c.markClosed()
			}
			settle()
		}()
		s.disp.ExecBatch(c.cl, owned, c.offloadStop)
		settle() // ran without sleeping, or woke up: the loop goes on
		if t := c.cl.Ticket(); t != 0 {
			if err := s.eng.WaitDurable(t); err != nil {
				// Not on disk for sure: no reply acknowledges it (see
				// durableLater); resume tears the connection down.
				slog.Warn("connection closed without its replies: fsync failed", "client", c.cl.ID, "error", err)
				c.markClosed()
			}
		}
	}()
	if settled != nil {
		<-settled
		s.eng.EndShort()
	}
}

// offloadStop is ExecBatch's check between commands run on a goroutine:
// it stops when the client is going away, and applies the hard output limit
// to the replies built so far (they reach the socket when the batch ends),
// so a pipeline of big reads after a blocking command cannot build without
// bound.
func (c *loopConn) offloadStop() bool {
	if c.cl.CloseAfterReply || c.isClosed() {
		return true
	}
	if lim := normalLimit(c.l.s.cfg); lim.Hard > 0 && int64(c.cl.W.Len()) > lim.Hard {
		slog.Warn("closing client: replies over client-output-buffer-limit", "client", c.cl.ID)
		c.markClosed()
		return true
	}
	return false
}

// send writes a and then b to the socket, queueing on out what it does not
// take now.
func (c *loopConn) send(a, b []byte) {
	if c.torn {
		return
	}
	if len(c.out) > 0 {
		c.out = append(c.out, a...)
		c.out = append(c.out, b...)
		c.flushOut()
		return
	}
	for _, p := range [2][]byte{a, b} {
		if len(p) == 0 {
			continue
		}
		if len(c.out) > 0 {
			c.out = append(c.out, p...)
			continue
		}
		n := c.write(p)
		if n < 0 {
			return
		}
		if n < len(p) {
			c.out = append(c.out, p[n:]...)
		}
	}
	if len(c.out) > 0 && !c.wantOut {
		c.wantOut = true
		c.l.watchOutput(c, true)
	}
}

// write writes p, returning how much the socket took, or -1 when the
// connection failed (it is then torn down).
func (c *loopConn) write(p []byte) int {
	done := 0
	for done < len(p) {
		n, err := unix.Write(c.fd, p[done:])
		if n > 0 {
			done += n
			c.l.s.disp.CountWrite(n)
		}
		switch {
		case err == nil:
		case err == unix.EINTR:
		case err == unix.EAGAIN:
			return done
		default:
			c.abandon()
			return -1
		}
	}
	return done
}

// flushOut writes what it can of out.
func (c *loopConn) flushOut() {
	n := c.write(c.out)
	if n < 0 {
		return
	}
	if n == len(c.out) {
		c.out = c.out[:0]
		if cap(c.out) > 64*1024 {
			c.out = nil
		}
		c.softSince = time.Time{}
	} else {
		c.out = c.out[:copy(c.out, c.out[n:])]
	}
	if want := len(c.out) > 0; want != c.wantOut {
		c.wantOut = want
		c.l.watchOutput(c, want)
	}
}

func (c *loopConn) onWritable() {
	if len(c.out) > 0 {
		c.flushOut()
	} else if c.wantOut {
		c.wantOut = false
		c.l.watchOutput(c, false)
	}
	if !c.torn && c.state == stIdle && !c.backedUp() {
		switch {
		case len(c.in) > 0 && !c.queued:
			// The socket took the replies that held its commands back (see
			// backedUp): the loop's next pass runs the input that waited.
			c.queued = true
			c.l.ready = append(c.l.ready, c)
		case len(c.in) == 0 && c.peerEOF:
			// The peer ended its stream while its replies backed up
			// (peerGone): everything has run; close once they are out.
			c.closeAfterOut = true
		}
	}
	c.maybeFinish()
	c.publishMem()
}

// maybeFinish closes a connection marked to close once its output is out.
func (c *loopConn) maybeFinish() {
	if c.closeAfterOut && len(c.out) == 0 && !c.torn && c.state == stIdle {
		c.teardown()
	}
}

// checkOutputLimit disconnects the client when its unwritten output passes
// its class of client-output-buffer-limit (pubsub for a subscriber, as
// Redis classes clients, else normal); it reports whether the connection is
// still open.
func (c *loopConn) checkOutputLimit() bool {
	if c.cl.Subscribed() {
		return c.checkLimit(pubsubLimit(c.l.s.cfg))
	}
	return c.checkLimit(normalLimit(c.l.s.cfg))
}

// checkPushLimit checks the limit after pushes were queued: a subscriber's
// messages, or a tracking client's invalidations (its own class).
func (c *loopConn) checkPushLimit() bool {
	return c.checkOutputLimit()
}

func (c *loopConn) checkLimit(lim config.OutputLimit) bool {
	if c.torn {
		return false
	}
	if overLimit(lim, int64(len(c.out)), &c.softSince) {
		c.markClosed()
		c.out = nil
		c.teardownWhenIdle()
		return false
	}
	return true
}

// rebuild encodes parsed commands back into RESP (a batch cut short by a
// durable wait keeps its unrun commands as input).
func rebuild(cmds [][][]byte) []byte {
	var b []byte
	for _, args := range cmds {
		b = append(b, '*')
		b = append(strconv.AppendInt(b, int64(len(args)), 10), '\r', '\n')
		for _, a := range args {
			b = append(b, '$')
			b = append(strconv.AppendInt(b, int64(len(a)), 10), '\r', '\n')
			b = append(b, a...)
			b = append(b, '\r', '\n')
		}
	}
	return b
}
