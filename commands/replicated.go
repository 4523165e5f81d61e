package commands

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	mrand "math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessiond/sessiond/acl"
	"github.com/sessiond/sessiond/engine"
	"github.com/sessiond/sessiond/replication"
	"github.com/sessiond/sessiond/resp"
)

// Replicated groups (README "A replicated group").
//
// On a node of a group, every command that writes (flag write, scripts,
// EXEC) becomes a log entry carrying what makes its apply deterministic: the
// client's database and protocol, the leader's time and a random seed. The
// entry is applied on every node through this same dispatcher (Apply), and
// the leader's reply is the result of its own apply, released once the
// entry is committed on a majority. Such commands run off the event loop
// (RunsLong), where a goroutine waits for the commit while the loop serves
// the other clients; raft batches the entries of concurrent clients.
//
// A follower forwards writes to the leader (raft-follower-writes forward) or
// refuses them (readonly); its reads first wait until it has applied every
// write the leader had acknowledged (raft-follower-reads consistent), or are
// served as they are (local). Nothing is ever written outside the log:
// followers never expire records on their own, the leader's expirer
// proposes its deletions.

// Replicator is what the command layer needs of the group (package
// replication's Node).
type Replicator interface {
	ID() string
	Announce() string
	IsLeader() bool
	State() string
	LeaderID() string
	LeaderRESP() (string, bool)
	Propose(data []byte) ([]byte, error)
	ProposeAnnounce(id, addr string) error
	Forward(args [][]byte) ([]byte, error)
	Barrier() error
	ReadIndex() (uint64, error)
	Applied() uint64
	CommitIndex() uint64
	LastContact() time.Time
	Peers() []replication.Peer
	Stats() map[string]string
	Add(id, addr string) error
	Remove(id string) error
	Transfer(id string) error
	Snapshot() error
}

// replState is the dispatcher's side of a group.
type replState struct {
	r Replicator
	// appliers are the clients the log's proposals run as on this node.
	appliers []*Client
	mu       sync.Mutex  // serialises Apply (raft calls it from one goroutine)
	applying atomic.Bool // a log entry is being applied
	leader   string      // the leader's RESP address last published
	leaderID string      // the last leader seen (its address may not have been known then)
	batch    batcher
	arena    decodeArena // Apply's (under mu)
	// trusted is the account of proposals sent by a user with every right;
	// nobody, of those whose user this node does not know (ACL users must
	// be the same on every node: such an entry runs nothing here).
	trusted, nobody *acl.Account
}

// Log entry kinds (first byte; replication reserves 0xA0 and up).
const (
	entryCommands = 0x01
	entryExpire   = 0x02
)

// PrepareGroup makes this dispatcher the applier of a group's log: nothing
// expires on its own any more. Call it before the group's node starts
// (log entries may be applied from then on), then SetReplicator.
func (d *Dispatcher) PrepareGroup() {
	d.repl = &replState{}
	d.Engine.SetExpiryMode(engine.ExpiryOff, nil)
}

// SetReplicator gives the dispatcher prepared by PrepareGroup its node:
// from now on writes go through r. Call it before serving and before
// LeaderChanged can be called.
func (d *Dispatcher) SetReplicator(r Replicator) { d.repl.r = r }

// Replicated reports whether this dispatcher is a node of a group.
func (d *Dispatcher) Replicated() bool { return d.repl != nil }

// LeaderChanged is told that the group's leader changed: the leader's
// expirer proposes deletions, a follower's expires nothing; subscribers of
// +switch-master (Sentinel's channel, which clients watch) hear of the new
// leader, with the other events Sentinel publishes (sentinelevents.go).
func (d *Dispatcher) LeaderChanged(isLeader bool, leaderID string) {
	rs := d.repl
	if isLeader {
		d.Engine.SetExpiryMode(engine.ExpiryDelegated, d.proposeExpiry)
	} else {
		d.Engine.SetExpiryMode(engine.ExpiryOff, nil)
	}
	rs.mu.Lock()
	prevID := rs.leaderID
	if leaderID != "" {
		rs.leaderID = leaderID
	}
	published := rs.leader
	rs.mu.Unlock()
	if leaderID == "" {
		if old := d.lastLeaderAddr(published, prevID); old != "" {
			d.publishMasterDown(old)
		}
		return
	}
	addr, ok := rs.r.LeaderRESP()
	for i := 0; !ok && i < 20; i++ {
		// The new leader's address is in the log; it may arrive just after.
		time.Sleep(50 * time.Millisecond)
		addr, ok = rs.r.LeaderRESP()
	}
	if !ok {
		return
	}
	rs.mu.Lock()
	old := d.lastLeaderAddr(rs.leader, prevID)
	rs.leader = addr
	rs.mu.Unlock()
	if old == "" || old == addr {
		return
	}
	d.publishSwitch(old, addr)
}

