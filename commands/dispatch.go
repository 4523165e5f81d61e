package commands

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessiond/sessiond/acl"
	"github.com/sessiond/sessiond/config"
	"github.com/sessiond/sessiond/engine"
	"github.com/sessiond/sessiond/resp"
)

// Conn is what the command layer needs of a client's network connection.
type Conn interface {
	RemoteAddr() string
	LocalAddr() string
	// Close disconnects the client (CLIENT KILL, QUIT after its reply).
	Close() error
	// Push delivers an out-of-band frame (pub/sub) without blocking; it
	// returns false when the client is being disconnected for falling behind.
	Push(frame []byte) bool
}

// Dispatcher runs commands for clients. One Dispatcher serves a process.
type Dispatcher struct {
	Engine *engine.Engine
	Config *config.Config
	// Shutdown is set by the server: it stops the process (SHUTDOWN).
	Shutdown func(save bool)
	// PrepareShutdown, set by the server, makes every write so far durable
	// before a SHUTDOWN that saves; an error keeps the server running
	// (Redis' "Errors trying to SHUTDOWN").
	PrepareShutdown func() error

	started time.Time
	nextID  atomic.Int64

	clientsMu sync.RWMutex
	clients   map[int64]*Client

	stats   serverStats
	watch   watchRegistry
	hub     *Hub
	scripts scripting
	obs     observer // SLOWLOG, LATENCY, MONITOR, CLIENT PAUSE (observe.go)
	inst    instMetrics
	// lastAutoSave is when AutoSave last started a snapshot (one goroutine
	// calls it).
	lastAutoSave time.Time
	acl          aclState
	repl         *replState       // nil: a standalone server (replicated.go)
	minReplicas  minReplicas      // min-replicas-to-write (minreplicas.go)
	funcs        functionRegistry // FUNCTION libraries (functions.go)
	tracking     trackingRegistry // CLIENT TRACKING (tracking.go)
	cmem         clientMemAccount // clients' memory, maxmemory-clients (clientmem.go)
	latTrack     latencyTracking  // latency-tracking (latencystats.go)
}

type serverStats struct {
	connections   atomic.Int64
	commands      atomic.Int64
	rejectedConns atomic.Int64
	errorReplies  atomic.Int64
	errorCodes    errorCounts // INFO errorstats (server.go)
	netInput      atomic.Int64
	netOutput     atomic.Int64
	reads         atomic.Int64 // socket reads (total_reads_processed)
	writes        atomic.Int64 // socket writes (total_writes_processed)
}

// NewDispatcher returns a dispatcher over an engine and a config.
func NewDispatcher(e *engine.Engine, cfg *config.Config) *Dispatcher {
	d := &Dispatcher{Engine: e, Config: cfg, started: time.Now(), clients: map[int64]*Client{}}
	d.hub = newHub(d)
	d.watch.init()
	cfg.Follow(func() { e.SetNotifyMask(engine.NotifyMask(cfg.Get("notify-keyspace-events"))) }, "notify-keyspace-events")
	d.obs.init(d)
	for _, fn := range dispatcherHooks {
		fn(d)
	}
	return d
}

// dispatcherHooks run at the end of NewDispatcher. A family whose engine
// code needs settings outside any command (the active expirer ending a
// session, say) registers one from its init to hand the engine a reader of
// its config.
var dispatcherHooks []func(d *Dispatcher)

func onNewDispatcher(fn func(d *Dispatcher)) { dispatcherHooks = append(dispatcherHooks, fn) }

// OnCommit is the engine's commit hook: it feeds WATCH and keyspace notifications.
func (d *Dispatcher) OnCommit(c engine.Commit) {
	d.watch.invalidate(c)
	d.trackingInvalidate(c)
	for _, ev := range c.Events {
		d.hub.publishEvent(ev)
	}
	// Clients blocked on the keys are served last, so their pops (and
	// events) follow this commit's, as in Redis.
	d.watch.wakeBlocked(c)
}

