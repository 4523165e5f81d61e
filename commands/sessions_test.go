package commands_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/engine"
	"github.com/sessiond/sessiond/internal/testserver"
)

var bg = context.Background()

// fieldMap turns a structured reply (RESP3 map or RESP2 flat array) into a
// map, and returns the field order when the protocol keeps it (RESP2).
func fieldMap(t testing.TB, v any) (map[string]any, []string) {
	t.Helper()
	out := map[string]any{}
	var order []string
	switch x := v.(type) {
	case map[any]any:
		for k, val := range x {
			out[fmt.Sprint(k)] = val
		}
	case map[string]any:
		return x, nil
	case []any:
		if len(x)%2 != 0 {
			t.Fatalf("odd flat map %v", x)
		}
		for i := 0; i < len(x); i += 2 {
			k := fmt.Sprint(x[i])
			out[k] = x[i+1]
			order = append(order, k)
		}
	default:
		t.Fatalf("not a map reply: %#v", v)
	}
	return out, order
}

func do(t testing.TB, c *redis.Client, args ...any) any {
	t.Helper()
	v, err := c.Do(bg, args...).Result()
	if err != nil && err != redis.Nil {
		t.Fatalf("%v: %v", args, err)
	}
	return v
}

func doMap(t testing.TB, c *redis.Client, wantOrder string, args ...any) map[string]any {
	t.Helper()
	m, order := fieldMap(t, do(t, c, args...))
	if order != nil && strings.Join(order, " ") != wantOrder {
		t.Fatalf("%v: fields %v, want %s", args, order, wantOrder)
	}
	if len(m) != len(strings.Fields(wantOrder)) {
		t.Fatalf("%v: fields %v, want %s", args, m, wantOrder)
	}
	return m
}

const (
	newFields      = "token handle nonce expires idle absolute"
	infoFields     = "handle owner nonce created last_seen expires idle absolute detachable detached tokens meta"
	okFields       = "ok token nonce expires"
	failFields     = "ok reason"
	newTokenFields = "token nonce expires"
)

type sess struct{ token, handle string }

func newSess(t testing.TB, c *redis.Client, args ...any) sess {
	t.Helper()
	m := doMap(t, c, newFields, append([]any{"sess.new"}, args...)...)
	return sess{m["token"].(string), m["handle"].(string)}
}

func validate(t testing.TB, c *redis.Client, token string, nonce int64, extra ...any) map[string]any {
	t.Helper()
	m, _ := fieldMap(t, do(t, c, append([]any{"sess.validate", token, nonce}, extra...)...))
	return m
}

func wantReason(t testing.TB, m map[string]any, reason string) {
	t.Helper()
	if m["ok"] != int64(0) || m["reason"] != reason {
		t.Fatalf("got %v, want ok 0 reason %s", m, reason)
	}
}

