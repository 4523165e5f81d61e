package engine

// Per-owner session limits (session-max-per-owner, SESS.NEW ... MAXSESSIONS)
// and the owner's last-use index they read.
//
// # The last-use index
//
//	"c" 0xF4 len("l"+owner) "l" owner  be64(slot) handle   (empty value)
//
// slot is lruSlot(t) for a last_seen t of the session (Unix ms + 1; 0 means
// "not filed"), and the record remembers it (Session.lruAt). The entries of
// one owner are thus ordered by when the session was last filed.
//
// The index is lazy, so that it costs nothing on the hot path: a touch (GET,
// TOUCH, VALIDATE, ...) moves last_seen in the record and leaves the entry
// where it is. An entry's slot is therefore a lower bound of the session's
// true last use, never later. Finding the least recently used session walks
// the owner's entries from the first: an entry whose record says the session
// was used since is moved to its true slot (re-filed: one delete, one set,
// the record rewritten) and the walk starts again; the first entry that is
// exact is the least recently used session, since every entry after it has a
// slot at least as late, hence a last use at least as late. Each touch
// causes at most one re-filing, done by a limit that needs the answer: the
// cost moves from every request to the (rare) eviction, and only for
// sessions used since they were last filed.
//
// Every owned session of a version 2 record has exactly one entry, at
// Session.lruAt (CreateSession and putSession file it, cleanupSession and
// moveOwner remove it); Open files the sessions of version 1 records
// (migrateSessions). An entry that does not match its record (which cannot
// happen by construction) is dropped when met, and the count it made only
// made the limit stricter for a moment, never let an owner past it.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"github.com/tidwall/buntdb"
)

// OwnerLimit is a concurrent-session limit for one operation: Max sessions
// per owner (0 = none). With Refuse the operation fails with a *LimitError
// when the owner already has Max sessions; otherwise the owner's least
// recently used sessions are revoked (reason limit) to make room.
type OwnerLimit struct {
	Max    int64
	Refuse bool
}

// LimitError is the refusal of an operation that would take an owner past
// its session limit (session-limit-policy refuse). Its text is the error
// reply: "LIMIT owner has reached N sessions".
type LimitError struct{ Max int64 }

func (e *LimitError) Error() string { return fmt.Sprintf("LIMIT owner has reached %d sessions", e.Max) }

// IsLimitError reports whether err is a *LimitError.
func IsLimitError(err error) bool {
	var le *LimitError
	return errors.As(err, &le)
}

// lruSlot is the slot of a last-use time in the index (never 0: 0 marks a
// session that is not filed).
func lruSlot(ms int64) int64 { return ms + 1 }

func lruPrefix(owner string) string { return childPrefix(dbSessionMeta, "l"+owner) }

func lruEntry(owner string, slot int64, handle string) string {
	p := lruPrefix(owner)
	b := make([]byte, 0, len(p)+8+len(handle))
	b = append(b, p...)
	b = binary.BigEndian.AppendUint64(b, uint64(slot))
	b = append(b, handle...)
	return unsafe.String(unsafe.SliceData(b), len(b)) // b is not used again: one allocation, not two
}

// fileLRU files an owned session that is not filed yet (a version 1 record,
// an owner just given) at the slot of its LastSeen. putSession calls it
// before writing the record, which then remembers the slot. A filed session
// stays where it is: touches do not move it (see the top of this file).
func (tx *Tx) fileLRU(s *Session) {
	if s.Owner == "" || s.lruAt != 0 {
		return
	}
	s.lruAt = lruSlot(s.LastSeen)
	tx.sessSet(lruEntry(s.Owner, s.lruAt, s.Handle), "")
}

// sessDelLRU removes s's entry from the last-use index.
func (tx *Tx) sessDelLRU(s *Session) {
	if s.Owner != "" && s.lruAt != 0 {
		tx.sessDel(lruEntry(s.Owner, s.lruAt, s.Handle))
	}
	s.lruAt = 0
}

type lruRef struct {
	slot   int64
	handle string
	item   string
}

