package engine

// Transition tokens (TOK.*): seed 002's TokenTables.
//
// A transition token is a capability string the application holds (TOK.NEW
// draws one, or the application forms its own), carrying a value and its own
// timeout, under a session or an owner:
//
//   - free: no session; optionally an owner. Lives until its timeout or
//     TOK.DESTROY.
//   - session-bound (not transferable, added with a session): dies in the
//     transaction that ends its session, whatever ends it (destroy, revoke,
//     replay, expiry), even when its own timeout is longer.
//   - transferable: held by a session, by an owner alone (after a transfer),
//     or by nobody ("unassigned"). When its session ends it becomes
//     unassigned and waits its disown timeout (its own DISOWNTIMEOUT, else
//     TokenPolicy.DisownTimeout) for TOK.ACQUIRE, then expires.
//   - sellable: a transferable token may carry a sellable mark with an
//     optional decimal amount, kept as the text given.
//
// # Layout (reserved databases, invisible to KEYS/SCAN/DBSIZE/FLUSHDB;
// FLUSHALL clears them)
//
//	"k" 0xF5 sha256(token)              token record (TypeToken); its header
//	                                    deadline is the token's effective expiry
//	                                    (own timeout, or the end of its disown
//	                                    wait when unassigned), so the shared expiry
//	                                    index and the active expirer reap it
//	"k" 0xF6 ulen handle kind sha256    session index: kind 'b' bound, 't' transferable
//	"k" 0xF7 ulen owner sha256          owner index
//	"k" 0xF8 "s" sha256                 sellable index
//	"k" 0xF8 "u" sha256                 unassigned index
//	"k" 0xF9 "n"                        counters: live, bound, transferable,
//	                                    unassigned, sellable
//
// Index entries are TypeTokenIndex records with no deadline. Every mapping
// (session -> tokens, transferable tokens of a session, owner -> tokens,
// sellable, unassigned) is one prefix walk; a token's own mappings (owner,
// session) are in its record. The index entries of a token are a function
// of its state (tokIndexKeys), and every write goes through tokWrite, which
// applies the difference, so the indexes and counters cannot drift; a drop
// hook removes them whenever the record goes (destroy, expiry, session end).
//
// The record is keyed by SHA-256 of the token, so index entries have a fixed
// size whatever the token's length, but the token itself is kept in clear in
// the record: TOK.LIST returns tokens (COMMANDS.md), and a transition token is
// a capability the application already holds and hands around, not an
// authentication secret like a session token (which is stored only as a hash).