func TestSessCommands(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		before := time.Now().UnixMilli()
		m := doMap(t, c, newFields, "sess.new", "OWNER", "u1", "DATA", "blob", "IDLE", "100", "ABSOLUTE", "1000", "PREFIX", "sid_", "DETACHABLE", "META", "ip", "10.0.0.1", "ua", "curl")
		tok, handle := m["token"].(string), m["handle"].(string)
		after := time.Now().UnixMilli()
		if !strings.HasPrefix(tok, "sid_") || len(tok) != 4+43 || len(handle) != 22 {
			t.Fatalf("token %q handle %q", tok, handle)
		}
		if m["nonce"] != int64(1) || m["idle"] != int64(100_000) || m["absolute"] != int64(1_000_000) {
			t.Fatalf("new: %v", m)
		}
		if e := m["expires"].(int64); e < before+100_000 || e > after+100_000 {
			t.Fatalf("expires %d not now+idle", e)
		}
		// A handle never authenticates.
		wantReason(t, validate(t, c, handle, 1), "unknown")
		testserver.Run(t, c, []C{
			{Cmd: []any{"sess.get", handle}, Want: nil},
			{Cmd: []any{"sess.active", handle}, Want: int64(0)},
			{Cmd: []any{"sess.destroy", handle}, Want: int64(0)},
		})
		// Defaults from config.
		d := doMap(t, c, newFields, "sess.new")
		if d["idle"] != int64(3600_000) || d["absolute"] != int64(86400_000) || len(d["token"].(string)) != 43 {
			t.Fatalf("defaults: %v", d)
		}
		testserver.Run(t, c, []C{
			{Cmd: []any{"sess.get", tok}, Want: "blob"},
			{Cmd: []any{"sess.get", tok, "notouch"}, Want: "blob"},
			{Cmd: []any{"sess.get", d["token"]}, Want: ""},
			{Cmd: []any{"sess.get", "nope"}, Want: nil},
			{Cmd: []any{"sess.get", tok, "bogus"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"sess.set", tok, "blob2"}, Want: int64(1)},
			{Cmd: []any{"sess.set", tok, "blob3", "IDLE", "50", "ABSOLUTE", "900"}, Want: int64(1)},
			{Cmd: []any{"sess.set", "nope", "x"}, Want: int64(0)},
			{Cmd: []any{"sess.set", tok, "x", "IDLE"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"sess.set", tok, "x", "IDLE", "-1"}, WantErr: "ERR invalid expire time in 'sess.set' command"},
			{Cmd: []any{"sess.set", tok, "x", "IDLE", "x"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"sess.get", tok}, Want: "blob3"},
			{Cmd: []any{"sess.touch", "nope"}, Want: int64(-2)},
			{Cmd: []any{"sess.ttl", "nope"}, Want: int64(-2)},
			{Cmd: []any{"sess.active", tok}, Want: int64(1)},
			{Cmd: []any{"sess.active", tok, "OWNER", "u1"}, Want: int64(1)},
			{Cmd: []any{"sess.active", tok, "OWNER", "u2"}, Want: int64(0)},
			{Cmd: []any{"sess.active", "nope"}, Want: int64(0)},
			{Cmd: []any{"sess.active", tok, "OWNER"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"sess.expire", tok, "IDLE", "60"}, Want: int64(1)},
			{Cmd: []any{"sess.expire", tok, "ABSOLUTE", "0"}, Want: int64(1)},
			{Cmd: []any{"sess.expire", "nope", "IDLE", "60"}, Want: int64(0)},
			{Cmd: []any{"sess.expire", tok, "FOO", "60"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"sess.allowdetach", "nope"}, Want: int64(0)},
			{Cmd: []any{"sess.detach", d["token"]}, Want: int64(0)}, // not detachable
			{Cmd: []any{"sess.count"}, Want: int64(2)},
			{Cmd: []any{"sess.count", "OWNER", "u1"}, Want: int64(1)},
			{Cmd: []any{"sess.count", "OWNER", "nobody"}, Want: int64(0)},
			{Cmd: []any{"sess.count", "OWNER"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"sess.new", "IDLE"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"sess.new", "BOGUS", "1"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"sess.new", "META", "a"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"sess.new", "TOKEN", "short"}, WantErr: "ERR TOKEN must be 22 to 1024 characters"},
			{Cmd: []any{"sess.new", "ABSOLUTE", "1.5"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"sess.validate"}, WantErr: "ERR wrong number of arguments for 'sess.validate' command"},
			{Cmd: []any{"sess.validate", tok, "x"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"sess.validate", tok, "1", "x"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"sess.regenerate", "nope"}, Want: nil},
			{Cmd: []any{"sess.info", "nope"}, Want: nil},
			{Cmd: []any{"sess.info", "HANDLE", "nope"}, Want: nil},
			{Cmd: []any{"sess.info", "a", "b"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"sess.attach", "HANDLE", handle, "OWNER", "u1"}, Want: nil}, // not detached
			{Cmd: []any{"sess.attach", "HANDLE", handle, "FOO", "u1"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"sess.detached"}, Want: []any{}},
			{Cmd: []any{"sess.list", "FOO", "u1"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"sess.revoke", "HANDLE", "nope"}, Want: int64(0)},
			{Cmd: []any{"sess.revoke", "OWNER", "u1", "BUT", "x"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"sess.destroy", "nope"}, Want: int64(0)},
			{Cmd: []any{"sess.destroy", "HANDLE", "nope"}, Want: int64(0)},
		})
		if ttl := do(t, c, "sess.ttl", tok).(int64); ttl <= 59_000 || ttl > 60_000 {
			t.Fatalf("ttl %d after EXPIRE IDLE 60", ttl)
		}
		if ttl := do(t, c, "sess.touch", tok, "IDLE", "120").(int64); ttl <= 119_000 || ttl > 120_000 {
			t.Fatalf("touch %d", ttl)
		}
		// No timeouts at all: -1, as PTTL says of a persistent key.
		forever := newSess(t, c, "IDLE", "0", "ABSOLUTE", "0")
		testserver.Run(t, c, []C{
			{Cmd: []any{"sess.ttl", forever.token}, Want: int64(-1)},
			{Cmd: []any{"sess.touch", forever.token}, Want: int64(-1)},
		})

		info := doMap(t, c, infoFields, "sess.info", tok)
		if info["handle"] != handle || info["owner"] != "u1" || info["nonce"] != int64(1) || info["idle"] != int64(120_000) ||
			info["absolute"] != int64(0) || info["detachable"] != int64(1) || info["detached"] != int64(0) || info["tokens"] != int64(0) {
			t.Fatalf("info %v", info)
		}
		meta, order := fieldMap(t, info["meta"])
		if meta["ip"] != "10.0.0.1" || meta["ua"] != "curl" || (order != nil && strings.Join(order, " ") != "ip ua") {
			t.Fatalf("meta %v", info["meta"])
		}
		if info["created"].(int64) < before || info["last_seen"].(int64) < info["created"].(int64) {
			t.Fatalf("times %v", info)
		}
		byHandle := doMap(t, c, infoFields, "sess.info", "HANDLE", handle)
		if fmt.Sprint(byHandle) != fmt.Sprint(info) {
			t.Fatalf("info by handle %v != %v", byHandle, info)
		}

		// VALIDATE: rotation, nonce, NOROTATE.
		v := validate(t, c, tok, 1)
		if v["ok"] != int64(1) || v["nonce"] != int64(2) || v["token"] == tok || !strings.HasPrefix(v["token"].(string), "sid_") {
			t.Fatalf("validate %v", v)
		}
		doMap(t, c, okFields, "sess.validate", v["token"], 2, "NOROTATE")
		wantReason(t, validate(t, c, v["token"].(string), 2), "nonce")
		doMap(t, c, failFields, "sess.validate", v["token"], 2)
		v3 := validate(t, c, v["token"].(string), 3)
		if v3["ok"] != int64(1) || v3["nonce"] != int64(4) {
			t.Fatalf("validate 3: %v", v3)
		}
		cur := v3["token"].(string)
		if got := doMap(t, c, infoFields, "sess.info", "HANDLE", handle); got["nonce"] != int64(4) || got["handle"] != handle {
			t.Fatalf("handle not stable across rotation: %v", got)
		}

		// REGENERATE: new token, same handle and data; every older token stops.
		r := doMap(t, c, newTokenFields, "sess.regenerate", cur)
		next := r["token"].(string)
		if next == cur || r["nonce"] != int64(4) {
			t.Fatalf("regenerate %v", r)
		}
		testserver.Run(t, c, []C{
			{Cmd: []any{"sess.get", cur}, Want: nil},
			{Cmd: []any{"sess.get", tok}, Want: nil},
			{Cmd: []any{"sess.get", next}, Want: "blob3"},
		})
		wantReason(t, validate(t, c, cur, 4), "unknown")
		if got := doMap(t, c, infoFields, "sess.info", next); got["handle"] != handle {
			t.Fatalf("handle changed by regenerate: %v", got)
		}

		// Detach / attach.
		testserver.Run(t, c, []C{
			{Cmd: []any{"sess.detach", next}, Want: int64(1)},
			{Cmd: []any{"sess.get", next}, Want: nil},
			{Cmd: []any{"sess.active", next}, Want: int64(0)},
			{Cmd: []any{"sess.ttl", next}, Want: int64(-2)},
			{Cmd: []any{"sess.info", next}, Want: nil},
			{Cmd: []any{"sess.detached"}, Want: []any{handle}},
			{Cmd: []any{"sess.detached", "OWNER", "u1"}, Want: []any{handle}},
			{Cmd: []any{"sess.detached", "OWNER", "u2"}, Want: []any{}},
			{Cmd: []any{"sess.attach", "HANDLE", handle, "OWNER", "u2"}, Want: nil},
		})
		wantReason(t, validate(t, c, next, 4), "detached")
		if got := doMap(t, c, infoFields, "sess.info", "HANDLE", handle); got["detached"] != int64(1) {
			t.Fatalf("info of detached %v", got)
		}
		a := doMap(t, c, newTokenFields, "sess.attach", "OWNER", "u1", "HANDLE", handle)
		fresh := a["token"].(string)
		testserver.Run(t, c, []C{
			{Cmd: []any{"sess.get", fresh}, Want: "blob3"},
			{Cmd: []any{"sess.get", next}, Want: nil},
			{Cmd: []any{"sess.detached"}, Want: []any{}},
		})

		// LIST, REVOKE, COUNT.
		s2 := newSess(t, c, "OWNER", "u1")
		s3 := newSess(t, c, "OWNER", "u1")
		list := do(t, c, "sess.list", "OWNER", "u1").([]any)
		if len(list) != 3 {
			t.Fatalf("list %v", list)
		}
		var handles []string
		for _, it := range list {
			m, order := fieldMap(t, it)
			if order != nil && strings.Join(order, " ") != infoFields {
				t.Fatalf("list item order %v", order)
			}
			handles = append(handles, m["handle"].(string))
			for _, v := range m {
				if v == fresh || v == s2.token || v == s3.token {
					t.Fatal("a listing shows a token")
				}
			}
		}
		if handles[2] != handle {
			t.Fatalf("not newest first: %v (oldest %s)", handles, handle)
		}
		testserver.Run(t, c, []C{
			{Cmd: []any{"sess.list", "OWNER", "nobody"}, Want: []any{}},
			{Cmd: []any{"sess.revoke", "OWNER", "u1", "EXCEPT", s2.token}, Want: int64(2)},
			{Cmd: []any{"sess.count", "OWNER", "u1"}, Want: int64(1)},
			{Cmd: []any{"sess.get", s2.token}, Want: "", Any: false},
			{Cmd: []any{"sess.get", fresh}, Want: nil},
			{Cmd: []any{"sess.revoke", "HANDLE", s2.handle}, Want: int64(1)},
			{Cmd: []any{"sess.revoke", "HANDLE", s2.handle}, Want: int64(0)},
			{Cmd: []any{"sess.revoke", "OWNER", "u1"}, Want: int64(0)},
		})
		wantReason(t, validate(t, c, fresh, 4), "revoked")
		wantReason(t, validate(t, c, s2.token, 1), "revoked")

		// DESTROY by token and by handle.
		testserver.Run(t, c, []C{
			{Cmd: []any{"sess.destroy", d["token"]}, Want: int64(1)},
			{Cmd: []any{"sess.destroy", d["token"]}, Want: int64(0)},
			{Cmd: []any{"sess.destroy", "HANDLE", forever.handle}, Want: int64(1)},
			{Cmd: []any{"sess.count"}, Want: int64(0)},
		})
		wantReason(t, validate(t, c, d["token"].(string), 1), "unknown")
	})
}