func (d *Dispatcher) proposeExpiry(now int64, items []string) error {
	b := []byte{entryExpire}
	b = binary.AppendVarint(b, now)
	b = binary.AppendUvarint(b, uint64(len(items)))
	for _, it := range items {
		b = binary.AppendUvarint(b, uint64(len(it)))
		b = append(b, it...)
	}
	_, err := d.repl.r.Propose(b)
	return err
}

// nopConn is the connection of the client log entries run as.
type nopConn struct{}

func (nopConn) RemoteAddr() string     { return "raft" }
func (nopConn) LocalAddr() string      { return "raft" }
func (nopConn) Close() error           { return nil }
func (nopConn) Push(frame []byte) bool { return false }

// replicates reports whether args, sent by cl now, must go through the log.
// A command refused before it runs (unknown, arity, authentication) is not:
// it is answered locally.
func (d *Dispatcher) replicates(cl *Client, args [][]byte) bool {
	spec := lookup(args[0])
	if spec == nil || !arityOK(spec.Arity, len(args)) || !cl.Authed {
		return false
	}
	if spec.subs != nil && len(args) >= 2 {
		if sub := spec.subs[strings.ToLower(string(args[1]))]; sub != nil {
			spec = sub
		}
	}
	if cl.multi.active {
		return spec.Name == "exec"
	}
	if cl.subs.count() > 0 && cl.proto == 2 {
		return false
	}
	if !replicatedSpec(spec) {
		return false
	}
	if (spec.Name == "publish" || spec.Name == "spublish") && !d.repl.r.IsLeader() && d.Config.Get("raft-follower-writes") == "readonly" {
		return false // a read-only replica delivers a message to its own subscribers only, as Redis'
	}
	// Entries are applied as a trusted client: a command the client's ACL
	// user may not run is not proposed; it runs here, where dispatch
	// answers -NOPERM (and logs the denial) as for any command.
	if u := cl.account.Load().User(); !u.Unrestricted() {
		aclCatalog()
		r := aclRequest(spec, args)
		if why, _ := u.Check(&r); why != acl.Allowed {
			return false
		}
	}
	return true
}

// replicatedSpec: writes, scripts (they may write), the script cache, and
// PUBLISH/SPUBLISH: as a Redis primary propagates PUBLISH to its replicas,
// a message goes through the log and every node delivers it to its own
// subscribers (the reply counts the leader's).
func replicatedSpec(spec *Spec) bool {
	if spec.Flags&FlagWrite != 0 {
		return true
	}
	switch spec.FullName() {
	case "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro",
		"script|load", "script|flush", "function|load", "function|delete", "function|flush", "function|restore",
		"publish", "spublish":
		return true
	}
	return false
}

// readsKeys reports whether a command reads the keyspace (a follower's
// consistent read waits for the leader's read index first).
func readsKeys(spec *Spec) bool {
	return spec.Flags&FlagReadonly != 0 || spec.FirstKey > 0 || spec.Name == "scan" || spec.Name == "dbsize" || spec.Name == "randomkey"
}

// replOffload: in a group, commands that wait for the log (or for the
// leader) run off the event loop.
func (d *Dispatcher) replOffload(args [][]byte) bool {
	spec := lookupCommand(args)
	if spec == nil {
		return false
	}
	if replicatedSpec(spec) || spec.Name == "exec" || spec.Name == "raft" || spec.parent != nil && spec.parent.Name == "raft" {
		return true
	}
	return !d.repl.r.IsLeader() && d.Config.Get("raft-follower-reads") != "local" && readsKeys(spec)
}

// execReplicated is ExecBatch on a node of a group: runs of commands that
// write go to the log as one entry (or to the leader), the others run here.
func (d *Dispatcher) execReplicated(cl *Client, cmds [][][]byte, stop func() bool) int {
	barrierDone := false
	for i := 0; i < len(cmds); {
		if len(cmds[i]) == 0 {
			i++
			continue
		}
		if !d.replicates(cl, cmds[i]) {
			if !barrierDone && !d.repl.r.IsLeader() && d.Config.Get("raft-follower-reads") != "local" {
				if spec := lookup(cmds[i][0]); spec != nil && readsKeys(spec) && cl.Authed && !cl.multi.active {
					if err := d.repl.r.Barrier(); err != nil {
						d.stats.commands.Add(1)
						d.reject(cl, spec, groupError(err))
						i++
						continue
					}
					barrierDone = true
				}
			}
			d.Exec(cl, cmds[i])
			i++
			if i < len(cmds) && stop() {
				return i
			}
			continue
		}
		if !cl.multi.active && isBlockingPop(cmds[i]) {
			spec := lookup(cmds[i][0])
			keys, timeout, _ := blockingPopArgs(spec, cmds[i])
			d.blockReplicated(cl, spec, cmds[i], keys, timeout)
			barrierDone = d.repl.r.IsLeader() // see below
			i++
			if i < len(cmds) && stop() {
				return i
			}
			continue
		}
		j := i + 1
		if !cl.multi.active {
			for j < len(cmds) && j-i < maxBatch && d.replicates(cl, cmds[j]) && !strings.EqualFold(string(cmds[j][0]), "exec") && !isBlockingPop(cmds[j]) {
				j++
			}
		}
		j = i + skipRun(cl, j-i)
		d.proposeRun(cl, cmds[i:j])
		// On the leader what this client wrote is applied here. A follower
		// forwarded it: the leader applied it, this node may not have yet,
		// so the client's next read waits for the leader's read index again
		// (read your writes).
		barrierDone = d.repl.r.IsLeader()
		i = j
		if i < len(cmds) && stop() {
			return i
		}
	}
	return len(cmds)
}

