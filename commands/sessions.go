package commands

import (
	"fmt"
	"strings"

	"github.com/sessiond/sessiond/engine"
)

// The SESS.* family: native sessions (COMMANDS.md, "Sessions"). Each command
// parses its arguments, draws its random bytes (crypto/rand), runs exactly one
// engine transaction and writes its reply. An invalid token is an ordinary
// answer (null, 0, -2 or `ok 0 reason R`); -ERR is for malformed calls only.
//
// Token commands that may write (anything that touches, rotates, or could
// revoke a replayed session) run in a write transaction; SESS.INFO, SESS.TTL
// and SESS.GET without touching are reads: they report a replay but leave
// the revocation to the next write that meets the token.

func init() {
	s := func(sp *Spec) *Spec {
		sp.Group, sp.Since = "session", sinceNative
		return sp
	}
	register(
		s(&Spec{Name: "sess.new", Arity: -1, Flags: FlagWrite | FlagDenyOOM | FlagFast | FlagBatch,
			Syntax:  "[OWNER id] [DATA blob] [IDLE seconds] [ABSOLUTE seconds] [PREFIX prefix] [DETACHABLE] [TOKEN token] [BIND fingerprint] [MAXSESSIONS n] [META field value [field value ...]]",
			Summary: "Creates a session and returns its token (256 random bits, base64url, or the application's own TOKEN of at least 22 characters), its handle, nonce 1, its deadline and its timeouts in ms. Null when TOKEN is already in use. BIND stores a hash of a client fingerprint that GET, TOUCH and VALIDATE ... BIND then compare. MAXSESSIONS (default session-max-per-owner, 0 none) limits the owner's sessions: session-limit-policy evict-oldest revokes the owner's least recently used ones (their tokens answer `limit`), refuse answers -LIMIT and creates nothing. META takes every remaining argument.",
			Example: "> SESS.NEW OWNER user:42 DATA '{\"cart\":3}' IDLE 1800\n1) \"token\"\n2) \"Hk1x0...43 chars\"\n3) \"handle\"\n4) \"q8fW2mJ0bYpT1sVxZ3cR9a\"\n5) \"nonce\"\n6) (integer) 1\n7) \"expires\"\n8) (integer) 1754000000000\n9) \"idle\"\n10) (integer) 1800000\n11) \"absolute\"\n12) (integer) 86400000",
			Run:     cmdSessNew}),
		s(&Spec{Name: "sess.get", Arity: -2, Flags: FlagWrite | FlagFast | FlagBatch,
			Syntax:  "token [NOTOUCH|TOUCH] [BIND fingerprint]",
			Summary: "Returns the session's data (empty string when none), or null when the token is not valid or BIND does not match the session's fingerprint. Touches the session unless NOTOUCH or session-auto-touch no; TOUCH touches whatever session-auto-touch says (token-session's getNtouch).",
			Example: "> SESS.GET Hk1x0...\n\"{\\\"cart\\\":3}\"\n> SESS.GET nope\n(nil)",
			Run:     cmdSessGet}),
		s(&Spec{Name: "sess.info", Arity: -2, Flags: FlagReadonly | FlagFast | FlagBatch,
			Syntax:  "token | HANDLE handle",
			Summary: "Returns a session's fields: handle owner nonce created last_seen expires idle absolute detachable detached tokens meta (times in ms); null when not valid. Never returns a token. By HANDLE it also shows detached sessions.",
			Example: "> SESS.INFO HANDLE q8fW2mJ0bYpT1sVxZ3cR9a\n1) \"handle\"\n2) \"q8fW2mJ0bYpT1sVxZ3cR9a\"\n3) \"owner\"\n4) \"user:42\"\n5) \"nonce\"\n6) (integer) 1\n...\n23) \"meta\"\n24) (empty array)",
			Run:     cmdSessInfo}),
		s(&Spec{Name: "sess.set", Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagFast | FlagBatch,
			Syntax:  "token blob [IDLE seconds] [ABSOLUTE seconds] [OWNER id]",
			Summary: "Replaces the session's data and touches it, optionally changing its idle and absolute timeouts. OWNER gives the session to that owner (\"\" for none; a login after an anonymous session), re-indexed in the same transaction, under the new owner's session-max-per-owner like SESS.NEW. 1 updated, 0 not valid.",
			Example: "> SESS.SET Hk1x0... '{\"cart\":4}' IDLE 600\n(integer) 1",
			Run:     cmdSessSet}),
		s(&Spec{Name: "sess.touch", Arity: -2, Flags: FlagWrite | FlagFast | FlagBatch,
			Syntax:  "token [IDLE seconds] [BIND fingerprint]",
			Summary: "Touches the session (idle deadline = now + idle), optionally setting a new idle timeout; returns the remaining ms, -1 when it never expires, -2 when not valid or BIND does not match.",
			Example: "> SESS.TOUCH Hk1x0...\n(integer) 1800000",
			Run:     cmdSessTouch}),
		s(&Spec{Name: "sess.active", Arity: -2, Flags: FlagWrite | FlagFast | FlagBatch,
			Syntax:  "token [OWNER id]",
			Summary: "1 when the token is valid (and its session belongs to id), else 0. Does not touch.",
			Example: "> SESS.ACTIVE Hk1x0... OWNER user:42\n(integer) 1",
			Run:     cmdSessActive}),
		s(&Spec{Name: "sess.validate", Arity: -3, Flags: FlagWrite | FlagFast | FlagBatch,
			Syntax:  "token nonce [NOROTATE] [WITHDATA] [BIND fingerprint]",
			Summary: "Checks a token and its nonce. Success: ok 1 with the next token (a new one unless NOROTATE), nonce+1 and the deadline, and with WITHDATA the session's data; the old token answers for session-rotate-grace, a repeat of the same (token, nonce) returning the same successor. Failure: ok 0 and a reason (unknown, expired, nonce, replayed, detached, revoked, limit, binding).",
			Example: "> SESS.VALIDATE Hk1x0... 1\n1) \"ok\"\n2) (integer) 1\n3) \"token\"\n4) \"Zr9...\"\n5) \"nonce\"\n6) (integer) 2\n7) \"expires\"\n8) (integer) 1754000001800\n> SESS.VALIDATE Zr9... 7\n1) \"ok\"\n2) (integer) 0\n3) \"reason\"\n4) \"nonce\"",
			Run:     cmdSessValidate}),
		s(&Spec{Name: "sess.regenerate", Arity: 2, Flags: FlagWrite | FlagFast | FlagBatch,
			Syntax:  "token",
			Summary: "Gives the session a new token (same handle, data, owner, nonce); every older token stops at once. Use after login against fixation. Null when not valid.",
			Example: "> SESS.REGENERATE Hk1x0...\n1) \"token\"\n2) \"Pq7...\"\n3) \"nonce\"\n4) (integer) 1\n5) \"expires\"\n6) (integer) 1754000001800",
			Run:     cmdSessRegenerate}),
		s(&Spec{Name: "sess.destroy", Arity: -2, Flags: FlagWrite | FlagFast | FlagBatch,
			Syntax:  "token | HANDLE handle",
			Summary: "Destroys a session with its data, tokens and dependants. 1 destroyed, 0 not found.",
			Example: "> SESS.DESTROY Hk1x0...\n(integer) 1",
			Run:     cmdSessDestroy}),
		s(&Spec{Name: "sess.ttl", Arity: 2, Flags: FlagReadonly | FlagFast | FlagBatch,
			Syntax:  "token",
			Summary: "Remaining ms of the session, -1 when it never expires, -2 when not valid.",
			Example: "> SESS.TTL Hk1x0...\n(integer) 1799412",
			Run:     cmdSessTTL}),
		s(&Spec{Name: "sess.expire", Arity: 4, Flags: FlagWrite | FlagFast | FlagBatch,
			Syntax:  "token IDLE|ABSOLUTE seconds",
			Summary: "Sets the session's own idle timeout or absolute timeout (counted from creation), 0 for none, without touching it. 1 set, 0 not valid. A deadline already past ends the session.",
			Example: "> SESS.EXPIRE Hk1x0... IDLE 300\n(integer) 1",
			Run:     cmdSessExpire}),
		s(&Spec{Name: "sess.allowdetach", Arity: 2, Flags: FlagWrite | FlagFast | FlagBatch,
			Syntax:  "token",
			Summary: "Marks the session detachable. 1 done, 0 not valid.",
			Example: "> SESS.ALLOWDETACH Hk1x0...\n(integer) 1",
			Run:     cmdSessAllowDetach}),
		s(&Spec{Name: "sess.detach", Arity: 2, Flags: FlagWrite | FlagFast | FlagBatch,
			Syntax:  "token",
			Summary: "Logs a detachable session out but keeps it: its token answers `detached`, it no longer idles out, and it lives until its absolute deadline or session-detached-timeout. 1 done, 0 not valid or not detachable.",
			Example: "> SESS.DETACH Hk1x0...\n(integer) 1",
			Run:     cmdSessDetach}),
		s(&Spec{Name: "sess.attach", Arity: 5, Flags: FlagWrite | FlagFast | FlagBatch,
			Syntax:  "HANDLE handle OWNER id",
			Summary: "Gives a detached session of that owner a fresh token (older tokens stop) and attaches it again; null otherwise.",
			Example: "> SESS.ATTACH HANDLE q8fW2mJ0bYpT1sVxZ3cR9a OWNER user:42\n1) \"token\"\n2) \"Lm3...\"\n3) \"nonce\"\n4) (integer) 1\n5) \"expires\"\n6) (integer) 1754000003600",
			Run:     cmdSessAttach}),
		s(&Spec{Name: "sess.detached", Arity: -1, Flags: FlagReadonly,
			Syntax:  "[OWNER id]",
			Summary: "Handles of the detached sessions (of one owner, or all), from the detached index.",
			Example: "> SESS.DETACHED OWNER user:42\n1) \"q8fW2mJ0bYpT1sVxZ3cR9a\"",
			Run:     cmdSessDetached}),
		s(&Spec{Name: "sess.list", Arity: 3, Flags: FlagReadonly,
			Syntax:  "OWNER id",
			Summary: "The owner's sessions as SESS.INFO maps (never tokens), newest first, read from the owner index.",
			Example: "> SESS.LIST OWNER user:42\n1) 1) \"handle\"\n   2) \"q8fW2mJ0bYpT1sVxZ3cR9a\"\n   ...",
			Run:     cmdSessList}),
		s(&Spec{Name: "sess.revoke", Arity: -3, Flags: FlagWrite,
			Syntax:  "OWNER id [EXCEPT token] | HANDLE handle",
			Summary: "Revokes every session of an owner except the one EXCEPT names (\"log out everywhere else\"), or one session by handle; returns how many. A revoked session's token answers `revoked` for up to an hour.",
			Example: "> SESS.REVOKE OWNER user:42 EXCEPT Hk1x0...\n(integer) 2",
			Run:     cmdSessRevoke}),
		s(&Spec{Name: "sess.count", Arity: -1, Flags: FlagReadonly | FlagFast | FlagBatch,
			Syntax:  "[OWNER id]",
			Summary: "Number of live sessions (attached and detached), of one owner or of all.",
			Example: "> SESS.COUNT OWNER user:42\n(integer) 3",
			Run:     cmdSessCount}),
	)
	addInfoSection("sessions", true, infoSessions)
	onNewDispatcher(func(d *Dispatcher) {
		// The lifecycle stream is written by the engine (the expirer too):
		// it holds the key and cap, kept in step with the parameters.
		d.Config.Follow(func() {
			d.Engine.SetSessionEventStream(engine.SessionEventStream{
				Key: d.Config.Get("session-events-stream"), MaxLen: d.Config.Int("session-events-maxlen")})
		}, "session-events-stream", "session-events-maxlen")
	})
	onNewDispatcher(func(d *Dispatcher) {
		// Session events come from the expirer too, not only from commands:
		// the engine holds the switch, kept in step with the parameter.
		d.Config.Follow(func() { d.Engine.SetSessionEvents(d.Config.Bool("notify-session-events")) }, "notify-session-events")
	})
}