// TestSessReplyShapes checks the raw frames: a RESP3 map keeps the field
// order, RESP2 is a flat array.
func TestSessReplyShapes(t *testing.T) {
	s := testserver.Start(t)
	nc := s.Dial()
	rd := bufio.NewReader(nc)
	send := func(args ...string) string {
		var b bytes.Buffer
		fmt.Fprintf(&b, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
		}
		if _, err := nc.Write(b.Bytes()); err != nil {
			t.Fatal(err)
		}
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		// Read one reply: the test replies are small, read what arrives.
		time.Sleep(50 * time.Millisecond)
		buf := make([]byte, 1<<16)
		n, err := rd.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		return string(buf[:n])
	}
	r2 := send("SESS.VALIDATE", "nope", "1")
	if r2 != "*4\r\n$2\r\nok\r\n:0\r\n$6\r\nreason\r\n$7\r\nunknown\r\n" {
		t.Fatalf("RESP2 failure %q", r2)
	}
	send("HELLO", "3")
	r3 := send("SESS.VALIDATE", "nope", "1")
	if r3 != "%2\r\n$2\r\nok\r\n:0\r\n$6\r\nreason\r\n$7\r\nunknown\r\n" {
		t.Fatalf("RESP3 failure %q", r3)
	}
	nw := send("SESS.NEW", "IDLE", "10")
	var keys []string
	lines := strings.Split(nw, "\r\n")
	if lines[0] != "%6" {
		t.Fatalf("RESP3 new %q", nw)
	}
	for i := 1; i+1 < len(lines); {
		keys = append(keys, lines[i+1]) // "$len", key
		i += 2
		if strings.HasPrefix(lines[i], "$") {
			i += 2
		} else {
			i++
		}
	}
	if strings.Join(keys, " ") != newFields {
		t.Fatalf("RESP3 field order %v", keys)
	}
	if r := send("SESS.GET", "nope"); r != "_\r\n" {
		t.Fatalf("RESP3 null %q", r)
	}
}

