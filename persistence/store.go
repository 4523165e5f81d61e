// Package persistence owns sessiond's data file: opening it (with a lock so
// that a second process cannot share it), the fsync policy, group commit,
// snapshots, rewrites and the check of a damaged file.
//
// The file is buntdb's append-only log. buntdb fsyncs under its global lock;
// we run buntdb with SyncPolicy Never and fsync the file ourselves through a
// descriptor of our own, outside that lock, so that one fsync can cover the
// writes of many clients (group commit).
package persistence

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessiond/sessiond/filelock"
	"github.com/sessiond/sessiond/latency"
	"github.com/tidwall/buntdb"
)

// Fsync is the policy for flushing writes to stable storage, named as in
// Redis' appendfsync.
type Fsync int

const (
	// FsyncEverySec flushes once a second: a crash loses at most about a second.
	FsyncEverySec Fsync = iota
	// FsyncAlways acknowledges a write only after it is on disk; concurrent
	// writers share one fsync.
	FsyncAlways
	// FsyncNo leaves flushing to the operating system.
	FsyncNo
)

// ParseFsync maps appendfsync's words onto a policy.
func ParseFsync(s string) (Fsync, error) {
	switch strings.ToLower(s) {
	case "always":
		return FsyncAlways, nil
	case "everysec":
		return FsyncEverySec, nil
	case "no":
		return FsyncNo, nil
	}
	return 0, fmt.Errorf("invalid appendfsync %q", s)
}

func (f Fsync) String() string {
	switch f {
	case FsyncAlways:
		return "always"
	case FsyncNo:
		return "no"
	}
	return "everysec"
}

// Options configures Open. The zero value is an in-memory store.
type Options struct {
	// Path of the data file; "" or ":memory:" keeps nothing on disk.
	Path string
	// Fsync is the flush policy for a file-backed store.
	Fsync Fsync
	// AutoRewritePercentage and AutoRewriteMinSize trigger a background
	// rewrite when the file has grown by that percentage since the last one
	// and is at least that large; 0 percentage disables it.
	AutoRewritePercentage int
	AutoRewriteMinSize    int64
	// Latency receives the store's latency events (aof-fsync, snapshot,
	// aof-rewrite); nil records none.
	Latency *latency.Monitor
	// OnEvent, if set, is told of finished snapshots and rewrites (for the
	// server's log): what happened, how long it took, and its error.
	OnEvent func(what string, took time.Duration, err error)
}

// Store is an open data file. It is safe for concurrent use.
type Store struct {
	db       *buntdb.DB
	path     string
	lockFile *filelock.Lock
	policy   atomic.Int32

	mu      sync.Mutex
	cond    *sync.Cond
	written uint64 // commits that reached the file (through write(2))
	synced  uint64 // commits known to be on stable storage
	syncing bool
	// waiters are the callbacks of NotifyDurable, released by the fsync
	// that covers their ticket.
	waiters []durableWaiter

	lastSync atomic.Int64 // unix ms of the last successful fsync
	syncErr  atomic.Pointer[error]
	// writeErr is the error of the last commit that could not be written to
	// the data file (buntdb rolled it back), until a write succeeds again.
	writeErr atomic.Pointer[error]
	// syncFile flushes the data file: (*os.File).Sync, or a failure injected
	// by a test (SetSyncFunc).
	syncFile atomic.Pointer[func(*os.File) error]
	stop     chan struct{}
	done     chan struct{}

	rewritePct     int
	rewriteMinSize int64
	lastRewriteSz  atomic.Int64

	// beginLong and endLong bracket work that holds the database lock for
	// long (a snapshot's copy), so the layer above can keep its event loops
	// from waiting on it (see SetLongWork).
	beginLong, endLong func()

	rewriting  atomic.Bool
	rewriteErr atomic.Pointer[error] // of the last rewrite; nil when it succeeded
	saving     atomic.Bool
	lastSave   atomic.Int64 // unix seconds
	lastSaveOK atomic.Bool
	changes    atomic.Int64 // writes since the last save

	lat      *latency.Monitor
	onEvent  func(string, time.Duration, error)
	fsyncs   latency.Histogram // fsync durations (the metrics endpoint)
	loadTime time.Duration
}

