package replication

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
)

func storeEntries(t *testing.T, s raft.LogStore, from, to uint64) {
	t.Helper()
	var logs []*raft.Log
	for i := from; i <= to; i++ {
		logs = append(logs, &raft.Log{Index: i, Term: 1, Type: raft.LogCommand, Data: []byte{byte(i), 'x'}})
	}
	if err := s.StoreLogs(logs); err != nil {
		t.Fatalf("store %d..%d: %v", from, to, err)
	}
}

func checkEntries(t *testing.T, s raft.LogStore, first, last uint64) {
	t.Helper()
	if f, err := s.FirstIndex(); err != nil || f != first {
		t.Fatalf("first index %d, %v; want %d", f, err, first)
	}
	if l, err := s.LastIndex(); err != nil || l != last {
		t.Fatalf("last index %d, %v; want %d", l, err, last)
	}
	for i := first; i <= last; i++ {
		var l raft.Log
		if err := s.GetLog(i, &l); err != nil || l.Index != i || string(l.Data) != string([]byte{byte(i), 'x'}) {
			t.Fatalf("entry %d: %+v, %v", i, l, err)
		}
	}
}

// A new node keeps its log in raft-wal; what it appended, its term and vote
// are there after it reopens, fsynced or not; a truncated tail stays cut.
func TestLogStoreWALReopens(t *testing.T) {
	for _, sync := range []bool{true, false} {
		dir := t.TempDir()
		s, err := openLogStore(dir, sync, hclog.NewNullLogger())
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := s.(walStore); !ok {
			t.Fatalf("sync=%v: a new node's log store is %T, want raft-wal", sync, s)
		}
		storeEntries(t, s, 1, 50)
		storeEntries(t, s, 51, 60)
		if err := s.DeleteRange(56, 60); err != nil { // a follower's conflicting tail
			t.Fatal(err)
		}
		if err := s.SetUint64([]byte("CurrentTerm"), 7); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, boltLogFile)); !os.IsNotExist(err) {
			t.Fatalf("sync=%v: a new node created %s", sync, boltLogFile)
		}
		s, err = openLogStore(dir, sync, hclog.NewNullLogger())
		if err != nil {
			t.Fatal(err)
		}
		checkEntries(t, s, 1, 55)
		if v, err := s.GetUint64([]byte("CurrentTerm")); err != nil || v != 7 {
			t.Fatalf("sync=%v: term after reopen %d, %v", sync, v, err)
		}
		storeEntries(t, s, 56, 58)
		checkEntries(t, s, 1, 58)
		s.Close()
	}
}

// A node whose log an earlier version kept in raft-boltdb keeps using it:
// its entries and term are read back, and no second log is started.
func TestLogStoreKeepsBoltLog(t *testing.T) {
	dir := t.TempDir()
	old, err := raftboltdb.NewBoltStore(filepath.Join(dir, boltLogFile))
	if err != nil {
		t.Fatal(err)
	}
	storeEntries(t, old, 1, 20)
	if err := old.SetUint64([]byte("CurrentTerm"), 3); err != nil {
		t.Fatal(err)
	}
	old.Close()

	s, err := openLogStore(dir, false, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok := s.(boltStore); !ok {
		t.Fatalf("log store %T, want the node's raft-boltdb file", s)
	}
	checkEntries(t, s, 1, 20)
	if v, err := s.GetUint64([]byte("CurrentTerm")); err != nil || v != 3 {
		t.Fatalf("term %d, %v", v, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "wal")); !os.IsNotExist(err) {
		t.Fatal("a raft-wal directory was created beside the bolt log")
	}
}

// A bolt log that cannot be opened is an error naming it, not a fresh
// log beside it (which would make the node forget its votes and entries).
func TestLogStoreBrokenBoltLog(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, boltLogFile), []byte("not a bolt file, not at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := openLogStore(dir, false, hclog.NewNullLogger())
	if err == nil {
		s.Close()
		t.Fatal("opened a log store over a broken raft.db")
	}
	if !strings.Contains(err.Error(), boltLogFile) {
		t.Fatalf("error does not name the file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "wal")); !os.IsNotExist(err) {
		t.Fatal("a raft-wal directory was created beside the broken bolt log")
	}
}

// One process (or store) at a time holds a raft directory: a second open is
// refused, naming the directory, and succeeds once the first is closed.
func TestLogStoreDirInUse(t *testing.T) {
	dir := t.TempDir()
	first, err := openLogStore(dir, false, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	second, err := openLogStore(dir, false, hclog.NewNullLogger())
	if err == nil {
		second.Close()
		t.Fatal("a second log store opened the directory in use")
	}
	if !strings.Contains(err.Error(), "in use") || !strings.Contains(err.Error(), dir) {
		t.Fatalf("refusal does not say the directory is in use: %v", err)
	}
	storeEntries(t, first, 1, 3)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := openLogStore(dir, false, hclog.NewNullLogger())
	if err != nil {
		t.Fatalf("reopen after close: %v", err)
	}
	checkEntries(t, again, 1, 3)
	again.Close()
}
