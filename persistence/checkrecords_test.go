package persistence_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/sessiond/sessiond/internal/sessiondbin"
	"github.com/sessiond/sessiond/persistence"
)

// Issue 13, D9: `sessiond check` decodes every record and cross-checks the
// native ones with their indexes; a byte flipped inside a record is
// reported (with its offset, and a nonzero exit) instead of "ok", and the
// server refuses a record whose header it cannot decode.

// varied writes one of most kinds of record, then stops the server.
func varied(t *testing.T) (dir, path string, token string) {
	t.Helper()
	dir = t.TempDir()
	p := startProc(t, dir, "--appendfsync", "always")
	c := p.client(t)
	ctx := context.Background()
	do := func(args ...any) any {
		t.Helper()
		v, err := c.Do(ctx, args...).Result()
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return v
	}
	do("set", "str", "v")
	do("hset", "h", "a", "1", "b", "2")
	do("rpush", "l", "a", "b", "c")
	do("sadd", "s", "x", "y")
	do("zadd", "z", "1", "a", "2", "b")
	do("xadd", "x", "*", "f", "v")
	token = "app-chosen-token-0123456789abcdef"
	do("sess.new", "OWNER", "o", "TOKEN", token, "DETACHABLE", "DATA", strings.Repeat("d", 600), "META", "ip", "10.0.0.1")
	other := do("sess.new", "OWNER", "o2").(map[any]any)
	do("sess.validate", other["token"], "1")
	do("tok.add", "t1", "value", "SESSION", token, "TTL", "600")
	do("sess.jwt", token)
	do("sess.new", "OWNER", "o3", "DETACHABLE")
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.done
	return dir, filepath.Join(dir, "sessiond.db"), token
}

func runCheck(t *testing.T, path string) (string, int) {
	t.Helper()
	out, err := exec.Command(sessiondbin.Path(t), "check", path).CombinedOutput()
	code := 0
	if ex, ok := err.(*exec.ExitError); ok {
		code = ex.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

// recordOf returns the offset and value of the last set record of item.
func recordOf(t *testing.T, path, item string) (int64, []byte) {
	t.Helper()
	off, val := int64(-1), []byte(nil)
	persistence.Scan(path, func(rec *persistence.Record) bool {
		if rec.Op == "set" && string(rec.Key) == item {
			off, val = rec.Offset, append([]byte(nil), rec.Value...)
		}
		return true
	})
	if off < 0 {
		t.Fatalf("no record of %q", item)
	}
	return off, val
}

// flip changes the byte at index i of item's value in the file.
func flip(t *testing.T, path, item string, i int) int64 {
	t.Helper()
	off, val := recordOf(t, path, item)
	data, _ := os.ReadFile(path)
	at := bytes.Index(data[off:], val)
	if at < 0 {
		t.Fatal("value not found")
	}
	data[off+int64(at)+int64(i)] ^= 0x5a
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return off
}

func TestCheckDecodesEveryRecord(t *testing.T) {
	_, path, _ := varied(t)
	out, code := runCheck(t, path)
	if code != 0 || !strings.Contains(out, "records ok") || !strings.Contains(out, "(3 sessions)") {
		t.Fatalf("check of a good file (exit %d):\n%s", code, out)
	}
}

func TestCheckReportsAFlippedByte(t *testing.T) {
	sessionItem := func(t *testing.T, path string) string {
		var item string
		persistence.Scan(path, func(rec *persistence.Record) bool {
			if rec.Op == "set" && bytes.HasPrefix(rec.Key, []byte("k\xf0")) && bytes.Contains(rec.Value, []byte("\x01o")) {
				item = string(rec.Key)
			}
			return true
		})
		if item == "" {
			t.Fatal("no session record of owner o")
		}
		return item
	}
	for _, tc := range []struct {
		name  string
		item  func(t *testing.T, path string) string
		index int // in the value
		want  string
	}{
		// The version byte of the session's encoding (after the 9-byte header).
		{"session encoding", sessionItem, 9, "session record that cannot be decoded"},
		// Inside the owner's name: the owner index no longer matches.
		{"session owner", sessionItem, 11, "missing from the owner index"},
		// The record type of a string.
		{"string type", func(*testing.T, string) string { return "k\x00str" }, 0, "unknown record type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, path, _ := varied(t)
			item := tc.item(t, path)
			off := flip(t, path, item, tc.index)
			out, code := runCheck(t, path)
			if code != 1 || !strings.Contains(out, tc.want) || !strings.Contains(out, "offset "+itoa(off)) {
				t.Fatalf("check after a flip in %q at offset %d (exit %d):\n%s", item, off, code, out)
			}
			if tc.name == "string type" {
				// The server does not load what it cannot decode.
				cmd := exec.Command(sessiondbin.Path(t), "--port", strconv.Itoa(sessiondbin.FreePort(t)), "--dir", dir)
				out, err := cmd.CombinedOutput()
				if err == nil || !strings.Contains(string(out), "cannot be decoded") || !strings.Contains(string(out), "at offset "+itoa(off)) {
					t.Fatalf("server on a record with a damaged header: %v\n%s", err, out)
				}
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