// CommitMarkerKey is the key of the commit marker that follows the records
// of every write transaction in the data file: a delete of this key, which
// never exists. buntdb writes a transaction's records with one write(2), in
// no particular order; a crash can tear that write, leaving some of them.
// Records after the last marker belong to such a transaction, and Open drops
// them (Check reports them). The marker is an ordinary delete record, so a
// file with markers loads in any version.
const CommitMarkerKey = "\x00sessiond:commit"

// writeMarker appends a commit marker to the data file.
func (s *Store) writeMarker() error {
	err := s.db.Update(func(tx *buntdb.Tx) error {
		if _, _, err := tx.Set(CommitMarkerKey, "", nil); err != nil {
			return err
		}
		_, err := tx.Delete(CommitMarkerKey)
		return err
	})
	if err != nil {
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	return nil
}

// ErrLocked is returned by Open when another process holds the data file.
var ErrLocked = errors.New("data file is in use by another process")

// Open opens (creating if needed) the data file and loads it. A torn last
// record, as a power cut mid-write leaves, is dropped; everything before it
// loads. A file damaged elsewhere fails with an error naming the file.
func Open(opts Options) (*Store, error) {
	s := &Store{stop: make(chan struct{}), done: make(chan struct{})}
	s.SetSyncFunc((*os.File).Sync)
	s.cond = sync.NewCond(&s.mu)
	s.policy.Store(int32(opts.Fsync))
	s.lat, s.onEvent = opts.Latency, opts.OnEvent
	opened := time.Now()
	s.lastSave.Store(opened.Unix())
	s.lastSaveOK.Store(true)
	path := opts.Path
	if path == "" {
		path = ":memory:"
	}
	s.path = path
	if path != ":memory:" {
		if dir := filepath.Dir(path); dir != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, fmt.Errorf("create %s: %w", dir, err)
			}
		}
		lf, err := lockDataFile(path)
		if err != nil {
			return nil, err
		}
		s.lockFile = lf
	}
	if path != ":memory:" {
		if err := dropHalfWritten(path); err != nil {
			s.releaseLock()
			return nil, err
		}
	}
	db, err := buntdb.Open(path)
	if err != nil {
		s.releaseLock()
		if errors.Is(err, buntdb.ErrInvalid) {
			return nil, fmt.Errorf("load %s: the file is damaged (run `sessiond check %s` to find where, --repair to keep what precedes it): %w", path, path, err)
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	var cfg buntdb.Config
	if err := db.ReadConfig(&cfg); err != nil {
		db.Close()
		s.releaseLock()
		return nil, fmt.Errorf("read config of %s: %w", path, err)
	}
	cfg.SyncPolicy = buntdb.Never
	// buntdb's own auto-shrink renames its new file into place without
	// fsyncing it or the directory; rewrites are driven from here instead
	// (see maybeRewrite), so each one is made durable.
	cfg.AutoShrinkDisabled = true
	if err := db.SetConfig(cfg); err != nil {
		db.Close()
		s.releaseLock()
		return nil, fmt.Errorf("configure %s: %w", path, err)
	}
	s.db = db
	if path != ":memory:" {
		// What follows is marked transaction by transaction: a marker here
		// ends what an older version (or a rewrite) wrote unmarked.
		if err := s.writeMarker(); err != nil {
			s.CommitFailed(err)
		}
	}
	s.loadTime = time.Since(opened)
	s.rewritePct, s.rewriteMinSize = opts.AutoRewritePercentage, opts.AutoRewriteMinSize
	if st, err := os.Stat(path); err == nil {
		s.lastRewriteSz.Store(st.Size())
	}
	go s.flusher()
	return s, nil
}

// DB returns the underlying buntdb database.
func (s *Store) DB() *buntdb.DB { return s.db }

// Path returns the data file's path, or ":memory:".
func (s *Store) Path() string { return s.path }

// InMemory reports whether nothing is kept on disk.
func (s *Store) InMemory() bool { return s.path == ":memory:" }

// SetFsync changes the flush policy at run time.
func (s *Store) SetFsync(p Fsync) { s.policy.Store(int32(p)) }

// FsyncPolicy returns the current flush policy.
func (s *Store) FsyncPolicy() Fsync { return Fsync(s.policy.Load()) }

// Committed records that a write transaction reached the file and returns its
// ticket, to pass to WaitDurable. It follows the transaction's records with a
// commit marker (see writeMarker), so that a transaction torn by a crash is
// dropped whole when the file is loaded.
func (s *Store) Committed() uint64 {
	if !s.InMemory() {
		if err := s.writeMarker(); err != nil {
			s.CommitFailed(err)
		}
	}
	s.changes.Add(1)
	s.mu.Lock()
	s.written++
	t := s.written
	s.mu.Unlock()
	return t
}

// WaitDurable blocks, under appendfsync always, until the commit with the
// given ticket is on stable storage; one fsync covers every commit made before
// it started (group commit). Under the other policies it returns at once.
func (s *Store) WaitDurable(ticket uint64) error {
	if s.InMemory() || Fsync(s.policy.Load()) != FsyncAlways || ticket == 0 {
		return nil
	}
	return s.syncUpTo(ticket)
}

func (s *Store) syncUpTo(ticket uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.synced < ticket {
		if s.syncing {
			s.cond.Wait()
			continue
		}
		if err := s.syncOnceLocked(); err != nil {
			return err
		}
	}
	return nil
}

// syncOnceLocked runs one fsync (s.mu held on entry and exit, released
// during the fsync) covering every commit written when it starts, then
// releases the waiters it covered.
func (s *Store) syncOnceLocked() error {
	s.syncing = true
	target := s.written
	s.mu.Unlock()
	err := s.fsyncFile()
	s.mu.Lock()
	s.syncing = false
	if err == nil {
		s.synced = target
	}
	s.cond.Broadcast()
	s.releaseWaitersLocked(err)
	return err
}

// durableWaiter is a NotifyDurable callback waiting for its ticket.
type durableWaiter struct {
	ticket uint64
	fn     func(error)
}

// NotifyDurable is WaitDurable for callers that must not block (an event
// loop): it reports true when the commit with this ticket needs no wait
// (policy other than always, or already on stable storage), and otherwise
// returns false and calls fn exactly once, from another goroutine, when an
// fsync covering the ticket has finished (with its error, if it failed).
//
// Every commit that has reached the file when an fsync starts rides on that
// fsync, whichever client made it: a waiter never waits for more than the
// fsync in progress plus the next one.
func (s *Store) NotifyDurable(ticket uint64, fn func(error)) bool {
	if s.InMemory() || Fsync(s.policy.Load()) != FsyncAlways || ticket == 0 {
		return true
	}
	s.mu.Lock()
	if s.synced >= ticket {
		s.mu.Unlock()
		return true
	}
	s.waiters = append(s.waiters, durableWaiter{ticket, fn})
	start := !s.syncing
	if start {
		s.syncing = true // claimed for the syncer below
	}
	s.mu.Unlock()
	if start {
		go s.syncer()
	}
	return false
}

// syncer fsyncs until no NotifyDurable waiter is left. It is started with
// s.syncing claimed.
func (s *Store) syncer() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.syncing = false
	for len(s.waiters) > 0 {
		if s.syncing { // a WaitDurable caller is fsyncing: it releases the waiters
			s.cond.Wait()
			continue
		}
		_ = s.syncOnceLocked()
	}
}

