package engine

import (
	"time"
)

// Active expiry, after Redis' active expire cycle: every tick the expirer
// deletes expired records in small batches, each batch its own short write
// transaction, until none is left or the cycle's time budget is spent. Other
// clients get the lock between batches, so a million keys expiring at once
// never stalls anyone for long (buntdb's own sweeper would delete them all in
// one locked pass).
const (
	expireTick      = 100 * time.Millisecond
	expireBatch     = 128
	expireCycleTime = 25 * time.Millisecond
)

func (e *Engine) activeExpire() {
	defer close(e.expireDone)
	t := time.NewTicker(expireTick)
	defer t.Stop()
	for {
		select {
		case <-e.stopExpire:
			return
		case <-t.C:
			e.ExpireCycle(expireCycleTime)
		}
	}
}

// ExpireCycle runs one active expire cycle of at most budget and returns how
// many records it deleted.
func (e *Engine) ExpireCycle(budget time.Duration) int {
	start := e.clock()
	total := 0
	for {
		n := e.expireBatchAt(e.clock().UnixMilli(), expireBatch)
		total += n
		if n < expireBatch || e.clock().Sub(start) >= budget {
			break
		}
	}
	e.stats.ExpireCycles.Add(1)
	e.stats.ExpireTimeUsec.Add(e.clock().Sub(start).Microseconds())
	return total
}

func (e *Engine) expireBatchAt(now int64, limit int) int {
	n := 0
	_, _ = e.Update(now, func(tx *Tx) error {
		var recs []Record
		tx.bt.AscendGreaterOrEqual(expiryIndex, deadlinePivot(1), func(k, v string) bool {
			if !expired(int64(deadlineOf(v)), now) || len(recs) >= limit {
				return false
			}
			recs = append(recs, decodeRecord(k, v))
			return true
		})
		for _, r := range recs {
			// An earlier record's drop hook in this batch may have deleted
			// or rewritten this one (a session takes its bound tokens with
			// it): expire what is there now, if it is still expired, so no
			// drop hook runs twice for one record.
			v, err := tx.bt.Get(r.item, true)
			if err != nil {
				continue
			}
			if r = decodeRecord(r.item, v); expired(r.Deadline, now) {
				tx.expireRecord(r)
			}
		}
		n = len(recs)
		return nil
	})
	return n
}

// expireKeys deletes the given records if they are still expired (the
// follow-up to a read transaction that met them).
func (e *Engine) expireKeys(items []string) {
	_, _ = e.Update(e.clock().UnixMilli(), func(tx *Tx) error {
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