// maxTimeoutSec bounds timeout arguments (as the session-* parameters do).
const maxTimeoutSec = 1 << 40

// maxAppToken bounds an application-supplied token.
const maxAppToken = 1024

// sessPolicy reads the session-* parameters for one command.
func sessPolicy(c *Call) engine.SessionPolicy {
	cfg := c.d.Config
	return engine.SessionPolicy{
		RotateGrace:     cfg.Int("session-rotate-grace") * 1000,
		ReplayRevoke:    cfg.Bool("session-replay-revoke"),
		DetachedTimeout: cfg.Int("session-detached-timeout") * 1000,
		BindingRevoke:   cfg.Get("session-binding-mismatch") == "revoke",
	}
}

// bindArg consumes "BIND fingerprint" at args[*i] into pol (once) and
// reports whether it did.
func bindArg(c *Call, pol *engine.SessionPolicy, i *int) bool {
	if pol.HasBind || !keyword(c.Args[*i], "BIND") || *i+1 >= len(c.Args) {
		return false
	}
	pol.Bind, pol.HasBind = c.Arg(*i+1), true
	*i++
	return true
}

// ownerLimit reads session-max-per-owner and session-limit-policy.
func ownerLimit(c *Call) engine.OwnerLimit {
	cfg := c.d.Config
	return engine.OwnerLimit{Max: cfg.Int("session-max-per-owner"), Refuse: cfg.Get("session-limit-policy") == "refuse"}
}

