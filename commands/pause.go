package commands

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// CLIENT PAUSE: while a pause is in effect the server holds the commands it
// covers (every command under ALL; writes, scripts that may write, PUBLISH
// and EXEC of a transaction holding any of those under WRITE), and runs
// them, in order, once the pause ends. The command layer decides what is
// held (Paused); the server holds a connection's commands from the first
// held one on, without blocking anyone else, and runs them when told
// (OnUnpause).

const (
	pauseNone int32 = iota
	pauseWrite
	pauseAll
)

type pauseState struct {
	d     *Dispatcher
	mode  atomic.Int32 // pauseNone when nothing is paused: the hot path's one load
	held  atomic.Int64 // clients whose commands wait (INFO blocked_clients)
	mu    sync.Mutex
	end   time.Time
	timer *time.Timer
	hooks []func()
	// resumed is closed when the pause in effect ends (WaitUnpaused).
	resumed chan struct{}
}

func (p *pauseState) init(d *Dispatcher) { p.d = d }

// OnUnpause registers fn to run (on its own goroutine's time, so it must
// not block) whenever a pause ends, by CLIENT UNPAUSE or its timeout.
func (d *Dispatcher) OnUnpause(fn func()) {
	p := &d.obs.pause
	p.mu.Lock()
	p.hooks = append(p.hooks, fn)
	p.mu.Unlock()
}

// PauseHeld counts a client whose commands now wait for a pause to end
// (delta 1) or have been let go (-1), for INFO blocked_clients.
func (d *Dispatcher) PauseHeld(delta int64) { d.obs.pause.held.Add(delta) }

// Paused reports whether args, sent by cl now, must wait for CLIENT PAUSE to
// end. Commands that fail before running (unknown, wrong arity) are not
// held: their errors come at once, as in Redis.
func (d *Dispatcher) Paused(cl *Client, args [][]byte) bool {
	mode := d.obs.pause.mode.Load()
	if mode == pauseNone || len(args) == 0 {
		return false
	}
	spec := lookup(args[0])
	if spec == nil || !arityOK(spec.Arity, len(args)) {
		return false
	}
	if spec.subs != nil && len(args) >= 2 {
		sub := spec.subs[strings.ToLower(string(args[1]))]
		if sub == nil || !arityOK(sub.Arity, len(args)) {
			return false
		}
		spec = sub
	}
	if mode == pauseAll {
		return true
	}
	if cl.multi.active && spec.Flags&FlagTxControl == 0 {
		// Queued, not run: EXEC decides.
		return d.mayReplicate(spec, args)
	}
	if spec.Name == "exec" && cl.multi.active {
		for _, q := range cl.multi.queue {
			if d.mayReplicate(q.spec, q.args) {
				return true
			}
		}
		return false
	}
	return d.mayReplicate(spec, args)
}

// StartsPause reports whether args is CLIENT PAUSE: a server that decided
// which of a batch's commands to hold before running it must decide again
// for the commands after this one.
func (d *Dispatcher) StartsPause(args [][]byte) bool {
	return len(args) >= 3 && strings.EqualFold(string(args[0]), "client") && strings.EqualFold(string(args[1]), "pause")
}

// mayReplicate reports whether a command changes, or may change, what Redis
// would replicate: writes, PUBLISH, scripts not declared no-writes.
func (d *Dispatcher) mayReplicate(spec *Spec, args [][]byte) bool {
	if spec.Flags&FlagWrite != 0 {
		return true
	}
	if spec.Flags&flagMayReplicate == 0 {
		return false
	}
	switch spec.Name {
	case "eval":
		if len(args) > 1 {
			_, ro, errmsg := scriptShebang(string(args[1]))
			return !ro || errmsg != ""
		}
	case "evalsha":
		if len(args) > 1 {
			d.scripts.cacheMu.RLock()
			sc := d.scripts.cache[strings.ToLower(string(args[1]))]
			d.scripts.cacheMu.RUnlock()
			return sc == nil || !sc.readOnly
		}
	}
	return true
}

// pauseFor starts or extends a pause: the later end and the stricter mode
// win, as in Redis.
func (p *pauseState) pauseFor(mode int32, dur time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	end := time.Now().Add(dur)
	cur := p.mode.Load()
	if cur != pauseNone && p.end.After(end) {
		end = p.end
	}
	if mode < cur {
		mode = cur
	}
	p.end = end
	if p.resumed == nil {
		p.resumed = make(chan struct{})
	}
	p.mode.Store(mode)
	p.d.Engine.PauseExpiry(true)
	if p.timer != nil {
		p.timer.Stop()
	}
	p.timer = time.AfterFunc(time.Until(end), func() {
		p.mu.Lock()
		if time.Now().Before(p.end) {
			p.mu.Unlock()
			return // extended meanwhile: its own timer ends it
		}
		p.mu.Unlock()
		p.unpause()
	})
}

// unpause ends the pause and lets the held clients go.
func (p *pauseState) unpause() {
	p.mu.Lock()
	was := p.mode.Swap(pauseNone)
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	hooks := append([]func(){}, p.hooks...)
	if p.resumed != nil {
		close(p.resumed)
		p.resumed = nil
	}
	p.mu.Unlock()
	p.d.Engine.PauseExpiry(false)
	if was == pauseNone {
		return
	}
	for _, fn := range hooks {
		fn()
	}
}

// WaitUnpaused blocks until args may run for cl (for servers that run a
// connection's commands on a goroutine of its own), or until done closes.
func (d *Dispatcher) WaitUnpaused(cl *Client, args [][]byte, done <-chan struct{}) {
	if !d.Paused(cl, args) {
		return
	}
	d.PauseHeld(1)
	defer d.PauseHeld(-1)
	p := &d.obs.pause
	for d.Paused(cl, args) {
		p.mu.Lock()
		ch := p.resumed
		p.mu.Unlock()
		if ch == nil {
			return
		}
		select {
		case <-done:
			return
		case <-ch:
		}
	}
}

func cmdClientPause(c *Call) {
	if len(c.Args) > 4 {
		c.W.Error(msgSyntax)
		return
	}
	ms, err := strconv.ParseInt(string(c.Args[2]), 10, 64)
	if err != nil {
		c.W.Error("ERR timeout is not an integer or out of range")
		return
	}
	if ms < 0 {
		c.W.Error("ERR timeout is negative")
		return
	}
	mode := pauseAll
	if len(c.Args) == 4 {
		switch strings.ToUpper(string(c.Args[3])) {
		case "WRITE":
			mode = pauseWrite
		case "ALL":
		default:
			c.W.Error("ERR CLIENT PAUSE mode must be WRITE or ALL")
			return
		}
	}
	c.d.obs.pause.pauseFor(mode, time.Duration(ms)*time.Millisecond)
	c.W.OK()
}

func cmdClientUnpause(c *Call) {
	c.d.obs.pause.unpause()
	c.W.OK()
}
