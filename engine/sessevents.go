package engine

// Session lifecycle events: published on `__sessions__` (notify-session-events,
// fire-and-forget) and, when a stream key is configured
// (session-events-stream), appended in the same transaction to a capped
// Redis stream in database 0 with the fields event, handle, owner, reason and
// at (Unix ms). The stream is an ordinary stream key: XREAD, XREADGROUP and
// XACK read it, and it is in the data file with the change it records, so a
// consumer that was down reads every event it missed. Never a token.
//
// Every event of every path goes through sessEmit, including the expirer's
// (expiry is a write transaction of its own, see expireBatch), so the stream
// holds the expiries too, written by the transaction that reaps the session.

import (
	"strconv"
	"sync/atomic"
)

// SessionEventStream says where lifecycle events are appended: Key ""
// means nowhere. MaxLen caps the stream (exact MAXLEN trimming; 0 = no cap).
type SessionEventStream struct {
	Key    string
	MaxLen int64
}

type sessStreamState struct {
	cfg    atomic.Pointer[SessionEventStream]
	errors atomic.Int64 // appends that failed (the key holds another type)
}

// SetSessionEventStream sets the stream lifecycle events are appended to
// (session-events-stream, session-events-maxlen); Key "" turns it off. It
// takes effect from the next transaction.
func (e *Engine) SetSessionEventStream(s SessionEventStream) {
	if s.Key == "" {
		e.sess.stream.cfg.Store(nil)
		return
	}
	e.sess.stream.cfg.Store(&s)
}

// SessionEventStreamErrors returns how many events could not be appended
// to the stream because its key holds a value of another type. The session
// change itself is kept: an audit log that cannot be written must not stop
// the expirer nor log users out.
func (e *Engine) SessionEventStreamErrors() int64 { return e.sess.stream.errors.Load() }

// sessEv is one lifecycle event.
type sessEv struct {
	name, handle, owner, reason string
	// streamOnly events have no session to name on `__sessions__` (a refused
	// SESS.NEW): they go to the stream only.
	streamOnly bool
}

// sessEvent emits an event of the session with this handle, with no reason.
// The owner is looked up for the stream (the session may be gone already;
// callers that have the session use sessEmit).
func (tx *Tx) sessEvent(name, handle string) {
	ev := sessEv{name: name, handle: handle}
	if tx.e.sess.stream.cfg.Load() != nil {
		if s, r := tx.getSession(handle); r == ReasonOK {
			ev.owner = s.Owner
		}
	}
	tx.sessEmit(ev)
}

// sessEventOf emits an event of session s with a reason.
func (tx *Tx) sessEventOf(name string, s *Session, reason string) {
	tx.sessEmit(sessEv{name: name, handle: s.Handle, owner: s.Owner, reason: reason})
}

func (tx *Tx) sessEmit(ev sessEv) {
	if ev.handle != "" {
		tx.sessionChanged(ev.handle) // CLIENT TRACKING of SESS.GET
	}
	if !tx.writable {
		return
	}
	if !ev.streamOnly && tx.e.sess.events.Load() {
		tx.Emit(Event{Class: 'S', Name: ev.name, Key: ev.handle})
	}
	cfg := tx.e.sess.stream.cfg.Load()
	if cfg == nil {
		return
	}
	a := XAddArgs{}
	if cfg.MaxLen > 0 {
		a.Trim = XTrimArgs{Strategy: 'M', MaxLen: cfg.MaxLen}
	}
	fields := []string{"event", ev.name, "handle", ev.handle, "owner", ev.owner,
		"reason", ev.reason, "at", strconv.FormatInt(tx.Now, 10)}
	if _, _, err := tx.XAdd(0, cfg.Key, a, fields); err != nil {
		tx.e.sess.stream.errors.Add(1)
	}
}

// expiryReason says which deadline ended an expired session: "detached"
// (a detached session's deadline), "absolute" or "idle".
func expiryReason(s *Session) string {
	switch {
	case s.Detached:
		return "detached"
	case s.Absolute > 0 && s.Expires == s.Created+s.Absolute:
		return "absolute"
	}
	return "idle"
}