// writeLimit answers a refusal by the owner limit: -LIMIT owner has reached N sessions.
func writeLimit(c *Call, err error) { c.W.Error(err.Error()) }

// timeoutArg parses a timeout in whole seconds (0 = none) into ms.
func timeoutArg(c *Call, i int) (int64, bool) {
	n, ok := parseInt(c.Args[i])
	if !ok {
		c.W.Error(msgNotInt)
		return 0, false
	}
	if n < 0 || n > maxTimeoutSec {
		c.W.Error(fmt.Sprintf(msgInvalidExpire, c.Spec.Name))
		return 0, false
	}
	return n * 1000, true
}

func randomToken(c *Call) (r [engine.TokenBytes]byte) {
	c.randRead(r[:])
	return
}

func randomHandle(c *Call) (r [engine.HandleBytes]byte) {
	c.randRead(r[:])
	return
}

func cmdSessNew(c *Call) {
	cfg := c.d.Config
	n := engine.NewSession{
		Idle:     cfg.Int("session-idle-timeout") * 1000,
		Absolute: cfg.Int("session-absolute-timeout") * 1000,
		Limit:    ownerLimit(c),
	}
	appToken := false
	for i := 1; i < len(c.Args); i++ {
		kw := upper(c.Args[i])
		if kw == "DETACHABLE" {
			n.Detachable = true
			continue
		}
		if kw == "META" {
			rest := c.Args[i+1:]
			if len(rest) == 0 || len(rest)%2 != 0 {
				c.W.Error(msgSyntax)
				return
			}
			for _, a := range rest {
				n.Meta = append(n.Meta, string(a))
			}
			break
		}
		if i+1 >= len(c.Args) {
			c.W.Error(msgSyntax)
			return
		}
		var ok bool
		switch kw {
		case "OWNER":
			n.Owner = c.Arg(i + 1)
		case "DATA":
			n.Data = c.Arg(i + 1)
		case "PREFIX":
			n.Prefix = c.Arg(i + 1)
		case "TOKEN":
			n.Token, appToken = c.Arg(i+1), true
			if len(n.Token) < engine.MinAppTokenLen || len(n.Token) > maxAppToken {
				c.W.Error(msgSessTokenLen)
				return
			}
		case "IDLE":
			if n.Idle, ok = timeoutArg(c, i+1); !ok {
				return
			}
		case "ABSOLUTE":
			if n.Absolute, ok = timeoutArg(c, i+1); !ok {
				return
			}
		case "BIND":
			n.Bind, n.HasBind = c.Arg(i+1), true
		case "MAXSESSIONS":
			m, ok := parseInt(c.Args[i+1])
			if !ok || m < 0 {
				c.W.Error(msgNotInt)
				return
			}
			n.Limit.Max = m
		default:
			c.W.Error(msgSyntax)
			return
		}
		i++
	}
	if !appToken {
		n.Token = engine.FormatToken(n.Prefix, randomToken(c))
	}
	n.Handle = engine.FormatHandle(randomHandle(c))
	var s engine.Session
	var refused error
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		s, err = tx.CreateSession(n)
		if engine.IsLimitError(err) {
			// A refusal is an answer, not a failed transaction: CreateSession
			// wrote nothing, and the expired sessions it reaped stay reaped.
			refused, err = err, nil
		}
		return err
	})
	if refused != nil {
		err = refused
	}
	switch {
	case err == engine.ErrTokenInUse:
		c.W.Null()
	case engine.IsLimitError(err):
		writeLimit(c, err)
	case err != nil:
		writeErr(c, err)
	default:
		c.W.Map(6)
		c.W.BulkString("token")
		c.W.BulkString(n.Token)
		c.W.BulkString("handle")
		c.W.BulkString(s.Handle)
		c.W.BulkString("nonce")
		c.W.Int(int64(s.Nonce))
		c.W.BulkString("expires")
		c.W.Int(s.Expires)
		c.W.BulkString("idle")
		c.W.Int(s.Idle)
		c.W.BulkString("absolute")
		c.W.Int(s.Absolute)
	}
}