// proposeRun sends cl's commands to the log (a run of writes, or an EXEC
// with the transaction it ends) and writes the replies.
func (d *Dispatcher) proposeRun(cl *Client, cmds [][][]byte) {
	lastOnly := false
	if cl.multi.active { // cmds is the EXEC
		st := cl.multi
		if st.failed {
			d.Exec(cl, cmds[0]) // EXECABORT: nothing to replicate
			return
		}
		if len(st.watched) > 0 && !d.repl.r.IsLeader() {
			// See every write acknowledged before this EXEC before
			// deciding whether a watched key changed.
			if err := d.repl.r.Barrier(); err != nil {
				d.stats.errorReplies.Add(1)
				cl.multi = multiState{}
				d.watch.unwatchAll(cl)
				d.watch.stopTracking(d.Engine)
				cl.W.Error(groupError(err))
				return
			}
		}
		if d.watch.isDirty(cl) || len(st.watched) > 0 && d.watchChanged(cl) {
			// A watched key changed: the transaction aborts here, as EXEC
			// would, without running anything.
			d.stats.commands.Add(1)
			cl.multi = multiState{}
			d.watch.unwatchAll(cl)
			d.watch.stopTracking(d.Engine)
			cl.W.NullArray()
			return
		}
		run := make([][][]byte, 0, len(st.queue)+3)
		if len(st.watched) > 0 {
			run = append(run, watchGuardArgs(st.watched))
		}
		run = append(run, [][]byte{[]byte("MULTI")})
		for _, q := range st.queue {
			run = append(run, q.args)
		}
		run = append(run, cmds[0])
		cl.multi = multiState{}
		d.watch.unwatchAll(cl)
		d.watch.stopTracking(d.Engine)
		cmds, lastOnly = run, true
	}
	if isWatchGuard(cmds[0]) {
		d.noteProposed(cl, cmds[1:])
	} else {
		d.noteProposed(cl, cmds)
	}
	reply, err := d.submit(cl, cl.DB(), cl.proto, lastOnly, proposerUser(cl), cmds)
	d.writeProposed(cl, reply, err)
}

// noteProposed counts commands sent to the log and records them as the
// client's last (CLIENT LIST, OBJECT IDLETIME of the connection).
func (d *Dispatcher) noteProposed(cl *Client, cmds [][][]byte) {
	d.stats.commands.Add(int64(len(cmds)))
	last := cmds[len(cmds)-1][0]
	cl.mu.Lock()
	cl.lastInter = time.Now()
	if cl.lastCmd == "" || !strings.EqualFold(cl.lastCmd, string(last)) {
		cl.lastCmd = strings.ToLower(string(last))
	}
	cl.mu.Unlock()
}

// ProposeAsync lets an event loop send a leader's writes to the log without
// waiting: it takes the run of commands at the front of cmds that would go
// to the log as one proposal (writes, scripts; not EXEC nor anything inside
// MULTI), proposes them, and returns how many it took. It returns 0 when
// it takes none (not the leader, or cmds[0] is not such a command); the
// caller runs them as before (RunsLong).
//
// When it took some, release is called once, on another goroutine, when
// their replies are known (the entry is committed on a majority and
// applied here, or the proposal failed). The caller then calls finish on
// the goroutine that owns cl's writer: it writes the replies there. The
// client must run nothing else until then (its replies come in order).
func (d *Dispatcher) ProposeAsync(cl *Client, cmds [][][]byte, release func(finish func())) int {
	rs := d.repl
	if rs == nil || rs.r == nil || len(cmds) == 0 || len(cmds[0]) == 0 || cl.multi.active || !rs.r.IsLeader() {
		return 0
	}
	n := 0
	for n < len(cmds) && n < maxBatch && len(cmds[n]) > 0 && d.replicates(cl, cmds[n]) && !strings.EqualFold(string(cmds[n][0]), "exec") && !isBlockingPop(cmds[n]) {
		n++
	}
	if n == 0 {
		return 0
	}
	n = skipRun(cl, n)
	run := cmds[:n]
	d.noteProposed(cl, run)
	db, proto, user := cl.DB(), cl.proto, proposerUser(cl)
	p := &proposal{enc: encodeProp(nil, db, proto, false, user, run)}
	p.then = func(reply []byte, err error) {
		if err != nil && errors.Is(err, replication.ErrNotLeader) {
			// Leadership moved while it was proposed: what submit does
			// (forward to the new leader, or retry) on a goroutine.
			r := entryReader{b: p.enc}
			ap := decodeProp(&r, nil)
			go func() {
				reply, err := d.submit(nil, db, proto, false, user, ap.cmds)
				release(func() { d.writeProposed(cl, reply, err) })
			}()
			return
		}
		release(func() { d.writeProposed(cl, reply, err) })
	}
	d.enqueue(cl, p)
	return n
}

