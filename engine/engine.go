// Package engine is sessiond's data model over buntdb: typed values with
// millisecond expiry, the expiry wheel and the active expirer, and the native
// session and token records. It knows nothing of RESP.
//
// Every operation runs inside a transaction obtained from View or Update; one
// command is one transaction. Writers take "now" from the caller (Tx.Now) and
// random bytes from the caller, never from inside the engine, so a write is a
// deterministic function of its inputs and could be replayed on a replica.
//
// Layout of buntdb keys:
//
//	"k" db key           a record: header (type byte, 8-byte big-endian deadline in
//	                     Unix ms, 0 = none) followed by the type's payload
//	"c" db len key sub   a child of a composite record (hash field, set member, ...)
//
// Databases 0-15 hold the user keyspace; database bytes from 0xF0 up are
// reserved for native objects, which KEYS, SCAN and DBSIZE therefore never see.
package engine

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessiond/sessiond/latency"
	"github.com/sessiond/sessiond/persistence"
	"github.com/tidwall/buntdb"
)

// Errors returned by engine operations. Commands map them onto Redis' words.
var (
	// ErrWrongType: the key holds a value of another type.
	ErrWrongType = errors.New("WRONGTYPE Operation against a key holding the wrong kind of value")
	// ErrNoSuchKey: the key does not exist (RENAME and friends).
	ErrNoSuchKey = errors.New("no such key")
	// ErrNotInteger: the value is not an integer or out of range.
	ErrNotInteger = errors.New("value is not an integer or out of range")
	// ErrNotFloat: the value is not a valid float.
	ErrNotFloat = errors.New("value is not a valid float")
	// ErrOverflow: an increment would overflow.
	ErrOverflow = errors.New("increment or decrement would overflow")
	// ErrTooLarge: a string would exceed the maximum size (512 MB).
	ErrTooLarge = errors.New("string exceeds maximum allowed size (proto-max-bulk-len)")
)

// MaxDatabases is the number of user databases (SELECT 0-15).
const MaxDatabases = 16

// Options configures Open.
type Options struct {
	// Store is the open data file (persistence.Open); required.
	Store *persistence.Store
	// OnCommit, if set, is called after every write transaction that produced
	// events or touched keys, outside the database lock, in commit order per
	// goroutine. It feeds keyspace notifications and WATCH.
	OnCommit func(Commit)
	// Clock returns the current time; the active expirer uses it. Default time.Now.
	Clock func() time.Time
	// Latency receives the engine's latency events (expire-cycle); nil
	// makes the engine its own monitor (see Engine.Latency).
	Latency *latency.Monitor
}

// Engine is the data model. It is safe for concurrent use.
type Engine struct {
	store    *persistence.Store
	db       *buntdb.DB
	onCommit func(Commit)
	clock    func() time.Time
	lat      *latency.Monitor

	expiryPaused atomic.Bool // see PauseExpiry
	timeCommits  atomic.Bool // see TimeCommits
	commitHist   latency.Histogram
	expireHz     atomic.Int64 // see SetExpireTuning; 0: expireTick
	hashLimits   hashLimits   // see SetHashListpackLimits
	expireEffort atomic.Int64

	notifyMask  atomic.Uint32 // keyspace event classes wanted (see NotifyClass)
	trackWrites atomic.Bool   // whether Commit.Touched is needed (WATCH in use)
	trackKeys   atomic.Bool   // whether Commit.Touched is needed (CLIENT TRACKING in use)

	stats Stats

	cursorMu   sync.Mutex
	cursors    map[uint64]scanCursor
	cursorFIFO []uint64
	cursorNext uint64

	hooksMu  sync.RWMutex
	dropHook map[byte]func(tx *Tx, r Record, reason DropReason) // per record type

	points points // the hash index of every item (points.go)

	long sync.RWMutex // the gate between long work and the event loops (long.go)

	sess sessionState // native sessions (sessions.go)
	tok  tokenState   // transition tokens (tokens.go)

	comb combiner // write combining for UpdateShared (combine.go)

	memMax    atomic.Int64                 // maxmemory (memory.go)
	memPeak   atomic.Int64                 // used_memory_peak (memory.go)
	memPolicy atomic.Pointer[MemoryPolicy] // the rest of the memory settings
	evPool    evictionPool                 // under buntdb's write lock

	exp *expWheel // hints for the active expirer (expwheel.go); under buntdb's write lock

	expMode     atomic.Int32 // ExpiryMode (replicated.go)
	expMu       sync.Mutex
	expDelegate func(now int64, items []string) error

	stopExpire chan struct{}
	expireDone chan struct{}
}