func cmdSessGet(c *Call) {
	touch := c.d.Config.Bool("session-auto-touch")
	pol := sessPolicy(c)
	touchSet := false
	for i := 2; i < len(c.Args); i++ {
		switch {
		case !touchSet && keyword(c.Args[i], "NOTOUCH"):
			touch, touchSet = false, true
		case !touchSet && keyword(c.Args[i], "TOUCH"):
			touch, touchSet = true, true
		case bindArg(c, &pol, &i):
		default:
			c.W.Error(msgSyntax)
			return
		}
	}
	var data, handle string
	var r engine.Reason
	run := c.Read
	if touch || pol.HasBind {
		// A binding mismatch is always an event, and may revoke: a write.
		run = c.Write
	}
	tracking := c.d.tracking.active.Load()
	_ = run(func(tx *engine.Tx) error {
		data, r = tx.SessionGet(c.Arg(1), touch, pol)
		if tracking && r == engine.ReasonOK {
			s, _ := tx.AuthSession(c.Arg(1), pol)
			handle = s.Handle
		}
		return nil
	})
	if tracking {
		c.d.trackingRememberSession(c.Client, c.Arg(1), handle)
	}
	if r != engine.ReasonOK {
		c.W.Null()
		return
	}
	c.W.BulkString(data)
}

