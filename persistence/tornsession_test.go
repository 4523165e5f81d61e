package persistence_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
	"github.com/sessiond/sessiond/persistence"
)

// Issue 13, D6: a crash that tears the write of a transaction of several
// records (SESS.NEW writes the session record, its token entry, its owner
// index entry and its META) must not load part of it: the session either
// exists with every index that points at it, or not at all; `sessiond check`
// says the file ends in a half-written transaction.
func TestHalfWrittenSessionIsDroppedWhole(t *testing.T) {
	s := testserver.Start(t, "appendfsync", "always")
	ctx := context.Background()
	c := s.Client(2)
	if err := c.Set(ctx, "before", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	token := "app-chosen-token-0123456789abcdef"
	if err := c.Do(ctx, "sess.new", "OWNER", "o", "TOKEN", token, "DETACHABLE", "META", "ip", "10.0.0.1").Err(); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	path := filepath.Join(s.Dir, "sessiond.db")
	// The session's records are the records after the one of "before"
	// (commit markers aside): cut the file 10 bytes into the last of them.
	var last int64 = -1
	seen, n := false, 0
	if _, err := persistence.Scan(path, func(rec *persistence.Record) bool {
		switch {
		case string(rec.Key) == "k\x00before":
			seen = true
		case seen && !rec.IsMarker():
			last = rec.Offset
			n++
		}
		return true
	}); err != nil || last < 0 || n < 3 {
		t.Fatalf("records of SESS.NEW: %d, last at %d, %v", n, last, err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data[:last+10], 0o644); err != nil {
		t.Fatal(err)
	}

	rep, err := persistence.Check(path, false)
	if err != nil || rep.OK || !rep.HalfWritten || rep.TxRecords != n-1 {
		t.Fatalf("check of a half-written SESS.NEW: %v %v", rep, err)
	}
	if !strings.Contains(rep.String(), "half-written transaction at offset") {
		t.Fatalf("check says %q", rep)
	}

	s.Restart()
	for _, proto := range []int{2, 3} {
		c := redis.NewClient(&redis.Options{Addr: s.Addr, Protocol: proto, MaxRetries: -1})
		defer c.Close()
		for _, q := range []struct {
			cmd  []any
			want int64
		}{
			{[]any{"sess.count"}, 0},
			{[]any{"sess.count", "OWNER", "o"}, 0},
			{[]any{"exists", "before"}, 1},
		} {
			if got, err := c.Do(ctx, q.cmd...).Int64(); err != nil || got != q.want {
				t.Fatalf("RESP%d %v = %d, %v; want %d", proto, q.cmd, got, err, q.want)
			}
		}
		// The token is unknown (a half-loaded session answered for it, or
		// its entry pointed at no session).
		if v, err := c.Do(ctx, "sess.get", token).Result(); err != redis.Nil {
			t.Fatalf("RESP%d SESS.GET of the half-written session's token: %v, %v", proto, v, err)
		}
	}
	// The server writes on after it, and the file checks out.
	c = s.Client(2)
	if err := c.Do(ctx, "sess.new", "OWNER", "o", "TOKEN", token).Err(); err != nil {
		t.Fatal(err)
	}
	if got := c.Do(ctx, "sess.count", "OWNER", "o").Val(); got != int64(1) {
		t.Fatalf("SESS.COUNT OWNER o = %v after a new session", got)
	}
	s.Stop()
	if rep, err := persistence.Check(path, false); err != nil || !rep.OK {
		t.Fatalf("check after the restart and a write: %v %v", rep, err)
	}
}
