package engine

// Native sessions (SESS.*).
//
// # API for dependants (TOK.*, SESS.JWT/REFRESH/VERIFY)
//
//   - tx.SessionByHandle(handle) (Session, bool): a session that exists and has
//     not expired (attached or detached). VERIFY uses it for the `sid` claim.
//   - tx.SessionByToken(HashToken(token)) (Session, bool): the session whose
//     CURRENT token has that hash (no grace, no reasons), attached or detached.
//   - tx.AuthSession(token, policy) (Session, Reason): what every SESS command
//     does with a presented token: rotated-out tokens within the grace work,
//     later ones are replays (revoked with policy.ReplayRevoke in a write
//     transaction), detached sessions do not authenticate. Use it for
//     `TOK.ADD ... SESSION sesstoken` and `SESS.JWT token`.
//   - e.OnSessionEnd(fn): fn runs INSIDE the transaction that ends a session,
//     whatever ends it (destroy, revoke, replay, expiry — lazy or active), after
//     the session's own records are gone and before the transaction commits;
//     delete or disown dependants there so they die in the same transaction.
//     Register it from a declareOpen hook (engine/tokens.go, engine/jwt.go).
//     FLUSHALL runs no hooks: it deletes every native record at once.
//   - e.OnSessionOwnerChange(fn): fn runs inside the transaction that gives a
//     session another owner (SESS.SET ... OWNER), the session's own indexes
//     already moved; tokens.go moves the tokens the session holds.
//   - e.SetSessionTokenCounter(fn): the `tokens` field of SESS.INFO (number of
//     transition tokens bound to a session); 0 until someone registers.
//   - Inside the engine, tx.getSession(handle) (with the `expired` reason),
//     tx.touchSession(&s) and tx.endSession(s, why) are stable helpers for
//     the other families.
//
// # Layout (reserved databases, invisible to KEYS/SCAN/DBSIZE/FLUSHDB;
// FLUSHALL clears them)
//
//	"k" 0xF0 handle                session record (TypeSession); its header
//	                               deadline is the session's expiry, so the shared
//	                               expiry wheel and the active expirer reap it
//	"c" 0xF0 len handle "d"        data blob larger than InlineDataMax (smaller
//	                               ones are in the record; a large one stays out
//	                               of it so that a touch does not rewrite it)
//	"c" 0xF0 len handle "m"        META pairs
//	"c" 0xF0 len handle "t" gen    SHA-256 of each rotated-out token the session
//	                               still remembers, by generation (the current
//	                               token's hash is in the record)
//	"k" 0xF1 sha256(token)         token entry (TypeSessionToken): handle and state
//	                               (current, rotated-out, revoked tombstone)
//	"c" 0xF2 ulen owner handle     owner index (no deadline)
//	"c" 0xF3 ulen owner handle     detached index
//	"c" 0xF4 "n"                   counters of older versions: deleted by Open (the
//	                               counts are kept in memory, see sessCounters)
//	"c" 0xF4 len("l"+owner) ...    the owners' last-use index (sesslimit.go)
//
// Databases 0xF5 and up are free for the other native families.
//
// Only SHA-256 of a token is stored. A rotated-out token entry also holds its
// successor sealed with a key derived from the rotated-out token itself
// (successor XOR HMAC-SHA256(old token, label)), so within the grace a holder
// of the old token gets the same successor back, and the data file alone
// reveals no live token.
//
// Ending a session (any cause) deletes its record, its children, its token
// entries and its index entries in the same transaction, then runs the
// OnSessionEnd hooks. A revoked session (REVOKE, replay) leaves one
// tombstone: its current token's entry, marked revoked, with a deadline of
// min(former expiry, now+RevokedTombstoneTTL), so that token answers
// `revoked` instead of `unknown` for a while; the expirer reaps it.
// An expired session is reported `expired` while its record waits for the
// expirer (lazy detection), `unknown` once reaped: expiry leaves nothing.

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/tidwall/buntdb"
)

// Record types of the session namespace.
const (
	TypeSession      byte = 'S' // session record, db dbSession
	TypeSessionToken byte = 'K' // token hash entry, db dbSessionToken
)

// Reserved databases of the session namespace.
const (
	dbSession      = 0xF0
	dbSessionToken = 0xF1
	dbSessionOwner = 0xF2
	dbSessionDet   = 0xF3
	dbSessionMeta  = 0xF4
)

// TokenBytes is the number of random bytes in a session token (256 bits).
const TokenBytes = 32

// HandleBytes is the number of random bytes in a session handle.
const HandleBytes = 16

// MinAppTokenLen is the shortest token an application may supply (SESS.NEW TOKEN).
const MinAppTokenLen = 22

// RevokedTombstoneTTL (ms) caps how long a revoked session's current token
// answers `revoked` rather than `unknown`.
const RevokedTombstoneTTL int64 = 3600 * 1000

// MaxRememberedTokens bounds the rotated-out tokens a session keeps for replay
// detection; the oldest are forgotten first (they then answer `unknown`).
var MaxRememberedTokens uint64 = 256

// Keep as a timeout argument leaves the timeout unchanged.
const Keep int64 = -1

// Errors of session creation.
var (
	ErrTokenInUse  = errors.New("ERR token already in use")
	ErrHandleInUse = errors.New("ERR session handle collision, retry")
)

// Reason says why a token did not authenticate ("" = it did).
type Reason string

// Reasons, as the commands reply them (`ok 0 reason R`).
const (
	ReasonOK       Reason = ""
	ReasonUnknown  Reason = "unknown"
	ReasonExpired  Reason = "expired"
	ReasonNonce    Reason = "nonce"
	ReasonReplayed Reason = "replayed"
	ReasonDetached Reason = "detached"
	ReasonRevoked  Reason = "revoked"
	ReasonLimit    Reason = "limit"   // evicted by the owner's session limit
	ReasonBinding  Reason = "binding" // the presented fingerprint does not match (BIND)
)

// SessionEndReason says why a session ended (OnSessionEnd, events).
type SessionEndReason int

const (
	SessionDestroyed    SessionEndReason = iota // SESS.DESTROY
	SessionExpired                              // idle, absolute or detached deadline passed
	SessionRevoked                              // SESS.REVOKE OWNER / HANDLE
	SessionReplayed                             // a rotated-out token was replayed (session-replay-revoke)
	SessionFlushed                              // flushed with its database
	SessionLimit                                // evicted by its owner's session limit (evict-oldest)
	SessionBinding                              // revoked on a binding mismatch (session-binding-mismatch revoke)
	SessionRefreshReuse                         // revoked because a used refresh token was presented again
	SessionEvicted                              // removed by maxmemory eviction
)

// revokes reports whether a session ending this way leaves a tombstone (its
// token answers a reason rather than `unknown`) and ends its dependants as
// revoked.
func (r SessionEndReason) revokes() bool {
	switch r {
	case SessionRevoked, SessionReplayed, SessionLimit, SessionBinding, SessionRefreshReuse:
		return true
	}
	return false
}