// TestSessReasons walks every failure reason over the socket.
func TestSessReasons(t *testing.T) {
	s := testserver.Start(t, "session-rotate-grace", "0")
	c := s.Client(3)
	// unknown
	wantReason(t, validate(t, c, "no-such-token-at-all-xxxxxxxx", 1), "unknown")
	// nonce
	a := newSess(t, c)
	wantReason(t, validate(t, c, a.token, 2), "nonce")
	wantReason(t, validate(t, c, a.token, -1), "nonce")
	// replayed, and the session is revoked (session-replay-revoke yes)
	v := validate(t, c, a.token, 1)
	time.Sleep(5 * time.Millisecond)
	wantReason(t, validate(t, c, a.token, 1), "replayed")
	wantReason(t, validate(t, c, v["token"].(string), 2), "revoked")
	if do(t, c, "sess.info", "HANDLE", a.handle) != nil {
		t.Fatal("replayed session survived")
	}
	// replayed without revocation
	do(t, c, "config", "set", "session-replay-revoke", "no")
	b := newSess(t, c)
	vb := validate(t, c, b.token, 1)
	time.Sleep(5 * time.Millisecond)
	wantReason(t, validate(t, c, b.token, 1), "replayed")
	if vv := validate(t, c, vb["token"].(string), 2); vv["ok"] != int64(1) {
		t.Fatalf("session should survive without replay-revoke: %v", vv)
	}
	// detached
	d := newSess(t, c, "DETACHABLE")
	do(t, c, "sess.detach", d.token)
	wantReason(t, validate(t, c, d.token, 1), "detached")
	// revoked
	r := newSess(t, c, "OWNER", "x")
	do(t, c, "sess.revoke", "HANDLE", r.handle)
	wantReason(t, validate(t, c, r.token, 1), "revoked")
	// expired: reported while the record waits for the expirer (which runs
	// every 100 ms), unknown once reaped. Present tokens right after their
	// deadline; a few attempts make a reaping in between harmless.
	got := map[string]int{}
	for attempt := 0; attempt < 5 && got["expired"] == 0; attempt++ {
		var toks []string
		var exp int64
		for i := 0; i < 4; i++ {
			m := doMap(t, c, newFields, "sess.new", "IDLE", "1")
			toks = append(toks, m["token"].(string))
			exp = max(exp, m["expires"].(int64))
		}
		time.Sleep(time.Until(time.UnixMilli(exp + 2)))
		p := c.Pipeline()
		for _, tk := range toks {
			p.Do(bg, "sess.validate", tk, 1)
		}
		cmds, _ := p.Exec(bg)
		for _, cmd := range cmds {
			m, _ := fieldMap(t, cmd.(*redis.Cmd).Val())
			got[fmt.Sprint(m["reason"])]++
		}
	}
	if got["expired"] == 0 {
		t.Fatalf("never saw reason expired: %v", got)
	}
	for reason := range got {
		if reason != "expired" && reason != "unknown" {
			t.Fatalf("expired session answered %v", got)
		}
	}
}

