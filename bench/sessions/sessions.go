// Package sessions writes the session operations of the bench for each side: sessiond's native
// SESS.* commands (COMMANDS.md) and the Lua scripts a Redis user would run instead (lua.go), and
// checks that every reply is a success.
package sessions

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/sessiond/sessiond/bench/wire"
)

// NewSession is what one create sends. Token and Handle are drawn by the bench; the native side
// ignores them (sessiond draws its own), the Lua side needs them (a script has no randomness).
type NewSession struct {
	Token, Handle string
	Owner         string
	Data          []byte
	Idle          int64 // seconds
	Absolute      int64 // seconds
}

// API is one side's way of doing the session operations. Write* append one command to a
// pipeline; the matching Check/Parse inspects its reply.
type API interface {
	Name() string
	// Prepare readies a connection-independent server state (SCRIPT LOAD). Called once per
	// server process, on any connection.
	Prepare(c *wire.Conn) error
	WriteCreate(w *wire.Writer, s *NewSession)
	ParseCreate(v *wire.Value) (token string, err error)
	WriteGet(w *wire.Writer, token string, touch bool)
	CheckGet(v *wire.Value, dataLen int) error
	WriteTouch(w *wire.Writer, token string)
	CheckTouch(v *wire.Value) error
	// WriteValidate validates with rotation; successor is the new token the Lua side binds.
	WriteValidate(w *wire.Writer, token string, nonce int64, successor string)
	ParseValidate(v *wire.Value) (token string, nonce int64, err error)
	WriteRevokeOwner(w *wire.Writer, owner string)
	CheckRevoke(v *wire.Value, want int) error
	// ProbeGet is a self-contained read of one session (no prior Prepare needed), used to time a
	// restart: it succeeds only once the server answers with the session's data.
	ProbeGet(c *wire.Conn, token string, dataLen int) error
	// Commands lists the server commands the API needs (for sessiond: to report what is missing).
	Commands() []string
}

// GraceMS is the rotation grace the Lua side uses, sessiond's default session-rotate-grace.
const GraceMS = 10000

func errReply(op string, v *wire.Value) error {
	return fmt.Errorf("%s: unexpected reply %s", op, v.Text())
}

func checkData(op string, v *wire.Value, dataLen int) error {
	if v.Kind != wire.Bulk && v.Kind != wire.Verbat {
		return errReply(op, v)
	}
	if dataLen >= 0 && len(v.Str) != dataLen {
		return fmt.Errorf("%s: data of %d bytes, want %d", op, len(v.Str), dataLen)
	}
	return nil
}

func parseValidate(v *wire.Value) (string, int64, error) {
	okv, found := v.Field("ok")
	if !found {
		return "", 0, errReply("validate", v)
	}
	if ok, _ := okv.AsInt(); ok != 1 {
		reason := ""
		if r, found := v.Field("reason"); found {
			reason = string(r.Str)
		}
		return "", 0, fmt.Errorf("validate: ok 0 reason %s", reason)
	}
	tv, found1 := v.Field("token")
	nv, found2 := v.Field("nonce")
	if !found1 || !found2 || len(tv.Str) == 0 {
		return "", 0, errReply("validate", v)
	}
	n, ok := nv.AsInt()
	if !ok {
		return "", 0, errReply("validate", v)
	}
	return string(tv.Str), n, nil
}

func parseCreate(v *wire.Value) (string, error) {
	tv, found := v.Field("token")
	if !found || len(tv.Str) == 0 {
		return "", errReply("create", v)
	}
	if nv, found := v.Field("nonce"); found {
		if n, _ := nv.AsInt(); n != 1 {
			return "", fmt.Errorf("create: nonce %s, want 1", nv.Text())
		}
	}
	return string(tv.Str), nil
}

// Native is sessiond's SESS.* commands.
type Native struct{}

// Name implements API.
func (Native) Name() string { return "SESS.*" }