// Stats are counters exposed through INFO. Read them with atomic loads.
type Stats struct {
	ExpiredKeys     atomic.Int64
	ExpireCycles    atomic.Int64
	ExpireTimeUsec  atomic.Int64
	KeyspaceHits    atomic.Int64
	KeyspaceMisses  atomic.Int64
	WriteCommits    atomic.Int64
	ExpiredStaleMax atomic.Int64
	EvictedKeys     atomic.Int64 // records removed by maxmemory eviction
}

// Open builds the engine over an open store: it files the deadline of every
// record in the expiry wheel (which is not persisted) and starts the active
// expirer.
func Open(opts Options) (*Engine, error) {
	if opts.Store == nil {
		return nil, errors.New("engine: no store")
	}
	e := &Engine{
		store:      opts.Store,
		db:         opts.Store.DB(),
		onCommit:   opts.OnCommit,
		clock:      opts.Clock,
		cursors:    map[uint64]scanCursor{},
		dropHook:   map[byte]func(*Tx, Record, DropReason){},
		stopExpire: make(chan struct{}),
		expireDone: make(chan struct{}),
		exp:        newExpWheel(),
	}
	if e.clock == nil {
		e.clock = time.Now
	}
	e.SetHashListpackLimits(128, 64) // Redis' defaults
	e.lat = opts.Latency
	if e.lat == nil {
		e.lat = latency.New()
	}
	// Neither the hash index nor the expiry wheel is persisted: one pass
	// over the data set fills the index and files every record with a
	// deadline.
	now := e.clock().UnixMilli()
	bad := ""
	if err := e.points.load(e.db, func(k, v string) {
		if k[0] == 'k' {
			if bad == "" && !headerOK(k, v) {
				bad = k
			}
			if d := int64(deadlineOf(v)); d != 0 {
				e.exp.file(k, d, now)
			}
		}
	}); err != nil {
		return nil, fmt.Errorf("load hash index and deadlines: %w", err)
	}
	if bad != "" {
		// Garbage is not served: the operator decides (as Redis refuses a
		// corrupt RDB). The offset is found only now, on this error path.
		return nil, damagedRecordError(opts.Store.Path(), bad)
	}
	if err := e.countSessions(); err != nil {
		return nil, fmt.Errorf("count sessions: %w", err)
	}
	for _, fn := range openHooks {
		fn(e)
	}
	e.store.SetLongWork(e.BeginLong, e.EndLong)
	go e.activeExpire()
	return e, nil
}

// openHooks are run by Open before the expirer starts: native families
// register their drop hooks there (declareOpen), so records loaded from the
// data file are cleaned up properly from the first expiry on.
var openHooks []func(e *Engine)

func declareOpen(fn func(e *Engine)) { openHooks = append(openHooks, fn) }

// Close stops the expirer. It does not close the store.
func (e *Engine) Close() {
	select {
	case <-e.stopExpire:
	default:
		close(e.stopExpire)
		<-e.expireDone
	}
}

// Store returns the persistence store under the engine.
func (e *Engine) Store() *persistence.Store { return e.store }

// Stats returns the engine's counters.
func (e *Engine) Stats() *Stats { return &e.stats }

// SetNotifyMask selects which keyspace event classes are generated.
func (e *Engine) SetNotifyMask(m uint32) { e.notifyMask.Store(m) }

// TrackWrites turns on the collection of touched keys (needed by WATCH).
func (e *Engine) TrackWrites(on bool) { e.trackWrites.Store(on) }

