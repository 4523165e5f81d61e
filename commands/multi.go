package commands

import (
	"errors"
	"sync"
	"time"

	"github.com/sessiond/sessiond/acl"
	"github.com/sessiond/sessiond/engine"
)

// MULTI/EXEC. Queued commands run in one engine write transaction, so nothing
// interleaves with them. WATCH is checked twice: a dirty flag set by every
// commit that touched a watched key (which catches writes that leave the value
// as it was, as Redis does), and, under the transaction's lock, a comparison of
// each watched key's record with the one seen at WATCH time (which closes the
// window between a commit and its notification).

type queued struct {
	spec *Spec
	args [][]byte
}

type multiState struct {
	active  bool
	failed  bool
	queue   []queued
	watched map[engine.KeyRef]string // key -> version at WATCH time
	dirty   bool                     // guarded by watchRegistry.mu
}

func runsInsideMulti(s *Spec) bool { return s.Flags&FlagTxControl != 0 }

// deniedInMulti reports the commands Redis refuses inside a transaction (its
// no_multi flag): trying to queue one makes EXEC fail.
func deniedInMulti(s *Spec) bool { return s.Flags&FlagNoMulti != 0 }

const msgNotInMulti = "ERR Command not allowed inside a transaction"

type watchRegistry struct {
	mu       sync.Mutex
	watchers map[engine.KeyRef]map[*Client]struct{}
	engine   *engine.Engine

	// Clients blocked on keys (BZPOPMIN and friends), served in the order
	// they blocked, as Redis does. Both WATCH and blocking need the engine
	// to report touched keys.
	blocked  map[engine.KeyRef][]*blocker
	nblocked int
	seq      uint64
	ready    []engine.KeyRef
	serving  bool
}

func (w *watchRegistry) init() {
	w.watchers = map[engine.KeyRef]map[*Client]struct{}{}
	w.blocked = map[engine.KeyRef][]*blocker{}
}

func (w *watchRegistry) unwatchAll(cl *Client) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for k := range cl.multi.watched {
		if set := w.watchers[k]; set != nil {
			delete(set, cl)
			if len(set) == 0 {
				delete(w.watchers, k)
			}
		}
	}
	cl.multi.watched = nil
	cl.multi.dirty = false
}

// stopTracking turns off the engine's reports of touched keys when nothing
// needs them any more. The check and the switch happen under the registry
// lock, so a watcher or blocker registering meanwhile (which turns tracking
// on after registering) is never left without reports.
func (w *watchRegistry) stopTracking(e *engine.Engine) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.watchers) == 0 && w.nblocked == 0 {
		e.TrackWrites(false)
	}
}

// active reports whether anything needs touched keys reported.
func (w *watchRegistry) active() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.watchers) > 0 || w.nblocked > 0
}

func (w *watchRegistry) invalidate(c engine.Commit) {
	if len(c.Touched) == 0 && len(c.Flushed) == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.watchers) == 0 {
		return
	}
	for _, k := range c.Touched {
		for cl := range w.watchers[k] {
			cl.multi.dirty = true
		}
	}
	for _, db := range c.Flushed {
		for k, set := range w.watchers {
			if db == -1 || k.DB == db {
				for cl := range set {
					// A flush only touches keys that existed; the version
					// check at EXEC tells which did.
					if cl.multi.watched[k] != "" {
						cl.multi.dirty = true
					}
				}
			}
		}
	}
}

func (w *watchRegistry) isDirty(cl *Client) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return cl.multi.dirty
}

func init() {
	register(
		&Spec{Name: "multi", Arity: 1, Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagTxControl | FlagAllowBusy, Group: "transactions", Since: "1.2.0",
			Summary: "Starts a transaction.", Example: "> MULTI\nOK", Run: cmdMulti},
		&Spec{Name: "exec", Arity: 1, Flags: FlagNoScript | FlagLoading | FlagStale | FlagSkipSlowlog | FlagTxControl, Group: "transactions", Since: "1.2.0",
			Summary: "Executes all commands in a transaction.", Example: "> EXEC\n1) OK", Run: cmdExec},
		&Spec{Name: "discard", Arity: 1, Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagTxControl | FlagAllowBusy, Group: "transactions", Since: "2.0.0",
			Summary: "Discards a transaction.", Example: "> DISCARD\nOK", Run: cmdDiscard},
		&Spec{Name: "watch", Arity: -2, Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagTxControl | FlagAllowBusy, FirstKey: 1, LastKey: -1, Step: 1, Group: "transactions", Since: "2.2.0",
			Syntax: "key [key ...]", Summary: "Monitors changes to keys to determine the execution of a transaction.", Example: "> WATCH sess:1\nOK", Run: cmdWatch},
		&Spec{Name: "unwatch", Arity: 1, Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagAllowBusy, Group: "transactions", Since: "2.2.0",
			Summary: "Forgets about watched keys of a transaction.", Example: "> UNWATCH\nOK", Run: cmdUnwatch},
	)
}