// ownerLRU lists the owner's entries of the last-use index in index order
// (by slot), except the session with handle except; at most max of them
// when max > 0.
func (tx *Tx) ownerLRU(owner, except string, max int) []lruRef {
	p := lruPrefix(owner)
	var out []lruRef
	tx.bt.AscendGreaterOrEqual("", p, func(k, _ string) bool {
		if !strings.HasPrefix(k, p) {
			return false
		}
		tx.e.sess.work.Add(1)
		rest := k[len(p):]
		if len(rest) < 8 {
			return true
		}
		h := rest[8:]
		if h != except {
			out = append(out, lruRef{slot: int64(binary.BigEndian.Uint64([]byte(rest[:8]))), handle: h, item: k})
		}
		return max <= 0 || len(out) < max
	})
	return out
}

// lruRead reads the session of an index entry. ok is false when the entry
// names no live session of this owner filed there (the session expired —
// reaped now in a write transaction —, or a stale entry, deleted now in a
// write transaction).
func (tx *Tx) lruRead(owner string, ref lruRef) (Session, bool) {
	s, r := tx.getSession(ref.handle)
	switch {
	case r == ReasonExpired:
		return Session{}, false // reaped with its entry (write) or invisible (read)
	case r != ReasonOK || s.Owner != owner || s.lruAt != ref.slot:
		if tx.writable {
			tx.sessDel(ref.item)
		}
		return Session{}, false
	}
	return s, true
}

// lruLess orders sessions by last use, then creation (used alike: the older
// goes first), then handle.
func lruLess(a, b *Session) bool {
	if a.LastSeen != b.LastSeen {
		return a.LastSeen < b.LastSeen
	}
	if a.Created != b.Created {
		return a.Created < b.Created
	}
	return a.Handle < b.Handle
}

// leastRecentlyUsed finds the owner's least recently used live session
// (except the one with handle except) in a write transaction, re-filing the
// entries it finds late (see the top of this file). gone is the number of
// entries it found naming no live session (and deleted).
func (tx *Tx) leastRecentlyUsed(owner, except string) (best Session, gone int, ok bool) {
	for {
		// The entries of the first slot: one, unless sessions were filed in
		// the same millisecond.
		refs := tx.ownerLRU(owner, except, 0)
		if len(refs) == 0 {
			return Session{}, gone, false
		}
		first, changed := refs[0].slot, false
		for _, ref := range refs {
			if ref.slot != first {
				break
			}
			s, live := tx.lruRead(owner, ref)
			if !live {
				gone++
				changed = true
				continue
			}
			if slot := lruSlot(s.LastSeen); slot > ref.slot {
				// Used since it was filed: file it where it belongs now.
				tx.sessDel(ref.item)
				s.lruAt = slot
				tx.sessSet(lruEntry(owner, slot, s.Handle), "")
				tx.putSession(&s)
				changed = true
				continue
			}
			if !ok || lruLess(&s, &best) {
				best, ok = s, true
			}
		}
		if ok || !changed {
			return best, gone, ok
		}
		// Every entry of the first slot moved or went: look again.
	}
}

// LeastRecentlyUsed returns the owner's least recently used live session
// (attached or detached), by last_seen to the millisecond, then creation.
// In a write transaction it uses (and repairs) the last-use index; in a read
// transaction, which cannot re-file, it reads every session of the owner.
func (tx *Tx) LeastRecentlyUsed(owner string) (Session, bool) {
	if tx.writable {
		s, _, ok := tx.leastRecentlyUsed(owner, "")
		return s, ok
	}
	var best Session
	found := false
	for _, ref := range tx.ownerLRU(owner, "", 0) {
		if s, ok := tx.lruRead(owner, ref); ok && (!found || lruLess(&s, &best)) {
			best, found = s, true
		}
	}
	return best, found
}

