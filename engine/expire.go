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
	// expireTick is the cycle period until SetExpireTuning (hz 10); a
	// cycle may take 25% of its period at effort 1.
	expireTick  = 100 * time.Millisecond
	expireBatch = 128
	// expireTxTime bounds one batch's transaction: a session takes its
	// token entries, index entries and counters with it, so 128 of them
	// would hold the lock far longer than 128 plain keys.
	expireTxTime = 2 * time.Millisecond
)

func (e *Engine) activeExpire() {
	defer close(e.expireDone)
	period := e.expirePeriod()
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-e.stopExpire:
			return
		case <-t.C:
			if p := e.expirePeriod(); p != period {
				period = p
				t.Reset(p)
			}
			// Redis gives a cycle 25% of its period, plus 2% per step of
			// active-expire-effort above 1.
			effort := max(e.expireEffort.Load(), 1)
			e.ExpireCycle(period * time.Duration(25+2*(effort-1)) / 100)
		}
	}
}

// SetExpireTuning sets the active expirer's frequency (hz: cycles per
// second, as Redis' hz) and effort (1-10, as active-expire-effort).
func (e *Engine) SetExpireTuning(hz, effort int64) {
	e.expireHz.Store(hz)
	e.expireEffort.Store(effort)
}

func (e *Engine) expirePeriod() time.Duration {
	hz := e.expireHz.Load()
	if hz <= 0 {
		return expireTick
	}
	return time.Second / time.Duration(min(hz, 500))
}

// ExpireCycle runs one active expire cycle of at most budget and returns how
// many records it deleted.
func (e *Engine) ExpireCycle(budget time.Duration) int {
	if e.expiryPaused.Load() {
		return 0 // CLIENT PAUSE WRITE: the data set must not change
	}
	start := e.clock()
	total := 0
	mode := e.expiryMode()
	if mode == ExpiryOff {
		for i := 0; i < 8 && e.pruneHints(e.clock().UnixMilli(), expireBatch); i++ {
		}
		return 0
	}
	for {
		var n int
		var more bool
		if mode == ExpiryDelegated {
			n, more = e.delegateExpiry(e.clock().UnixMilli(), expireBatch)
		} else {
			n, more = e.expireBatch(e.clock().UnixMilli(), expireBatch, expireTxTime)
		}
		total += n
		if !more || e.clock().Sub(start) >= budget {
			break
		}
	}
	e.stats.ExpireCycles.Add(1)
	took := e.clock().Sub(start)
	e.stats.ExpireTimeUsec.Add(took.Microseconds())
	e.lat.Observe("expire-cycle", took)
	return total
}

// PauseExpiry stops (or resumes) deleting expired records, actively and on
// access, while CLIENT PAUSE holds writes: expired records read as missing
// but stay in the data set, as Redis does during a pause.
func (e *Engine) PauseExpiry(on bool) { e.expiryPaused.Store(on) }

// expireBatchAt expires records whose deadline passed at now, examining up
// to limit expiry hints in one transaction, and returns how many it expired.
func (e *Engine) expireBatchAt(now int64, limit int) int {
	n, _ := e.expireBatch(now, limit, 0)
	return n
}

// expireBatch is one transaction of the expirer: it takes up to limit
// hints due at now from the expiry wheel and, for each, expires the record
// (deadline passed), re-files it (deadline moved later) or drops the hint
// (record gone or persisted). It stops early once it has run for txTime (0:
// no limit). n is the number of records expired; more reports that due
// hints may remain.
func (e *Engine) expireBatch(now int64, limit int, txTime time.Duration) (n int, more bool) {
	start := e.clock()
	_, _ = e.Update(now, func(tx *Tx) error {
		for i := 0; ; i++ {
			if i == limit || (txTime > 0 && i > 0 && i%8 == 0 && e.clock().Sub(start) >= txTime) {
				more = e.exp.pending(now)
				return nil
			}
			item, ok := e.exp.pop(now)
			if !ok {
				return nil
			}
			// Until the transaction commits the hint is only in this list:
			// Update files it again if the transaction fails.
			tx.droppedHints = append(tx.droppedHints, item)
			v, err := tx.bt.Get(item, true)
			if err != nil {
				continue // deleted since: a stale hint
			}
			// An earlier record's drop hook in this batch may have deleted
			// or rewritten this one (a session takes its bound tokens with
			// it): the record read now decides.
			r := decodeRecord(item, v)
			switch {
			case r.Deadline == 0:
			case expired(r.Deadline, now):
				tx.expireRecord(r)
				n++
			default:
				e.exp.file(item, r.Deadline, now)
			}
		}
	})
	return n, more
}

// expireKeys deletes the given records if they are still expired (the
// follow-up to a read transaction that met them).
func (e *Engine) expireKeys(items []string) {
	if e.expiryPaused.Load() {
		return // the records stay, logically expired, until the pause ends
	}
	_, _ = e.ExpireItemsAt(e.clock().UnixMilli(), items)
}