func cmdMulti(c *Call) {
	if c.Client.multi.active {
		c.W.Error(msgNested)
		return
	}
	c.Client.multi.active = true
	c.Client.multi.failed = false
	c.Client.multi.queue = nil
	c.W.OK()
}

func cmdDiscard(c *Call) {
	if !c.Client.multi.active {
		c.W.Error(msgDiscardNoMulti)
		return
	}
	c.d.watch.mu.Lock()
	c.Client.multi = multiState{watched: c.Client.multi.watched, dirty: c.Client.multi.dirty}
	c.d.watch.mu.Unlock()
	c.d.watch.unwatchAll(c.Client)
	c.d.watch.stopTracking(c.d.Engine)
	c.W.OK()
}

// cmdWatch registers the keys before reading their versions, so that a
// write landing in between is seen either by the dirty flag or by the
// version comparison at EXEC.
func cmdWatch(c *Call) {
	if c.Client.multi.active {
		c.W.Error(msgWatchInMulti)
		return
	}
	db := c.DB()
	w := &c.d.watch
	var fresh []engine.KeyRef
	w.mu.Lock()
	if c.Client.multi.watched == nil {
		c.Client.multi.watched = map[engine.KeyRef]string{}
	}
	for _, a := range c.Args[1:] {
		k := engine.KeyRef{DB: db, Key: string(a)}
		if _, ok := c.Client.multi.watched[k]; ok {
			continue
		}
		c.Client.multi.watched[k] = ""
		c.Client.mem.watch.Add(watchEntryMem + int64(len(a)))
		set := w.watchers[k]
		if set == nil {
			set = map[*Client]struct{}{}
			w.watchers[k] = set
		}
		set[c.Client] = struct{}{}
		fresh = append(fresh, k)
	}
	w.mu.Unlock()
	c.d.Engine.TrackWrites(true)
	versions := make([]string, len(fresh))
	_ = c.Read(func(tx *engine.Tx) error {
		for i, k := range fresh {
			versions[i] = tx.Version(k.DB, k.Key)
		}
		return nil
	})
	w.mu.Lock()
	for i, k := range fresh {
		c.Client.multi.watched[k] = versions[i]
	}
	w.mu.Unlock()
	c.W.OK()
}

func cmdUnwatch(c *Call) {
	c.d.watch.unwatchAll(c.Client)
	c.d.watch.stopTracking(c.d.Engine)
	c.W.OK()
}

func cmdExec(c *Call) {
	cl := c.Client
	if !cl.multi.active {
		c.W.Error(msgExecNoMulti)
		return
	}
	c.d.watch.mu.Lock()
	st := cl.multi
	cl.multi = multiState{watched: st.watched, dirty: st.dirty}
	watched := make(map[engine.KeyRef]string, len(st.watched))
	for k, v := range st.watched {
		watched[k] = v
	}
	c.d.watch.mu.Unlock()
	defer func() {
		c.d.watch.unwatchAll(cl)
		c.d.watch.stopTracking(c.d.Engine)
	}()
	if st.failed {
		c.W.Error(msgExecAbort)
		return
	}
	if c.d.watch.isDirty(cl) {
		c.W.NullArray()
		return
	}
	aborted := false
	now := c.Now
	t, err := c.d.Engine.Update(now.UnixMilli(), func(tx *engine.Tx) error {
		for k, v := range watched {
			if tx.Version(k.DB, k.Key) != v {
				aborted = true
				return nil
			}
		}
		c.W.Array(len(st.queue))
		began := now
		for _, q := range st.queue {
			// ACLs are checked again: the rules may have changed since
			// the command was queued, as Redis' execCommand.
			if !cl.account.Load().User().Unrestricted() {
				if why, _ := c.d.checkACL(cl, q.spec, q.args, ctxMulti, now); why != acl.Allowed {
					c.W.Error(execDenied(why))
					continue
				}
			}
			began = c.d.run(cl, q.spec, q.args, tx, now, began)
		}
		return nil
	})
	if t > cl.ticket {
		cl.ticket = t
	}
	if err != nil {
		c.W.Error("ERR " + err.Error())
		return
	}
	if aborted {
		c.W.NullArray()
	}
}

// Blocking commands. A blocked client's goroutine waits inside its command.
// After every commit that touched a key with blocked clients, the committing
// goroutine serves them one at a time in the order they blocked: it wakes
// one, waits until it has tried its pop, then the next. Commits made while
// serving (the pops themselves) only queue their keys for the same loop.

