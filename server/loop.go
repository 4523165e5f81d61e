package server

import (
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/sessiond/sessiond/commands"
	"golang.org/x/sys/unix"
)

// A loop is one event loop of the plain-TCP front: a goroutine that waits in
// epoll_wait for its connections' sockets, reads what arrived, runs the
// commands it completes, and writes their replies, with no goroutine per
// connection. Work that comes from other goroutines (a connection accepted,
// a pub/sub push, a reply released by an fsync or by a command that ran off
// the loop, a CLIENT KILL) is posted to the loop as a task and wakes it
// through an eventfd.
//
// Everything in a loop, and the loop-owned fields of its connections, is
// touched only by the loop's goroutine.
type loop struct {
	s      *Server
	epfd   int
	wakefd int
	conns  map[int]*loopConn // by file descriptor

	mu       sync.Mutex
	tasks    []func()
	spare    []func()
	wakeSent bool // an eventfd write is pending: further posts need none
	dead     bool // run has returned: the descriptors are closed

	stopping bool
	ready    []*loopConn      // connections that read input this iteration
	paused   []*loopConn      // connections CLIENT PAUSE holds, in the order they were held
	groups   []commands.Group // their shared pass
	readBuf  []byte
	events   []unix.EpollEvent
	lastTick time.Time
}

// readBufSize is how much one read(2) takes from a socket. A pipeline
// larger than this is served over several loop iterations.
const readBufSize = 64 * 1024

func newLoop(s *Server) (*loop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, err
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wakefd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(wakefd)
		return nil, err
	}
	return &loop{
		s:       s,
		epfd:    epfd,
		wakefd:  wakefd,
		conns:   map[int]*loopConn{},
		readBuf: make([]byte, readBufSize),
		events:  make([]unix.EpollEvent, 256),
	}, nil
}

// post runs fn on the loop's goroutine soon. It is safe from any goroutine
// and never blocks.
func (l *loop) post(fn func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.dead {
		return // nothing of the loop is left to act on
	}
	l.tasks = append(l.tasks, fn)
	if !l.wakeSent {
		l.wakeSent = true
		one := [8]byte{1} // eventfd counters are host-endian uint64: 1
		_, _ = unix.Write(l.wakefd, one[:])
	}
}

// tickEvery is how often a loop checks idle timeouts and output limits.
const tickEvery = 250 * time.Millisecond

// run serves the loop's connections until the server stops and every
// connection of the loop is gone.
func (l *loop) run() {
	defer func() {
		l.mu.Lock()
		l.dead = true
		l.tasks = nil
		unix.Close(l.epfd)
		unix.Close(l.wakefd)
		l.mu.Unlock()
	}()
	l.lastTick = time.Now()
	for {
		n, err := unix.EpollWait(l.epfd, l.events, int(tickEvery/time.Millisecond))
		if err != nil && err != unix.EINTR {
			slog.Warn("event loop: epoll_wait failed", "error", err)
			time.Sleep(10 * time.Millisecond)
		}
		for i := 0; i < n; i++ {
			ev := &l.events[i]
			fd := int(ev.Fd)
			if fd == l.wakefd {
				var b [8]byte
				_, _ = unix.Read(l.wakefd, b[:])
				continue
			}
			c := l.conns[fd]
			if c == nil {
				continue
			}
			if ev.Events&(unix.EPOLLIN|unix.EPOLLHUP|unix.EPOLLERR|unix.EPOLLRDHUP) != 0 {
				c.onReadable()
			}
			if ev.Events&unix.EPOLLOUT != 0 && !c.torn {
				c.onWritable()
			}
		}
		l.runReady()
		l.runTasks()
		if now := time.Now(); now.Sub(l.lastTick) >= tickEvery {
			l.lastTick = now
			l.tick(now)
		}
		if l.stopping && len(l.conns) == 0 {
			return
		}
	}
}

// maxShared bounds the commands one client adds to the loop's shared pass.
const maxShared = 256