// Prepare implements API; sessiond needs nothing.
func (Native) Prepare(*wire.Conn) error { return nil }

// Commands implements API.
func (Native) Commands() []string {
	return []string{"SESS.NEW", "SESS.GET", "SESS.TOUCH", "SESS.VALIDATE", "SESS.REVOKE"}
}

// WriteCreate implements API.
func (Native) WriteCreate(w *wire.Writer, s *NewSession) {
	n := 5
	if s.Owner != "" {
		n += 2
	}
	if s.Data != nil {
		n += 2
	}
	w.Begin(n)
	w.Str("SESS.NEW")
	if s.Owner != "" {
		w.Str("OWNER")
		w.Str(s.Owner)
	}
	if s.Data != nil {
		w.Str("DATA")
		w.Bytes(s.Data)
	}
	w.Str("IDLE")
	w.Int(s.Idle)
	w.Str("ABSOLUTE")
	w.Int(s.Absolute)
}

// ParseCreate implements API.
func (Native) ParseCreate(v *wire.Value) (string, error) { return parseCreate(v) }

// WriteGet implements API.
func (Native) WriteGet(w *wire.Writer, token string, touch bool) {
	if touch {
		w.Begin(2)
	} else {
		w.Begin(3)
	}
	w.Str("SESS.GET")
	w.Str(token)
	if !touch {
		w.Str("NOTOUCH")
	}
}

// CheckGet implements API.
func (Native) CheckGet(v *wire.Value, dataLen int) error { return checkData("get", v, dataLen) }

// WriteTouch implements API.
func (Native) WriteTouch(w *wire.Writer, token string) {
	w.Begin(2)
	w.Str("SESS.TOUCH")
	w.Str(token)
}

// CheckTouch implements API.
func (Native) CheckTouch(v *wire.Value) error {
	if n, ok := v.AsInt(); !ok || v.Kind != wire.Integer || (n < 0 && n != -1) {
		return errReply("touch", v)
	}
	return nil
}

// WriteValidate implements API.
func (Native) WriteValidate(w *wire.Writer, token string, nonce int64, _ string) {
	w.Begin(3)
	w.Str("SESS.VALIDATE")
	w.Str(token)
	w.Int(nonce)
}

// ParseValidate implements API.
func (Native) ParseValidate(v *wire.Value) (string, int64, error) { return parseValidate(v) }

// WriteRevokeOwner implements API.
func (Native) WriteRevokeOwner(w *wire.Writer, owner string) {
	w.Begin(3)
	w.Str("SESS.REVOKE")
	w.Str("OWNER")
	w.Str(owner)
}

// CheckRevoke implements API.
func (Native) CheckRevoke(v *wire.Value, want int) error { return checkRevoke(v, want) }

func checkRevoke(v *wire.Value, want int) error {
	if v.Kind != wire.Integer {
		return errReply("revoke", v)
	}
	if want >= 0 && v.Int != int64(want) {
		return fmt.Errorf("revoke: %d revoked, want %d", v.Int, want)
	}
	return nil
}

// ProbeGet implements API.
func (a Native) ProbeGet(c *wire.Conn, token string, dataLen int) error {
	var v wire.Value
	if err := c.Do(5*time.Second, &v, "SESS.GET", token, "NOTOUCH"); err != nil {
		return err
	}
	return a.CheckGet(&v, dataLen)
}

// Lua is the same operations on Redis through EVALSHA.
type Lua struct {
	create, get, touch, validate, revoke string // SHA-1 of each script
}

// Name implements API.
func (*Lua) Name() string { return "Lua" }

// Commands implements API.
func (*Lua) Commands() []string { return []string{"EVALSHA", "SCRIPT"} }

func scriptSHA(src string) string {
	h := sha1.Sum([]byte(src))
	return hex.EncodeToString(h[:])
}