// writeProposed writes the replies of a proposal to its client.
func (d *Dispatcher) writeProposed(cl *Client, reply []byte, err error) {
	if err != nil {
		d.stats.errorReplies.Add(1)
	}
	switch cl.replyMode {
	case replyOff:
		return // CLIENT REPLY OFF
	case replySkip:
		cl.replyMode = replyOn // the run was this one command (see skipRun)
		return
	}
	if err != nil {
		cl.W.Error(groupError(err))
		return
	}
	cl.W.Raw(reply)
}

// skipRun limits a run of commands for the log to its first under CLIENT
// REPLY SKIP, whose reply alone is dropped.
func skipRun(cl *Client, n int) int {
	if cl.replyMode == replySkip && n > 1 {
		return 1
	}
	return n
}

// watchChanged reports whether a key cl watches changed since WATCH (a
// transaction that would abort is answered here, not through the log).
func (d *Dispatcher) watchChanged(cl *Client) bool {
	changed := false
	_ = d.Engine.View(time.Now().UnixMilli(), func(tx *engine.Tx) error {
		for k, v := range cl.multi.watched {
			if tx.Version(k.DB, k.Key) != v {
				changed = true
			}
		}
		return nil
	})
	return changed
}

// submit proposes commands on the leader, or forwards them to it from a
// follower, and returns their replies.
func (d *Dispatcher) submit(cl *Client, db, proto int, lastOnly bool, user string, cmds [][][]byte) ([]byte, error) {
	r := d.repl.r
	for attempt := 0; ; attempt++ {
		if r.IsLeader() {
			reply, err := d.proposeAs(cl, db, proto, lastOnly, user, cmds)
			if err == nil || !errors.Is(err, replication.ErrNotLeader) || attempt >= 3 {
				return reply, err
			}
		} else {
			if d.Config.Get("raft-follower-writes") == "readonly" {
				return nil, errReadonly
			}
			reply, err := r.Forward(forwardArgs(db, proto, lastOnly, user, cmds))
			if err == nil {
				return reply, nil
			}
			if attempt >= 3 || !(errors.Is(err, replication.ErrNoLeader) || strings.Contains(err.Error(), "not the leader")) {
				return nil, err
			}
		}
		time.Sleep(100 * time.Millisecond) // an election is under way
	}
}

var errReadonly = errors.New("READONLY You can't write against a read only replica.")

// groupError turns a group error into a reply message.
func groupError(err error) string {
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "READONLY"), strings.HasPrefix(msg, "CLUSTERDOWN"), strings.HasPrefix(msg, "ERR"), strings.HasPrefix(msg, "TRYAGAIN"):
		return msg
	case errors.Is(err, replication.ErrNotLeader):
		return "TRYAGAIN leadership changed; retry (" + msg + ")"
	}
	return "ERR " + msg
}

// forwardArgs is RAFT FORWARD db proto lastonly n argc arg... for the leader.
func forwardArgs(db, proto int, lastOnly bool, user string, cmds [][][]byte) [][]byte {
	out := [][]byte{[]byte("RAFT"), []byte("FORWARD"), []byte(strconv.Itoa(db)), []byte(strconv.Itoa(proto)), []byte(strconv.FormatBool(lastOnly)), []byte(user), []byte(strconv.Itoa(len(cmds)))}
	for _, args := range cmds {
		out = append(out, []byte(strconv.Itoa(len(args))))
		out = append(out, args...)
	}
	return out
}

type entryReader struct {
	b   []byte
	bad bool
}

func (r *entryReader) uvarint() uint64 {
	v, k := binary.Uvarint(r.b)
	if k <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[k:]
	return v
}