// releaseWaitersLocked calls the waiters whose tickets are now durable, or
// all of them with err when the fsync failed (their writes' fate is unknown).
func (s *Store) releaseWaitersLocked(err error) {
	if len(s.waiters) == 0 {
		return
	}
	keep := s.waiters[:0]
	var ready []durableWaiter
	for _, w := range s.waiters {
		if err != nil || w.ticket <= s.synced {
			ready = append(ready, w)
		} else {
			keep = append(keep, w)
		}
	}
	for i := len(keep); i < len(s.waiters); i++ {
		s.waiters[i] = durableWaiter{}
	}
	s.waiters = keep
	if len(ready) == 0 {
		return
	}
	s.mu.Unlock()
	for _, w := range ready {
		w.fn(err)
	}
	s.mu.Lock()
}

// Sync flushes every write committed so far to stable storage.
func (s *Store) Sync() error {
	if s.InMemory() {
		return nil
	}
	s.mu.Lock()
	t := s.written
	s.mu.Unlock()
	return s.syncUpTo(t)
}

// fsyncFile flushes the data file through a descriptor of our own: fsync
// flushes the file's dirty pages whichever descriptor wrote them. The path is
// opened each time because a rewrite replaces the file.
func (s *Store) fsyncFile() error {
	f, err := os.OpenFile(s.path, os.O_RDONLY, 0)
	if err != nil {
		err = fmt.Errorf("fsync %s: %w", s.path, err)
		s.syncErr.Store(&err)
		return err
	}
	began := time.Now()
	err = (*s.syncFile.Load())(f)
	took := time.Since(began)
	f.Close()
	s.fsyncs.Add(took)
	s.lat.Observe("aof-fsync", took)
	if err != nil {
		err = fmt.Errorf("fsync %s: %w", s.path, err)
		s.syncErr.Store(&err)
		return err
	}
	s.syncErr.Store(nil)
	s.lastSync.Store(time.Now().UnixMilli())
	return nil
}