// Client is one connection's state.
type Client struct {
	ID      int64
	Conn    Conn
	Created time.Time

	// W holds replies not yet flushed to the socket.
	W *resp.Writer

	// scriptCaller marks the client a script's redis.call runs as (Redis'
	// CLIENT_SCRIPT): commands whose output order must be reproducible,
	// like SORT of a set, behave accordingly.
	scriptCaller bool
	// errorCounted: the error reply the command in progress ends with was
	// already counted in the error stats (a script's failed redis.call,
	// whose error the script passes on), so only failed_calls counts it.
	errorCounted bool

	mu        sync.Mutex // guards the fields CLIENT LIST reads from other goroutines
	name      string
	libName   string
	libVer    string
	db        int
	lastCmd   string
	lastInter time.Time

	Authed bool
	// account is the ACL user the client runs as (the default user until
	// AUTH or HELLO AUTH): permission checks load its current rules.
	account atomic.Pointer[acl.Account]
	proto   int
	noEvict atomic.Bool // CLIENT NO-EVICT: read by eviction on any goroutine
	noTouch bool
	// mem is the client's memory accounting (clientmem.go).
	mem clientMem

	// CloseAfterReply asks the server to close the connection once the
	// pending replies are flushed (QUIT, CLIENT KILL of itself).
	CloseAfterReply bool
	// replyMark is where the reply kept of a log proposal starts (its
	// EXEC's, after MULTI's and QUEUED's).
	replyMark int
	// rnd is the seeded random stream of the log entry being applied
	// (replicated.go); nil: crypto/rand.
	rnd *mrand.ChaCha8
	// ticket is the durability ticket of the latest write of this batch.
	ticket uint64

	multi multiState
	subs  subscriptions
	// blocked is the client's blocking command in progress (guarded by
	// watchRegistry.mu), for CLIENT UNBLOCK.
	blocked *blocker
	// replyMode is CLIENT REPLY ON|OFF|SKIP (see suppressReply).
	replyMode int

	// blockedFor is how long the command in progress slept blocked (not
	// counted as its duration). Touched only by the goroutine running it.
	blockedFor time.Duration
	// monitor: the client is in MONITOR mode.
	monitor bool

	// OnPark, when set, is called on the command's goroutine when a
	// blocking command has taken its place among the blocked clients and is
	// about to sleep. An event loop that hands a blocking command to a
	// goroutine waits for it (or for the command to end) before it runs what
	// other clients sent after it, so they see the client blocked, with its
	// "$" resolved and its place in line, as in Redis.
	OnPark func()
}

// NewClient registers a connection. The caller must call Release when it closes.
func (d *Dispatcher) NewClient(conn Conn) (*Client, error) {
	max := int(d.Config.Int("maxclients"))
	d.clientsMu.Lock()
	if len(d.clients) >= max {
		d.clientsMu.Unlock()
		d.stats.rejectedConns.Add(1)
		return nil, fmt.Errorf("%s", msgMaxClients)
	}
	now := time.Now()
	cl := &Client{ID: d.nextID.Add(1), Conn: conn, Created: now, lastInter: now, W: resp.NewWriter(2), proto: 2}
	d.resetAuth(cl)
	d.clients[cl.ID] = cl
	d.clientsMu.Unlock()
	d.stats.connections.Add(1)
	return cl, nil
}

// Release forgets a closed connection.
func (d *Dispatcher) Release(cl *Client) {
	d.obs.unmonitor(cl)
	d.watch.unwatchAll(cl)
	d.hub.unsubscribeAll(cl)
	d.trackingForget(cl)
	d.forgetClientMemory(cl)
	d.clientsMu.Lock()
	delete(d.clients, cl.ID)
	d.clientsMu.Unlock()
}

// Clients returns the connected clients, ordered by id.
func (d *Dispatcher) Clients() []*Client {
	d.clientsMu.RLock()
	out := make([]*Client, 0, len(d.clients))
	for _, c := range d.clients {
		out = append(out, c)
	}
	d.clientsMu.RUnlock()
	sortClients(out)
	return out
}

// DB returns the client's selected database.
func (cl *Client) DB() int {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.db
}

// Proto returns the client's protocol version (2 or 3).
func (cl *Client) Proto() int { return cl.W.Proto() }

// Ticket returns and clears the durability ticket of the batch just run.
func (cl *Client) Ticket() uint64 {
	t := cl.ticket
	cl.ticket = 0
	return t
}

// WritesPending reports whether the commands run since the last Ticket call
// wrote something (whose durability the server has not yet awaited).
func (cl *Client) WritesPending() bool { return cl.ticket != 0 }

// CountRejected counts a connection refused before it became a client (an
// accept that failed), for INFO's rejected_connections.
func (d *Dispatcher) CountRejected() { d.stats.rejectedConns.Add(1) }