// Prepare implements API: SCRIPT LOAD of every script, checking the server's SHA matches.
func (l *Lua) Prepare(c *wire.Conn) error {
	for _, s := range []struct {
		dst *string
		src string
	}{{&l.create, luaCreate}, {&l.get, luaGet}, {&l.touch, luaTouch}, {&l.validate, luaValidate},
		{&l.revoke, luaRevokeOwner}} {
		var v wire.Value
		if err := c.Do(5*time.Second, &v, "SCRIPT", "LOAD", s.src); err != nil {
			return err
		}
		if v.Kind != wire.Bulk || string(v.Str) != scriptSHA(s.src) {
			return fmt.Errorf("SCRIPT LOAD answered %s", v.Text())
		}
		*s.dst = string(v.Str)
	}
	return nil
}

// WriteCreate implements API.
func (l *Lua) WriteCreate(w *wire.Writer, s *NewSession) {
	w.Begin(9)
	w.Str("EVALSHA")
	w.Str(l.create)
	w.Str("0")
	w.Str(s.Token)
	w.Str(s.Handle)
	w.Str(s.Owner)
	w.Bytes(s.Data)
	w.Int(s.Idle)
	w.Int(s.Absolute)
}

// ParseCreate implements API.
func (*Lua) ParseCreate(v *wire.Value) (string, error) { return parseCreate(v) }

// WriteGet implements API.
func (l *Lua) WriteGet(w *wire.Writer, token string, touch bool) {
	w.Begin(5)
	w.Str("EVALSHA")
	w.Str(l.get)
	w.Str("0")
	w.Str(token)
	if touch {
		w.Str("1")
	} else {
		w.Str("0")
	}
}

// CheckGet implements API.
func (*Lua) CheckGet(v *wire.Value, dataLen int) error { return checkData("get", v, dataLen) }

// WriteTouch implements API.
func (l *Lua) WriteTouch(w *wire.Writer, token string) {
	w.Begin(4)
	w.Str("EVALSHA")
	w.Str(l.touch)
	w.Str("0")
	w.Str(token)
}

// CheckTouch implements API.
func (*Lua) CheckTouch(v *wire.Value) error { return Native{}.CheckTouch(v) }

// WriteValidate implements API.
func (l *Lua) WriteValidate(w *wire.Writer, token string, nonce int64, successor string) {
	w.Begin(7)
	w.Str("EVALSHA")
	w.Str(l.validate)
	w.Str("0")
	w.Str(token)
	w.Int(nonce)
	w.Str(successor)
	w.Int(GraceMS)
}

// ParseValidate implements API.
func (*Lua) ParseValidate(v *wire.Value) (string, int64, error) { return parseValidate(v) }

// WriteRevokeOwner implements API.
func (l *Lua) WriteRevokeOwner(w *wire.Writer, owner string) {
	w.Begin(4)
	w.Str("EVALSHA")
	w.Str(l.revoke)
	w.Str("0")
	w.Str(owner)
}

// CheckRevoke implements API.
func (*Lua) CheckRevoke(v *wire.Value, want int) error { return checkRevoke(v, want) }

// ProbeGet implements API with EVAL of the script text, as a client library does when the script
// cache is empty after a restart.
func (*Lua) ProbeGet(c *wire.Conn, token string, dataLen int) error {
	var v wire.Value
	if err := c.Do(5*time.Second, &v, "EVAL", luaGet, "0", token, "0"); err != nil {
		return err
	}
	return checkData("get", &v, dataLen)
}

// Missing asks a server which of cmds it does not know: each is sent with no arguments, and an
// "unknown command" error (as opposed to an arity error) means it is missing.
func Missing(c *wire.Conn, cmds []string) ([]string, error) {
	var miss []string
	for _, name := range cmds {
		var v wire.Value
		if err := c.Do(5*time.Second, &v, name); err != nil {
			return nil, fmt.Errorf("probe %s: %w", name, err)
		}
		if v.Kind == wire.Error && strings.Contains(strings.ToLower(string(v.Str)), "unknown command") {
			miss = append(miss, name)
		}
	}
	return miss, nil
}