// TestSessRotationGrace: 50 connections validate one (token, nonce) at once:
// exactly one successor, named in all 50 replies.
func TestSessRotationGrace(t *testing.T) {
	s := testserver.Start(t)
	c := s.Client(3)
	a := newSess(t, c)
	const n = 50
	clients := make([]*redis.Client, n)
	for i := range clients {
		clients[i] = s.Client(2 + i%2)
		if err := clients[i].Ping(bg).Err(); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	replies := make([]map[string]any, n)
	errs := make([]error, n)
	for i := range clients {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			v, err := clients[i].Do(bg, "sess.validate", a.token, 1).Result()
			errs[i] = err
			if err == nil {
				replies[i], _ = fieldMap(t, v)
			}
		}(i)
	}
	close(start)
	wg.Wait()
	successors := map[any]int{}
	for i := range replies {
		if errs[i] != nil {
			t.Fatalf("client %d: %v", i, errs[i])
		}
		if replies[i]["ok"] != int64(1) || replies[i]["nonce"] != int64(2) {
			t.Fatalf("client %d: %v", i, replies[i])
		}
		successors[replies[i]["token"]]++
	}
	if len(successors) != 1 {
		t.Fatalf("%d successors: %v", len(successors), successors)
	}
	if st := s.Engine().SessionStats(); st.Rotated.Load() != 1 {
		t.Fatalf("rotated %d times", st.Rotated.Load())
	}
	// The successor works; the old token still reads within the grace.
	for succ := range successors {
		if v := validate(t, c, succ.(string), 2); v["ok"] != int64(1) {
			t.Fatalf("successor: %v", v)
		}
	}
	if do(t, c, "sess.get", a.token) == nil {
		t.Fatal("old token refused within the grace")
	}
}