// LastInteraction returns when the client last sent a command.
func (cl *Client) LastInteraction() time.Time {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.lastInter
}

// Subscribed reports whether the client is in pub/sub mode (idle timeouts
// never disconnect subscribers).
func (cl *Client) Subscribed() bool { return cl.subs.count() > 0 }

// Call is one command being run.
type Call struct {
	d      *Dispatcher
	Spec   *Spec
	Client *Client
	Args   [][]byte
	W      *resp.Writer
	Now    time.Time
	tx     *engine.Tx // set while EXEC runs its queue in one transaction
	// unblockedErr: CLIENT UNBLOCK ... ERROR ended the blocking command.
	unblockedErr bool
	// overMax: memory stayed over maxmemory after eviction before a script
	// (see scriptRun.overMax).
	overMax bool
}

// NowMS is the call's time in Unix milliseconds.
func (c *Call) NowMS() int64 { return c.Now.UnixMilli() }

// Read runs fn in a read transaction (or in the enclosing EXEC transaction).
func (c *Call) Read(fn func(tx *engine.Tx) error) error {
	fn = c.untouched(fn)
	if c.tx != nil {
		return fn(c.tx)
	}
	return c.d.Engine.View(c.NowMS(), fn)
}

// Write runs fn in a write transaction (or in the enclosing EXEC transaction).
// If fn fails, nothing it wrote is kept.
func (c *Call) Write(fn func(tx *engine.Tx) error) error {
	fn = c.untouched(fn)
	if c.tx != nil {
		return fn(c.tx)
	}
	if c.d.writeOutsideLog() {
		return errOutsideLog
	}
	var t uint64
	var err error
	if c.d.tracking.active.Load() {
		// CLIENT TRACKING NOLOOP needs to know whose writes these are.
		inner, id := fn, c.Client.ID
		fn = func(tx *engine.Tx) error { tx.SetOrigin(id); return inner(tx) }
	}
	if c.Spec.Flags&FlagBatch != 0 {
		// Batchable commands never write before failing, so they may share
		// a transaction with other clients' writes (engine write combining).
		t, err = c.d.Engine.UpdateShared(c.NowMS(), fn)
	} else {
		t, err = c.d.Engine.Update(c.NowMS(), fn)
	}
	if t > c.Client.ticket {
		c.Client.ticket = t
	}
	return err
}

// untouched makes fn's reads no accesses (LRU/LFU) for a client in CLIENT
// NO-TOUCH mode, except TOUCH itself, as in Redis.
func (c *Call) untouched(fn func(tx *engine.Tx) error) func(tx *engine.Tx) error {
	if c.Client == nil || !c.Client.noTouch || c.Spec.Name == "touch" {
		return fn
	}
	return func(tx *engine.Tx) error { return tx.NoTouch(func() error { return fn(tx) }) }
}

// Arg returns argument i as a string.
func (c *Call) Arg(i int) string { return string(c.Args[i]) }

// DB is the client's selected database.
func (c *Call) DB() int { return c.Client.db }

// Exec runs one command for cl and writes its reply to cl.W.
func (d *Dispatcher) Exec(cl *Client, args [][]byte) {
	if len(args) == 0 {
		return
	}
	d.execAt(cl, args, time.Now())
}

// execAt is Exec at a given time (a replicated log entry's).
func (d *Dispatcher) execAt(cl *Client, args [][]byte, now time.Time) {
	if cl.replyMode != replyOn {
		mark := cl.W.Len()
		defer suppressReply(cl, mark, args)
	}
	spec, ok := d.admit(cl, args, now)
	if !ok {
		return
	}
	if d.freeMemory(cl, spec, nil, now) {
		d.reject(cl, spec, msgOOM)
		return
	}
	if cl.multi.active && deniedInMulti(spec) {
		d.reject(cl, spec, msgNotInMulti)
		return
	}
	if cl.multi.active && !runsInsideMulti(spec) {
		// The arguments point into the connection's input buffer, which is
		// reused once this command returns: the queue keeps its own copy.
		cl.multi.queue = append(cl.multi.queue, queued{spec: spec, args: CloneArgs(args)})
		cl.mem.multi.Add(queuedMem(args))
		cl.W.Simple("QUEUED")
		return
	}
	d.run(cl, spec, args, nil, now, now)
}