// handleForm reports whether the call is "CMD HANDLE h".
func handleForm(c *Call) (string, bool, bool) {
	switch {
	case len(c.Args) == 2:
		return "", false, true
	case len(c.Args) == 3 && keyword(c.Args[1], "HANDLE"):
		return c.Arg(2), true, true
	}
	c.W.Error(msgSyntax)
	return "", false, false
}

// sessInfo gathers what an info map shows, inside the transaction.
type sessInfo struct {
	s      engine.Session
	tokens int
	meta   []string
}

func gatherInfo(tx *engine.Tx, s engine.Session) sessInfo {
	return sessInfo{s: s, tokens: tx.SessionTokenCount(s.Handle), meta: tx.SessionMeta(s.Handle)}
}

func writeInfo(c *Call, in sessInfo) {
	s := in.s
	c.W.Map(12)
	c.W.BulkString("handle")
	c.W.BulkString(s.Handle)
	c.W.BulkString("owner")
	c.W.BulkString(s.Owner)
	c.W.BulkString("nonce")
	c.W.Int(int64(s.Nonce))
	c.W.BulkString("created")
	c.W.Int(s.Created)
	c.W.BulkString("last_seen")
	c.W.Int(s.LastSeen)
	c.W.BulkString("expires")
	c.W.Int(s.Expires)
	c.W.BulkString("idle")
	c.W.Int(s.Idle)
	c.W.BulkString("absolute")
	c.W.Int(s.Absolute)
	c.W.BulkString("detachable")
	c.W.Int(b2i64(s.Detachable))
	c.W.BulkString("detached")
	c.W.Int(b2i64(s.Detached))
	c.W.BulkString("tokens")
	c.W.Int(int64(in.tokens))
	c.W.BulkString("meta")
	c.W.Map(len(in.meta) / 2)
	for _, m := range in.meta {
		c.W.BulkString(m)
	}
}