func footprint(t testing.TB, s *testserver.Server) int {
	n := 0
	_ = s.Engine().View(time.Now().UnixMilli(), func(tx *engine.Tx) error { n = tx.SessionFootprint(); return nil })
	return n
}

// TestSessPersistence: deadlines to the ms, rotation state and data survive a
// restart; the data file never holds a token.
func TestSessPersistence(t *testing.T) {
	s := testserver.Start(t, "appendfsync", "always")
	c := s.Client(3)
	m := doMap(t, c, newFields, "sess.new", "OWNER", "p", "DATA", "persist-me", "IDLE", "600", "ABSOLUTE", "7200")
	tok := m["token"].(string)
	v := validate(t, c, tok, 1)
	succ := v["token"].(string)
	info := doMap(t, c, infoFields, "sess.info", succ)
	app := newSess(t, c, "TOKEN", "app-supplied-token-0123456789")

	s.Restart()
	c = s.Client(3)
	again := doMap(t, c, infoFields, "sess.info", succ)
	if fmt.Sprint(again) != fmt.Sprint(info) {
		t.Fatalf("info changed across restart:\n%v\n%v", info, again)
	}
	if again["expires"] != v["expires"] {
		t.Fatalf("deadline %v != %v", again["expires"], v["expires"])
	}
	// A repeat within the grace still gets the same successor.
	if r := validate(t, c, tok, 1); r["token"] != succ {
		t.Fatalf("successor after restart %v", r)
	}
	testserver.Run(t, c, []C{
		{Cmd: []any{"sess.get", succ}, Want: "persist-me"},
		{Cmd: []any{"sess.get", app.token}, Want: ""},
		{Cmd: []any{"sess.new", "TOKEN", "app-supplied-token-0123456789"}, Want: nil},
		{Cmd: []any{"sess.count"}, Want: int64(2)},
		{Cmd: []any{"sess.count", "OWNER", "p"}, Want: int64(1)},
	})
	s.Stop()
	for _, f := range []string{filepath.Join(s.Dir, "sessiond.db")} {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{tok, succ, app.token, tok[:16], succ[:16]} {
			if bytes.Contains(raw, []byte(secret)) {
				t.Fatalf("%s holds a token", f)
			}
		}
		if !bytes.Contains(raw, []byte("persist-me")) {
			t.Fatalf("%s does not hold the data (wrong file?)", f)
		}
	}
}

// TestSessExpiry: idle (sliding) and absolute deadlines over the socket, and
// expiry leaves nothing behind. Margins are hundreds of ms so that a loaded
// machine does not make it flaky.
func TestSessExpiry(t *testing.T) {
	s := testserver.Start(t)
	c := s.Client(2)
	start := time.Now()
	at := func(d time.Duration) { time.Sleep(time.Until(start.Add(d))) }
	// Times are seconds apart so a loaded machine (race detector, parallel
	// tests) cannot make a touch late enough to matter; the engine tests
	// check the same rules to the millisecond with injected time.
	slide := newSess(t, c, "IDLE", "4", "ABSOLUTE", "6", "OWNER", "o", "DATA", "d", "DETACHABLE")
	idle := newSess(t, c, "IDLE", "1", "OWNER", "o")
	det := newSess(t, c, "IDLE", "1", "ABSOLUTE", "6", "OWNER", "o", "DETACHABLE")
	do(t, c, "sess.detach", det.token)
	// Touches every 1.2 s keep a 4 s idle session alive past 4 s: the deadline slides.
	for i, d := range []time.Duration{1200, 2400, 3600, 4800} {
		at(d * time.Millisecond)
		if do(t, c, "sess.get", slide.token) == nil {
			t.Fatalf("sliding session died at touch %d", i)
		}
		if i == 2 {
			// 3.6 s: the 1 s idle-only session idled out; the detached one did not.
			if do(t, c, "sess.get", idle.token) != nil {
				t.Fatal("idle session outlived its idle timeout")
			}
			if do(t, c, "sess.info", "HANDLE", det.handle) == nil {
				t.Fatal("detached session idled out")
			}
		}
	}
	// 6.6 s: past the absolute deadline (6 s) though the idle one is at 8.8 s.
	at(6600 * time.Millisecond)
	if do(t, c, "sess.get", slide.token) != nil {
		t.Fatal("session outlived its absolute timeout")
	}
	if do(t, c, "sess.info", "HANDLE", det.handle) != nil {
		t.Fatal("detached session outlived its absolute timeout")
	}
	deadline := time.Now().Add(2 * time.Second)
	for footprint(t, s) != 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := footprint(t, s); n != 0 {
		t.Fatalf("expiry left %d items", n)
	}
	testserver.Run(t, c, []C{
		{Cmd: []any{"sess.count"}, Want: int64(0)},
		{Cmd: []any{"sess.count", "OWNER", "o"}, Want: int64(0)},
		{Cmd: []any{"sess.detached"}, Want: []any{}},
	})
}