// ExecBatch runs a pipeline of commands for cl in order. Runs of consecutive
// batchable commands (FlagBatch) share one engine transaction, so a pipeline
// of N writes costs one lock and one write to the data file instead of N.
// stop is asked between commands whether to stop there; ExecBatch returns
// how many of cmds ran (the caller keeps the rest for later).
func (d *Dispatcher) ExecBatch(cl *Client, cmds [][][]byte, stop func() bool) int {
	if d.repl != nil {
		return d.execReplicated(cl, cmds, stop)
	}
	for i := 0; i < len(cmds); {
		j := i
		write := false
		for j < len(cmds) && j-i < maxBatch {
			spec := d.batchable(cl, cmds[j])
			if spec == nil {
				break
			}
			write = write || spec.Flags&FlagWrite != 0
			j++
		}
		if j-i < 2 {
			d.Exec(cl, cmds[i])
			i++
		} else {
			i += d.runGroup(cl, cmds[i:j], write)
		}
		if i < len(cmds) && stop() {
			return i
		}
	}
	return len(cmds)
}

const maxBatch = 256

// RunsLong reports whether the command args may run long or wait (FlagLong,
// FlagBlocking), so that an event loop should hand it to a goroutine of its
// own. It looks at the command alone, not at whether the client is in MULTI:
// an event loop asks before running a batch, and an EXEC earlier in the same
// batch may end the MULTI that would have queued it.
func (d *Dispatcher) RunsLong(cl *Client, args [][]byte) bool {
	if len(args) == 0 {
		return false
	}
	if d.repl != nil && d.replOffload(args) {
		return true
	}
	spec := lookup(args[0])
	return spec != nil && spec.Flags&(FlagLong|FlagBlocking) != 0
}

// Blocks reports whether args, sent by cl now, is a command that may block
// the client (FlagBlocking outside MULTI): see Client.OnPark.
func (d *Dispatcher) Blocks(cl *Client, args [][]byte) bool {
	if len(args) == 0 || cl.multi.active {
		return false
	}
	spec := lookup(args[0])
	return spec != nil && spec.Flags&FlagBlocking != 0
}

// batchable returns the spec of args if it can join a shared transaction.
func (d *Dispatcher) batchable(cl *Client, args [][]byte) *Spec {
	if len(args) == 0 || cl.multi.active || !cl.Authed || cl.subs.count() > 0 || d.scripts.running.Load() != nil {
		return nil
	}
	spec := lookup(args[0])
	if spec == nil || spec.Flags&FlagBatch == 0 || spec.subs != nil || !arityOK(spec.Arity, len(args)) {
		return nil
	}
	if d.repl != nil && d.replOffload(args) {
		return nil
	}
	return spec
}

// runGroup runs a client's batchable commands in one transaction and
// returns how many ran (see Group.Ran).
func (d *Dispatcher) runGroup(cl *Client, cmds [][][]byte, write bool) int {
	g := []Group{{Client: cl, Cmds: cmds, Write: write}}
	d.RunShared(g)
	return g[0].Ran
}

// Group is one client's run of batchable commands (see Batchable), for
// RunShared.
type Group struct {
	Client *Client
	Cmds   [][][]byte
	// Write: one of the commands may write.
	Write bool
	// Ran is set by RunShared: how many of Cmds ran. A group stops early
	// once its client's pending replies pass maxGroupReplies, so a pipeline
	// of big reads is not built whole under the engine's lock; the caller
	// runs the rest after writing the replies out.
	Ran int
	// start is where the group's replies begin in its client's writer.
	start int
}

// maxGroupReplies is the reply size past which a group stops.
const maxGroupReplies = 1 << 20

// Batchable reports whether args, sent by cl now, may share an engine
// transaction with other commands (FlagBatch), and whether it may write.
func (d *Dispatcher) Batchable(cl *Client, args [][]byte) (ok, write bool) {
	spec := d.batchable(cl, args)
	if spec == nil {
		return false, false
	}
	return true, spec.Flags&FlagWrite != 0
}

// RunShared runs the groups' commands in one engine transaction (one lock,
// one write to the data file, however many clients): each client's commands
// run in order, and their replies go to that client's writer. A client whose
// commands wrote gets the transaction's durability ticket.
func (d *Dispatcher) RunShared(groups []Group) { d.runSharedAt(groups, time.Now()) }