// OnDrop registers a hook run inside the transaction whenever a record of the
// given type is deleted, overwritten, expired or flushed, so that a native
// type can remove its index entries and dependants in the same transaction.
//
// Each record type has one owner: registering a second hook for the same
// type byte panics, because two families sharing a byte would silently
// replace each other's cleanup.
func (e *Engine) OnDrop(typ byte, fn func(tx *Tx, r Record, reason DropReason)) {
	e.hooksMu.Lock()
	defer e.hooksMu.Unlock()
	if _, dup := e.dropHook[typ]; dup {
		panic(fmt.Sprintf("engine: record type %q already has a drop hook", typ))
	}
	if composite(typ) || typ == TypeString {
		panic(fmt.Sprintf("engine: record type %q belongs to the user keyspace", typ))
	}
	e.dropHook[typ] = fn
}

// DropReason says why a record is going away.
type DropReason int

const (
	DropDeleted DropReason = iota // DEL, overwrite by another type, explicit destroy
	DropExpired                   // its deadline passed
	DropFlushed                   // FLUSHDB / FLUSHALL
	DropEvicted                   // removed by maxmemory eviction (memory.go)
)

// Commit describes what a write transaction did, for notifications and WATCH.
type Commit struct {
	Events  []Event
	Touched []KeyRef // only when TrackWrites or TrackKeys is on
	// TouchedBy is, for each of Touched, the id of the client whose command
	// wrote it (Tx.SetOrigin; 0 for the expirer), for CLIENT TRACKING NOLOOP.
	TouchedBy []int64
	Flushed   []int // databases flushed (-1: all)
}

// KeyRef names a key of a user database.
type KeyRef struct {
	DB  int
	Key string
}

// Event is a notification produced by a write: a keyspace event (Class is
// its notify-keyspace-events letter) or a session lifecycle event (Class 'S').
type Event struct {
	Class byte
	Name  string
	DB    int
	Key   string
}

// Tx is one transaction. It must not be used after the function passed to
// View or Update returns.
type Tx struct {
	e        *Engine
	bt       pointTx // buntdb's transaction, point reads through the hash index
	writable bool
	// Now is the transaction's time in Unix milliseconds; every deadline
	// decision in the transaction uses it.
	Now int64

	commit      Commit
	origin      int64 // the client whose command runs (SetOrigin)
	lazyExpired []string
	wrote       bool

	// Expiry hints this transaction removed (FLUSHDB, FLUSHALL, the
	// expirer): put back if it fails, so no record loses its hint.
	droppedHints []string
	droppedWheel *expWheel

	sessDelta sessCountRec // changes of the session counts (sessions.go)
	applied   bool         // sessDelta was added to the engine's counts
	// sessRevoking is the owner RevokeOwner is ending the sessions of: the
	// "was that the owner's last session?" check is made once, at the end.
	sessRevoking string
	// sessDeps are the dependants marked on sessions in this transaction
	// (markSessionDeps), kept by every later write of their records.
	sessDeps map[string]byte
}

// View runs fn in a read-only transaction at time now (Unix ms). Expired
// records it meets are invisible, and are deleted right after.
func (e *Engine) View(now int64, fn func(tx *Tx) error) error {
	tx := newTx(e, now, false)
	err := e.db.View(func(bt *buntdb.Tx) error {
		tx.bt.bind(bt, &e.points, now)
		return fn(tx)
	})
	if len(tx.lazyExpired) > 0 && e.expiryMode() == ExpiryLocal {
		e.expireKeys(tx.lazyExpired)
	}
	freeTx(tx)
	return err
}

// Transactions are pooled: one per command would be an allocation of a few
// hundred bytes on every command. A Tx must not be used after the function
// given to View or Update returns (as documented on Tx); nothing it held
// (events, expired keys) is reused, only the struct.
var txPool = sync.Pool{New: func() any { return new(Tx) }}

func newTx(e *Engine, now int64, writable bool) *Tx {
	tx := txPool.Get().(*Tx)
	tx.e, tx.Now, tx.writable = e, now, writable
	return tx
}

func freeTx(tx *Tx) {
	tx.bt.done()
	undo := tx.bt.undo
	*tx = Tx{}
	tx.bt.undo = undo
	txPool.Put(tx)
}

// TimeCommits turns on the timing of data file writes (CommitHistogram); it
// costs two clock reads per write transaction. The latency monitor, when on,
// times them too (event aof-write).
func (e *Engine) TimeCommits(on bool) { e.timeCommits.Store(on) }

