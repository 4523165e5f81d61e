package persistence

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/buntdb"
)

func openStore(t *testing.T, path string, f Fsync) *Store {
	t.Helper()
	s, err := Open(Options{Path: path, Fsync: f})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func put(t *testing.T, s *Store, k, v string) uint64 {
	t.Helper()
	if err := s.DB().Update(func(tx *buntdb.Tx) error {
		_, _, err := tx.Set(k, v, nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return s.Committed()
}

func (s *Store) syncedTicket() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.synced
}

// always: WaitDurable returns only once the write is fsynced, and concurrent
// writers share fsyncs.
func TestFsyncAlways(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "d.db"), FsyncAlways)
	defer s.Close()
	for i := 0; i < 20; i++ {
		tk := put(t, s, "k"+strconv.Itoa(i), "v")
		if err := s.WaitDurable(tk); err != nil {
			t.Fatal(err)
		}
		if got := s.syncedTicket(); got < tk {
			t.Fatalf("WaitDurable(%d) returned with synced=%d", tk, got)
		}
	}
	if s.lastSync.Load() == 0 {
		t.Fatal("no fsync recorded")
	}
	// Group commit: many concurrent writers, fewer fsyncs than writes.
	done := make(chan struct{})
	for w := 0; w < 8; w++ {
		go func(w int) {
			for i := 0; i < 50; i++ {
				_ = s.WaitDurable(put(t, s, "w"+strconv.Itoa(w)+":"+strconv.Itoa(i), "v"))
			}
			done <- struct{}{}
		}(w)
	}
	for w := 0; w < 8; w++ {
		<-done
	}
	if s.syncedTicket() < s.written {
		t.Fatalf("after all writers returned: synced %d < written %d", s.syncedTicket(), s.written)
	}
}

// everysec: WaitDurable does not wait; the flusher fsyncs within about a second.
func TestFsyncEverySec(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "d.db"), FsyncEverySec)
	defer s.Close()
	tk := put(t, s, "k", "v")
	start := time.Now()
	if err := s.WaitDurable(tk); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 50*time.Millisecond {
		t.Fatalf("WaitDurable waited %v under everysec", time.Since(start))
	}
	deadline := time.Now().Add(3 * time.Second)
	for s.syncedTicket() < tk {
		if time.Now().After(deadline) {
			t.Fatal("everysec never fsynced the write")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// no: nothing is fsynced by the store, not even at Close; switching to
// always at run time starts fsyncing.
func TestFsyncNo(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.db")
	s := openStore(t, path, FsyncNo)
	tk := put(t, s, "k", "v")
	if err := s.WaitDurable(tk); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if s.syncedTicket() != 0 || s.lastSync.Load() != 0 {
		t.Fatalf("appendfsync no fsynced: synced %d", s.syncedTicket())
	}
	s.SetFsync(FsyncAlways)
	tk = put(t, s, "k2", "v")
	if err := s.WaitDurable(tk); err != nil || s.syncedTicket() < tk {
		t.Fatalf("after switching to always: synced %d, ticket %d, %v", s.syncedTicket(), tk, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// The data is in the file all the same (written, just not forced).
	s = openStore(t, path, FsyncNo)
	defer s.Close()
	_ = s.DB().View(func(tx *buntdb.Tx) error {
		if v, err := tx.Get("k"); err != nil || v != "v" {
			t.Fatalf("after reopen: %q %v", v, err)
		}
		return nil
	})
}

// An in-memory store touches no file.
func TestInMemory(t *testing.T) {
	dir := t.TempDir()
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	s := openStore(t, "", FsyncAlways)
	if !s.InMemory() || s.Path() != ":memory:" {
		t.Fatalf("path %q", s.Path())
	}
	if err := s.WaitDurable(put(t, s, "k", "v")); err != nil {
		t.Fatal(err)
	}
	if err := s.Snapshot(filepath.Join(dir, "snap.db")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "snap.db" {
		t.Fatalf("files in dir: %v", entries)
	}
}

// A second Open of the same file fails with ErrLocked and names the holder;
// once the first closes, the file opens again.
func TestSecondOpenRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.db")
	s := openStore(t, path, FsyncEverySec)
	_, err := Open(Options{Path: path})
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("second open: %v", err)
	}
	s.Close()
	s2 := openStore(t, path, FsyncEverySec)
	s2.Close()
}

// recordOffsets returns the start offset of every record of a data file.
func recordOffsets(t *testing.T, path string) []int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var offs []int64
	var off int64
	br := bufio.NewReader(f)
	for {
		n, err := readRecord(br)
		if err != nil {
			break
		}
		offs = append(offs, off)
		off += n
	}
	return offs
}

// A torn last record is dropped on open; everything before it loads.
func TestTornTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.db")
	s := openStore(t, path, FsyncAlways)
	for i := 0; i < 10; i++ {
		put(t, s, "k"+strconv.Itoa(i), strings.Repeat("v", 100))
	}
	s.Close()
	offs := recordOffsets(t, path)
	st, _ := os.Stat(path)
	for _, cut := range []int64{offs[len(offs)-1] + 1, offs[len(offs)-1] + 20, st.Size() - 1} {
		data, _ := os.ReadFile(path)
		torn := filepath.Join(t.TempDir(), "torn.db")
		if err := os.WriteFile(torn, data[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		// The cut falls in k9's commit marker: k9's transaction is
		// half-written, reported from where k9's record starts.
		rep, err := Check(torn, false)
		if err != nil || rep.OK || !rep.HalfWritten || rep.TxRecords != 1 || rep.GoodSize != offs[len(offs)-2] {
			t.Fatalf("cut at %d: check %+v %v", cut, rep, err)
		}
		s := openStore(t, torn, FsyncAlways)
		n := 0
		_ = s.DB().View(func(tx *buntdb.Tx) error { n, _ = tx.Len(); return nil })
		if n != 9 {
			t.Fatalf("cut at %d: %d keys loaded, want 9", cut, n)
		}
		put(t, s, "after", "v") // and the file is writable again
		s.Close()
		if rep, _ := Check(torn, false); !rep.OK {
			t.Fatalf("after reopen and write: %v", rep)
		}
	}
}

// A damaged record in the middle makes Open fail with a message pointing at
// `sessiond check`; Check reports its offset; --repair keeps the records
// before it (and a copy of the original).
func TestDamagedMiddle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.db")
	s := openStore(t, path, FsyncAlways)
	for i := 0; i < 10; i++ {
		put(t, s, "k"+strconv.Itoa(i), "value")
	}
	s.Close()
	// The record of k5 (each put is followed by its commit marker).
	bad, before := int64(-1), 0
	Scan(path, func(rec *Record) bool {
		if string(rec.Key) == "k5" {
			bad = rec.Offset
			return false
		}
		before++
		return true
	})
	data, _ := os.ReadFile(path)
	data[bad] = 'X' // k5's array header
	os.WriteFile(path, data, 0o644)
	_, err := Open(Options{Path: path})
	if err == nil || !strings.Contains(err.Error(), "damaged") || !strings.Contains(err.Error(), "sessiond check") {
		t.Fatalf("open of a damaged file: %v", err)
	}
	rep, err := Check(path, false)
	if err != nil || rep.OK || rep.Torn || rep.GoodSize != bad || rep.Records != before {
		t.Fatalf("check: %+v %v", rep, err)
	}
	if msg := rep.String(); !strings.Contains(msg, "damaged at offset "+strconv.FormatInt(bad, 10)) {
		t.Fatalf("report: %s", msg)
	}
	rep, err = Check(path, true)
	if err != nil || !rep.Repaired || rep.Records != before {
		t.Fatalf("repair: %+v %v", rep, err)
	}
	if orig, _ := os.ReadFile(path + ".damaged"); len(orig) != len(data) {
		t.Fatalf("no copy of the damaged original")
	}
	s = openStore(t, path, FsyncAlways)
	defer s.Close()
	_ = s.DB().View(func(tx *buntdb.Tx) error {
		n, _ := tx.Len()
		if n != 5 {
			t.Fatalf("after repair: %d keys, want 5", n)
		}
		for i := 0; i < 5; i++ {
			if _, err := tx.Get("k" + strconv.Itoa(i)); err != nil {
				t.Fatalf("k%d lost: %v", i, err)
			}
		}
		return nil
	})
}

// SNAPSHOT writes a file a store can open, atomically (no partial file on the path).
func TestSnapshotLoadable(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, filepath.Join(dir, "d.db"), FsyncEverySec)
	for i := 0; i < 100; i++ {
		put(t, s, "k"+strconv.Itoa(i), "v")
	}
	if err := s.Snapshot(filepath.Join(dir, "snap.db")); err != nil {
		t.Fatal(err)
	}
	if s.Changes() != 0 || !s.LastSaveOK() {
		t.Fatalf("after snapshot: changes %d ok %v", s.Changes(), s.LastSaveOK())
	}
	s.Close()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Fatalf("temporary file left: %s", e.Name())
		}
	}
	s2 := openStore(t, filepath.Join(dir, "snap.db"), FsyncEverySec)
	defer s2.Close()
	_ = s2.DB().View(func(tx *buntdb.Tx) error {
		if n, _ := tx.Len(); n != 100 {
			t.Fatalf("snapshot has %d keys", n)
		}
		return nil
	})
}