func (r SessionEndReason) String() string {
	switch r {
	case SessionDestroyed:
		return "destroyed"
	case SessionExpired:
		return "expired"
	case SessionRevoked:
		return "revoked"
	case SessionReplayed:
		return "replayed"
	case SessionFlushed:
		return "flushed"
	case SessionLimit:
		return "limit"
	case SessionBinding:
		return "binding"
	case SessionRefreshReuse:
		return "refresh-reuse"
	case SessionEvicted:
		return "evicted"
	}
	return "unknown"
}

// Session is a decoded session record. Times are Unix ms, durations ms,
// 0 meaning none.
type Session struct {
	Handle     string
	Owner      string // "" = none
	Prefix     string // prefix of server-drawn tokens (rotation, regeneration)
	Nonce      uint64
	Created    int64
	LastSeen   int64
	Idle       int64
	Absolute   int64
	Detachable bool
	Detached   bool
	DetachedAt int64
	Expires    int64    // the deadline: min(LastSeen+Idle, Created+Absolute); see deadline
	TokenHash  [32]byte // SHA-256 of the current token

	detachedUntil int64    // detached: DetachedAt + session-detached-timeout (0 none)
	gen           uint64   // generation of the current token
	oldest        uint64   // oldest generation possibly remembered
	inline        bool     // data is in the record (small), else in the "d" child
	item          string   // the record's buntdb key, once built (getSession)
	meta          bool     // has a META child (true when unknown: records of older versions)
	deps          byte     // dependants it may have (sessDep*; all when unknown)
	data          string   // the data when inline
	bound         bool     // created with BIND: bindHash is SHA-256 of the fingerprint
	bindHash      [32]byte // (record version 2)
	// lruAt is the slot (lruSlot of a last_seen, never later than the
	// current one) under which the session is filed in its owner's last-use
	// index, 0 when it is not filed (no owner, or a record of version 1 not
	// migrated yet). Stored in the record (version 2). See sesslimit.go.
	lruAt int64
}

// Dependants a session may have, as bits of its record's flags byte. The
// OnSessionEnd hooks of tokens and JWT each cost a lookup; a session that
// never had a bound token or a refresh family skips them. A bit is set (and
// the record written) the first time, and stays; see markSessionDeps.
const (
	sessDepTokens byte = 32 // a transition token was bound to it (tokens.go)
	sessDepJWT    byte = 64 // it had a refresh family (jwt.go)
)

// markSessionDeps records in the session's record that it may have
// dependants of kind bit. It reads the record afresh (the caller's copy may
// predate other writes of this transaction) and remembers the mark in the
// transaction, so that a later write from any copy keeps it (putSession).
func (tx *Tx) markSessionDeps(handle string, bit byte) {
	if tx.sessDeps[handle]&bit != 0 {
		return
	}
	s, r := tx.getSession(handle)
	if r != ReasonOK {
		return
	}
	if tx.sessDeps == nil {
		tx.sessDeps = map[string]byte{}
	}
	tx.sessDeps[handle] |= bit
	if s.deps&bit == 0 {
		tx.putSession(&s)
	}
}

// InlineDataMax is the largest data blob kept inside the session record.
// Small blobs ride along (one item less, one lookup less per GET); larger
// ones live in a child so that a touch does not rewrite them.
const InlineDataMax = 512

// SessionPolicy carries the config the session operations read; the command
// layer fills it from session-* parameters.
type SessionPolicy struct {
	RotateGrace     int64 // ms a rotated-out token keeps working (session-rotate-grace)
	ReplayRevoke    bool  // revoke the session on replay (session-replay-revoke)
	DetachedTimeout int64 // ms a detached session lives at most (session-detached-timeout; 0 none)
	// Bind, with HasBind, is the fingerprint the request presents (BIND):
	// a session created with another one does not authenticate
	// (ReasonBinding), and with BindingRevoke (session-binding-mismatch
	// revoke) it is revoked in a write transaction. Without HasBind the
	// fingerprint is not checked.
	Bind          string
	HasBind       bool
	BindingRevoke bool
}

// SessionStats are lifetime counters (since start) for INFO sessions.
type SessionStats struct {
	Created, Expired, Destroyed, Revoked, Rotated, Replayed, Regenerated, Detached, Attached atomic.Int64
	// LimitEvicted counts sessions revoked by an evict-oldest owner limit,
	// LimitRefused creations refused by a refuse one, BindingMismatch
	// requests whose fingerprint did not match.
	LimitEvicted, LimitRefused, BindingMismatch atomic.Int64
	// Evicted counts sessions ended by maxmemory eviction.
	Evicted atomic.Int64
}

type sessionState struct {
	mu      sync.RWMutex
	onEnd   []func(tx *Tx, s Session, reason SessionEndReason)
	onOwner []func(tx *Tx, s Session, oldOwner string)
	counter func(tx *Tx, handle string) int
	events  atomic.Bool
	stats   SessionStats
	work    atomic.Int64
	counts  sessCounters
	stream  sessStreamState
}

func init() {
	declareOpen(func(e *Engine) {
		e.OnDrop(TypeSession, func(tx *Tx, r Record, reason DropReason) {
			s, ok := decodeSession(r.Key, r.Payload)
			if !ok {
				return
			}
			s.Expires = r.Deadline
			// Delete the record first: the end hooks must not see it (and an
			// expired record met again would be expired again).
			tx.sessDel(r.item)
			why := SessionDestroyed
			switch reason {
			case DropExpired:
				why = SessionExpired
			case DropFlushed:
				why = SessionFlushed
			case DropEvicted:
				why = SessionEvicted
			}
			tx.cleanupSession(s, why)
		})
	})
}

// OnSessionEnd registers fn to run inside the transaction whenever a session
// ends: destroyed, revoked (owner, handle, replay), expired or flushed. When
// it runs the session's own records and index entries are already deleted;
// fn must not end other sessions' dependants' sessions recursively.
func (e *Engine) OnSessionEnd(fn func(tx *Tx, s Session, reason SessionEndReason)) {
	e.sess.mu.Lock()
	e.sess.onEnd = append(e.sess.onEnd, fn)
	e.sess.mu.Unlock()
}

// OnSessionOwnerChange registers fn to run inside the transaction that gives
// a session another owner (SESS.SET ... OWNER), after the session's own
// indexes are updated: s carries the new owner. Dependants that keep the
// session's owner (bound transition tokens) follow it there.
func (e *Engine) OnSessionOwnerChange(fn func(tx *Tx, s Session, oldOwner string)) {
	e.sess.mu.Lock()
	e.sess.onOwner = append(e.sess.onOwner, fn)
	e.sess.mu.Unlock()
}

// SetSessionTokenCounter registers the function SESS.INFO's `tokens` field
// reads: the number of transition tokens bound to a session.
func (e *Engine) SetSessionTokenCounter(fn func(tx *Tx, handle string) int) {
	e.sess.mu.Lock()
	e.sess.counter = fn
	e.sess.mu.Unlock()
}

// SetSessionEvents turns session lifecycle events (Class 'S') on or off
// (notify-session-events).
func (e *Engine) SetSessionEvents(on bool) { e.sess.events.Store(on) }

// SessionStats returns the session counters.
func (e *Engine) SessionStats() *SessionStats { return &e.sess.stats }

// SessionWork returns how many buntdb items the session code has read
// (records, index entries). Tests use it to show that a listing reads an
// index and not every session.
func (e *Engine) SessionWork() int64 { return e.sess.work.Load() }