func (e *Engine) timingCommits() bool { return e.timeCommits.Load() || e.lat.Enabled() }

// observeCommit records a write transaction's commit, which buntdb does
// after the transaction's function returned (at fnDone): appending its
// records to the data file.
func (e *Engine) observeCommit(fnDone time.Time) {
	d := time.Since(fnDone)
	if e.timeCommits.Load() {
		e.commitHist.Add(d)
	}
	e.lat.Observe("aof-write", d)
}

// CommitHistogram returns the durations of data file writes (commits of
// write transactions) since TimeCommits was turned on.
func (e *Engine) CommitHistogram() (counts [latency.Buckets]int64, sumUS int64) {
	return e.commitHist.Snapshot()
}

// Latency is the process's latency monitor, which the engine and the layers
// above report to (LATENCY).
func (e *Engine) Latency() *latency.Monitor { return e.lat }

// Update runs fn in a write transaction at time now (Unix ms). If fn returns
// an error nothing it did is kept. It returns a durability ticket for
// WaitDurable (0 when nothing was written).
func (e *Engine) Update(now int64, fn func(tx *Tx) error) (uint64, error) {
	tx := newTx(e, now, true)
	var panicked any
	timed := e.timingCommits()
	var fnDone time.Time
	err := e.db.Update(func(bt *buntdb.Tx) (err error) {
		tx.bt.bind(bt, &e.points, now)
		// buntdb commits when fn panics; turn a panic into an error so the
		// transaction rolls back, then re-raise it for the caller's recover.
		defer func() {
			if r := recover(); r != nil {
				panicked, err = r, errPanicked
			}
			if err != nil {
				tx.bt.rollback() // under the lock, as buntdb rolls back
			}
		}()
		if err = fn(tx); err == nil {
			tx.applySessCounts(1)
			tx.applied = true
			if timed {
				fnDone = time.Now()
			}
		}
		return err
	})
	if err != nil {
		e.undoFailed(tx)
		if tx.applied {
			// The function succeeded: the commit could not be written.
			e.store.CommitFailed(err)
		}
	} else if timed && tx.wrote {
		e.observeCommit(fnDone)
	}
	if panicked != nil {
		panic(panicked)
	}
	var ticket uint64
	if err == nil && tx.wrote {
		e.stats.WriteCommits.Add(1)
		ticket = e.store.Committed()
	}
	if err == nil && e.onCommit != nil && (len(tx.commit.Events) > 0 || len(tx.commit.Touched) > 0 || len(tx.commit.Flushed) > 0) {
		e.onCommit(tx.commit)
	}
	freeTx(tx)
	return ticket, err
}

var errPanicked = errors.New("engine: transaction function panicked")

// undoFailed puts back what a transaction that did not commit changed
// outside buntdb: the expiry hints it removed and, when its function had
// succeeded but the commit failed, the session counts and the hash index.
func (e *Engine) undoFailed(tx *Tx) {
	e.restoreHints(tx)
	if tx.applied {
		tx.applySessCounts(-1)
		e.rollbackPoints(tx)
	}
}

// rollbackPoints puts the hash index back after a commit that failed (the
// data file could not be written): buntdb has rolled its tree back already.
func (e *Engine) rollbackPoints(tx *Tx) {
	_ = e.db.Update(func(*buntdb.Tx) error {
		tx.bt.rollback()
		return nil
	})
}

// restoreHints puts back the expiry hints a failed transaction removed.
// Filing them due at once is always safe: the expirer re-files what is not
// expired yet.
func (e *Engine) restoreHints(tx *Tx) {
	if len(tx.droppedHints) == 0 && tx.droppedWheel == nil {
		return
	}
	_ = e.db.Update(func(*buntdb.Tx) error {
		if tx.droppedWheel != nil {
			e.exp.merge(tx.droppedWheel)
		}
		for _, k := range tx.droppedHints {
			e.exp.add(0, k)
		}
		return nil
	})
	tx.droppedHints, tx.droppedWheel = nil, nil
}