func b2i64(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func cmdSessInfo(c *Call) {
	h, byHandle, ok := handleForm(c)
	if !ok {
		return
	}
	pol := sessPolicy(c)
	var in sessInfo
	found := false
	_ = c.Read(func(tx *engine.Tx) error {
		var s engine.Session
		if byHandle {
			s, found = tx.SessionByHandle(h)
		} else {
			var r engine.Reason
			s, r = tx.AuthSession(c.Arg(1), pol)
			found = r == engine.ReasonOK
		}
		if found {
			in = gatherInfo(tx, s)
		}
		return nil
	})
	if !found {
		c.W.Null()
		return
	}
	writeInfo(c, in)
}

// timeoutOptions parses [IDLE s] [ABSOLUTE s] from args[from:]; the allowed
// keywords are given.
func timeoutOptions(c *Call, from int, allowAbsolute bool) (idle, abs int64, ok bool) {
	return sessOptions(c, from, allowAbsolute, nil, nil)
}

// sessOptions parses [IDLE s] [ABSOLUTE s] and, when pol / owner are given,
// [BIND fingerprint] / [OWNER id] from args[from:].
func sessOptions(c *Call, from int, allowAbsolute bool, pol *engine.SessionPolicy, owner **string) (idle, abs int64, ok bool) {
	idle, abs = engine.Keep, engine.Keep
	for i := from; i < len(c.Args); i += 2 {
		if i+1 >= len(c.Args) {
			c.W.Error(msgSyntax)
			return 0, 0, false
		}
		var v int64
		switch {
		case pol != nil && !pol.HasBind && keyword(c.Args[i], "BIND"):
			pol.Bind, pol.HasBind = c.Arg(i+1), true
			continue
		case owner != nil && *owner == nil && keyword(c.Args[i], "OWNER"):
			o := c.Arg(i + 1)
			*owner = &o
			continue
		case keyword(c.Args[i], "IDLE"):
			if v, ok = timeoutArg(c, i+1); !ok {
				return
			}
			idle = v
		case allowAbsolute && keyword(c.Args[i], "ABSOLUTE"):
			if v, ok = timeoutArg(c, i+1); !ok {
				return
			}
			abs = v
		default:
			c.W.Error(msgSyntax)
			return 0, 0, false
		}
	}
	return idle, abs, true
}

func cmdSessSet(c *Call) {
	var owner *string
	idle, abs, ok := sessOptions(c, 3, true, nil, &owner)
	if !ok {
		return
	}
	pol := sessPolicy(c)
	lim := ownerLimit(c)
	var r engine.Reason
	var refused error
	_ = c.Write(func(tx *engine.Tx) error {
		r, refused = tx.SessionSetOwner(c.Arg(1), c.Arg(2), idle, abs, owner, lim, pol)
		return nil
	})
	if refused != nil {
		writeLimit(c, refused)
		return
	}
	c.W.Int(b2i64(r == engine.ReasonOK))
}

func cmdSessTouch(c *Call) {
	pol := sessPolicy(c)
	idle, _, ok := sessOptions(c, 2, false, &pol, nil)
	if !ok {
		return
	}
	var s engine.Session
	var r engine.Reason
	_ = c.Write(func(tx *engine.Tx) error {
		s, r = tx.SessionTouch(c.Arg(1), idle, pol)
		return nil
	})
	if r != engine.ReasonOK {
		c.W.Int(-2)
		return
	}
	c.W.Int(s.Remaining(c.NowMS()))
}

func cmdSessActive(c *Call) {
	owner, checkOwner := "", false
	switch {
	case len(c.Args) == 4 && keyword(c.Args[2], "OWNER"):
		owner, checkOwner = c.Arg(3), true
	case len(c.Args) != 2:
		c.W.Error(msgSyntax)
		return
	}
	pol := sessPolicy(c)
	active := false
	_ = c.Write(func(tx *engine.Tx) error {
		s, r := tx.AuthSession(c.Arg(1), pol)
		active = r == engine.ReasonOK && (!checkOwner || s.Owner == owner)
		return nil
	})
	c.W.Int(b2i64(active))
}

func writeFailure(c *Call, r engine.Reason) {
	c.W.Map(2)
	c.W.BulkString("ok")
	c.W.Int(0)
	c.W.BulkString("reason")
	c.W.BulkString(string(r))
}

func cmdSessValidate(c *Call) {
	rotate, withData := true, false
	pol := sessPolicy(c)
	for i := 3; i < len(c.Args); i++ {
		switch {
		case rotate && keyword(c.Args[i], "NOROTATE"):
			rotate = false
		case !withData && keyword(c.Args[i], "WITHDATA"):
			withData = true
		case bindArg(c, &pol, &i):
		default:
			c.W.Error(msgSyntax)
			return
		}
	}
	n, ok := parseInt(c.Args[2])
	if !ok {
		c.W.Error(msgNotInt)
		return
	}
	if n < 0 {
		n = 0 // nonces start at 1: a negative one is simply wrong
	}
	raw := randomToken(c)
	var res engine.ValidateResult
	var data string
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		res, err = tx.SessionValidate(c.Arg(1), uint64(n), rotate, raw, pol)
		if err == nil && withData && res.Reason == engine.ReasonOK {
			data = tx.SessionData(res.Handle)
		}
		return err
	})
	switch {
	case err != nil:
		writeErr(c, err)
	case res.Reason != engine.ReasonOK:
		writeFailure(c, res.Reason)
	default:
		// WITHDATA adds one field at the end, so a client reading the
		// reply by field name (RESP3 map, or RESP2 pairs) reads it alike.
		c.W.Map(4 + int(b2i64(withData)))
		c.W.BulkString("ok")
		c.W.Int(1)
		c.W.BulkString("token")
		c.W.BulkString(res.Token)
		c.W.BulkString("nonce")
		c.W.Int(int64(res.Nonce))
		c.W.BulkString("expires")
		c.W.Int(res.Expires)
		if withData {
			c.W.BulkString("data")
			c.W.BulkString(data)
		}
	}
}