// HashToken returns SHA-256 of a token: the only form in which the server keeps it.
func HashToken(token string) [32]byte {
	if len(token) <= 128 {
		var buf [128]byte // tokens are ~43 bytes: hash them from the stack
		return sha256.Sum256(append(buf[:0], token...))
	}
	return sha256.Sum256([]byte(token))
}

// FormatToken builds a token from random bytes: prefix + base64url(raw).
func FormatToken(prefix string, raw [TokenBytes]byte) string {
	return prefix + base64.RawURLEncoding.EncodeToString(raw[:])
}

// FormatHandle builds a session handle from random bytes (22 characters).
func FormatHandle(raw [HandleBytes]byte) string {
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

// deadline computes the session's expiry from its fields.
func (s *Session) deadline() int64 {
	var d int64
	if s.Absolute > 0 {
		d = s.Created + s.Absolute
	}
	if s.Detached {
		if s.detachedUntil > 0 && (d == 0 || s.detachedUntil < d) {
			d = s.detachedUntil
		}
		return d
	}
	if s.Idle > 0 {
		if i := s.LastSeen + s.Idle; d == 0 || i < d {
			d = i
		}
	}
	return d
}

// Remaining returns the ms left at now (-1 when the session never expires).
func (s *Session) Remaining(now int64) int64 {
	if s.Expires == 0 {
		return -1
	}
	if s.Expires < now {
		return 0
	}
	return s.Expires - now
}

// ---- encoding ----

// sessionVersion is the encoding of new records. Version 2 added, after the
// token generations, the slot of the session's entry in its owner's
// last-use index and the binding (a flags byte, then SHA-256 of the
// fingerprint when bound); Open migrates version 1 records
// (migrateSessions).
const sessionVersion = 2

func encodeSession(s *Session) string {
	return string(appendSession(make([]byte, 0, 128+len(s.Owner)+len(s.Prefix)+len(s.data)), s))
}

// sessionRecord is encodeRecord(TypeSession, s.Expires, encodeSession(s)) in
// one allocation: the record is rewritten by every touch.
func sessionRecord(s *Session) string {
	b := make([]byte, headerLen, headerLen+128+len(s.Owner)+len(s.Prefix)+len(s.data))
	b[0] = TypeSession
	binary.BigEndian.PutUint64(b[1:headerLen], uint64(s.Expires))
	b = appendSession(b, s)
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func appendSession(b []byte, s *Session) []byte {
	b = append(b, sessionVersion)
	b = appendStr(b, s.Owner)
	b = appendStr(b, s.Prefix)
	b = binary.AppendUvarint(b, s.Nonce)
	b = binary.AppendUvarint(b, uint64(s.Created))
	b = binary.AppendUvarint(b, uint64(s.LastSeen))
	b = binary.AppendUvarint(b, uint64(s.Idle))
	b = binary.AppendUvarint(b, uint64(s.Absolute))
	var flags byte
	if s.Detachable {
		flags |= 1
	}
	if s.Detached {
		flags |= 2
	}
	if s.inline {
		flags |= 4
	}
	if s.meta {
		flags |= 8
	}
	flags |= s.deps & (sessDepTokens | sessDepJWT)
	flags |= 16 // bits 8, 32 and 64 are known (versions before them set none of 8-64)
	b = append(b, flags)
	b = binary.AppendUvarint(b, uint64(s.DetachedAt))
	b = binary.AppendUvarint(b, uint64(s.detachedUntil))
	b = append(b, s.TokenHash[:]...)
	b = binary.AppendUvarint(b, s.gen)
	b = binary.AppendUvarint(b, s.oldest)
	b = binary.AppendUvarint(b, uint64(s.lruAt))
	var ext byte
	if s.bound {
		ext |= 1
	}
	b = append(b, ext)
	if s.bound {
		b = append(b, s.bindHash[:]...)
	}
	if s.inline {
		b = appendStr(b, s.data)
	}
	return b
}

func decodeSession(handle, payload string) (Session, bool) {
	d := decoder{s: payload}
	v := d.byte1()
	if v != 1 && v != sessionVersion {
		return Session{}, false
	}
	s := Session{Handle: handle}
	s.Owner = d.str()
	s.Prefix = d.str()
	s.Nonce = d.uvarint()
	s.Created = int64(d.uvarint())
	s.LastSeen = int64(d.uvarint())
	s.Idle = int64(d.uvarint())
	s.Absolute = int64(d.uvarint())
	flags := d.byte1()
	s.Detachable, s.Detached, s.inline = flags&1 != 0, flags&2 != 0, flags&4 != 0
	s.meta = flags&8 != 0 || flags&16 == 0
	s.deps = flags & (sessDepTokens | sessDepJWT)
	if flags&16 == 0 {
		s.deps = sessDepTokens | sessDepJWT
	}
	s.DetachedAt = int64(d.uvarint())
	s.detachedUntil = int64(d.uvarint())
	copy(s.TokenHash[:], d.bytes(32))
	s.gen = d.uvarint()
	s.oldest = d.uvarint()
	if v >= 2 {
		s.lruAt = int64(d.uvarint())
		ext := d.byte1()
		if ext&1 != 0 {
			s.bound = true
			copy(s.bindHash[:], d.bytes(32))
		}
	}
	if s.inline {
		s.data = d.str()
	}
	return s, !d.bad
}

// token entry states
const (
	tokCurrent = 'c'
	tokRotated = 'r'
	tokRevoked = 'x'
	tokLimited = 'l' // a tombstone of a session evicted by its owner's limit
)

// tombstone reports whether the entry is a revoked session's tombstone.
func (t *sessTokenEntry) tombstone() bool { return t.state == tokRevoked || t.state == tokLimited }

type sessTokenEntry struct {
	state     byte
	gen       uint64
	handle    string
	rotatedAt int64  // tokRotated: when
	nonceAt   uint64 // tokRotated: the nonce it was rotated with
	sealed    string // tokRotated: the successor's random bytes, sealed
	deadline  int64
}

func encodeTokenEntry(t *sessTokenEntry) string {
	b := make([]byte, 0, 64+len(t.handle))
	b = append(b, 1, t.state)
	b = binary.AppendUvarint(b, t.gen)
	b = appendStr(b, t.handle)
	if t.state == tokRotated {
		b = binary.AppendUvarint(b, uint64(t.rotatedAt))
		b = binary.AppendUvarint(b, t.nonceAt)
		b = append(b, t.sealed...)
	}
	return string(b)
}

func decodeTokenEntry(payload string) (sessTokenEntry, bool) {
	d := decoder{s: payload}
	if d.byte1() != 1 {
		return sessTokenEntry{}, false
	}
	t := sessTokenEntry{state: d.byte1()}
	t.gen = d.uvarint()
	t.handle = d.str()
	if t.state == tokRotated {
		t.rotatedAt = int64(d.uvarint())
		t.nonceAt = d.uvarint()
		t.sealed = d.bytes(TokenBytes)
	}
	return t, !d.bad
}

// seal XORs the successor's random bytes with a key only the holder of the
// old token can derive. Each old token seals exactly one successor.
func sealSuccessor(oldToken string, raw []byte) string {
	m := hmac.New(sha256.New, []byte(oldToken))
	m.Write([]byte("sessiond rotate successor v1"))
	k := m.Sum(nil)
	out := make([]byte, len(raw))
	for i := range raw {
		out[i] = raw[i] ^ k[i%len(k)]
	}
	return string(out)
}

// ---- keys ----

func sessionKey(handle string) string { return itemKey(dbSession, handle) }

func sessTokenKey(h [32]byte) string { return itemKey(dbSessionToken, string(h[:])) }

// sessOwnerPrefix is the prefix of an owner's entries in the owner or
// detached index. Index entries are "c" items: they carry no deadline.
func sessOwnerPrefix(db int, owner string) string { return childPrefix(db, owner) }

func sessChild(handle, sub string) string { return childPrefix(dbSession, handle) + sub }

func sessGenChild(handle string, gen uint64) string {
	var g [8]byte
	binary.BigEndian.PutUint64(g[:], gen)
	return sessChild(handle, "t"+string(g[:]))
}

// sessCounterKey is the counters record of older versions, deleted by Open.
var sessCounterKey = string([]byte{'c', dbSessionMeta, 'n'})

// ---- low-level access ----

func (tx *Tx) sessGet(item string) (string, bool) {
	tx.e.sess.work.Add(1)
	v, err := tx.bt.Get(item, true)
	return v, err == nil
}

func (tx *Tx) sessSet(item, val string) {
	if item[0] == 'k' {
		tx.setItem(item, val)
		return
	}
	_, _, _ = tx.bt.Set(item, val, nil)
	tx.wrote = true
}

func (tx *Tx) sessDel(item string) {
	if _, err := tx.bt.Delete(item); err == nil {
		tx.wrote = true
	}
}

// getSession returns the session record of handle; an expired one is
// reported (and reaped: now in a write transaction, right after a read one).
func (tx *Tx) getSession(handle string) (Session, Reason) {
	// A seek rather than a Get (the same descent): it yields buntdb's own key
	// string, which putSession then writes with, so the record keeps the key
	// string its expiry hint holds instead of a copy per touch.
	ik := sessionKey(handle)
	tx.e.sess.work.Add(1)
	var v string
	ok := false
	tx.bt.AscendGreaterOrEqual("", ik, func(k, val string) bool {
		if k == ik {
			ik, v, ok = k, val, true
		}
		return false
	})
	if !ok {
		return Session{}, ReasonUnknown
	}
	r := decodeRecord(ik, v)
	if r.Type != TypeSession {
		return Session{}, ReasonUnknown
	}
	s, ok := decodeSession(handle, r.Payload)
	if !ok {
		return Session{}, ReasonUnknown
	}
	s.Expires, s.item = r.Deadline, ik
	if expired(r.Deadline, tx.Now) {
		if tx.writable {
			tx.expireRecord(r)
		} else {
			tx.noteExpired(ik)
		}
		return Session{}, ReasonExpired
	}
	return s, ReasonOK
}

// putSession writes the record with its deadline recomputed.
func (tx *Tx) putSession(s *Session) {
	s.Expires = s.deadline()
	s.deps |= tx.sessDeps[s.Handle]
	if s.item == "" {
		s.item = sessionKey(s.Handle)
	}
	tx.fileLRU(s)
	tx.sessSet(s.item, sessionRecord(s))
}

func (tx *Tx) getTokenEntry(h [32]byte) (sessTokenEntry, bool) {
	ik := sessTokenKey(h)
	v, ok := tx.sessGet(ik)
	if !ok {
		return sessTokenEntry{}, false
	}
	r := decodeRecord(ik, v)
	if expired(r.Deadline, tx.Now) {
		if tx.writable {
			tx.expireRecord(r)
		} else {
			tx.noteExpired(ik)
		}
		return sessTokenEntry{}, false
	}
	t, ok := decodeTokenEntry(r.Payload)
	t.deadline = r.Deadline
	return t, ok
}

func (tx *Tx) putTokenEntry(h [32]byte, t *sessTokenEntry) {
	tx.sessSet(sessTokenKey(h), encodeRecord(TypeSessionToken, t.deadline, encodeTokenEntry(t)))
}

// claimItem writes val at item unless a live record is there, and reports
// whether it did. The write comes first and what it replaced decides (one
// B-tree descent where a lookup and a write were two); when something was
// there it is put back and looked up as before (live() does that, expiring
// an expired record), so a refused claim changes nothing.
func (tx *Tx) claimItem(item, val string, live func() bool) bool {
	prev, had := tx.setItemPrev(item, val)
	if !had {
		return true
	}
	tx.setItem(item, prev)
	if live() {
		return false
	}
	tx.setItem(item, val)
	return true
}

// claimToken writes the entry of a new current token h (generation gen) of
// the session with this handle, unless the hash is known (live, rotated-out
// or tombstoned).
func (tx *Tx) claimToken(h [32]byte, gen uint64, handle string) bool {
	val := encodeRecord(TypeSessionToken, 0, encodeTokenEntry(&sessTokenEntry{state: tokCurrent, gen: gen, handle: handle}))
	return tx.claimItem(sessTokenKey(h), val, func() bool {
		_, ok := tx.getTokenEntry(h)
		return ok
	})
}

// addToken makes token the session's current token (generation s.gen+1).
// The current token is found through the record; rotated-out ones through
// the "t" children (retireToken).
func (tx *Tx) addToken(s *Session, h [32]byte) {
	tx.putTokenEntry(h, &sessTokenEntry{state: tokCurrent, gen: s.gen + 1, handle: s.Handle})
	tx.adoptToken(s, h)
}

// adoptToken makes h the session's current token once its entry is written
// (addToken, claimToken).
func (tx *Tx) adoptToken(s *Session, h [32]byte) {
	s.gen++
	s.TokenHash = h
	for s.gen-s.oldest >= MaxRememberedTokens {
		tx.forgetGen(s.Handle, s.oldest)
		s.oldest++
	}
}

// retireToken remembers the session's current token as rotated-out (its
// entry already rewritten by the caller).
func (tx *Tx) retireToken(s *Session) {
	tx.sessSet(sessGenChild(s.Handle, s.gen), string(s.TokenHash[:]))
}

// forgetGen deletes one remembered token of a session.
func (tx *Tx) forgetGen(handle string, gen uint64) {
	ck := sessGenChild(handle, gen)
	if v, ok := tx.sessGet(ck); ok {
		var h [32]byte
		copy(h[:], v)
		tx.sessDel(sessTokenKey(h))
		tx.sessDel(ck)
	}
}

// forgetAllTokens deletes every remembered token of the session (REGENERATE,
// ATTACH: the old tokens stop at once).
func (tx *Tx) forgetAllTokens(s *Session) {
	prefix := sessChild(s.Handle, "t")
	var keys, hashes []string
	tx.bt.AscendGreaterOrEqual("", prefix, func(k, v string) bool {
		if !strings.HasPrefix(k, prefix) {
			return false
		}
		keys = append(keys, k)
		hashes = append(hashes, v)
		return true
	})
	for i := range keys {
		tx.sessDel(itemKey(dbSessionToken, hashes[i]))
		tx.sessDel(keys[i])
	}
	tx.sessDel(sessTokenKey(s.TokenHash))
	s.oldest = s.gen + 1
}

// counters
//
// The counts of sessions, owners and detached sessions are kept in memory
// (a counters record rewritten by every create and end was two B-tree
// operations and one more logged record per command). A transaction
// accumulates its changes in Tx.sessDelta; they are added to the engine's
// counts when its function returns without error, still under the lock, and
// taken back if the commit then fails. Open counts them from the records.

type sessCountRec struct{ live, owners, detached int64 }

type sessCounters struct{ live, owners, detached atomic.Int64 }

func (tx *Tx) sessCounts() sessCountRec {
	c := &tx.e.sess.counts
	d := tx.sessDelta
	return sessCountRec{max(0, c.live.Load()+d.live), max(0, c.owners.Load()+d.owners), max(0, c.detached.Load()+d.detached)}
}

func (tx *Tx) sessAddCounts(live, owners, detached int64) {
	tx.sessDelta.live += live
	tx.sessDelta.owners += owners
	tx.sessDelta.detached += detached
}

// applySessCounts adds the transaction's count changes to the engine's
// (sign -1 takes them back).
func (tx *Tx) applySessCounts(sign int64) {
	d := tx.sessDelta
	if d == (sessCountRec{}) {
		return
	}
	c := &tx.e.sess.counts
	c.live.Add(sign * d.live)
	c.owners.Add(sign * d.owners)
	c.detached.Add(sign * d.detached)
}

// countSessions sets the counts from the records (Open): session records,
// detached index entries, and distinct owners of the owner index. It also
// deletes the counters record older versions kept ("c" 0xF4 "n").
func (e *Engine) countSessions() error {
	if err := e.migrateSessions(); err != nil {
		return err
	}
	var c sessCountRec
	return e.db.Update(func(bt *buntdb.Tx) error {
		count := func(prefix string, fn func(k string)) {
			bt.AscendGreaterOrEqual("", prefix, func(k, _ string) bool {
				if !strings.HasPrefix(k, prefix) {
					return false
				}
				fn(k)
				return true
			})
		}
		count(dbPrefix(dbSession), func(string) { c.live++ })
		count(string([]byte{'c', dbSessionDet}), func(string) { c.detached++ })
		last := ""
		count(string([]byte{'c', dbSessionOwner}), func(k string) {
			d := decoder{s: k[2:]}
			owner := d.str()
			if d.bad || owner != last || c.owners == 0 {
				c.owners++
			}
			last = owner
		})
		e.sess.counts.live.Store(c.live)
		e.sess.counts.owners.Store(c.owners)
		e.sess.counts.detached.Store(c.detached)
		if _, err := bt.Delete(sessCounterKey); err != nil && err != buntdb.ErrNotFound {
			return err
		}
		e.points.del(sessCounterKey)
		return nil
	})
}

// sessHasPrefix reports whether any item starts with prefix (one seek).
func (tx *Tx) sessHasPrefix(prefix string) bool {
	found := false
	tx.bt.AscendGreaterOrEqual("", prefix, func(k, _ string) bool {
		found = strings.HasPrefix(k, prefix)
		return false
	})
	return found
}

// sessIndexWalk calls fn with the handle of each entry of an owner/detached index
// under prefix.
func (tx *Tx) sessIndexWalk(prefix string, fn func(handle string) bool) {
	tx.bt.AscendGreaterOrEqual("", prefix, func(k, _ string) bool {
		if !strings.HasPrefix(k, prefix) {
			return false
		}
		tx.e.sess.work.Add(1)
		return fn(k[len(prefix):])
	})
}

// cleanupSession deletes everything of a session but its record, updates the
// counters and runs the OnSessionEnd hooks. Every way a session ends goes
// through here (the record itself is deleted by the caller).
func (tx *Tx) cleanupSession(s Session, why SessionEndReason) {
	s.deps |= tx.sessDeps[s.Handle]
	// One walk over the session's children: data, meta and the remembered
	// rotated-out tokens, whose entries go too. The record says whether
	// there are any: most sessions (small data, no META, not rotated) have
	// none, and skip the walk.
	if !s.inline || s.meta || s.gen > s.oldest {
		prefix := childPrefix(dbSession, s.Handle)
		tprefix := prefix + "t"
		var children, hashes []string
		tx.bt.AscendGreaterOrEqual("", prefix, func(k, v string) bool {
			if !strings.HasPrefix(k, prefix) {
				return false
			}
			children = append(children, k)
			if strings.HasPrefix(k, tprefix) {
				hashes = append(hashes, v)
			}
			return true
		})
		for _, h := range hashes {
			tx.sessDel(itemKey(dbSessionToken, h))
		}
		for _, k := range children {
			tx.sessDel(k)
		}
	}
	if why.revokes() {
		// The current token's entry becomes the tombstone (one write where
		// a delete and a write were).
		dl := tx.Now + RevokedTombstoneTTL
		if s.Expires != 0 && s.Expires < dl {
			dl = s.Expires
		}
		state := byte(tokRevoked)
		if why == SessionLimit {
			state = tokLimited
		}
		tx.putTokenEntry(s.TokenHash, &sessTokenEntry{state: state, handle: s.Handle, deadline: dl})
	} else {
		tx.sessDel(sessTokenKey(s.TokenHash))
	}
	var dOwners, dDet int64
	if s.Owner != "" {
		op := sessOwnerPrefix(dbSessionOwner, s.Owner)
		tx.sessDel(op + s.Handle)
		// RevokeOwner checks once, after the last of the owner's sessions.
		if s.Owner != tx.sessRevoking && !tx.sessHasPrefix(op) {
			dOwners = -1
		}
	}
	if s.Detached {
		tx.sessDel(sessOwnerPrefix(dbSessionDet, s.Owner) + s.Handle)
		dDet = -1
	}
	tx.sessAddCounts(-1, dOwners, dDet)
	st := &tx.e.sess.stats
	switch why {
	case SessionExpired:
		st.Expired.Add(1)
	case SessionDestroyed:
		st.Destroyed.Add(1)
	case SessionEvicted:
		st.Evicted.Add(1)
	default:
		if why.revokes() {
			st.Revoked.Add(1)
		}
	}
	tx.sessDelLRU(&s)
	if why != SessionFlushed {
		// The event names what happened (every revocation is `revoked`),
		// the reason why (which deadline, which kind of revocation).
		name, reason := why.String(), why.String()
		if why.revokes() {
			name = "revoked"
		}
		if why == SessionExpired {
			reason = expiryReason(&s)
		}
		tx.sessEventOf(name, &s, reason)
	}
	tx.e.sess.mu.RLock()
	hooks := tx.e.sess.onEnd
	tx.e.sess.mu.RUnlock()
	for _, fn := range hooks {
		fn(tx, s, why)
	}
}

// endSession ends a live session for a reason other than expiry.
func (tx *Tx) endSession(s Session, why SessionEndReason) {
	tx.sessDel(sessionKey(s.Handle))
	tx.cleanupSession(s, why)
}

// ---- lookups for dependants ----

// SessionByHandle returns the live (not expired) session with this handle,
// attached or detached.
func (tx *Tx) SessionByHandle(handle string) (Session, bool) {
	s, r := tx.getSession(handle)
	return s, r == ReasonOK
}

// SessionByToken returns the live session whose current token hashes to h
// (see HashToken), attached or detached. Rotated-out tokens do not count;
// use AuthSession for the full rules.
func (tx *Tx) SessionByToken(h [32]byte) (Session, bool) {
	t, ok := tx.getTokenEntry(h)
	if !ok || t.state != tokCurrent {
		return Session{}, false
	}
	return tx.SessionByHandle(t.handle)
}

// AuthSession resolves a presented token with every rule of the SESS
// commands: the current token of an attached session authenticates; a
// rotated-out one does within pol.RotateGrace of its rotation and is a replay
// afterwards (in a write transaction with pol.ReplayRevoke the session is
// then revoked); a detached session's tokens answer ReasonDetached.
func (tx *Tx) AuthSession(token string, pol SessionPolicy) (Session, Reason) {
	s, _, r := tx.authSession(token, pol)
	return s, r
}

func (tx *Tx) authSession(token string, pol SessionPolicy) (Session, sessTokenEntry, Reason) {
	h := HashToken(token)
	t, ok := tx.getTokenEntry(h)
	if !ok {
		return Session{}, t, ReasonUnknown
	}
	if t.tombstone() {
		if t.state == tokLimited {
			return Session{}, t, ReasonLimit
		}
		return Session{}, t, ReasonRevoked
	}
	s, r := tx.getSession(t.handle)
	if r != ReasonOK {
		return Session{}, t, r
	}
	if s.Detached {
		return s, t, ReasonDetached
	}
	if t.state == tokRotated && tx.Now > t.rotatedAt+pol.RotateGrace {
		tx.e.sess.stats.Replayed.Add(1)
		tx.sessEventOf("replayed", &s, "")
		if tx.writable && pol.ReplayRevoke {
			tx.endSession(s, SessionReplayed)
		}
		return Session{}, t, ReasonReplayed
	}
	if pol.HasBind && s.bound && !bindingMatches(&s, pol.Bind) {
		tx.e.sess.stats.BindingMismatch.Add(1)
		action := "reject"
		if pol.BindingRevoke {
			action = "revoke"
		}
		tx.sessEventOf("binding", &s, action)
		if tx.writable && pol.BindingRevoke {
			tx.endSession(s, SessionBinding)
		}
		return Session{}, t, ReasonBinding
	}
	return s, t, ReasonOK
}

// bindingMatches compares the fingerprint's hash with the session's in
// constant time (the hash of a fingerprint is no secret, but its timing
// should not help anyone guess how close a forged one is).
func bindingMatches(s *Session, fp string) bool {
	h := HashToken(fp)
	return subtle.ConstantTimeCompare(h[:], s.bindHash[:]) == 1
}

// touch moves the idle deadline to now+idle.
func (tx *Tx) touchSession(s *Session) {
	s.LastSeen = tx.Now
	tx.putSession(s)
}

// ---- operations (one per command) ----

// NewSession describes a session to create. Handle and Token come from the
// caller (FormatHandle / FormatToken over crypto/rand bytes, or an
// application's token).
type NewSession struct {
	Handle     string
	Token      string
	Owner      string
	Data       string
	Prefix     string
	Idle       int64 // ms, 0 none
	Absolute   int64 // ms, 0 none
	Detachable bool
	Meta       []string // field, value, ...
	// Bind, with HasBind, is the client fingerprint the session is bound
	// to: only its SHA-256 is stored, and a request that presents another
	// fingerprint answers ReasonBinding.
	Bind    string
	HasBind bool
	// Limit is the owner's concurrent-session limit for this creation.
	Limit OwnerLimit
}

// CreateSession creates a session with nonce 1. It fails with ErrTokenInUse
// when the token's hash is known (live, rotated-out or tombstoned), and
// with a *LimitError when n.Limit refuses one more session of the owner; it
// then writes nothing. Under an evict-oldest limit it revokes the owner's
// least recently used sessions first (see makeRoom).
func (tx *Tx) CreateSession(n NewSession) (Session, error) {
	h := HashToken(n.Token)
	s := Session{Handle: n.Handle, Owner: n.Owner, Prefix: n.Prefix, Nonce: 1,
		Created: tx.Now, LastSeen: tx.Now, Idle: n.Idle, Absolute: n.Absolute,
		Detachable: n.Detachable, gen: 1, oldest: 1, TokenHash: h, inline: true,
		meta: len(n.Meta) > 0, deps: tx.sessDeps[n.Handle]}
	if n.HasBind {
		s.bound, s.bindHash = true, HashToken(n.Bind)
	}
	if s.Owner != "" {
		s.lruAt = lruSlot(s.LastSeen) // filed below, with the owner index entry
	}
	if len(n.Data) <= InlineDataMax {
		s.data = n.Data
	} else {
		s.inline = false
	}
	// The token's entry and the session record are claimed by writing them
	// (their final contents: the record is complete already); a refused
	// claim leaves nothing written.
	if !tx.claimToken(h, s.gen, s.Handle) {
		return Session{}, ErrTokenInUse
	}
	s.Expires = s.deadline()
	if !tx.claimItem(sessionKey(s.Handle), sessionRecord(&s), func() bool {
		_, r := tx.getSession(s.Handle)
		return r == ReasonOK
	}) {
		tx.sessDel(sessTokenKey(h))
		return Session{}, ErrHandleInUse
	}
	if err := tx.makeRoom(s.Owner, s.Handle, n.Limit); err != nil {
		tx.sessDel(sessionKey(s.Handle))
		tx.sessDel(sessTokenKey(h))
		return Session{}, err
	}
	if !s.inline {
		tx.sessSet(sessChild(s.Handle, "d"), n.Data)
	}
	if s.meta {
		var b []byte
		b = binary.AppendUvarint(b, uint64(len(n.Meta)))
		for _, m := range n.Meta {
			b = appendStr(b, m)
		}
		tx.sessSet(sessChild(s.Handle, "m"), string(b))
	}
	var dOwners int64
	if s.Owner != "" {
		op := sessOwnerPrefix(dbSessionOwner, s.Owner)
		if !tx.sessHasPrefix(op) {
			dOwners = 1
		}
		tx.sessSet(op+s.Handle, "")
		tx.sessSet(lruEntry(s.Owner, s.lruAt, s.Handle), "")
	}
	tx.sessAddCounts(1, dOwners, 0)
	tx.e.sess.stats.Created.Add(1)
	tx.sessEventOf("created", &s, "")
	return s, nil
}

// SessionData returns the data blob of the live session with this handle
// ("" when none).
func (tx *Tx) SessionData(handle string) string {
	s, r := tx.getSession(handle)
	if r != ReasonOK {
		return ""
	}
	return tx.sessionData(&s)
}

func (tx *Tx) sessionData(s *Session) string {
	if s.inline {
		return s.data
	}
	v, _ := tx.sessGet(sessChild(s.Handle, "d"))
	return v
}

// setSessionData stores data inline or in the "d" child; the caller writes
// the record afterwards.
func (tx *Tx) setSessionData(s *Session, data string) {
	tx.sessionChanged(s.Handle)
	if len(data) <= InlineDataMax {
		if !s.inline {
			tx.sessDel(sessChild(s.Handle, "d"))
		}
		s.data, s.inline = data, true
		return
	}
	tx.sessSet(sessChild(s.Handle, "d"), data)
	s.data, s.inline = "", false
}

// SessionMeta returns the session's META pairs (field, value, ...).
func (tx *Tx) SessionMeta(handle string) []string {
	v, ok := tx.sessGet(sessChild(handle, "m"))
	if !ok {
		return nil
	}
	d := decoder{s: v}
	n := d.uvarint()
	if n > uint64(len(v)) {
		return nil
	}
	out := make([]string, 0, n)
	for i := uint64(0); i < n && !d.bad; i++ {
		out = append(out, d.str())
	}
	if d.bad {
		return nil
	}
	return out
}

// SessionTokenCount is SESS.INFO's `tokens`: transition tokens bound to the session.
func (tx *Tx) SessionTokenCount(handle string) int {
	tx.e.sess.mu.RLock()
	fn := tx.e.sess.counter
	tx.e.sess.mu.RUnlock()
	if fn == nil {
		return 0
	}
	return fn(tx, handle)
}

// SessionGet returns the data of the session the token authenticates,
// touching it when touch is set (write transaction).
func (tx *Tx) SessionGet(token string, touch bool, pol SessionPolicy) (string, Reason) {
	s, r := tx.AuthSession(token, pol)
	if r != ReasonOK {
		return "", r
	}
	if touch {
		tx.touchSession(&s)
	}
	return tx.sessionData(&s), ReasonOK
}

// SessionSet replaces the data, optionally sets the idle / absolute timeouts
// (ms, Keep for unchanged), and touches. A new absolute deadline already
// past ends the session (expired) and still reports success.
func (tx *Tx) SessionSet(token, data string, idle, absolute int64, pol SessionPolicy) Reason {
	r, _ := tx.SessionSetOwner(token, data, idle, absolute, nil, OwnerLimit{}, pol)
	return r
}

// SessionSetOwner is SessionSet that also gives the session to *owner when
// owner is not nil ("" = no owner), re-indexed in the same transaction (the
// login of an anonymous session). The new owner's limit lim applies as it
// does to SESS.NEW, never revoking the session being moved; a refusal (a
// *LimitError) changes nothing.
func (tx *Tx) SessionSetOwner(token, data string, idle, absolute int64, owner *string, lim OwnerLimit, pol SessionPolicy) (Reason, error) {
	s, r := tx.AuthSession(token, pol)
	if r != ReasonOK {
		return r, nil
	}
	if owner != nil {
		if err := tx.moveOwner(&s, *owner, lim); err != nil {
			return r, err
		}
	}
	tx.setSessionData(&s, data)
	tx.setTimeouts(&s, idle, absolute, true)
	return ReasonOK, nil
}

// setTimeouts applies timeouts, optionally touching, and writes the session
// (or ends it when its new deadline has passed).
func (tx *Tx) setTimeouts(s *Session, idle, absolute int64, touch bool) {
	if idle != Keep {
		s.Idle = idle
	}
	if absolute != Keep {
		s.Absolute = absolute
	}
	if touch {
		s.LastSeen = tx.Now
	}
	if d := s.deadline(); expired(d, tx.Now) {
		s.Expires = d
		tx.sessDel(sessionKey(s.Handle))
		tx.cleanupSession(*s, SessionExpired)
		return
	}
	tx.putSession(s)
}

// SessionTouch optionally sets the idle timeout and touches; it returns the
// session as it is now.
func (tx *Tx) SessionTouch(token string, idle int64, pol SessionPolicy) (Session, Reason) {
	s, r := tx.AuthSession(token, pol)
	if r != ReasonOK {
		return s, r
	}
	tx.setTimeouts(&s, idle, Keep, true)
	return s, ReasonOK
}

// SessionExpire sets the idle or absolute timeout (ms, Keep for unchanged)
// without touching. A deadline already past ends the session.
func (tx *Tx) SessionExpire(token string, idle, absolute int64, pol SessionPolicy) Reason {
	s, r := tx.AuthSession(token, pol)
	if r != ReasonOK {
		return r
	}
	tx.setTimeouts(&s, idle, absolute, false)
	return ReasonOK
}

// ValidateResult is SESS.VALIDATE's answer.
type ValidateResult struct {
	Reason  Reason // ReasonOK on success
	Handle  string // the session's handle on success (SessionData reads its data)
	Token   string // the token to use next
	Nonce   uint64 // the nonce to use next
	Expires int64
}

// SessionValidate checks (token, nonce). On success the nonce advances and,
// when rotate is set, the token is replaced by FormatToken(prefix, raw); the
// old token keeps answering for pol.RotateGrace, a repeat of the same
// (token, nonce) within it returning the same successor.
func (tx *Tx) SessionValidate(token string, nonce uint64, rotate bool, raw [TokenBytes]byte, pol SessionPolicy) (ValidateResult, error) {
	s, t, r := tx.authSession(token, pol)
	if r != ReasonOK {
		return ValidateResult{Reason: r}, nil
	}
	if t.state == tokRotated {
		// A repeat within the grace: the same successor, whatever happened since.
		if nonce != t.nonceAt {
			return ValidateResult{Reason: ReasonNonce}, nil
		}
		var succ [TokenBytes]byte
		copy(succ[:], sealSuccessor(token, []byte(t.sealed)))
		tx.touchSession(&s)
		return ValidateResult{Handle: s.Handle, Token: FormatToken(s.Prefix, succ), Nonce: nonce + 1, Expires: s.Expires}, nil
	}
	if nonce != s.Nonce {
		return ValidateResult{Reason: ReasonNonce}, nil
	}
	s.Nonce++
	next := token
	if rotate {
		next = FormatToken(s.Prefix, raw)
		nh := HashToken(next)
		if !tx.claimToken(nh, s.gen+1, s.Handle) {
			return ValidateResult{}, ErrTokenInUse
		}
		t.state, t.rotatedAt, t.nonceAt = tokRotated, tx.Now, nonce
		t.sealed = sealSuccessor(token, raw[:])
		tx.putTokenEntry(HashToken(token), &t)
		tx.retireToken(&s)
		tx.adoptToken(&s, nh)
		tx.e.sess.stats.Rotated.Add(1)
		tx.sessEventOf("rotated", &s, "")
	}
	tx.touchSession(&s)
	return ValidateResult{Handle: s.Handle, Token: next, Nonce: s.Nonce, Expires: s.Expires}, nil
}

// SessionRegenerate gives the session a new token FormatToken(prefix, raw);
// every older token stops at once. Handle, data, owner and nonce stay.
func (tx *Tx) SessionRegenerate(token string, raw [TokenBytes]byte, pol SessionPolicy) (Session, string, Reason, error) {
	s, r := tx.AuthSession(token, pol)
	if r != ReasonOK {
		return s, "", r, nil
	}
	next := FormatToken(s.Prefix, raw)
	nh := HashToken(next)
	if _, ok := tx.getTokenEntry(nh); ok {
		return s, "", ReasonOK, ErrTokenInUse
	}
	tx.forgetAllTokens(&s)
	tx.addToken(&s, nh)
	tx.touchSession(&s)
	tx.e.sess.stats.Regenerated.Add(1)
	tx.sessEventOf("regenerated", &s, "")
	return s, next, ReasonOK, nil
}

// DestroySession ends the session the token authenticates.
func (tx *Tx) DestroySession(token string, pol SessionPolicy) bool {
	s, r := tx.AuthSession(token, pol)
	if r != ReasonOK {
		return false
	}
	tx.endSession(s, SessionDestroyed)
	return true
}

// DestroySessionHandle ends the session with this handle (attached or detached).
func (tx *Tx) DestroySessionHandle(handle string) bool {
	s, ok := tx.SessionByHandle(handle)
	if !ok {
		return false
	}
	tx.endSession(s, SessionDestroyed)
	return true
}

// RevokeSession revokes the session with this handle: like destroy, but its
// current token answers `revoked` for a while.
func (tx *Tx) RevokeSession(handle string) bool {
	s, ok := tx.SessionByHandle(handle)
	if !ok {
		return false
	}
	tx.endSession(s, SessionRevoked)
	return true
}

// RevokeOwner revokes every session of owner (attached or detached) except
// the one exceptToken names (any of its remembered tokens; "" for none). It
// reads the owner index only.
func (tx *Tx) RevokeOwner(owner, exceptToken string) int {
	keep := ""
	if exceptToken != "" {
		if t, ok := tx.getTokenEntry(HashToken(exceptToken)); ok && !t.tombstone() {
			keep = t.handle
		}
	}
	var handles []string
	tx.sessIndexWalk(sessOwnerPrefix(dbSessionOwner, owner), func(h string) bool {
		if h != keep {
			handles = append(handles, h)
		}
		return true
	})
	n := 0
	had := len(handles) > 0
	prev := tx.sessRevoking
	tx.sessRevoking = owner
	for _, h := range handles {
		if tx.RevokeSession(h) {
			n++
		}
	}
	tx.sessRevoking = prev
	if had && owner != prev && !tx.sessHasPrefix(sessOwnerPrefix(dbSessionOwner, owner)) {
		tx.sessAddCounts(0, -1, 0)
	}
	return n
}

// SessionAllowDetach marks the session detachable.
func (tx *Tx) SessionAllowDetach(token string, pol SessionPolicy) bool {
	s, r := tx.AuthSession(token, pol)
	if r != ReasonOK {
		return false
	}
	if !s.Detachable {
		s.Detachable = true
		tx.putSession(&s)
	}
	return true
}

// SessionDetach logs a detachable session out but keeps it: its tokens stop
// authenticating (they answer `detached`), it no longer idles out, and it
// lives until its absolute deadline or pol.DetachedTimeout from now.
func (tx *Tx) SessionDetach(token string, pol SessionPolicy) bool {
	s, r := tx.AuthSession(token, pol)
	if r != ReasonOK || !s.Detachable {
		return false
	}
	s.Detached, s.DetachedAt, s.detachedUntil = true, tx.Now, 0
	if pol.DetachedTimeout > 0 {
		s.detachedUntil = tx.Now + pol.DetachedTimeout
	}
	tx.sessSet(sessOwnerPrefix(dbSessionDet, s.Owner)+s.Handle, "")
	tx.sessAddCounts(0, 0, 1)
	tx.putSession(&s)
	tx.e.sess.stats.Detached.Add(1)
	tx.sessEventOf("detached", &s, "")
	return true
}

// SessionAttach gives a detached session of owner a fresh token
// FormatToken(prefix, raw); its older tokens stop. It reports false when the
// handle names no detached session of that owner (an ownerless session
// cannot be attached: nobody can prove it is theirs).
func (tx *Tx) SessionAttach(handle, owner string, raw [TokenBytes]byte) (Session, string, bool, error) {
	s, ok := tx.SessionByHandle(handle)
	if !ok || !s.Detached || s.Owner == "" || s.Owner != owner {
		return Session{}, "", false, nil
	}
	next := FormatToken(s.Prefix, raw)
	nh := HashToken(next)
	if _, ok := tx.getTokenEntry(nh); ok {
		return Session{}, "", false, ErrTokenInUse
	}
	tx.sessDel(sessOwnerPrefix(dbSessionDet, s.Owner) + s.Handle)
	tx.sessAddCounts(0, 0, -1)
	s.Detached, s.DetachedAt, s.detachedUntil = false, 0, 0
	tx.forgetAllTokens(&s)
	tx.addToken(&s, nh)
	tx.touchSession(&s)
	tx.e.sess.stats.Attached.Add(1)
	tx.sessEventOf("attached", &s, "")
	return s, next, true, nil
}

// DetachedSessions lists the handles of detached sessions, of one owner or
// (all) of everyone, from the detached index.
func (tx *Tx) DetachedSessions(owner string, all bool) []string {
	prefix := sessOwnerPrefix(dbSessionDet, owner)
	if all {
		prefix = string([]byte{'c', dbSessionDet})
	}
	var out []string
	tx.sessIndexWalk(prefix, func(k string) bool {
		h := k
		if all {
			d := decoder{s: k}
			d.str()
			if d.bad {
				return true
			}
			h = d.s
		}
		if _, r := tx.getSession(h); r == ReasonOK {
			out = append(out, h)
		}
		return true
	})
	return out
}

// OwnerSessions returns the owner's live sessions, newest first, reading the
// owner index only.
func (tx *Tx) OwnerSessions(owner string) []Session {
	var out []Session
	tx.sessIndexWalk(sessOwnerPrefix(dbSessionOwner, owner), func(h string) bool {
		if s, r := tx.getSession(h); r == ReasonOK {
			out = append(out, s)
		}
		return true
	})
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Created != out[j].Created {
			return out[i].Created > out[j].Created
		}
		return out[i].Handle > out[j].Handle
	})
	return out
}