import (
	"encoding/binary"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// Record types of the token namespace.
const (
	TypeToken      byte = 'T' // token record, db dbToken
	TypeTokenIndex byte = 'U' // index entries and counters
)

// Reserved databases of the token namespace.
const (
	dbToken      = 0xF5
	dbTokSession = 0xF6
	dbTokOwner   = 0xF7
	dbTokList    = 0xF8
	dbTokMeta    = 0xF9
)

// session index kinds
const (
	tokKindBound        = 'b'
	tokKindTransferable = 't'
)

// DefaultDisownTimeout (ms) is the disown wait used until SetTokenPolicy is
// called (token-disown-timeout's default).
const DefaultDisownTimeout int64 = 3600 * 1000

// TokenPolicy carries the config the token code reads outside any command
// (a session may end in the active expirer); the command layer supplies it.
type TokenPolicy struct {
	// DisownTimeout is how long (ms) an unassigned transferable token waits
	// for TOK.ACQUIRE when it has no DISOWNTIMEOUT of its own; 0 = forever
	// (until its own timeout).
	DisownTimeout int64
}

// TokenStats are lifetime counters (since start) for INFO tokens.
type TokenStats struct {
	Added, Acquired, Transferred, Disowned, Expired, Destroyed, EndedWithSession atomic.Int64
}

type tokenState struct {
	mu     sync.RWMutex
	policy func() TokenPolicy
	stats  TokenStats
	work   atomic.Int64
}

func init() {
	declareOpen(func(e *Engine) {
		e.OnDrop(TypeToken, func(tx *Tx, r Record, reason DropReason) {
			t, ok := decodeTok(r.Payload)
			if !ok {
				return
			}
			t.hash = tokHashOf(r.Key)
			tx.tokUnindex(&t, nil)
			if reason == DropExpired {
				tx.e.tok.stats.Expired.Add(1)
			}
		})
		e.OnSessionEnd(func(tx *Tx, s Session, _ SessionEndReason) {
			if s.deps&sessDepTokens != 0 {
				tx.tokSessionEnded(s)
			}
		})
		e.OnSessionOwnerChange(func(tx *Tx, s Session, _ string) {
			if s.deps&sessDepTokens != 0 {
				tx.tokSessionOwnerChanged(s)
			}
		})
		e.SetSessionTokenCounter(func(tx *Tx, handle string) int {
			return len(tx.tokWalkLive(tokSessionPrefix(handle, 0)))
		})
	})
}

// SetTokenPolicy registers the function the token code reads its policy
// from (token-disown-timeout). It is called inside transactions: keep it cheap.
func (e *Engine) SetTokenPolicy(fn func() TokenPolicy) {
	e.tok.mu.Lock()
	e.tok.policy = fn
	e.tok.mu.Unlock()
}

func (e *Engine) tokPolicy() TokenPolicy {
	e.tok.mu.RLock()
	fn := e.tok.policy
	e.tok.mu.RUnlock()
	if fn == nil {
		return TokenPolicy{DisownTimeout: DefaultDisownTimeout}
	}
	return fn()
}

// TokenStats returns the token counters.
func (e *Engine) TokenStats() *TokenStats { return &e.tok.stats }

// TokenWork returns how many buntdb items the token code has read (records
// and index entries). Tests use it to show that a listing reads an index and
// not every token.
func (e *Engine) TokenWork() int64 { return e.tok.work.Load() }

// TransitionToken is a decoded token record. Times are Unix ms, durations
// ms, 0 meaning none.
type TransitionToken struct {
	Token        string
	Value        string
	Owner        string // "" = none
	Session      string // handle of the session holding it; "" = none
	Transferable bool
	Sellable     bool
	Price        string // the amount given to TOK.SELLABLE, as given; "" = none
	Created      int64
	Timeout      int64 // its own timeout (TTL, TOK.EXPIRE)
	Deadline     int64 // its own deadline: when Timeout was set + Timeout
	// DisownTimeout is its own wait for TOK.ACQUIRE once unassigned;
	// -1 = the policy's.
	DisownTimeout int64
	DisownedAt    int64 // when it became unassigned (when Unassigned)
	// Expires is the effective deadline, the record's: Deadline, or the end
	// of the disown wait when unassigned, whichever comes first.
	Expires int64

	until int64 // unassigned: DisownedAt + the disown wait in force then (0 none)
	hash  [32]byte
}

// Unassigned reports whether the token is transferable and held by nobody.
func (t *TransitionToken) Unassigned() bool {
	return t.Transferable && t.Owner == "" && t.Session == ""
}

// Remaining returns the ms left at now (-1 when the token never expires).
func (t *TransitionToken) Remaining(now int64) int64 {
	if t.Expires == 0 {
		return -1
	}
	if t.Expires < now {
		return 0
	}
	return t.Expires - now
}

// DisownWait returns the disown timeout (ms) that applies to the token:
// its own, or the policy's.
func (tx *Tx) DisownWait(t *TransitionToken) int64 {
	if t.DisownTimeout >= 0 {
		return t.DisownTimeout
	}
	return tx.e.tokPolicy().DisownTimeout
}

func (t *TransitionToken) effective() int64 {
	d := t.Deadline
	if t.Unassigned() && t.until != 0 && (d == 0 || t.until < d) {
		d = t.until
	}
	return d
}

// ---- encoding ----

const tokVersion = 1

func encodeTok(t *TransitionToken) string {
	b := make([]byte, 0, 48+len(t.Token)+len(t.Value)+len(t.Owner)+len(t.Session)+len(t.Price))
	b = append(b, tokVersion)
	var flags byte
	if t.Transferable {
		flags |= 1
	}
	if t.Sellable {
		flags |= 2
	}
	b = append(b, flags)
	b = appendStr(b, t.Token)
	b = appendStr(b, t.Value)
	b = appendStr(b, t.Owner)
	b = appendStr(b, t.Session)
	b = appendStr(b, t.Price)
	b = binary.AppendUvarint(b, uint64(t.Created))
	b = binary.AppendUvarint(b, uint64(t.Timeout))
	b = binary.AppendUvarint(b, uint64(t.Deadline))
	b = binary.AppendVarint(b, t.DisownTimeout)
	b = binary.AppendUvarint(b, uint64(t.DisownedAt))
	b = binary.AppendUvarint(b, uint64(t.until))
	return string(b)
}

func decodeTok(payload string) (TransitionToken, bool) {
	d := decoder{s: payload}
	if d.byte1() != tokVersion {
		return TransitionToken{}, false
	}
	var t TransitionToken
	flags := d.byte1()
	t.Transferable, t.Sellable = flags&1 != 0, flags&2 != 0
	t.Token = d.str()
	t.Value = d.str()
	t.Owner = d.str()
	t.Session = d.str()
	t.Price = d.str()
	t.Created = int64(d.uvarint())
	t.Timeout = int64(d.uvarint())
	t.Deadline = int64(d.uvarint())
	t.DisownTimeout = d.varint()
	t.DisownedAt = int64(d.uvarint())
	t.until = int64(d.uvarint())
	return t, !d.bad
}

// ---- keys ----

func tokHashOf(key string) (h [32]byte) {
	copy(h[:], key)
	return
}

func tokRecordKey(h [32]byte) string { return itemKey(dbToken, string(h[:])) }

// tokSessionPrefix is the prefix of a session's index entries; kind 0 covers
// both kinds.
func tokSessionPrefix(handle string, kind byte) string {
	b := []byte{'k', dbTokSession}
	b = appendStr(b, handle)
	if kind != 0 {
		b = append(b, kind)
	}
	return string(b)
}

func tokOwnerPrefix(owner string) string {
	return string(appendStr([]byte{'k', dbTokOwner}, owner))
}

var (
	tokSellablePrefix   = string([]byte{'k', dbTokList, 's'})
	tokUnassignedPrefix = string([]byte{'k', dbTokList, 'u'})
	tokCounterKey       = string([]byte{'k', dbTokMeta, 'n'})
	tokIndexValue       = encodeRecord(TypeTokenIndex, 0, "")
)

// tokIndexKeys lists the index entries a token in state t must have.
func tokIndexKeys(t *TransitionToken) []string {
	h := string(t.hash[:])
	var keys []string
	if t.Session != "" {
		kind := byte(tokKindBound)
		if t.Transferable {
			kind = tokKindTransferable
		}
		keys = append(keys, tokSessionPrefix(t.Session, kind)+h)
	}
	if t.Owner != "" {
		keys = append(keys, tokOwnerPrefix(t.Owner)+h)
	}
	if t.Sellable {
		keys = append(keys, tokSellablePrefix+h)
	}
	if t.Unassigned() {
		keys = append(keys, tokUnassignedPrefix+h)
	}
	return keys
}

// ---- counters ----

// TokenCounts are the INFO tokens figures. Live counts records, including
// expired ones the expirer has not reaped yet (as DBSIZE counts keys).
type TokenCounts struct {
	Live         int64 // every token
	Bound        int64 // session-bound (not transferable, held by a session)
	Transferable int64 // every transferable token (held or unassigned)
	Unassigned   int64 // transferable tokens held by nobody
	Sellable     int64 // tokens with a sellable mark
}

func tokClass(t *TransitionToken) TokenCounts {
	if t == nil {
		return TokenCounts{}
	}
	c := TokenCounts{Live: 1}
	if t.Session != "" && !t.Transferable {
		c.Bound = 1
	}
	if t.Transferable {
		c.Transferable = 1
	}
	if t.Unassigned() {
		c.Unassigned = 1
	}
	if t.Sellable {
		c.Sellable = 1
	}
	return c
}

// TokenCounts returns the token figures. O(1): a counter record kept in
// every transaction that changes a token.
func (tx *Tx) TokenCounts() TokenCounts {
	v, err := tx.bt.Get(tokCounterKey, true)
	if err != nil {
		return TokenCounts{}
	}
	d := decoder{s: decodeRecord(tokCounterKey, v).Payload}
	c := TokenCounts{int64(d.uvarint()), int64(d.uvarint()), int64(d.uvarint()), int64(d.uvarint()), int64(d.uvarint())}
	if d.bad {
		return TokenCounts{}
	}
	return c
}

// tokCount applies the change of counts from old to new (either nil) to the
// counters record, or, when acc is set, adds it to acc for the caller to
// apply once (tokApply): a session ending with thousands of tokens then
// rewrites the counters once, not once per token.
func (tx *Tx) tokCount(old, new *TransitionToken, acc *TokenCounts) {
	a, b := tokClass(old), tokClass(new)
	if a == b {
		return
	}
	d := TokenCounts{b.Live - a.Live, b.Bound - a.Bound, b.Transferable - a.Transferable,
		b.Unassigned - a.Unassigned, b.Sellable - a.Sellable}
	if acc != nil {
		acc.Live += d.Live
		acc.Bound += d.Bound
		acc.Transferable += d.Transferable
		acc.Unassigned += d.Unassigned
		acc.Sellable += d.Sellable
		return
	}
	tx.tokApply(d)
}

// tokApply adds a change of counts to the counters record.
func (tx *Tx) tokApply(d TokenCounts) {
	if d == (TokenCounts{}) {
		return
	}
	c := tx.TokenCounts()
	c.Live = max(0, c.Live+d.Live)
	c.Bound = max(0, c.Bound+d.Bound)
	c.Transferable = max(0, c.Transferable+d.Transferable)
	c.Unassigned = max(0, c.Unassigned+d.Unassigned)
	c.Sellable = max(0, c.Sellable+d.Sellable)
	p := binary.AppendUvarint(nil, uint64(c.Live))
	p = binary.AppendUvarint(p, uint64(c.Bound))
	p = binary.AppendUvarint(p, uint64(c.Transferable))
	p = binary.AppendUvarint(p, uint64(c.Unassigned))
	p = binary.AppendUvarint(p, uint64(c.Sellable))
	tx.tokSet(tokCounterKey, encodeRecord(TypeTokenIndex, 0, string(p)))
}

// ---- low-level access ----

func (tx *Tx) tokSet(item, val string) {
	if item[0] == 'k' {
		tx.setItem(item, val)
		return
	}
	_, _, _ = tx.bt.Set(item, val, nil)
	tx.wrote = true
}

func (tx *Tx) tokDel(item string) {
	if _, err := tx.bt.Delete(item); err == nil {
		tx.wrote = true
	}
}

// tokLookup returns the live token record with hash h. An expired one is
// absent (and reaped: at once in a write transaction, right after a read one).
func (tx *Tx) tokLookup(h [32]byte) (TransitionToken, Record, bool) {
	tx.e.tok.work.Add(1)
	r, ok := tx.Lookup(dbToken, string(h[:]))
	if !ok || r.Type != TypeToken {
		return TransitionToken{}, Record{}, false
	}
	t, ok := decodeTok(r.Payload)
	if !ok {
		return TransitionToken{}, Record{}, false
	}
	t.hash, t.Expires = h, r.Deadline
	return t, r, true
}

func (tx *Tx) tokGet(token string) (TransitionToken, Record, bool) {
	return tx.tokLookup(HashToken(token))
}

// tokWrite stores t (previously old, nil when new): the record with its
// effective deadline, the difference of the index entries, the counters
// (into acc when set, see tokCount). A deadline already past deletes the
// token instead (it expired).
func (tx *Tx) tokWrite(old, t *TransitionToken, acc *TokenCounts) {
	t.Expires = t.effective()
	if expired(t.Expires, tx.Now) {
		if old != nil {
			tx.tokUnindex(old, acc)
			tx.tokDel(tokRecordKey(old.hash))
			tx.e.tok.stats.Expired.Add(1)
		}
		return
	}
	if t.Session != "" && (old == nil || old.Session != t.Session) {
		tx.markSessionDeps(t.Session, sessDepTokens) // its end must find this token
	}
	tx.tokSet(tokRecordKey(t.hash), encodeRecord(TypeToken, t.Expires, encodeTok(t)))
	var was []string
	if old != nil {
		was = tokIndexKeys(old)
	}
	now := tokIndexKeys(t)
	for _, k := range was {
		if !tokContains(now, k) {
			tx.tokDel(k)
		}
	}
	for _, k := range now {
		if !tokContains(was, k) {
			tx.tokSet(k, tokIndexValue)
		}
	}
	tx.tokCount(old, t, acc)
}

// tokUnindex removes the index entries and the counts of a token going away.
func (tx *Tx) tokUnindex(t *TransitionToken, acc *TokenCounts) {
	for _, k := range tokIndexKeys(t) {
		tx.tokDel(k)
	}
	tx.tokCount(t, nil, acc)
}

func tokContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// tokWalk returns the hashes of the index entries under prefix (each entry
// ends with a 32-byte hash). It collects before anything is changed: buntdb
// does not allow writes while iterating.
func (tx *Tx) tokWalk(prefix string) [][32]byte {
	var out [][32]byte
	tx.bt.AscendGreaterOrEqual("", prefix, func(k, _ string) bool {
		if !strings.HasPrefix(k, prefix) {
			return false
		}
		tx.e.tok.work.Add(1)
		if len(k) >= len(prefix)+32 {
			out = append(out, tokHashOf(k[len(k)-32:]))
		}
		return true
	})
	return out
}

// tokWalkLive returns the live tokens indexed under prefix, sorted by token.
func (tx *Tx) tokWalkLive(prefix string) []string {
	var out []string
	for _, h := range tx.tokWalk(prefix) {
		if t, _, ok := tx.tokLookup(h); ok {
			out = append(out, t.Token)
		}
	}
	sort.Strings(out)
	return out
}

// tokSessionEnded runs inside the transaction that ends session s: its
// session-bound tokens are deleted, its transferable tokens become unassigned
// and start their disown wait. The counters are written once.
func (tx *Tx) tokSessionEnded(s Session) {
	var acc TokenCounts
	for _, h := range tx.tokWalk(tokSessionPrefix(s.Handle, 0)) {
		t, _, ok := tx.tokLookup(h)
		if !ok {
			continue
		}
		if !t.Transferable {
			// What the drop hook would do, with the counts batched.
			tx.tokUnindex(&t, &acc)
			tx.tokDel(tokRecordKey(h))
			tx.e.tok.stats.EndedWithSession.Add(1)
			continue
		}
		tx.tokDisown(&t, &acc)
	}
	tx.tokApply(acc)
}

// tokSessionOwnerChanged runs inside the transaction that gives session s
// another owner: every token the session holds (bound or transferable) is
// owned by the session's owner, so it follows, owner index included.
func (tx *Tx) tokSessionOwnerChanged(s Session) {
	var acc TokenCounts
	for _, h := range tx.tokWalk(tokSessionPrefix(s.Handle, 0)) {
		t, _, ok := tx.tokLookup(h)
		if !ok || t.Owner == s.Owner {
			continue
		}
		old := t
		t.Owner = s.Owner
		tx.tokWrite(&old, &t, &acc)
	}
	tx.tokApply(acc)
}

// tokDisown makes a transferable token unassigned as of now.
func (tx *Tx) tokDisown(t *TransitionToken, acc *TokenCounts) {
	old := *t
	t.Owner, t.Session = "", ""
	t.DisownedAt, t.until = tx.Now, 0
	if w := tx.DisownWait(t); w > 0 {
		t.until = tx.Now + w
	}
	tx.tokWrite(&old, t, acc)
	tx.e.tok.stats.Disowned.Add(1)
}

// ---- operations (one per command) ----

// NewTransitionToken describes a token to add.
type NewTransitionToken struct {
	Token        string
	Value        string
	Owner        string   // "" = none; with Session it must be the session's owner
	Session      *Session // the session to bind it to (from AuthSession); nil = none
	Transferable bool
	Timeout      int64 // ms, 0 none
}

// AddTransitionToken adds a token. It reports false when the token exists,
// or when Owner names someone other than the session's owner. With a
// session the token is held by it and owned by its owner; a transferable
// token with neither session nor owner starts unassigned.
func (tx *Tx) AddTransitionToken(n NewTransitionToken) bool {
	h := HashToken(n.Token)
	if _, _, ok := tx.tokLookup(h); ok {
		return false
	}
	t := TransitionToken{Token: n.Token, Value: n.Value, Owner: n.Owner, Transferable: n.Transferable,
		Created: tx.Now, Timeout: n.Timeout, DisownTimeout: -1, hash: h}
	if n.Session != nil {
		if n.Owner != "" && n.Owner != n.Session.Owner {
			return false
		}
		t.Session, t.Owner = n.Session.Handle, n.Session.Owner
	}
	if t.Timeout > 0 {
		t.Deadline = tx.Now + t.Timeout
	}
	if t.Unassigned() {
		t.DisownedAt = tx.Now
		if w := tx.DisownWait(&t); w > 0 {
			t.until = tx.Now + w
		}
	}
	tx.tokWrite(nil, &t, nil)
	tx.e.tok.stats.Added.Add(1)
	return true
}

// LookupTransitionToken returns the live token.
func (tx *Tx) LookupTransitionToken(token string) (TransitionToken, bool) {
	t, _, ok := tx.tokGet(token)
	return t, ok
}

// AcquireToken binds a transferable token that is unassigned, or sellable and
// held elsewhere, to session s and its owner; the sellable mark is cleared
// (the offer is taken). It reports false for any other token.
func (tx *Tx) AcquireToken(token string, s Session) bool {
	t, _, ok := tx.tokGet(token)
	if !ok || !t.Transferable || !(t.Unassigned() || t.Sellable && t.Session != s.Handle) {
		return false
	}
	old := t
	t.Session, t.Owner = s.Handle, s.Owner
	t.Sellable, t.Price = false, ""
	t.DisownedAt, t.until = 0, 0
	tx.tokWrite(&old, &t, nil)
	tx.e.tok.stats.Acquired.Add(1)
	return true
}

// TransferToken gives a transferable token owned by from to the owner to:
// it leaves the session that held it (it is now held by its owner alone,
// and no session's end disowns it) and its sellable mark is cleared. It
// reports false unless from owns it; from == to changes nothing.
func (tx *Tx) TransferToken(token, from, to string) bool {
	if from == "" || to == "" {
		return false
	}
	t, _, ok := tx.tokGet(token)
	if !ok || !t.Transferable || t.Owner != from {
		return false
	}
	if from == to {
		return true
	}
	old := t
	t.Owner, t.Session = to, ""
	t.Sellable, t.Price = false, ""
	tx.tokWrite(&old, &t, nil)
	tx.e.tok.stats.Transferred.Add(1)
	return true
}

// DestroyToken deletes a token with its index entries.
func (tx *Tx) DestroyToken(token string) bool {
	_, r, ok := tx.tokGet(token)
	if !ok {
		return false
	}
	tx.removeRecord(r, DropDeleted)
	tx.e.tok.stats.Destroyed.Add(1)
	return true
}

// ExpireToken sets the token's own timeout (ms from now; 0 = none). An
// unassigned token still expires at the end of its disown wait if that
// comes first.
func (tx *Tx) ExpireToken(token string, timeout int64) bool {
	t, _, ok := tx.tokGet(token)
	if !ok {
		return false
	}
	old := t
	t.Timeout, t.Deadline = timeout, 0
	if timeout > 0 {
		t.Deadline = tx.Now + timeout
	}
	tx.tokWrite(&old, &t, nil)
	return true
}

// SetDisownTimeout sets a transferable token's own disown wait (ms; 0 =
// forever). For a token already unassigned the wait counts from when it was
// disowned; one already over expires the token. False for a token that is
// not transferable.
func (tx *Tx) SetDisownTimeout(token string, wait int64) bool {
	t, _, ok := tx.tokGet(token)
	if !ok || !t.Transferable {
		return false
	}
	old := t
	t.DisownTimeout = wait
	if t.Unassigned() {
		t.until = 0
		if wait > 0 {
			t.until = t.DisownedAt + wait
		}
	}
	tx.tokWrite(&old, &t, nil)
	return true
}

// SetTokenSellable marks a transferable token sellable with an amount ("" =
// none), replacing any earlier amount. False for a token that is not
// transferable.
func (tx *Tx) SetTokenSellable(token, price string) bool {
	t, _, ok := tx.tokGet(token)
	if !ok || !t.Transferable {
		return false
	}
	old := t
	t.Sellable, t.Price = true, price
	tx.tokWrite(&old, &t, nil)
	return true
}

// UnsetTokenSellable clears the sellable mark; false when there was none.
func (tx *Tx) UnsetTokenSellable(token string) bool {
	t, _, ok := tx.tokGet(token)
	if !ok || !t.Sellable {
		return false
	}
	old := t
	t.Sellable, t.Price = false, ""
	tx.tokWrite(&old, &t, nil)
	return true
}

// SessionTokens lists the tokens held by the session (all, or the
// transferable ones only), sorted, from the session index.
func (tx *Tx) SessionTokens(handle string, transferableOnly bool) []string {
	var kind byte
	if transferableOnly {
		kind = tokKindTransferable
	}
	return tx.tokWalkLive(tokSessionPrefix(handle, kind))
}

// OwnerTokens lists the owner's tokens, sorted, from the owner index.
func (tx *Tx) OwnerTokens(owner string) []string {
	if owner == "" {
		return nil
	}
	return tx.tokWalkLive(tokOwnerPrefix(owner))
}

// SellableTokens lists the tokens with a sellable mark, sorted.
func (tx *Tx) SellableTokens() []string { return tx.tokWalkLive(tokSellablePrefix) }

// UnassignedTokens lists the transferable tokens held by nobody, sorted.
func (tx *Tx) UnassignedTokens() []string { return tx.tokWalkLive(tokUnassignedPrefix) }

// TokenFootprint counts every item of the token namespace except the
// counters record. Tests use it to show that nothing is left behind.
func (tx *Tx) TokenFootprint() int {
	n := 0
	for _, db := range []int{dbToken, dbTokSession, dbTokOwner, dbTokList} {
		p := dbPrefix(db)
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