type blocker struct {
	seq   uint64
	keys  []engine.KeyRef
	wake  chan struct{} // the server asks the client to try
	done  chan struct{} // the client has tried
	state int           // guarded by watchRegistry.mu
	// missed: a key was touched while the client tried on its own.
	missed bool
	client *Client
	// unblock carries CLIENT UNBLOCK's request: true for ERROR.
	unblock chan bool
}

const msgUnblocked = "UNBLOCKED client unblocked via CLIENT UNBLOCK"

// unblockClient is CLIENT UNBLOCK: it ends the wait of cl's blocking command
// as a timeout would (or with an UNBLOCKED error) and reports whether cl was
// blocked.
func (w *watchRegistry) unblockClient(cl *Client, withError bool) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := cl.blocked
	if b == nil || b.state == blockGone {
		return false
	}
	select {
	case b.unblock <- withError:
		return true
	default:
		return false // already being unblocked
	}
}

const (
	blockSelf    = iota // trying on its own goroutine (not yet waiting)
	blockWaiting        // asleep, to be woken by the server
	blockServing        // woken, trying; the server waits for it
	blockGone
)

func (w *watchRegistry) blockedCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.nblocked
}

func (w *watchRegistry) addBlocker(cl *Client, keys []engine.KeyRef, state int) *blocker {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seq++
	b := &blocker{seq: w.seq, keys: keys, state: state, client: cl,
		wake: make(chan struct{}, 1), done: make(chan struct{}, 1), unblock: make(chan bool, 1)}
	cl.blocked = b
	seen := map[engine.KeyRef]bool{}
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			w.blocked[k] = append(w.blocked[k], b)
		}
	}
	w.nblocked++
	return b
}