// setItem writes a top-level record (a "k" item: header and payload) and
// keeps the expiry wheel's invariant: a record with a deadline has a hint due
// no later than its deadline + 1. A deadline that stays or moves later needs
// no new hint (the old one is a lower bound), so touches file nothing. It
// reports whether an item was replaced.
func (tx *Tx) setItem(item, val string) bool {
	_, replaced := tx.setItemPrev(item, val)
	return replaced
}

// setItemPrev is setItem returning the value it replaced.
func (tx *Tx) setItemPrev(item, val string) (string, bool) {
	prev, replaced, err := tx.bt.Set(item, val, nil)
	if err != nil {
		return "", false // not a write transaction: nothing was written
	}
	tx.wrote = true
	if d := int64(deadlineOf(val)); d != 0 {
		if old := int64(deadlineOf(prev)); !replaced || old == 0 || d < old {
			tx.e.exp.file(item, d, tx.Now)
		}
	}
	return prev, replaced
}

// WaitDurable waits until the write with this ticket is on stable storage, as
// the fsync policy requires (see persistence.Store.WaitDurable).
func (e *Engine) WaitDurable(ticket uint64) error { return e.store.WaitDurable(ticket) }

// Writable reports whether the transaction may write.
func (tx *Tx) Writable() bool { return tx.writable }

// Notify records a keyspace event if its class is enabled.
func (tx *Tx) Notify(class byte, name string, db int, key string) {
	if bit := classBit(class); bit != 0 && tx.e.notifyMask.Load()&bit != 0 {
		tx.commit.Events = append(tx.commit.Events, Event{Class: class, Name: name, DB: db, Key: key})
	}
}

// Emit records an event unconditionally (session lifecycle events).
func (tx *Tx) Emit(ev Event) { tx.commit.Events = append(tx.commit.Events, ev) }

func (tx *Tx) touch(db int, key string) {
	if db < MaxDatabases && (tx.e.trackWrites.Load() || tx.e.trackKeys.Load()) {
		tx.commit.Touched = append(tx.commit.Touched, KeyRef{db, key})
		tx.commit.TouchedBy = append(tx.commit.TouchedBy, tx.origin)
	}
}

// TouchedSessionDB is the KeyRef.DB of a session in Commit.Touched: Key is
// then the session's handle. A session is reported (only under TrackKeys)
// when what SESS.GET answers for it may change: its data is set, or it
// ends, rotates, is regenerated, detached or attached.
const TouchedSessionDB = dbSession

// sessionChanged reports a change of session handle (TouchedSessionDB).
func (tx *Tx) sessionChanged(handle string) {
	if tx.e.trackKeys.Load() && tx.writable {
		tx.commit.Touched = append(tx.commit.Touched, KeyRef{dbSession, handle})
		tx.commit.TouchedBy = append(tx.commit.TouchedBy, tx.origin)
	}
}

// SetOrigin names the client whose command runs next in this transaction
// (a shared transaction runs several clients' commands): the keys it
// writes are reported with this id in Commit.TouchedBy.
func (tx *Tx) SetOrigin(client int64) { tx.origin = client }

// TrackKeys turns on the collection of touched keys for client-side caching
// (CLIENT TRACKING), independently of TrackWrites (WATCH).
func (e *Engine) TrackKeys(on bool) { e.trackKeys.Store(on) }

// classBit maps a keyspace event class letter to its mask bit.
func classBit(c byte) uint32 {
	const letters = "g$lshzxetdmnKE"
	for i := 0; i < len(letters); i++ {
		if letters[i] == c {
			return 1 << i
		}
	}
	return 0
}

// NotifyMask turns a notify-keyspace-events string into a mask for SetNotifyMask.
func NotifyMask(flags string) uint32 {
	var m uint32
	for i := 0; i < len(flags); i++ {
		if flags[i] == 'A' {
			for _, c := range []byte("g$lshzxetd") {
				m |= classBit(c)
			}
			continue
		}
		m |= classBit(flags[i])
	}
	if m&(classBit('K')|classBit('E')) == 0 {
		return 0 // neither keyspace nor keyevent channels: nothing is published
	}
	return m
}

// NowMS returns t in Unix milliseconds.
func NowMS(t time.Time) int64 { return t.UnixMilli() }