// LastSyncError returns the error of the most recent fsync (or of opening
// the file for it) if that fsync failed, or nil.
func (s *Store) LastSyncError() error {
	if p := s.syncErr.Load(); p != nil {
		return *p
	}
	return nil
}

// CommitFailed records that a commit could not be written to the data file
// (buntdb rolled it back): WriteError reports it until a write and an fsync
// succeed again (the flusher tries once a second).
func (s *Store) CommitFailed(err error) {
	if s.writeErr.Swap(&err) == nil {
		slog.Warn("cannot write the data file; commands that write are refused (MISCONF) until it can be written again", "file", s.path, "error", err)
	}
}

// WriteError returns why the data file cannot be written or flushed now (the
// last commit's write or the last fsync failed), or nil: INFO's
// aof_last_write_status, and the MISCONF refusal of writes.
func (s *Store) WriteError() error {
	if p := s.writeErr.Load(); p != nil {
		return *p
	}
	return s.LastSyncError()
}

// SetSyncFunc replaces the call that flushes the data file to stable storage
// ((*os.File).Sync): a seam for tests that inject a failing fsync.
func (s *Store) SetSyncFunc(fn func(*os.File) error) { s.syncFile.Store(&fn) }

// retryWrite is the flusher's attempt, while WriteError is set, to find the
// file writable again: a commit marker (a record that changes nothing) and
// an fsync.
func (s *Store) retryWrite() {
	if s.writeErr.Load() != nil {
		if err := s.writeMarker(); err != nil {
			s.writeErr.Store(&err)
			return
		}
	}
	s.mu.Lock()
	for s.syncing {
		s.cond.Wait()
	}
	err := s.syncOnceLocked()
	s.mu.Unlock()
	if err != nil {
		return
	}
	s.writeErr.Store(nil)
	slog.Warn("the data file can be written again; writes are accepted", "file", s.path)
}