func (r *entryReader) bytes(n uint64) []byte {
	if uint64(len(r.b)) < n {
		r.bad = true
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// A proposal is one client's run of commands waiting for the log. The
// proposals of concurrent clients are grouped into one log entry (group
// commit on top of raft's own batching): one entry, one encoding, one store
// write and one round trip to the followers for many clients.
type proposal struct {
	enc   []byte // the client's db, protocol and commands (encodeProp)
	reply []byte
	err   error
	// done is closed once reply and err are set (propose waits on it), or
	// else then is called with them (ProposeAsync), on the proposer's
	// goroutine.
	done chan struct{}
	then func(reply []byte, err error)
}

// batcher groups proposals. One goroutine (runProposer) proposes them: one
// entry in the log at a time; proposals that arrive meanwhile go together in
// the next one.
//
// Before it proposes, runProposer lingers a little while the batch is still
// growing, up to as many proposals as there were distinct proposing clients
// lately (see target): under load from many clients, a client whose reply
// has just gone out sends its next write a moment later, and waiting for it
// makes the entry several times larger. Every entry costs the same fixed
// work on every node (a log store transaction, an AppendEntries round trip,
// raft's bookkeeping), so larger entries are what make a group keep up with
// a standalone node on the same CPUs. A lone client never waits: the target
// is then 1.
type batcher struct {
	mu      sync.Mutex
	pending []*proposal
	started bool
	wake    chan struct{} // run's doorbell (capacity 1)

	// Distinct clients that proposed in the current and the previous
	// window of proposerWindow: the linger target.
	seen      map[*Client]struct{}
	seenPrev  int
	windowEnd time.Time
}

const (
	maxEntryProps   = 1024
	maxEntryPayload = 4 << 20
	// proposerWindow is how long a client counts as a proposer after its
	// last write.
	proposerWindow = 100 * time.Millisecond
	// lingerStep and maxLinger bound the wait for a growing batch: the
	// batch goes once a step passes with no new proposal, or after
	// maxLinger in all.
	lingerStep = 200 * time.Microsecond
	maxLinger  = 2 * time.Millisecond
)

// propose sends cmds through the log (on the leader) and returns their
// replies. user is the ACL user they run as ("": one with every right).
func (d *Dispatcher) propose(db, proto int, lastOnly bool, user string, cmds [][][]byte) ([]byte, error) {
	return d.proposeAs(nil, db, proto, lastOnly, user, cmds)
}

// proposerUser is the ACL user cl's commands run as on every node: "" for
// one with every right (the common case: nothing more in the entry), else
// its name. A script's calls are checked as it runs, so the log carries
// who sent it.
func proposerUser(cl *Client) string {
	if cl == nil {
		return ""
	}
	if u := cl.account.Load().User(); !u.Unrestricted() {
		return u.Name
	}
	return ""
}

// proposeAs is propose for a client (nil: none in particular), which counts
// among the proposers the batcher waits for.
func (d *Dispatcher) proposeAs(cl *Client, db, proto int, lastOnly bool, user string, cmds [][][]byte) ([]byte, error) {
	p := &proposal{enc: encodeProp(nil, db, proto, lastOnly, user, cmds), done: make(chan struct{})}
	d.enqueue(cl, p)
	<-p.done
	return p.reply, p.err
}

// enqueue hands p to the proposer goroutine.
func (d *Dispatcher) enqueue(cl *Client, p *proposal) {
	b := &d.repl.batch
	b.mu.Lock()
	if !b.started {
		b.started = true
		b.wake = make(chan struct{}, 1)
		b.seen = map[*Client]struct{}{}
		go d.runProposer()
	}
	b.pending = append(b.pending, p)
	if cl != nil {
		b.seen[cl] = struct{}{}
	}
	ring := len(b.pending) == 1 || len(b.pending) >= b.target()
	b.mu.Unlock()
	if ring {
		select {
		case b.wake <- struct{}{}:
		default:
		}
	}
}

// target is how many proposals a batch waits for (b.mu held).
func (b *batcher) target() int {
	return max(len(b.seen), b.seenPrev, 1)
}

// runProposer proposes what is pending, one entry at a time, for the life
// of the process (it sleeps while nothing is pending).
func (d *Dispatcher) runProposer() {
	b := &d.repl.batch
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	idle := time.NewTimer(time.Hour)
	idle.Stop()
	for {
		b.mu.Lock()
		for len(b.pending) == 0 {
			b.mu.Unlock()
			idle.Reset(2 * proposerWindow)
			select {
			case <-b.wake:
				idle.Stop()
			case <-idle.C:
				// Nobody proposed for a while: forget the proposers (the
				// clients may be gone; the map would keep them alive).
				b.mu.Lock()
				clear(b.seen)
				b.seenPrev = 0
				b.mu.Unlock()
			}
			b.mu.Lock()
		}
		// Linger while the batch grows (see batcher).
		deadline := time.Now().Add(maxLinger)
		for n := len(b.pending); n < b.target() && n < maxEntryProps; n = len(b.pending) {
			b.mu.Unlock()
			timer.Reset(min(lingerStep, time.Until(deadline)))
			select {
			case <-b.wake:
				timer.Stop() // no stale tick is delivered after Stop (Go 1.23 timers)
			case <-timer.C:
			}
			b.mu.Lock()
			if len(b.pending) == n || !time.Now().Before(deadline) {
				break
			}
		}
		if now := time.Now(); now.After(b.windowEnd) {
			b.seenPrev = len(b.seen)
			clear(b.seen)
			b.windowEnd = now.Add(proposerWindow)
		}
		n, size := 0, 0
		for n < len(b.pending) && n < maxEntryProps && size < maxEntryPayload {
			size += len(b.pending[n].enc)
			n++
		}
		batch := append([]*proposal(nil), b.pending[:n]...)
		rest := copy(b.pending, b.pending[n:])
		clear(b.pending[rest:])
		b.pending = b.pending[:rest]
		b.mu.Unlock()
		reply, err := d.repl.r.Propose(encodeBatch(time.Now().UnixMilli(), batch))
		r := entryReader{b: reply}
		for _, p := range batch {
			if err == nil {
				p.reply = r.bytes(r.uvarint())
				if r.bad {
					p.err = errors.New("raft: short reply")
				}
			}
			if p.err == nil {
				p.err = err
			}
			if p.then != nil {
				p.then(p.reply, p.err)
			} else {
				close(p.done)
			}
		}
	}
}

// encodeBatch is a log entry of proposals: the leader's time and a random
// seed for all, then each proposal's database, protocol and commands.
func encodeBatch(now int64, batch []*proposal) []byte {
	n := 48
	for _, p := range batch {
		n += len(p.enc)
	}
	b := make([]byte, 0, n)
	b = append(b, entryCommands)
	b = binary.AppendVarint(b, now)
	var seed [32]byte
	_, _ = rand.Read(seed[:])
	b = append(b, seed[:]...)
	b = binary.AppendUvarint(b, uint64(len(batch)))
	for _, p := range batch {
		b = append(b, p.enc...)
	}
	return b
}

// encodeProp appends one proposal of an entry to b: the client's database,
// protocol (and whether only the last reply is kept), then the commands.
// It copies the arguments, which may point into a connection's input.
func encodeProp(b []byte, db, proto int, lastOnly bool, user string, cmds [][][]byte) []byte {
	if b == nil {
		n := 12 + len(user)
		for _, args := range cmds {
			n += 4
			for _, a := range args {
				n += len(a) + 3
			}
		}
		b = make([]byte, 0, n)
	}
	b = binary.AppendUvarint(b, uint64(db))
	flags := byte(proto)
	if lastOnly {
		flags |= 0x80
	}
	if user != "" {
		flags |= 0x40
	}
	b = append(b, flags)
	if user != "" {
		b = binary.AppendUvarint(b, uint64(len(user)))
		b = append(b, user...)
	}
	b = binary.AppendUvarint(b, uint64(len(cmds)))
	for _, args := range cmds {
		b = binary.AppendUvarint(b, uint64(len(args)))
		for _, a := range args {
			b = binary.AppendUvarint(b, uint64(len(a)))
			b = append(b, a...)
		}
	}
	return b
}

// decodeProp reads one proposal of an entry (what encodeProp wrote); the
// arguments point into r's bytes. The slices come from a (nil: new ones).
func decodeProp(r *entryReader, a *decodeArena) appliedProp {
	if a == nil {
		a = &decodeArena{}
	}
	db := int(r.uvarint())
	flags := r.bytes(1)
	var user string
	if !r.bad && flags[0]&0x40 != 0 {
		user = string(r.bytes(r.uvarint()))
	}
	n := r.uvarint()
	if r.bad || n > uint64(len(r.b)) {
		r.bad = true
		return appliedProp{}
	}
	c0 := len(a.cmds)
	for j := uint64(0); j < n && !r.bad; j++ {
		argc := r.uvarint()
		if argc > uint64(len(r.b)) {
			r.bad = true
			break
		}
		a0 := len(a.args)
		for i := uint64(0); i < argc && !r.bad; i++ {
			a.args = append(a.args, r.bytes(r.uvarint()))
		}
		a.cmds = append(a.cmds, a.args[a0:len(a.args):len(a.args)])
	}
	return appliedProp{db: db, proto: int(flags[0] & 0x3f), lastOnly: flags[0]&0x80 != 0, user: user, cmds: a.cmds[c0:len(a.cmds):len(a.cmds)]}
}

// decodeArena holds the slices of a decoded entry's commands; an applying
// node reuses it from entry to entry (commands do not keep their
// arguments past their run).
type decodeArena struct {
	args  [][]byte
	cmds  [][][]byte
	props []appliedProp
}

func (a *decodeArena) reset() {
	clear(a.args)
	clear(a.cmds)
	clear(a.props)
	a.args, a.cmds, a.props = a.args[:0], a.cmds[:0], a.props[:0]
}

// Apply applies one committed log entry on this node and returns the
// replies of its proposals, each length-prefixed (replication.Applier).
func (d *Dispatcher) Apply(index uint64, data []byte) []byte {
	rs := d.repl
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.applying.Store(true)
	defer rs.applying.Store(false)
	switch data[0] {
	case entryExpire:
		r := entryReader{b: data[1:]}
		now, k := binary.Varint(r.b)
		if k <= 0 {
			return nil
		}
		r.b = r.b[k:]
		n := r.uvarint()
		items := make([]string, 0, min(n, 4096))
		for i := uint64(0); i < n && !r.bad; i++ {
			items = append(items, string(r.bytes(r.uvarint())))
		}
		if !r.bad {
			if _, err := d.Engine.ExpireItemsAt(now, items); err != nil {
				log.Printf("raft: apply expiry at index %d: %v", index, err)
			}
		}
		return nil
	case entryCommands:
	default:
		log.Printf("raft: unknown entry kind %#x at index %d", data[0], index)
		return nil
	}
	r := entryReader{b: data[1:]}
	nowMS, k := binary.Varint(r.b)
	if k <= 0 {
		return nil
	}
	r.b = r.b[k:]
	var seed [32]byte
	copy(seed[:], r.bytes(32))
	count := r.uvarint()
	now := time.UnixMilli(nowMS)
	// One stream for the whole entry: every node draws the same bytes in
	// the same order.
	rnd := mrand.NewChaCha8(seed)
	a := &rs.arena
	defer a.reset()
	for i := uint64(0); i < count && !r.bad; i++ {
		if p := decodeProp(&r, a); !r.bad {
			a.props = append(a.props, p)
		}
	}
	props := a.props
	if r.bad {
		log.Printf("raft: bad entry at index %d", index)
		return nil
	}
	return d.applyProps(now, rnd, props)
}

// appliedProp is one proposal of a log entry being applied.
type appliedProp struct {
	db, proto int
	lastOnly  bool
	user      string // the ACL user it runs as ("": every right)
	cmds      [][][]byte
}

// applierClient returns the i-th client log entries run as, reset for a
// proposal.
func (rs *replState) applierClient(reg *acl.Registry, i int, p *appliedProp, rnd *mrand.ChaCha8) *Client {
	for len(rs.appliers) <= i {
		cl := &Client{ID: -1, Conn: nopConn{}, W: resp.NewWriter(2), proto: 2, Authed: true, Created: time.Now()}
		rs.appliers = append(rs.appliers, cl)
	}
	cl := rs.appliers[i]
	// Commands were checked against ACLs where they were proposed; a
	// script's calls are checked as it runs, as its sender.
	cl.account.Store(rs.accountOf(reg, p.user))
	cl.db, cl.proto, cl.rnd = p.db, p.proto, rnd
	cl.W.SetProto(p.proto)
	cl.W.Reset()
	cl.multi = multiState{}
	return cl
}

// accountOf is the account a proposal of user runs as (see replState).
func (rs *replState) accountOf(reg *acl.Registry, user string) *acl.Account {
	if rs.trusted == nil {
		cat := aclCatalog()
		rs.trusted = acl.Trusted(cat)
		rs.nobody = acl.Nobody(cat)
	}
	if user == "" {
		return rs.trusted
	}
	if a := reg.Lookup(user); a != nil {
		return a
	}
	return rs.nobody
}

// applyProps applies an entry's proposals in order and returns their
// replies, each length-prefixed. Consecutive proposals made only of
// batchable commands run in one engine transaction (RunShared), as the
// event loop runs its clients' commands on a standalone server.
func (d *Dispatcher) applyProps(now time.Time, rnd *mrand.ChaCha8, props []appliedProp) []byte {
	rs := d.repl
	clients := make([]*Client, len(props))
	var groups []Group
	flush := func() {
		if len(groups) == 0 {
			return
		}
		d.runSharedAt(groups, now)
		for _, g := range groups {
			for _, args := range g.Cmds[g.Ran:] { // cut short by big replies
				d.execAt(g.Client, args, now)
			}
		}
		groups = groups[:0]
	}
	for i := range props {
		p := &props[i]
		cl := rs.applierClient(d.acl.reg, i, p, rnd)
		clients[i] = cl
		if !p.lastOnly && allBatchable(p.cmds) {
			write := false
			for _, args := range p.cmds {
				write = write || lookup(args[0]).Flags&FlagWrite != 0
			}
			groups = append(groups, Group{Client: cl, Cmds: p.cmds, Write: write})
			continue
		}
		flush()
		d.applyCommands(cl, now, p.lastOnly, p.cmds)
	}
	flush()
	n := 0
	for _, cl := range clients {
		n += cl.W.Len() + 4
	}
	out := make([]byte, 0, n)
	for i, cl := range clients {
		reply := cl.W.Bytes()
		if props[i].lastOnly {
			reply = reply[cl.replyMark:]
		}
		out = binary.AppendUvarint(out, uint64(len(reply)))
		out = append(out, reply...)
		cl.W.Reset()
		cl.rnd = nil
	}
	return out
}

// allBatchable reports whether every command may share a transaction.
func allBatchable(cmds [][][]byte) bool {
	for _, args := range cmds {
		spec := lookup(args[0])
		if spec == nil || spec.Flags&FlagBatch == 0 || spec.subs != nil || !arityOK(spec.Arity, len(args)) {
			return false
		}
	}
	return true
}

// applyCommands runs one proposal's commands one by one (it has commands
// that cannot share a transaction: MULTI/EXEC, scripts, blocking pops...).
func (d *Dispatcher) applyCommands(cl *Client, now time.Time, lastOnly bool, cmds [][][]byte) {
	cl.replyMark = 0
	if lastOnly && len(cmds) > 1 && isWatchGuard(cmds[0]) {
		if d.watchGuardFails(cmds[0], now) {
			// A watched key changed after its client's EXEC was checked
			// and before the transaction's turn in the log: it aborts on
			// every node, as EXEC does.
			d.stats.commands.Add(1)
			cl.W.NullArray()
			return
		}
		cmds = cmds[1:]
	}
	for i, args := range cmds {
		if lastOnly && i == len(cmds)-1 {
			cl.replyMark = cl.W.Len()
		}
		if spec := lookup(args[0]); spec != nil && spec.Flags&FlagBlocking != 0 && !cl.multi.active {
			// The log never waits: a blocking command is applied as it
			// runs inside MULTI (it takes what is there, or times out at
			// once), the same on every node.
			if spec, ok := d.admit(cl, args, now); ok {
				_, _ = d.Engine.Update(now.UnixMilli(), func(tx *engine.Tx) error {
					d.run(cl, spec, args, tx, now, time.Now())
					return nil
				})
			}
			continue
		}
		d.execAt(cl, args, now)
	}
}

// watchGuard names the pseudo-command that opens an EXEC's run in the log
// when its client watches keys. The EXEC-time check on the node the client
// is connected to sees the writes applied there; a write committed after
// that check and before the transaction's entry would otherwise go unseen.
// The guard carries each watched key with a digest of the version its
// client saw at WATCH time, and every node compares them with the key's
// version at the transaction's place in the log, where all nodes hold the
// same data: a changed key aborts the transaction on every node alike. No
// client command has this name (it starts with a NUL byte); a client that
// sends it through RAFT FORWARD can only abort its own transaction.
const watchGuard = "\x00watched"

func isWatchGuard(args [][]byte) bool {
	return len(args) > 0 && string(args[0]) == watchGuard
}

// watchGuardArgs is the guard of a transaction watching these keys:
// the name, then a database, key and SHA-256 of the version per key.
func watchGuardArgs(watched map[engine.KeyRef]string) [][]byte {
	args := make([][]byte, 0, 1+3*len(watched))
	args = append(args, []byte(watchGuard))
	for k, v := range watched {
		sum := sha256.Sum256([]byte(v))
		args = append(args, []byte(strconv.Itoa(k.DB)), []byte(k.Key), sum[:])
	}
	return args
}

// watchGuardFails reports whether a key of the guard has another version
// now (or the guard is malformed, which aborts rather than runs).
func (d *Dispatcher) watchGuardFails(guard [][]byte, now time.Time) bool {
	if (len(guard)-1)%3 != 0 {
		return true
	}
	changed := false
	_ = d.Engine.View(now.UnixMilli(), func(tx *engine.Tx) error {
		for i := 1; i < len(guard) && !changed; i += 3 {
			db, err := strconv.Atoi(string(guard[i]))
			if err != nil || db < 0 {
				changed = true
				break
			}
			sum := sha256.Sum256([]byte(tx.Version(db, string(guard[i+1]))))
			changed = string(sum[:]) != string(guard[i+2])
		}
		return nil
	})
	return changed
}

// Save writes the data set for a snapshot (replication.Applier).
func (d *Dispatcher) Save(w io.Writer) error { return d.Engine.SaveTo(w) }

// Restore replaces the data set from a snapshot (replication.Applier).
func (d *Dispatcher) Restore(r io.Reader) error { return d.Engine.ReplaceFrom(r) }

// randRead fills b with random bytes: crypto/rand, or on a node applying
// the log, the entry's seeded stream (so every node draws the same).
func (c *Call) randRead(b []byte) {
	if c.Client.rnd != nil {
		_, _ = c.Client.rnd.Read(b)
		return
	}
	_, _ = rand.Read(b)
}

// randReader is randRead as an io.Reader.
func (c *Call) randReader() io.Reader {
	if c.Client.rnd != nil {
		return c.Client.rnd
	}
	return rand.Reader
}

// newRand returns a pseudo-random generator for random picks (SPOP,
// SRANDMEMBER...), seeded from the entry on a node applying the log.
func newRand(c *Call) *mrand.Rand {
	if c.Client.rnd != nil {
		var b [16]byte
		_, _ = c.Client.rnd.Read(b[:])
		return mrand.New(mrand.NewPCG(binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])))
	}
	return mrand.New(mrand.NewPCG(mrand.Uint64(), mrand.Uint64()))
}

// writeOutsideLog reports a write attempted on a node of a group outside
// the log's apply (it would make this node diverge): it is refused.
func (d *Dispatcher) writeOutsideLog() bool {
	return d.repl != nil && !d.repl.applying.Load()
}

var errOutsideLog = fmt.Errorf("ERR internal: a write outside the replicated log was refused")