// A failed rewrite is remembered until one succeeds (INFO's
// aof_last_bgrewrite_status), and the data file is left as it was.
func TestRewriteErrorIsReported(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.db")
	s := openStore(t, path, FsyncEverySec)
	defer s.Close()
	put(t, s, "k", "v1")
	put(t, s, "k", "v2")
	if s.LastRewriteError() != nil {
		t.Fatalf("before any rewrite: %v", s.LastRewriteError())
	}
	// buntdb writes the new file at path.tmp: a directory there makes the
	// rewrite fail, even for root.
	if err := os.Mkdir(path+".tmp", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := s.Rewrite(); err == nil {
		t.Fatal("rewrite over a directory succeeded")
	}
	if err := s.LastRewriteError(); err == nil || !strings.Contains(err.Error(), "rewrite "+path) {
		t.Fatalf("LastRewriteError = %v", err)
	}
	if err := os.Remove(path + ".tmp"); err != nil {
		t.Fatal(err)
	}
	if err := s.Rewrite(); err != nil {
		t.Fatal(err)
	}
	if err := s.LastRewriteError(); err != nil {
		t.Fatalf("after a good rewrite: %v", err)
	}
}

// An fsync that cannot even open the file counts as a failed write
// (aof_last_write_status), as a failing fsync does.
func TestSyncOpenErrorIsReported(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.db")
	s := openStore(t, path, FsyncAlways)
	defer func() { _ = s.Close() }()
	if err := s.WaitDurable(put(t, s, "a", "1")); err != nil || s.LastSyncError() != nil {
		t.Fatalf("first write: %v, %v", err, s.LastSyncError())
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitDurable(put(t, s, "b", "2")); err == nil {
		t.Fatal("WaitDurable succeeded without a file to fsync")
	}
	if err := s.LastSyncError(); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("LastSyncError = %v", err)
	}
}
