package replication

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	wal "github.com/hashicorp/raft-wal"
	walfs "github.com/hashicorp/raft-wal/fs"
	"github.com/hashicorp/raft-wal/metadb"
	"github.com/hashicorp/raft-wal/segment"
	"github.com/hashicorp/raft-wal/types"
	"github.com/sessiond/sessiond/filelock"
	"go.etcd.io/bbolt"
)

// logStore is where a node keeps raft's log and its term and vote.
type logStore interface {
	raft.LogStore
	raft.StableStore
	io.Closer
}

// boltLogFile is the log store of nodes created before the log moved to
// raft-wal; such a node keeps using it.
const boltLogFile = "raft.db"

// openLogStore opens the node's log under dir: raft-wal's segment files in
// dir/wal, or the raft-boltdb file a node created by an earlier version
// has. sync makes every append reach the disk (fsync) before raft counts
// it; without it an append is in the operating system's cache, which
// survives the process (kill -9) but not the machine.
//
// raft-wal appends each batch of entries to a file and indexes it in
// memory. A bolt transaction per append rewrote pages and cost a follower
// a third of its time per replicated write.
//
// One process at a time holds dir: a second one is refused, naming the
// holder, rather than left waiting on the log's files.
func openLogStore(dir string, sync bool, logger hclog.Logger) (_ logStore, err error) {
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			lock.Release()
		}
	}()
	boltPath := filepath.Join(dir, boltLogFile)
	if _, err := os.Stat(boltPath); err == nil {
		// The freelist is not written on every commit (it is rebuilt by a
		// scan at open): one write less per append.
		store, err := raftboltdb.New(raftboltdb.Options{Path: boltPath, NoSync: !sync,
			BoltOptions: &bbolt.Options{Timeout: time.Second, NoFreelistSync: true, FreelistType: bbolt.FreelistMapType}})
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", boltPath, err)
		}
		return boltStore{store, lock}, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("open %s: %w", boltPath, err)
	}
	walDir := filepath.Join(dir, "wal")
	if err := os.MkdirAll(walDir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", walDir, err)
	}
	var vfs types.VFS = walfs.New()
	if !sync {
		vfs = unsyncedFS{vfs}
	}
	meta := &metadb.BoltMetaDB{}
	w, err := wal.Open(walDir, wal.WithLogger(logger.Named("wal")), wal.WithMetaStore(meta),
		wal.WithSegmentFiler(segment.NewFiler(walDir, vfs)))
	if err != nil {
		meta.Close()
		return nil, fmt.Errorf("open %s: %w", walDir, err)
	}
	return walStore{w, meta, lock}, nil
}

// walStore is raft-wal with its metadata file closed on Close (raft-wal's
// Close leaves it open, and locked against the next open).
type walStore struct {
	*wal.WAL
	meta *metadb.BoltMetaDB
	lock *filelock.Lock
}

func (s walStore) Close() error {
	err := s.WAL.Close()
	if merr := s.meta.Close(); err == nil {
		err = merr
	}
	s.lock.Release()
	return err
}

// boltStore is the raft-boltdb log of a node created by an earlier version.
type boltStore struct {
	*raftboltdb.BoltStore
	lock *filelock.Lock
}

func (s boltStore) Close() error {
	err := s.BoltStore.Close()
	s.lock.Release()
	return err
}

// lockDir takes dir for this process (a lock file, dir/LOCK, holding its pid).
func lockDir(dir string) (*filelock.Lock, error) {
	l, err := filelock.Acquire(filepath.Join(dir, "LOCK"))
	var held *filelock.HeldError
	if errors.As(err, &held) {
		return nil, fmt.Errorf("raft-dir %s is in use by another process (%v)", dir, held)
	}
	return l, err
}

// unsyncedFS is raft-wal's file system with fsync left to the operating
// system (appendfsync other than always): segments still carry checksums,
// so a torn tail is found and cut at the next open.
type unsyncedFS struct{ types.VFS }

func (u unsyncedFS) Create(dir, name string, size uint64) (types.WritableFile, error) {
	f, err := u.VFS.Create(dir, name, size)
	if err != nil {
		return nil, err
	}
	return unsyncedFile{f}, nil
}

func (u unsyncedFS) OpenWriter(dir, name string) (types.WritableFile, error) {
	f, err := u.VFS.OpenWriter(dir, name)
	if err != nil {
		return nil, err
	}
	return unsyncedFile{f}, nil
}

type unsyncedFile struct{ types.WritableFile }

func (unsyncedFile) Sync() error { return nil }
