package commands

import (
	"testing"
	"time"

	"github.com/sessiond/sessiond/config"
	"github.com/sessiond/sessiond/engine"
	"github.com/sessiond/sessiond/persistence"
)

type fakeConn struct{}

func (fakeConn) RemoteAddr() string     { return "127.0.0.1:1" }
func (fakeConn) LocalAddr() string      { return "127.0.0.1:2" }
func (fakeConn) Close() error           { return nil }
func (fakeConn) Push(frame []byte) bool { return true }

func newTestDispatcher(t *testing.T) (*Dispatcher, *Client) {
	t.Helper()
	st, err := persistence.Open(persistence.Options{})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.Open(engine.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close(); st.Close() })
	d := NewDispatcher(eng, config.Defaults())
	cl, err := d.NewClient(fakeConn{})
	if err != nil {
		t.Fatal(err)
	}
	return d, cl
}

func args(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// A panic in a handler answers -ERR internal error (dropping anything the
// handler had written), rolls back what it wrote, and the client and the
// dispatcher go on serving.
func TestHandlerPanicIsContained(t *testing.T) {
	d, cl := newTestDispatcher(t)
	boom := &Spec{Name: "boom", Arity: 1, Run: func(c *Call) {
		c.W.Simple("half a reply")
		panic("boom")
	}}
	d.run(cl, boom, args("boom"), nil, time.Now(), time.Now())
	if got := string(cl.W.Bytes()); got != "-ERR internal error\r\n" {
		t.Fatalf("reply to a panicking handler: %q", got)
	}
	cl.W.Reset()

	// A panic inside a write transaction: nothing it wrote is kept, and the
	// database lock is released.
	boomWrite := &Spec{Name: "boomwrite", Arity: 1, Run: func(c *Call) {
		_ = c.Write(func(tx *engine.Tx) error {
			if _, err := tx.Set(0, "half", "written", engine.SetOptions{}); err != nil {
				return err
			}
			panic("boom in a transaction")
		})
	}}
	d.run(cl, boomWrite, args("boomwrite"), nil, time.Now(), time.Now())
	if got := string(cl.W.Bytes()); got != "-ERR internal error\r\n" {
		t.Fatalf("reply to a panicking write: %q", got)
	}
	cl.W.Reset()
	d.Exec(cl, args("EXISTS", "half"))
	d.Exec(cl, args("SET", "k", "v"))
	d.Exec(cl, args("GET", "k"))
	d.Exec(cl, args("PING"))
	if got := string(cl.W.Bytes()); got != ":0\r\n+OK\r\n$1\r\nv\r\n+PONG\r\n" {
		t.Fatalf("after the panics: %q", got)
	}
	if boom.stats.calls.Load() != 1 || boom.stats.failed.Load() != 1 {
		t.Fatalf("panicking call not accounted: calls %d failed %d", boom.stats.calls.Load(), boom.stats.failed.Load())
	}
}