func writeTokenNonceExpires(c *Call, token string, s engine.Session) {
	c.W.Map(3)
	c.W.BulkString("token")
	c.W.BulkString(token)
	c.W.BulkString("nonce")
	c.W.Int(int64(s.Nonce))
	c.W.BulkString("expires")
	c.W.Int(s.Expires)
}

func cmdSessRegenerate(c *Call) {
	pol := sessPolicy(c)
	raw := randomToken(c)
	var s engine.Session
	var next string
	var r engine.Reason
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		s, next, r, err = tx.SessionRegenerate(c.Arg(1), raw, pol)
		return err
	})
	switch {
	case err != nil:
		writeErr(c, err)
	case r != engine.ReasonOK:
		c.W.Null()
	default:
		writeTokenNonceExpires(c, next, s)
	}
}

func cmdSessDestroy(c *Call) {
	h, byHandle, ok := handleForm(c)
	if !ok {
		return
	}
	pol := sessPolicy(c)
	done := false
	_ = c.Write(func(tx *engine.Tx) error {
		if byHandle {
			done = tx.DestroySessionHandle(h)
		} else {
			done = tx.DestroySession(c.Arg(1), pol)
		}
		return nil
	})
	c.W.Int(b2i64(done))
}

func cmdSessTTL(c *Call) {
	pol := sessPolicy(c)
	var s engine.Session
	var r engine.Reason
	_ = c.Read(func(tx *engine.Tx) error {
		s, r = tx.AuthSession(c.Arg(1), pol)
		return nil
	})
	if r != engine.ReasonOK {
		c.W.Int(-2)
		return
	}
	c.W.Int(s.Remaining(c.NowMS()))
}

func cmdSessExpire(c *Call) {
	v, ok := timeoutArg(c, 3)
	if !ok {
		return
	}
	idle, abs := engine.Keep, engine.Keep
	switch {
	case keyword(c.Args[2], "IDLE"):
		idle = v
	case keyword(c.Args[2], "ABSOLUTE"):
		abs = v
	default:
		c.W.Error(msgSyntax)
		return
	}
	pol := sessPolicy(c)
	var r engine.Reason
	_ = c.Write(func(tx *engine.Tx) error {
		r = tx.SessionExpire(c.Arg(1), idle, abs, pol)
		return nil
	})
	c.W.Int(b2i64(r == engine.ReasonOK))
}

func cmdSessAllowDetach(c *Call) {
	pol := sessPolicy(c)
	done := false
	_ = c.Write(func(tx *engine.Tx) error {
		done = tx.SessionAllowDetach(c.Arg(1), pol)
		return nil
	})
	c.W.Int(b2i64(done))
}

func cmdSessDetach(c *Call) {
	pol := sessPolicy(c)
	done := false
	_ = c.Write(func(tx *engine.Tx) error {
		done = tx.SessionDetach(c.Arg(1), pol)
		return nil
	})
	c.W.Int(b2i64(done))
}

func cmdSessAttach(c *Call) {
	var h, owner string
	var haveH, haveO bool
	for i := 1; i+1 < len(c.Args); i += 2 {
		switch {
		case keyword(c.Args[i], "HANDLE") && !haveH:
			h, haveH = c.Arg(i+1), true
		case keyword(c.Args[i], "OWNER") && !haveO:
			owner, haveO = c.Arg(i+1), true
		default:
			c.W.Error(msgSyntax)
			return
		}
	}
	raw := randomToken(c)
	var s engine.Session
	var next string
	var ok bool
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		s, next, ok, err = tx.SessionAttach(h, owner, raw)
		return err
	})
	switch {
	case err != nil:
		writeErr(c, err)
	case !ok:
		c.W.Null()
	default:
		writeTokenNonceExpires(c, next, s)
	}
}