// runReady serves the connections that read input in this iteration. Their
// leading batchable commands (plain reads and writes, native session
// commands) run together in one engine transaction — one lock and one write
// to the data file for every client of the iteration, as Redis writes its
// AOF once per event-loop iteration — and the rest of each connection's
// commands run after, in order.
func (l *loop) runReady() {
	if len(l.ready) == 0 {
		return
	}
	d := l.s.disp
	groups := l.groups[:0]
	// Clients are served in the order their input arrived, as Redis serves
	// them: once a client has a command that cannot join the shared pass,
	// the clients after it join none (their commands must not run before
	// that one).
	cut := false
	for _, c := range l.ready {
		c.queued = false
		c.batch, c.shared = nil, 0
		if c.torn || c.state != stIdle || c.closeAfterOut || c.backedUp() || c.paused || c.guard.complete == c.stalledAt {
			continue
		}
		cmds := c.parse()
		if len(cmds) == 0 {
			c.stalledAt = c.guard.complete
			continue
		}
		n, write := 0, false
		for !cut && n < len(cmds) && n < maxShared {
			ok, w := d.Batchable(c.cl, cmds[n])
			if !ok || d.RunsLong(c.cl, cmds[n]) || d.Paused(c.cl, cmds[n]) {
				break
			}
			write = write || w
			n++
		}
		c.batch, c.shared = cmds, n
		cut = cut || n < len(cmds)
		if n > 0 {
			c.setState(stRunning)
			groups = append(groups, commands.Group{Client: c.cl, Cmds: cmds[:n], Write: write})
		}
	}
	if len(groups) > 0 && !l.s.eng.TryShort() {
		// Long work (a script, a snapshot) holds the database: these
		// commands go to goroutines with the rest (runBatch).
		for _, c := range l.ready {
			if c.batch != nil && c.shared > 0 {
				c.shared = 0
				c.setState(stIdle)
			}
		}
		groups = groups[:0]
	}
	if len(groups) > 0 {
		d.RunShared(groups)
		l.s.eng.EndShort()
		// A group stops early once its replies are big: the rest of its
		// commands run after, in order, with their replies written out.
		gi := 0
		for _, c := range l.ready {
			if c.batch != nil && c.shared > 0 {
				c.shared = groups[gi].Ran
				gi++
			}
		}
	}
	for i, c := range l.ready {
		l.ready[i] = nil
		if c.torn {
			continue
		}
		if cmds := c.batch; cmds != nil {
			c.batch = nil
			c.runBatch(cmds[c.shared:], c.shared > 0)
		}
		c.process()
		c.publishMem()
	}
	l.ready = l.ready[:0]
	for i := range groups {
		groups[i] = commands.Group{}
	}
	l.groups = groups[:0]
}

// resumePaused runs, in the order they were held, the commands of the
// connections CLIENT PAUSE held (the pause has ended).
func (l *loop) resumePaused() {
	held := l.paused
	l.paused = nil
	for _, c := range held {
		if !c.paused {
			continue // torn down meanwhile
		}
		c.paused = false
		l.s.disp.PauseHeld(-1)
		if c.torn {
			continue
		}
		c.process()
		if c.peerEOF && c.state == stIdle && !c.torn {
			c.closeAfterOut = true
			c.maybeFinish()
		}
	}
}

func (l *loop) runTasks() {
	l.mu.Lock()
	tasks := l.tasks
	l.tasks = l.spare[:0]
	l.wakeSent = false
	l.mu.Unlock()
	for i, fn := range tasks {
		fn()
		tasks[i] = nil
	}
	l.spare = tasks[:0]
}

// tick closes connections idle past `timeout` and those whose output has
// stayed over the soft limit for its period.
func (l *loop) tick(now time.Time) {
	timeout := time.Duration(l.s.cfg.Int("timeout")) * time.Second
	for _, c := range l.conns {
		if c.torn {
			continue
		}
		if timeout > 0 && c.state == stIdle && !c.cl.Subscribed() && now.Sub(c.cl.LastInteraction()) > timeout {
			c.Close()
			continue
		}
		if len(c.out) > 0 {
			c.checkOutputLimit()
		}
		c.resizeInput(now)
		c.publishMem()
	}
}

// stop closes every connection of the loop; run returns once they are gone.
func (l *loop) stop() {
	l.post(func() {
		l.stopping = true
		for _, c := range l.conns {
			c.Close()
		}
	})
}

// adopt registers an accepted socket with the loop (on the loop's goroutine).
func (l *loop) adopt(fd int, remote, local string) {
	if l.stopping {
		unix.Close(fd)
		return
	}
	c := newLoopConn(l, fd, remote, local)
	if protectedModeDenies(l.s.cfg, l.s.disp, c) {
		_, _ = unix.Write(fd, []byte(msgProtectedMode))
		unix.Close(fd)
		return
	}
	cl, err := l.s.disp.NewClient(c)
	if err != nil {
		_, _ = unix.Write(fd, []byte("-"+err.Error()+"\r\n"))
		unix.Close(fd)
		return
	}
	c.cl = cl
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(fd)}
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		slog.Warn("event loop: cannot register a connection", "error", err)
		l.s.disp.Release(cl)
		unix.Close(fd)
		return
	}
	l.conns[fd] = c
}