// TestSessNothingBehind: DESTROY and REVOKE remove every record and index
// entry (REVOKE keeps one self-expiring tombstone per session).
func TestSessNothingBehind(t *testing.T) {
	s := testserver.Start(t)
	c := s.Client(3)
	var toks []sess
	for i := 0; i < 6; i++ {
		x := newSess(t, c, "OWNER", "o", "DATA", "data", "DETACHABLE", "META", "k", "v")
		v := validate(t, c, x.token, 1)
		toks = append(toks, sess{v["token"].(string), x.handle})
	}
	do(t, c, "sess.detach", toks[5].token)
	do(t, c, "sess.destroy", toks[0].token)
	do(t, c, "sess.destroy", "HANDLE", toks[1].handle)
	do(t, c, "sess.destroy", "HANDLE", toks[5].handle)
	do(t, c, "sess.revoke", "HANDLE", toks[2].handle)
	if n := do(t, c, "sess.revoke", "OWNER", "o").(int64); n != 2 {
		t.Fatalf("revoked %d", n)
	}
	if n := footprint(t, s); n != 3 {
		t.Fatalf("footprint %d, want 3 tombstones", n)
	}
	info := do(t, c, "info", "sessions").(string)
	for _, want := range []string{"sessions:0\r\n", "session_owners:0\r\n", "sessions_detached:0\r\n", "sessions_created:6\r\n", "sessions_revoked:3\r\n", "sessions_destroyed:3\r\n", "sessions_rotated:6\r\n"} {
		if !strings.Contains(info, want) {
			t.Fatalf("INFO sessions lacks %q:\n%s", want, info)
		}
	}
}

// TestSessInvisible: sessions are not keys; FLUSHDB keeps them, FLUSHALL clears them.
func TestSessInvisible(t *testing.T) {
	s := testserver.Start(t)
	c := s.Client(2)
	a := newSess(t, c, "OWNER", "o", "DATA", "x", "DETACHABLE")
	do(t, c, "set", "plain", "1")
	testserver.Run(t, c, []C{
		{Cmd: []any{"keys", "*"}, Want: []any{"plain"}},
		{Cmd: []any{"dbsize"}, Want: int64(1)},
		{Cmd: []any{"scan", "0", "count", "1000"}, Want: []any{"0", []any{"plain"}}},
		{Cmd: []any{"flushdb"}, Want: "OK"},
		{Cmd: []any{"sess.get", a.token}, Want: "x"},
		{Cmd: []any{"sess.count"}, Want: int64(1)},
		{Cmd: []any{"flushall"}, Want: "OK"},
		{Cmd: []any{"sess.get", a.token}, Want: nil},
		{Cmd: []any{"sess.count"}, Want: int64(0)},
		{Cmd: []any{"sess.count", "OWNER", "o"}, Want: int64(0)},
	})
	if n := footprint(t, s); n != 0 {
		t.Fatalf("FLUSHALL left %d items", n)
	}
}

