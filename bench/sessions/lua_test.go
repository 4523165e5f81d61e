package sessions

import (
	"os/exec"
	"testing"
	"time"

	"github.com/sessiond/sessiond/bench/proc"
	"github.com/sessiond/sessiond/bench/wire"
)

// TestLuaSemantics runs the Redis side's scripts against a real redis-server and checks they do
// what the SESS.* contract says (skipped without redis-server).
func TestLuaSemantics(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed (apt-get install -y redis-server)")
	}
	srv, err := proc.Start(proc.Config{Kind: proc.Redis, Bin: bin, Dir: t.TempDir(), Fsync: "no"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Kill()
	if _, err := srv.WaitReady(20*time.Second, nil); err != nil {
		t.Fatal(err)
	}
	c, err := wire.Dial(srv.Addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	l := &Lua{}
	if err := l.Prepare(c); err != nil {
		t.Fatal(err)
	}
	var v wire.Value
	do := func(write func(w *wire.Writer)) *wire.Value {
		t.Helper()
		write(c.W)
		if err := c.W.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := c.R.Read(&v); err != nil {
			t.Fatal(err)
		}
		if v.IsError() {
			t.Fatalf("error reply %s", v.Text())
		}
		return &v
	}
	data := []byte("some session data")
	const tok1 = "token-one-aaaaaaaaaaaaaaaaaaaaaaaaaa"
	for i, tok := range []string{tok1, "token-two-bbbbbbbbbbbbbbbbbbbbbbbbbbbb"} {
		got, err := l.ParseCreate(do(func(w *wire.Writer) {
			l.WriteCreate(w, &NewSession{Token: tok, Handle: "h" + string(rune('0'+i)), Owner: "alice", Data: data, Idle: 60, Absolute: 3600})
		}))
		if err != nil || got != tok {
			t.Fatalf("create: %q %v", got, err)
		}
	}
	if err := l.CheckGet(do(func(w *wire.Writer) { l.WriteGet(w, tok1, true) }), len(data)); err != nil {
		t.Fatal(err)
	}
	if err := l.CheckTouch(do(func(w *wire.Writer) { l.WriteTouch(w, tok1) })); err != nil {
		t.Fatal(err)
	}
	if x := do(func(w *wire.Writer) { c.W.Cmd("PTTL", "sess:h:h0") }); x.Int <= 0 || x.Int > 60000 {
		t.Fatalf("idle caps the hash's TTL: %s", x.Text())
	}
	const tok1b = "token-one-successor-cccccccccccccccc"
	tok, nonce, err := l.ParseValidate(do(func(w *wire.Writer) { l.WriteValidate(w, tok1, 1, tok1b) }))
	if err != nil || tok != tok1b || nonce != 2 {
		t.Fatalf("validate: %q %d %v", tok, nonce, err)
	}
	// Within the grace the same request gets the same successor; a wrong nonce is a replay.
	tok, nonce, err = l.ParseValidate(do(func(w *wire.Writer) { l.WriteValidate(w, tok1, 1, "another-successor-dddddddddddddd") }))
	if err != nil || tok != tok1b || nonce != 2 {
		t.Fatalf("repeat within grace: %q %d %v", tok, nonce, err)
	}
	if _, _, err := l.ParseValidate(do(func(w *wire.Writer) { l.WriteValidate(w, tok1, 5, "x-eeeeeeeeeeeeeeeeeeeeeeeeeeeeee") })); err == nil {
		t.Fatal("replayed token with a wrong nonce validated")
	}
	if _, _, err := l.ParseValidate(do(func(w *wire.Writer) { l.WriteValidate(w, tok1b, 1, "x-ffffffffffffffffffffffffffffff") })); err == nil {
		t.Fatal("stale nonce validated")
	}
	if err := l.CheckGet(do(func(w *wire.Writer) { l.WriteGet(w, tok1, false) }), len(data)); err == nil {
		t.Fatal("rotated-out token still reads the session")
	}
	if err := l.CheckGet(do(func(w *wire.Writer) { l.WriteGet(w, tok1b, false) }), len(data)); err != nil {
		t.Fatal(err)
	}
	if err := l.CheckRevoke(do(func(w *wire.Writer) { l.WriteRevokeOwner(w, "alice") }), 2); err != nil {
		t.Fatal(err)
	}
	if err := l.CheckGet(do(func(w *wire.Writer) { l.WriteGet(w, tok1b, false) }), len(data)); err == nil {
		t.Fatal("revoked session still reads")
	}
	if err := l.ProbeGet(c, tok1b, len(data)); err == nil {
		t.Fatal("probe of a revoked session succeeded")
	}
}