// removeBlocker forgets b; the caller holds w.mu.
func (w *watchRegistry) removeBlocker(b *blocker) {
	if b.state == blockGone {
		return
	}
	b.state = blockGone
	w.nblocked--
	if b.client.blocked == b {
		b.client.blocked = nil
	}
	for _, k := range b.keys {
		list := w.blocked[k]
		for i, x := range list {
			if x == b {
				list = append(list[:i:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(w.blocked, k)
		} else {
			w.blocked[k] = list
		}
	}
}

func (w *watchRegistry) wakeBlocked(c engine.Commit) {
	w.mu.Lock()
	if w.nblocked == 0 {
		w.mu.Unlock()
		return
	}
	for _, k := range c.Touched {
		if len(w.blocked[k]) > 0 {
			w.ready = append(w.ready, k)
		}
	}
	if len(c.Flushed) > 0 {
		for k := range w.blocked {
			w.ready = append(w.ready, k)
		}
	}
	if w.serving || len(w.ready) == 0 {
		w.mu.Unlock()
		return
	}
	w.serving = true
	for len(w.ready) > 0 {
		k := w.ready[0]
		w.ready = w.ready[1:]
		list := append([]*blocker(nil), w.blocked[k]...)
		for _, b := range list {
			if b.state == blockSelf {
				b.missed = true
			}
			if b.state != blockWaiting {
				continue
			}
			b.state = blockServing
			w.mu.Unlock()
			b.wake <- struct{}{}
			<-b.done
			w.mu.Lock()
		}
	}
	w.serving = false
	w.mu.Unlock()
}

// blockingOp runs op once and, when op finds nothing to take, blocks
// until op succeeds after a write to one of keys or the timeout passes
// (BLPOP, BRPOP, BLMPOP, BRPOPLPUSH, BLMOVE, BZPOPMIN, BZPOPMAX, BZMPOP). Inside MULTI it never blocks.
// op reports whether it served the client; woken is true for the tries
// after blocking. An error from any try ends the command with that error.
// It reports whether the client was served; false with no error is a
// timeout (or an empty answer inside MULTI). The client gets in line inside
// the transaction of its first attempt (blockInTx), so clients blocking on
// the same keys are served in the order their commands ran.
func blockingOp(c *Call, keys []string, timeout time.Duration, op func(tx *engine.Tx, woken bool) (bool, error)) (served bool, err error) {
	var b *blocker
	err = c.Write(func(tx *engine.Tx) error {
		var err error
		served, err = op(tx, false)
		if err == nil && !served && c.tx == nil {
			b = c.d.blockInTx(c, keys)
		}
		return err
	})
	if b != nil && err != nil {
		c.d.abandon(b)
	}
	if err != nil || served || b == nil {
		return served, err
	}
	try := func() bool {
		var ok bool
		e := c.Write(func(tx *engine.Tx) error {
			var err error
			ok, err = op(tx, true)
			return err
		})
		if e != nil {
			err = e
			return true
		}
		return ok
	}
	served = c.d.wait(c, b, timeout, try)
	if !served && c.unblockedErr {
		return false, errors.New(msgUnblocked)
	}
	return served && err == nil, err
}

// block waits until try succeeds after a write to one of keys, the timeout
// passes (0: never) or the connection closes. try runs in its own
// transaction and reports whether the client was served. It returns
// whether it was.
func (d *Dispatcher) block(c *Call, keys []string, timeout time.Duration, try func() bool) bool {
	w := &d.watch
	b := w.addBlocker(c.Client, keyRefs(c, keys), blockSelf)
	d.Engine.TrackWrites(true)
	// A write may have landed between the caller's first try and the
	// registration above: try again before sleeping, as long as commits
	// keep arriving meanwhile.
	for {
		ok := try()
		w.mu.Lock()
		if ok {
			w.removeBlocker(b)
			w.mu.Unlock()
			w.stopTracking(d.Engine)
			return true
		}
		if b.missed {
			b.missed = false
			w.mu.Unlock()
			continue
		}
		b.state = blockWaiting
		w.mu.Unlock()
		break
	}
	return d.wait(c, b, timeout, try)
}

func keyRefs(c *Call, keys []string) []engine.KeyRef {
	refs := make([]engine.KeyRef, len(keys))
	for i, k := range keys {
		refs[i] = engine.KeyRef{DB: c.DB(), Key: k}
	}
	return refs
}

// blockInTx puts the client in line for keys from inside the transaction
// of its first, failed, attempt. Every later commit then sees it waiting,
// so clients are served in the order their attempts ran, as Redis serves
// them in the order their commands ran, with no window for a push to slip
// between the attempt and the registration. The caller then calls wait,
// after the transaction.
func (d *Dispatcher) blockInTx(c *Call, keys []string) *blocker {
	b := d.watch.addBlocker(c.Client, keyRefs(c, keys), blockWaiting)
	d.Engine.TrackWrites(true)
	return b
}

// wait sleeps until the server wakes b and try succeeds, the timeout passes
// (0: never) or the connection closes; it returns whether try succeeded.
func (d *Dispatcher) wait(c *Call, b *blocker, timeout time.Duration, try func() bool) bool {
	w := &d.watch
	if park := c.Client.OnPark; park != nil {
		park() // b is waiting: every later commit serves it in its turn
	}
	// The time asleep is not the command's cost (SLOWLOG, commandstats):
	// run subtracts it.
	slept := time.Now()
	defer func() { c.Client.blockedFor += time.Since(slept) }()
	defer w.stopTracking(d.Engine)
	var expire <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expire = t.C
	}
	var closed, gone <-chan struct{}
	if cc, ok := c.Client.Conn.(interface{ Done() <-chan struct{} }); ok {
		closed = cc.Done()
	}
	if cc, ok := c.Client.Conn.(interface {
		WatchPeer() (<-chan struct{}, func())
	}); ok {
		var stop func()
		gone, stop = cc.WatchPeer()
		defer stop()
	}
	for {
		select {
		case <-b.wake:
			woke := time.Now()
			c.Client.blockedFor += woke.Sub(slept)
			slept = woke
			ok := try()
			w.mu.Lock()
			if ok {
				w.removeBlocker(b)
			} else {
				b.state = blockWaiting
			}
			w.mu.Unlock()
			b.done <- struct{}{}
			if ok {
				return true
			}
		case withError := <-b.unblock:
			if w.giveUp(b) {
				c.unblockedErr = withError
				return false
			}
			b.unblock <- withError // being served: decide after its try
		case <-expire:
			if w.giveUp(b) {
				return false
			}
			expire = nil
		case <-closed:
			if w.giveUp(b) {
				return false
			}
			closed = nil
		case <-gone:
			if w.giveUp(b) {
				return false
			}
			gone = nil
		}
	}
}

// abandon unregisters a blocker that will not wait after all (its
// registering transaction failed), answering a wake already on its way.
func (d *Dispatcher) abandon(b *blocker) {
	w := &d.watch
	if !w.giveUp(b) {
		<-b.wake
		w.mu.Lock()
		w.removeBlocker(b)
		w.mu.Unlock()
		b.done <- struct{}{}
	}
	w.stopTracking(d.Engine)
}

// giveUp unregisters a waiting blocker; false if the server is serving it
// right now (its wake is on the way and must be answered).
func (w *watchRegistry) giveUp(b *blocker) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if b.state == blockServing {
		return false
	}
	w.removeBlocker(b)
	return true
}