func (s *Store) flusher() {
	defer close(s.done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if s.InMemory() {
				continue
			}
			s.maybeRewrite()
			if s.WriteError() != nil {
				s.retryWrite()
				continue
			}
			if Fsync(s.policy.Load()) == FsyncNo {
				continue
			}
			s.mu.Lock()
			pending := s.written > s.synced
			s.mu.Unlock()
			if pending {
				_ = s.Sync()
			}
		}
	}
}

// Changes returns the number of write transactions since the last snapshot.
func (s *Store) Changes() int64 { return s.changes.Load() }

// LastSave returns the unix time of the last successful snapshot (or of the open).
func (s *Store) LastSave() int64 { return s.lastSave.Load() }

// LastSaveOK reports whether the last snapshot succeeded.
func (s *Store) LastSaveOK() bool { return s.lastSaveOK.Load() }

// Saving reports whether a background snapshot is running.
func (s *Store) Saving() bool { return s.saving.Load() }

// Rewriting reports whether a rewrite of the data file is running.
func (s *Store) Rewriting() bool { return s.rewriting.Load() }

// ErrBusy is returned when a snapshot or rewrite is already running.
var ErrBusy = errors.New("a background save or rewrite is already in progress")

// Snapshot writes a consistent copy of the whole data set to path (through a
// temporary file, fsync and rename, so path is never half-written). Writers
// wait while the copy is taken; readers do not.
func (s *Store) Snapshot(path string) error {
	if !s.saving.CompareAndSwap(false, true) {
		return ErrBusy
	}
	return s.snapshotClaimed(path)
}

// SnapshotInBackground is Snapshot on a goroutine of its own: the save is in
// progress (Saving reports true) from the moment it returns nil, and done,
// if not nil, gets its outcome. It returns ErrBusy when a save is running.
func (s *Store) SnapshotInBackground(path string, done func(error)) error {
	if !s.saving.CompareAndSwap(false, true) {
		return ErrBusy
	}
	go func() {
		err := s.snapshotClaimed(path)
		if done != nil {
			done(err)
		}
	}()
	return nil
}

// SetLongWork installs the brackets of work that holds the database lock
// for long (a snapshot copying the data set); call it before serving.
func (s *Store) SetLongWork(begin, end func()) { s.beginLong, s.endLong = begin, end }

// snapshotClaimed runs a snapshot once the saving flag is ours.
func (s *Store) snapshotClaimed(path string) error {
	defer s.saving.Store(false)
	if s.beginLong != nil {
		s.beginLong()
	}
	began := time.Now()
	err := s.snapshot(path)
	if s.endLong != nil {
		s.endLong()
	}
	s.finished("snapshot", began, err)
	s.lastSaveOK.Store(err == nil)
	if err == nil {
		s.lastSave.Store(time.Now().Unix())
		s.changes.Store(0)
	}
	return err
}

