package engine

import (
	"errors"
	"fmt"
	"io"

	"github.com/tidwall/buntdb"
)

// Replicated groups.
//
// In a replicated group (package replication) every node applies the same
// log of writes, each with the time and random bytes the leader chose, so
// every node holds the same data set. Expiry must follow the same log: a
// node that deleted expired records on its own clock would diverge. So:
//
//   - ExpiryLocal (a standalone server): the active expirer and the reads
//     that meet an expired record delete it, as always.
//   - ExpiryDelegated (the leader): the active expirer finds the expired
//     records and hands them to a function (which proposes them to the log);
//     they are deleted when the log entry is applied (ExpireItemsAt), on
//     every node. Reads never delete.
//   - ExpiryOff (a follower): nothing is deleted but by the log. A read
//     still treats a record past its deadline as missing, as a Redis
//     replica does.

// ExpiryMode says who may delete expired records (see SetExpiryMode).
type ExpiryMode int32

const (
	// ExpiryLocal: the engine expires records itself (standalone).
	ExpiryLocal ExpiryMode = iota
	// ExpiryDelegated: the active expirer hands expired records to the
	// delegate given to SetExpiryMode; reads do not delete.
	ExpiryDelegated
	// ExpiryOff: nothing expires but through ExpireItemsAt.
	ExpiryOff
)

// SetExpiryMode selects who deletes expired records. With ExpiryDelegated,
// delegate is called from the expirer's goroutine with the transaction time
// and the buntdb keys of records expired at that time; it returns once they
// are deleted (through ExpireItemsAt, on every node) or with an error, in
// which case their hints are filed again so a later cycle retries them.
func (e *Engine) SetExpiryMode(m ExpiryMode, delegate func(now int64, items []string) error) {
	e.expMu.Lock()
	e.expDelegate = delegate
	e.expMu.Unlock()
	e.expMode.Store(int32(m))
}

func (e *Engine) expiryMode() ExpiryMode { return ExpiryMode(e.expMode.Load()) }

// delegateExpiry is the expirer's cycle under ExpiryDelegated: it collects
// up to limit expired records due at now (re-filing hints whose record
// moved its deadline, dropping those of records gone) and hands them to the
// delegate. It returns how many it handed over and whether more are due.
func (e *Engine) delegateExpiry(now int64, limit int) (int, bool) {
	items, more := e.collectExpired(now, limit)
	if len(items) == 0 {
		return 0, more
	}
	e.expMu.Lock()
	fn := e.expDelegate
	e.expMu.Unlock()
	var err error
	if fn == nil {
		err = errors.New("no expiry delegate")
	} else {
		err = fn(now, items)
	}
	if err != nil {
		// Not applied (leadership lost, say): keep every record's hint so
		// whichever node leads next, or this one later, expires it.
		e.refile(items, 0)
		return 0, false
	}
	return len(items), more
}

// pruneHints is the expirer's cycle under ExpiryOff (a follower): it
// deletes nothing, but drops the hints of records the log deleted or
// persisted and re-files those whose deadline moved, so a follower's wheel
// holds no more than the leader's. Hints of expired records are kept (filed
// a second ahead): the leader's deletion is on its way, and a follower that
// becomes leader expires them.
func (e *Engine) pruneHints(now int64, limit int) bool {
	items, more := e.collectExpired(now, limit)
	e.refile(items, now+1000)
	return more
}

// refile files hints for items due at due.
func (e *Engine) refile(items []string, due int64) {
	if len(items) == 0 {
		return
	}
	_ = e.db.Update(func(*buntdb.Tx) error {
		for _, k := range items {
			e.exp.add(due, k)
		}
		return nil
	})
}

// collectExpired takes up to limit hints due at now from the wheel and
// returns the records among them that are expired at now; hints of records
// gone or persisted are dropped and those whose deadline moved re-filed.
func (e *Engine) collectExpired(now int64, limit int) (items []string, more bool) {
	_, _ = e.Update(now, func(tx *Tx) error {
		for i := 0; i < limit; i++ {
			item, ok := e.exp.pop(now)
			if !ok {
				return nil
			}
			v, err := tx.bt.Get(item, true)
			if err != nil {
				continue // deleted since: a stale hint
			}
			r := decodeRecord(item, v)
			switch {
			case r.Deadline == 0:
			case expired(r.Deadline, now):
				items = append(items, item)
			default:
				e.exp.file(item, r.Deadline, now)
			}
		}
		more = e.exp.pending(now)
		return nil
	})
	return items, more
}

// ExpireItemsAt deletes the given records (buntdb keys, as handed to an
// expiry delegate) that are expired at now, with their drop hooks and
// events: the apply of a replicated expiry. It returns the write's
// durability ticket.
func (e *Engine) ExpireItemsAt(now int64, items []string) (uint64, error) {
	return e.Update(now, func(tx *Tx) error {
		for _, ik := range items {
			v, err := tx.bt.Get(ik, true)
			if err != nil {
				continue
			}
			r := decodeRecord(ik, v)
			if expired(r.Deadline, tx.Now) {
				tx.expireRecord(r)
			}
		}
		return nil
	})
}

// SaveTo writes a consistent copy of the whole data set to w in the data
// file's format (a replicated group's snapshot). Writers wait while it is
// taken.
func (e *Engine) SaveTo(w io.Writer) error { return e.db.Save(w) }

// ReplaceFrom replaces the whole data set with the one read from r (in the
// format SaveTo writes): a replicated node installing a snapshot. The hash
// index, the expiry wheel and the session counts follow. Keyspace
// notifications are not sent for it.
func (e *Engine) ReplaceFrom(r io.Reader) error {
	src, err := buntdb.Open(":memory:")
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer src.Close()
	if err := src.Load(r); err != nil {
		return fmt.Errorf("restore: load snapshot: %w", err)
	}
	now := e.clock().UnixMilli()
	_, err = e.Update(now, func(tx *Tx) error {
		tx.FlushAll()
		tx.commit.Flushed = nil
		var ierr error
		_ = src.View(func(st *buntdb.Tx) error {
			return st.Ascend("", func(k, v string) bool {
				if k[0] == 'k' {
					tx.setItem(k, v)
				} else if _, _, err := tx.bt.Set(k, v, nil); err != nil {
					ierr = err
					return false
				}
				return true
			})
		})
		tx.wrote = true
		return ierr
	})
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	return e.countSessions()
}