// TestSessOwnerIndex: with 100,000 sessions of other owners, LIST / COUNT /
// REVOKE of an owner with 3 sessions read only those (engine work counted).
func TestSessOwnerIndex(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 sessions")
	}
	s := testserver.Start(t, "appendfsync", "no")
	c := s.Client(2)
	const others = 100_000
	for i := 0; i < others; i += 1000 {
		p := c.Pipeline()
		for j := i; j < i+1000; j++ {
			p.Do(bg, "sess.new", "OWNER", fmt.Sprintf("user:%d", j%10_000))
		}
		if _, err := p.Exec(bg); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 3; i++ {
		newSess(t, c, "OWNER", "me")
	}
	e := s.Engine()
	measure := func(args ...any) (any, int64) {
		before := e.SessionWork()
		v := do(t, c, args...)
		return v, e.SessionWork() - before
	}
	list, work := measure("sess.list", "OWNER", "me")
	if len(list.([]any)) != 3 || work != 9 {
		t.Fatalf("LIST: %d sessions, %d items read (want 3 index entries, 3 records, 3 meta)", len(list.([]any)), work)
	}
	if n, work := measure("sess.count", "OWNER", "me"); n != int64(3) || work != 6 {
		t.Fatalf("COUNT OWNER: %v, %d items read", n, work)
	}
	// O(1): the counts are kept in memory (at most the one counters record
	// earlier versions read).
	if n, work := measure("sess.count"); n != int64(others+3) || work > 1 {
		t.Fatalf("COUNT: %v, %d items read", n, work)
	}
	if n, work := measure("sess.revoke", "OWNER", "me"); n != int64(3) || work > 30 {
		t.Fatalf("REVOKE OWNER: %v, %d items read", n, work)
	}
	info := do(t, c, "info", "sessions").(string)
	if !strings.Contains(info, fmt.Sprintf("sessions:%d\r\n", others)) || !strings.Contains(info, "session_owners:10000\r\n") {
		t.Fatalf("INFO sessions:\n%s", info)
	}
}

// TestSessEvents: lifecycle events on __sessions__ as "event handle", never a token.
func TestSessEvents(t *testing.T) {
	s := testserver.Start(t, "notify-session-events", "yes", "session-rotate-grace", "0")
	c := s.Client(3)
	sub := s.Client(3).Subscribe(bg, "__sessions__")
	defer sub.Close()
	if _, err := sub.Receive(bg); err != nil {
		t.Fatal(err)
	}
	ch := sub.Channel()
	a := newSess(t, c, "OWNER", "o", "DETACHABLE", "IDLE", "1")
	v := validate(t, c, a.token, 1)
	r := doMap(t, c, newTokenFields, "sess.regenerate", v["token"])
	do(t, c, "sess.detach", r["token"])
	do(t, c, "sess.attach", "HANDLE", a.handle, "OWNER", "o")
	do(t, c, "sess.destroy", "HANDLE", a.handle)
	b := newSess(t, c)
	validate(t, c, b.token, 1)
	time.Sleep(5 * time.Millisecond)
	validate(t, c, b.token, 1) // replay
	e := newSess(t, c, "IDLE", "1")
	want := []string{"created " + a.handle, "rotated " + a.handle, "regenerated " + a.handle, "detached " + a.handle,
		"attached " + a.handle, "destroyed " + a.handle, "created " + b.handle, "rotated " + b.handle,
		"replayed " + b.handle, "revoked " + b.handle, "created " + e.handle, "expired " + e.handle}
	var got []string
	timeout := time.After(5 * time.Second)
	for len(got) < len(want) {
		select {
		case m := <-ch:
			if strings.Contains(m.Payload, a.token) || strings.Contains(m.Payload, v["token"].(string)) {
				t.Fatal("event carries a token")
			}
			got = append(got, m.Payload)
		case <-timeout:
			t.Fatalf("events %q, want %q", got, want)
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("events\n%q\nwant\n%q", got, want)
	}
}

func TestSessMultiExec(t *testing.T) {
	s := testserver.Start(t)
	c := s.Client(2)
	a := newSess(t, c, "DATA", "one")
	p := c.TxPipeline()
	p.Do(bg, "sess.set", a.token, "two")
	p.Do(bg, "sess.get", a.token)
	p.Do(bg, "sess.validate", a.token, 1)
	cmds, err := p.Exec(bg)
	if err != nil {
		t.Fatal(err)
	}
	if cmds[1].(*redis.Cmd).Val() != "two" {
		t.Fatalf("inside EXEC: %v", cmds[1])
	}
	if m, _ := fieldMap(t, cmds[2].(*redis.Cmd).Val()); m["ok"] != int64(1) {
		t.Fatalf("validate in EXEC %v", m)
	}
}