// CountOwnerSessions counts the owner's live sessions (attached or detached).
func (tx *Tx) CountOwnerSessions(owner string) int {
	n := 0
	tx.sessIndexWalk(sessOwnerPrefix(dbSessionOwner, owner), func(h string) bool {
		if _, r := tx.getSession(h); r == ReasonOK {
			n++
		}
		return true
	})
	return n
}

// SessionCounts returns the number of sessions (including expired ones the
// expirer has not reaped yet, as DBSIZE counts keys), of distinct owners, and
// of detached sessions. O(1): a counter record kept in every transaction.
func (tx *Tx) SessionCounts() (sessions, owners, detached int64) {
	c := tx.sessCounts()
	return c.live, c.owners, c.detached
}

// SessionFootprint counts every item of the session namespace except the
// counters record: records, children, token entries (tombstones included)
// and index entries. Tests use it to show that ending a session leaves
// nothing behind.
func (tx *Tx) SessionFootprint() int {
	n := 0
	for _, p := range []string{dbPrefix(dbSession), dbPrefix(dbSessionToken), string([]byte{'c', dbSession}),
		string([]byte{'c', dbSessionOwner}), string([]byte{'c', dbSessionDet}), string([]byte{'c', dbSessionMeta})} {
		tx.bt.AscendGreaterOrEqual("", p, func(k, _ string) bool {
			if !strings.HasPrefix(k, p) {
				return false
			}
			n++
			return true
		})
	}
	return n
}