// ownerOption parses an optional "OWNER id" at args[1:].
func ownerOption(c *Call) (owner string, has, ok bool) {
	switch {
	case len(c.Args) == 1:
		return "", false, true
	case len(c.Args) == 3 && keyword(c.Args[1], "OWNER"):
		return c.Arg(2), true, true
	}
	c.W.Error(msgSyntax)
	return "", false, false
}

func cmdSessDetached(c *Call) {
	owner, has, ok := ownerOption(c)
	if !ok {
		return
	}
	var out []string
	_ = c.Read(func(tx *engine.Tx) error {
		out = tx.DetachedSessions(owner, !has)
		return nil
	})
	c.W.BulkStrings(out)
}

func cmdSessList(c *Call) {
	if !keyword(c.Args[1], "OWNER") {
		c.W.Error(msgSyntax)
		return
	}
	var list []sessInfo
	_ = c.Read(func(tx *engine.Tx) error {
		for _, s := range tx.OwnerSessions(c.Arg(2)) {
			list = append(list, gatherInfo(tx, s))
		}
		return nil
	})
	c.W.Array(len(list))
	for _, in := range list {
		writeInfo(c, in)
	}
}

func cmdSessRevoke(c *Call) {
	switch {
	case len(c.Args) == 3 && keyword(c.Args[1], "HANDLE"):
		done := false
		_ = c.Write(func(tx *engine.Tx) error {
			done = tx.RevokeSession(c.Arg(2))
			return nil
		})
		c.W.Int(b2i64(done))
		return
	case keyword(c.Args[1], "OWNER") && (len(c.Args) == 3 || len(c.Args) == 5 && keyword(c.Args[3], "EXCEPT")):
	default:
		c.W.Error(msgSyntax)
		return
	}
	except := ""
	if len(c.Args) == 5 {
		except = c.Arg(4)
	}
	n := 0
	_ = c.Write(func(tx *engine.Tx) error {
		n = tx.RevokeOwner(c.Arg(2), except)
		return nil
	})
	c.W.Int(int64(n))
}

func cmdSessCount(c *Call) {
	owner, has, ok := ownerOption(c)
	if !ok {
		return
	}
	var n int64
	_ = c.Read(func(tx *engine.Tx) error {
		if has {
			n = int64(tx.CountOwnerSessions(owner))
		} else {
			n, _, _ = tx.SessionCounts()
		}
		return nil
	})
	c.W.Int(n)
}

func infoSessions(c *Call, b *strings.Builder) {
	d := c.d
	var live, owners, detached int64
	_ = c.Read(func(tx *engine.Tx) error {
		live, owners, detached = tx.SessionCounts()
		return nil
	})
	st := d.Engine.SessionStats()
	fmt.Fprintf(b, "sessions:%d\r\nsession_owners:%d\r\nsessions_detached:%d\r\n", live, owners, detached)
	fmt.Fprintf(b, "sessions_created:%d\r\nsessions_expired:%d\r\nsessions_destroyed:%d\r\nsessions_revoked:%d\r\n",
		st.Created.Load(), st.Expired.Load(), st.Destroyed.Load(), st.Revoked.Load())
	fmt.Fprintf(b, "sessions_rotated:%d\r\nsessions_replayed:%d\r\nsessions_regenerated:%d\r\nsessions_detached_total:%d\r\nsessions_attached_total:%d\r\n",
		st.Rotated.Load(), st.Replayed.Load(), st.Regenerated.Load(), st.Detached.Load(), st.Attached.Load())
	fmt.Fprintf(b, "sessions_limit_evicted:%d\r\nsessions_limit_refused:%d\r\nsessions_binding_mismatch:%d\r\nsession_events_stream_errors:%d\r\n",
		st.LimitEvicted.Load(), st.LimitRefused.Load(), st.BindingMismatch.Load(), d.Engine.SessionEventStreamErrors())
	fmt.Fprintf(b, "sessions_evicted:%d\r\n", st.Evicted.Load())
}
