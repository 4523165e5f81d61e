package engine

// Per-owner session limits (session-max-per-owner, SESS.NEW ... MAXSESSIONS)
// and the owner's last-use index they read.
//
// # The last-use index
//
//	"c" 0xF4 len("l"+owner) "l" owner  be64(slot) handle   (empty value)
//
// slot is lruSecond(last_seen): the second of the session's last use. The
// entries of one owner are thus ordered by last use, to the second; the
// owner's least recently used session is among the first entries, and ties
// inside one second are broken by reading the exact last_seen of those few
// records. Filing by the second rather than the millisecond is what keeps the
// index cheap on the hot path: a touch moves the entry (one delete, one set)
// only when it lands in another second than the previous use, so a session
// used many times a second costs nothing more per use.
//
// Every owned session of a version 2 record has exactly one entry, at the
// slot of its record's last_seen (putSession files it, cleanupSession and
// moveOwner remove it); Open files the sessions of version 1 records
// (migrateSessions). The limit code still treats an entry that does not match
// its record as stale and deletes it, so a stale entry can only make the
// limit stricter for a moment, never let an owner past it.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"

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

// lruSecond is the slot of a last-use time in the index (never 0: 0 marks a
// session that is not filed).
func lruSecond(ms int64) int64 { return ms/1000 + 1 }

func lruPrefix(owner string) string { return childPrefix(dbSessionMeta, "l"+owner) }

func lruEntry(owner string, slot int64, handle string) string {
	p := lruPrefix(owner)
	b := make([]byte, 0, len(p)+8+len(handle))
	b = append(b, p...)
	b = binary.BigEndian.AppendUint64(b, uint64(slot))
	return string(append(b, handle...))
}

// fileLRU keeps s's entry of the last-use index at the slot of its LastSeen
// (putSession calls it before writing the record, whose LastSeen then says
// where the entry is).
func (tx *Tx) fileLRU(s *Session) {
	if s.Owner == "" {
		return
	}
	slot := lruSecond(s.LastSeen)
	if slot == s.lruAt {
		return
	}
	if s.lruAt != 0 {
		tx.sessDel(lruEntry(s.Owner, s.lruAt, s.Handle))
	}
	tx.sessSet(lruEntry(s.Owner, slot, s.Handle), "")
	s.lruAt = slot
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

// ownerLRU lists the owner's entries of the last-use index, least recently
// used first (to the second), except the session with handle except.
func (tx *Tx) ownerLRU(owner, except string) []lruRef {
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
		return true
	})
	return out
}

// LeastRecentlyUsed returns the owner's least recently used live session
// (attached or detached): the first entries of its last-use index, the exact
// last_seen deciding between sessions used in the same second.
func (tx *Tx) LeastRecentlyUsed(owner string) (Session, bool) {
	refs := tx.ownerLRU(owner, "")
	for i := 0; i < len(refs); {
		j := i
		for j < len(refs) && refs[j].slot == refs[i].slot {
			j++
		}
		if live := tx.lruGroup(owner, refs[i:j]); len(live) > 0 {
			return live[0], true
		}
		i = j
	}
	return Session{}, false
}

// lruGroup reads the sessions of entries filed in one slot and returns the
// live ones, least recently used first. Entries whose session is gone,
// expired (reaped now in a write transaction), of another owner or filed
// elsewhere are dropped (deleted when stale, in a write transaction).
func (tx *Tx) lruGroup(owner string, refs []lruRef) []Session {
	var live []Session
	for _, ref := range refs {
		s, r := tx.getSession(ref.handle)
		switch {
		case r == ReasonExpired:
			continue // reaped with its entry (write) or invisible (read)
		case r != ReasonOK || s.Owner != owner || s.lruAt != ref.slot:
			if tx.writable {
				tx.sessDel(ref.item)
			}
			continue
		}
		live = append(live, s)
	}
	sort.Slice(live, func(a, b int) bool {
		if live[a].LastSeen != live[b].LastSeen {
			return live[a].LastSeen < live[b].LastSeen
		}
		if live[a].Created != live[b].Created {
			return live[a].Created < live[b].Created // used alike: the older goes first
		}
		return live[a].Handle < live[b].Handle
	})
	return live
}

// makeRoom enforces lim for owner before it gets one more session (the one
// with handle except, already written or moving in, is not counted). With
// lim.Refuse it returns a *LimitError when the owner already has lim.Max live
// sessions; otherwise it revokes the owner's least recently used sessions
// (reason limit: their tokens answer `limit`) until there is room. Expired
// sessions met on the way are reaped and make room too.
//
// The count is the number of the owner's index entries (no record read);
// records are read from the least recently used end only while the owner is
// at its limit, so the usual cost is one walk of at most lim.Max keys.
func (tx *Tx) makeRoom(owner, except string, lim OwnerLimit) error {
	if owner == "" || lim.Max <= 0 {
		return nil
	}
	refs := tx.ownerLRU(owner, except)
	n := int64(len(refs))
	for i := 0; n >= lim.Max && i < len(refs); {
		j := i
		for j < len(refs) && refs[j].slot == refs[i].slot {
			j++
		}
		live := tx.lruGroup(owner, refs[i:j])
		n -= int64(j-i) - int64(len(live)) // reaped or stale: not sessions
		for k := 0; k < len(live) && n >= lim.Max && !lim.Refuse; k++ {
			s := live[k]
			tx.e.sess.stats.LimitEvicted.Add(1)
			tx.sessEventOf("limit", &s, "evict-oldest")
			tx.endSession(s, SessionLimit)
			n--
		}
		i = j
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
	s.Owner = owner
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