// makeRoom enforces lim for owner before it gets one more session (the one
// with handle except, already written or moving in, is not counted). With
// lim.Refuse it returns a *LimitError when the owner already has lim.Max live
// sessions; otherwise it revokes the owner's least recently used sessions
// (reason limit: their tokens answer `limit`) until there is room. Expired
// sessions met on the way are reaped and make room too.
//
// The count is the number of the owner's index entries (keys only, no
// record read). Below the limit that is all; at it, the owner's sessions are
// read once (to reap expired ones), and evict-oldest then finds its victims
// from the least recently used end.
func (tx *Tx) makeRoom(owner, except string, lim OwnerLimit) error {
	if owner == "" || lim.Max <= 0 {
		return nil
	}
	refs := tx.ownerLRU(owner, except, 0)
	n := int64(len(refs))
	if n >= lim.Max {
		// At the limit: reap the owner's expired sessions first, wherever
		// they are in the order, so that no live session is refused room or
		// evicted while an expired one could make it.
		for _, ref := range refs {
			if _, live := tx.lruRead(owner, ref); !live {
				n--
			}
		}
	}
	for n >= lim.Max && !lim.Refuse {
		s, gone, ok := tx.leastRecentlyUsed(owner, except)
		n -= int64(gone)
		if !ok || n < lim.Max {
			break
		}
		tx.e.sess.stats.LimitEvicted.Add(1)
		tx.sessEventOf("limit", &s, "evict-oldest")
		tx.endSession(s, SessionLimit)
		n--
	}
	if n >= lim.Max {
		tx.e.sess.stats.LimitRefused.Add(1)
		tx.sessEmit(sessEv{name: "limit", owner: owner, reason: "refused", streamOnly: true})
		return &LimitError{Max: lim.Max}
	}
	return nil
}

// moveOwner gives session s (live, read in this transaction) to owner,
// re-indexing it (owner, detached and last-use indexes, owner count) in the
// same transaction, after making room under lim. The caller writes the
// record (putSession files it under the new owner).
func (tx *Tx) moveOwner(s *Session, owner string, lim OwnerLimit) error {
	if owner == s.Owner {
		return nil
	}
	if err := tx.makeRoom(owner, s.Handle, lim); err != nil {
		return err
	}
	var dOwners int64
	if s.Owner != "" {
		op := sessOwnerPrefix(dbSessionOwner, s.Owner)
		tx.sessDel(op + s.Handle)
		tx.sessDelLRU(s)
		if !tx.sessHasPrefix(op) {
			dOwners--
		}
	}
	if s.Detached {
		tx.sessDel(sessOwnerPrefix(dbSessionDet, s.Owner) + s.Handle)
	}
	oldOwner := s.Owner
	s.Owner = owner
	defer func() {
		s.deps |= tx.sessDeps[s.Handle]
		tx.e.sess.mu.RLock()
		hooks := tx.e.sess.onOwner
		tx.e.sess.mu.RUnlock()
		for _, fn := range hooks {
			fn(tx, *s, oldOwner)
		}
	}()
	if owner != "" {
		op := sessOwnerPrefix(dbSessionOwner, owner)
		if !tx.sessHasPrefix(op) {
			dOwners++
		}
		tx.sessSet(op+s.Handle, "")
	}
	if s.Detached {
		tx.sessSet(sessOwnerPrefix(dbSessionDet, owner)+s.Handle, "")
	}
	tx.sessAddCounts(0, dOwners, 0)
	return nil
}

// migrateSessions brings session records of version 1 to version 2 (Open):
// each owned session is filed in its owner's last-use index and its record
// rewritten in the new encoding (which says it is filed). Version 2 records
// are only counted through: a file of this version costs one byte comparison
// per session.
func (e *Engine) migrateSessions() error {
	var old []string
	err := e.db.View(func(bt *buntdb.Tx) error {
		p := dbPrefix(dbSession)
		return bt.AscendGreaterOrEqual("", p, func(k, v string) bool {
			if !strings.HasPrefix(k, p) {
				return false
			}
			if len(v) > headerLen && v[headerLen] == 1 {
				old = append(old, k)
			}
			return true
		})
	})
	if err != nil || len(old) == 0 {
		return err
	}
	_, err = e.Update(e.clock().UnixMilli(), func(tx *Tx) error {
		for _, k := range old {
			v, err := tx.bt.Get(k, true)
			if err != nil {
				continue
			}
			r := decodeRecord(k, v)
			s, ok := decodeSession(r.Key, r.Payload)
			if !ok {
				continue
			}
			s.item = k
			s.deps |= tx.sessDeps[s.Handle]
			// The deadline is the record's own: an expired session is left
			// to the expirer exactly as it was.
			s.Expires = r.Deadline
			tx.fileLRU(&s)
			tx.sessSet(k, sessionRecord(&s))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("migrate session records to version %d: %w", sessionVersion, err)
	}
	return nil
}