func (s *Store) snapshot(path string) error {
	tmp := path + ".tmp-" + strconv.Itoa(os.Getpid())
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", path, err)
	}
	if err := s.db.Save(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("snapshot %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("snapshot %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("snapshot %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("snapshot %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

// Backup writes a consistent copy of the data set to w while the server keeps serving.
func (s *Store) Backup(w io.Writer) error { return s.db.Save(w) }

// Rewrite compacts the data file to the records of live data only (Redis'
// BGREWRITEAOF). Readers and writers keep going while it runs. Its outcome,
// like that of an automatic rewrite, is kept for LastRewriteError.
func (s *Store) Rewrite() error {
	if s.InMemory() {
		return nil
	}
	if !s.rewriting.CompareAndSwap(false, true) {
		return ErrBusy
	}
	return s.rewriteClaimed()
}

// RewriteInBackground is Rewrite on a goroutine of its own: the rewrite is in
// progress (Rewriting reports true) from the moment it returns nil, and done,
// if not nil, gets its outcome. It returns ErrBusy when one is running.
func (s *Store) RewriteInBackground(done func(error)) error {
	if s.InMemory() {
		if done != nil {
			done(nil)
		}
		return nil
	}
	if !s.rewriting.CompareAndSwap(false, true) {
		return ErrBusy
	}
	go func() {
		err := s.rewriteClaimed()
		if done != nil {
			done(err)
		}
	}()
	return nil
}

// rewriteClaimed runs a rewrite once the rewriting flag is ours.
func (s *Store) rewriteClaimed() error {
	defer s.rewriting.Store(false)
	began := time.Now()
	err := s.rewrite()
	s.finished("aof-rewrite", began, err)
	if err != nil {
		s.rewriteErr.Store(&err)
	} else {
		s.rewriteErr.Store(nil)
	}
	return err
}

// finished reports a snapshot or rewrite to the latency monitor and OnEvent.
func (s *Store) finished(what string, began time.Time, err error) {
	took := time.Since(began)
	s.lat.Observe(what, took)
	if s.onEvent != nil {
		s.onEvent(what, took, err)
	}
}

// FsyncHistogram returns the durations of the data file's fsyncs so far.
func (s *Store) FsyncHistogram() (counts [latency.Buckets]int64, sumUS int64) {
	return s.fsyncs.Snapshot()
}

// LoadTime is how long Open took to load the data file.
func (s *Store) LoadTime() time.Duration { return s.loadTime }

// LastRewriteError returns the error of the last rewrite if it failed, or
// nil: INFO's aof_last_bgrewrite_status.
func (s *Store) LastRewriteError() error {
	if p := s.rewriteErr.Load(); p != nil {
		return *p
	}
	return nil
}

func (s *Store) rewrite() error {
	if err := s.db.Shrink(); err != nil {
		return fmt.Errorf("rewrite %s: %w", s.path, err)
	}
	// The rewritten file starts with the data set, unmarked: a marker ends it.
	if err := s.writeMarker(); err != nil {
		s.CommitFailed(err)
		return err
	}
	// The rewritten file replaced the old one by rename: make both the new
	// file's contents and the directory entry durable.
	if err := s.fsyncFile(); err != nil {
		return err
	}
	if err := syncDir(filepath.Dir(s.path)); err != nil {
		return err
	}
	if st, err := os.Stat(s.path); err == nil {
		s.lastRewriteSz.Store(st.Size())
	}
	return nil
}

// maybeRewrite starts a rewrite when the file has grown by
// auto-aof-rewrite-percentage since the last one and is at least
// auto-aof-rewrite-min-size, as Redis does for its AOF.
func (s *Store) maybeRewrite() {
	if s.rewritePct <= 0 || s.rewriting.Load() {
		return
	}
	st, err := os.Stat(s.path)
	if err != nil {
		return
	}
	base := s.lastRewriteSz.Load()
	if st.Size() < s.rewriteMinSize || st.Size() <= base+base*int64(s.rewritePct)/100 {
		return
	}
	go func() { _ = s.Rewrite() }()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("fsync dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync dir %s: %w", dir, err)
	}
	return nil
}

// Close flushes every committed write to stable storage (unless the policy is
// "no"), closes the file and releases its lock.
func (s *Store) Close() error {
	close(s.stop)
	<-s.done
	var first error
	if !s.InMemory() && Fsync(s.policy.Load()) != FsyncNo {
		first = s.Sync()
	}
	if err := s.db.Close(); err != nil && first == nil {
		first = fmt.Errorf("close %s: %w", s.path, err)
	}
	s.releaseLock()
	return first
}

func lockDataFile(path string) (*filelock.Lock, error) {
	l, err := filelock.Acquire(path + ".lock")
	var held *filelock.HeldError
	if errors.As(err, &held) {
		return nil, fmt.Errorf("%s: %w (%v)", path, ErrLocked, held)
	}
	return l, err
}

func (s *Store) releaseLock() {
	s.lockFile.Release()
	s.lockFile = nil
}