// runSharedAt is RunShared at a given time (a replicated log entry's).
func (d *Dispatcher) runSharedAt(groups []Group, now time.Time) {
	write := false
	for i := range groups {
		write = write || groups[i].Write
	}
	// Over maxmemory every command evicts first, reads too (Redis'
	// performEvictions): that needs the write transaction.
	write = write || (d.repl == nil && d.Engine.OverLimit() && d.Engine.Evicts())
	// The first command's time starts at now, so it includes taking the
	// engine lock (short: the loop only gets here when TryShort succeeded);
	// reading the clock again inside the transaction would cost a second
	// read per pass.
	began := now
	body := func(tx *engine.Tx) error {
		for gi := range groups {
			g := &groups[gi]
			cl := g.Client
			start := cl.W.Len()
			g.Ran, g.start = 0, start
			for _, args := range g.Cmds {
				if cl.W.Len()-start > maxGroupReplies {
					break
				}
				g.Ran++
				mark := cl.W.Len()
				if spec, ok := d.admit(cl, args, now); ok {
					if d.freeMemory(cl, spec, tx, now) {
						d.reject(cl, spec, msgOOM)
					} else {
						began = d.run(cl, spec, args, tx, now, began)
					}
				}
				if cl.replyMode != replyOn {
					suppressReply(cl, mark, args)
				}
			}
		}
		return nil
	}
	if !write {
		_ = d.Engine.View(now.UnixMilli(), body)
		return
	}
	t, err := d.Engine.Update(now.UnixMilli(), body)
	if err != nil {
		slog.Warn("batch transaction failed", "error", err)
		// Nothing of it was kept (the data file could not be written): the
		// replies its commands wrote must not reach the clients as if it
		// had been. Each command gets the error instead.
		msg := d.diskError()
		if msg == "" {
			msg = "ERR " + err.Error()
		}
		for _, g := range groups {
			g.Client.W.Truncate(g.start)
			for range g.Ran {
				d.stats.errorReplies.Add(1)
				g.Client.W.Error(msg)
			}
		}
		return
	}
	for _, g := range groups {
		if g.Write && t > g.Client.ticket {
			g.Client.ticket = t
		}
	}
}

// admit resolves a command and runs the checks that precede execution
// (unknown command, arity, subcommand, authentication, pub/sub context). On
// failure it writes the error reply and returns false.
func (d *Dispatcher) admit(cl *Client, args [][]byte, now time.Time) (*Spec, bool) {
	d.stats.commands.Add(1)
	cl.mu.Lock()
	cl.lastInter = now
	cl.mu.Unlock()
	spec := lookup(args[0])
	if spec == nil {
		d.reject(cl, nil, unknownCommand(args))
		return nil, false
	}
	if !arityOK(spec.Arity, len(args)) {
		d.reject(cl, spec, errWrongArgs(spec.Name))
		return nil, false
	}
	if spec.subs != nil && len(args) >= 2 {
		sub := spec.subs[strings.ToLower(string(args[1]))]
		if sub == nil {
			d.reject(cl, spec, errUnknownSubcommand(string(args[1]), strings.ToUpper(spec.Name)))
			return nil, false
		}
		if !arityOK(sub.Arity, len(args)) {
			d.reject(cl, sub, errWrongArgs(sub.FullName()))
			return nil, false
		}
		spec = sub
	}
	if !cl.Authed && spec.Flags&FlagNoAuth == 0 {
		d.reject(cl, spec, msgNoAuth)
		return nil, false
	}
	// ACLs: a user with +@all ~* &* costs one atomic load and a field read.
	if !cl.account.Load().User().Unrestricted() {
		ctx := ctxToplevel
		if cl.multi.active {
			ctx = ctxMulti
		}
		if why, _ := d.checkACL(cl, spec, args, ctx, now); why != acl.Allowed {
			d.reject(cl, spec, noPermMessage(why, spec))
			return nil, false
		}
	}
	if cl.proto == 2 && cl.subs.count() > 0 && !allowedWhileSubscribed(spec) {
		d.reject(cl, spec, fmt.Sprintf("ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context", spec.FullName()))
		return nil, false
	}
	if d.busy(spec) {
		d.rejectBusy(cl, spec)
		return nil, false
	}
	if spec.Flags&FlagWrite != 0 || spec.Name == "ping" {
		if msg := d.diskError(); msg != "" {
			d.reject(cl, spec, msg)
			return nil, false
		}
	}
	if spec.Flags&FlagWrite != 0 {
		if msg := d.replicasError(); msg != "" {
			d.reject(cl, spec, msg)
			return nil, false
		}
	}
	return spec, true
}