// watchOutput turns EPOLLOUT interest on or off for c.
func (l *loop) watchOutput(c *loopConn, on bool) {
	events := uint32(unix.EPOLLIN | unix.EPOLLRDHUP)
	if c.peerEOF {
		events = 0 // nothing more to read; only errors and hangups are reported
	}
	if on {
		events |= unix.EPOLLOUT
	}
	ev := unix.EpollEvent{Events: events, Fd: int32(c.fd)}
	_ = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_MOD, c.fd, &ev)
}

// forget removes c's socket from the loop and closes it.
func (l *loop) forget(c *loopConn) {
	_ = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
	unix.Close(c.fd)
	delete(l.conns, c.fd)
}

// acceptor accepts plain TCP connections and deals them out to the loops.
// A failed accept (out of file descriptors, say) is logged, backs off and is
// retried: it never stops the server.
type acceptor struct {
	s      *Server
	lfd    int // a duplicate of the listener's descriptor, non-blocking
	stopfd int // an eventfd written by wake
	loops  []*loop
	next   int

	lastLog time.Time
	failed  int // accept failures since the last log line
}

func (a *acceptor) run() {
	defer unix.Close(a.stopfd)
	defer unix.Close(a.lfd)
	backoff := time.Duration(0)
	fds := []unix.PollFd{{Fd: int32(a.lfd), Events: unix.POLLIN}, {Fd: int32(a.stopfd), Events: unix.POLLIN}}
	for {
		fds[0].Revents, fds[1].Revents = 0, 0
		if _, err := unix.Poll(fds, -1); err != nil && err != unix.EINTR {
			slog.Warn("accept: poll failed", "error", err)
			time.Sleep(10 * time.Millisecond)
		}
		if fds[1].Revents != 0 || a.s.isClosing() {
			return
		}
		if fds[0].Revents == 0 {
			continue
		}
		for {
			nfd, sa, err := unix.Accept4(a.lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
			if err == unix.EAGAIN {
				break
			}
			if err != nil {
				if err == unix.EINTR || err == unix.ECONNABORTED || err == unix.ECONNRESET || err == unix.EPROTO {
					continue
				}
				// EMFILE, ENFILE, ENOBUFS, ENOMEM: the connection stays in
				// the backlog; try again shortly, as Redis does.
				a.s.disp.CountRejected()
				a.logFailure(err)
				if backoff == 0 {
					backoff = 5 * time.Millisecond
				} else if backoff < time.Second {
					backoff *= 2
				}
				time.Sleep(backoff)
				break
			}
			backoff = 0
			a.configure(nfd)
			remote := sockaddrString(sa)
			local := ""
			if lsa, err := unix.Getsockname(nfd); err == nil {
				local = sockaddrString(lsa)
			}
			l := a.loops[a.next%len(a.loops)]
			a.next++
			l.post(func() { l.adopt(nfd, remote, local) })
		}
	}
}

// wake makes run return (the server is stopping).
func (a *acceptor) wake() {
	one := [8]byte{1}
	_, _ = unix.Write(a.stopfd, one[:])
}

func newAcceptor(s *Server, ln *net.TCPListener, loops []*loop) (*acceptor, error) {
	rc, err := ln.SyscallConn()
	if err != nil {
		return nil, err
	}
	lfd := -1
	var derr error
	if err := rc.Control(func(fd uintptr) { lfd, derr = unix.Dup(int(fd)) }); err != nil {
		return nil, err
	}
	if derr != nil {
		return nil, derr
	}
	unix.CloseOnExec(lfd)
	if err := unix.SetNonblock(lfd, true); err != nil {
		unix.Close(lfd)
		return nil, err
	}
	stopfd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(lfd)
		return nil, err
	}
	return &acceptor{s: s, lfd: lfd, stopfd: stopfd, loops: loops}, nil
}

func (a *acceptor) logFailure(err error) {
	a.failed++
	if time.Since(a.lastLog) < time.Second {
		return
	}
	slog.Warn("accept failed; connections wait in the backlog", "error", err, "failures_last_second", a.failed)
	a.lastLog = time.Now()
	a.failed = 0
}

func (a *acceptor) configure(fd int) {
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	if ka := a.s.cfg.Int("tcp-keepalive"); ka > 0 {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1)
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, int(ka))
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, int(ka))
	}
}

func sockaddrString(sa unix.Sockaddr) string {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return net.JoinHostPort(net.IP(a.Addr[:]).String(), strconv.Itoa(a.Port))
	case *unix.SockaddrInet6:
		return net.JoinHostPort(net.IP(a.Addr[:]).String(), strconv.Itoa(a.Port))
	case *unix.SockaddrUnix:
		return a.Name
	}
	return ""
}