// diskError is the MISCONF refusal of commands that write (and PING, as
// Redis does) while the data file cannot be written or flushed, or "".
func (d *Dispatcher) diskError() string {
	err := d.Engine.Store().WriteError()
	if err == nil {
		return ""
	}
	// The innermost error is the system's own words ("no space left on
	// device"); the path and the operation are in the log and INFO.
	for {
		inner := errors.Unwrap(err)
		if inner == nil {
			break
		}
		err = inner
	}
	return "MISCONF Errors writing to the data file: " + err.Error()
}

// CloneArgs copies a command's arguments into one allocation (arguments parsed
// in place point into a buffer that is reused).
func CloneArgs(args [][]byte) [][]byte {
	n := 0
	for _, a := range args {
		n += len(a)
	}
	buf := make([]byte, 0, n)
	out := make([][]byte, len(args))
	for i, a := range args {
		buf = append(buf, a...)
		out[i] = buf[len(buf)-len(a) : len(buf) : len(buf)]
	}
	return out
}

func arityOK(arity, n int) bool {
	if arity >= 0 {
		return n == arity
	}
	return n >= -arity
}

// run executes a resolved command under recover and accounts for it: now is
// the command's logical time, began when it started running (for its
// duration). It returns when the command ended: the one clock read of the
// command, which the next command of a shared pass takes as its start.
func (d *Dispatcher) run(cl *Client, spec *Spec, args [][]byte, tx *engine.Tx, now, began time.Time) time.Time {
	c := Call{d: d, Spec: spec, Client: cl, Args: args, W: cl.W, Now: now, tx: tx}
	mark := cl.W.Len()
	if spec.Flags&flagSkipMonitor != 0 && d.obs.monitorsN.Load() > 0 && !cl.scriptCaller {
		// A script's line comes before those of the commands it calls.
		d.obs.feedMonitors(cl, args, false)
	}
	func() {
		defer func() {
			if r := recover(); r != nil {
				slog.Warn("internal error in a command", "command", spec.FullName(), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				cl.W.Truncate(mark)
				cl.W.Error(msgInternal)
			}
		}()
		if tx != nil {
			tx.SetOrigin(cl.ID) // a shared transaction: this command's writes are cl's
		}
		spec.Run(&c)
	}()
	end := time.Now()
	// Time spent blocked (BLPOP waiting for a push) is not the command's
	// cost, as Redis counts only the time the command ran.
	dur := end.Sub(began) - cl.blockedFor
	cl.blockedFor = 0
	d.account(cl, spec, args, dur)
	if d.tracking.active.Load() {
		d.trackingAfter(cl, spec, args)
	}
	if b := cl.W.Bytes(); len(b) > mark && b[mark] == '-' {
		spec.stats.failed.Add(1)
		if !cl.errorCounted {
			d.stats.errorReplies.Add(1)
			d.stats.errorCodes.add(b[mark:])
		}
	}
	cl.errorCounted = false
	cl.mu.Lock()
	cl.lastCmd = spec.FullName()
	cl.mu.Unlock()
	return end
}

func (d *Dispatcher) reject(cl *Client, spec *Spec, msg string) {
	if spec != nil {
		spec.stats.rejected.Add(1)
	}
	d.stats.errorReplies.Add(1)
	d.stats.errorCodes.add([]byte("-" + msg))
	if cl.multi.active {
		cl.multi.failed = true
	}
	cl.W.Error(msg)
}

func unknownCommand(args [][]byte) string {
	var b bytes.Buffer
	for _, a := range args[1:] {
		if b.Len() >= 128 {
			break
		}
		room := 128 - b.Len()
		if len(a) > room {
			a = a[:room]
		}
		fmt.Fprintf(&b, "'%s' ", a)
	}
	name := args[0]
	if len(name) > 128 {
		name = name[:128]
	}
	return fmt.Sprintf("ERR unknown command '%s', with args beginning with: %s", name, b.String())
}

func allowedWhileSubscribed(s *Spec) bool {
	switch s.FullName() {
	case "subscribe", "unsubscribe", "psubscribe", "punsubscribe", "ssubscribe", "sunsubscribe", "ping", "quit", "reset":
		return true
	}
	return false
}
