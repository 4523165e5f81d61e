package engine

import (
	"strings"

	"github.com/sessiond/sessiond/glob"
)

// SCAN cursors. buntdb keeps keys in a B-tree, so iteration resumes after the
// last key returned; the cursor number the client sees names that position in
// a table. A full iteration therefore returns every key that existed
// throughout it, exactly once, whatever is inserted or deleted meanwhile.
// The table keeps the most recent maxCursors positions; an unknown cursor ends
// the iteration.
const maxCursors = 1 << 16

type scanCursor struct {
	scope string // the prefix iterated: a database or one record's children
	last  string
}

// ScanOptions narrows a SCAN.
type ScanOptions struct {
	Match string // glob pattern; "" means all
	Count int    // keys to examine in this call (default 10)
	Type  byte   // only records of this type; 0 means all
}

// Scan returns the next batch of keys of db after cursor, and the cursor to
// continue from (0 when the iteration is complete).
func (tx *Tx) Scan(db int, cursor uint64, opt ScanOptions) (uint64, []string) {
	prefix := dbPrefix(db)
	start := prefix
	if cursor != 0 {
		c, ok := tx.e.cursor(cursor)
		if !ok || c.scope != prefix {
			return 0, nil
		}
		start = prefix + c.last + "\x00"
	}
	count := opt.Count
	if count <= 0 {
		count = 10
	}
	var keys []string
	examined := 0
	last := ""
	more := false
	tx.bt.AscendGreaterOrEqual("", start, func(k, v string) bool {
		if !strings.HasPrefix(k, prefix) {
			return false
		}
		if examined >= count {
			more = true
			return false
		}
		examined++
		key := k[len(prefix):]
		last = key
		if expired(int64(deadlineOf(v)), tx.Now) {
			tx.noteExpired(k)
			return true
		}
		if opt.Type != 0 && (len(v) == 0 || v[0] != opt.Type) {
			return true
		}
		if opt.Match != "" && opt.Match != "*" && !glob.Match(opt.Match, key) {
			return true
		}
		keys = append(keys, key)
		return true
	})
	if !more {
		return 0, keys
	}
	return tx.e.newCursor(scanCursor{scope: prefix, last: last}), keys
}

func (e *Engine) cursor(id uint64) (scanCursor, bool) {
	e.cursorMu.Lock()
	defer e.cursorMu.Unlock()
	c, ok := e.cursors[id]
	return c, ok
}

func (e *Engine) newCursor(c scanCursor) uint64 {
	e.cursorMu.Lock()
	defer e.cursorMu.Unlock()
	e.cursorNext++
	id := e.cursorNext
	e.cursors[id] = c
	e.cursorFIFO = append(e.cursorFIFO, id)
	if len(e.cursorFIFO) > maxCursors {
		delete(e.cursors, e.cursorFIFO[0])
		e.cursorFIFO = e.cursorFIFO[1:]
	}
	return id
}

// ScanChildren iterates the children of a composite record whose sub-key
// starts with sub, resuming at cursor (0 to start) and examining about count
// children. It calls fn for each and returns the cursor to continue from
// (0 when done). It is the building block of HSCAN, SSCAN and ZSCAN.
func (tx *Tx) ScanChildren(r Record, sub string, cursor uint64, count int, fn func(subkey, val string)) uint64 {
	prefix := childPrefix(r.DB, r.Key) + sub
	start := prefix
	if cursor != 0 {
		c, ok := tx.e.cursor(cursor)
		if !ok || c.scope != prefix {
			return 0
		}
		start = prefix + c.last + "\x00"
	}
	if count <= 0 {
		count = 10
	}
	n := 0
	last := ""
	more := false
	tx.bt.AscendGreaterOrEqual("", start, func(k, v string) bool {
		if !strings.HasPrefix(k, prefix) {
			return false
		}
		if n >= count {
			more = true
			return false
		}
		n++
		last = k[len(prefix):]
		fn(last, v)
		return true
	})
	if !more {
		return 0
	}
	return tx.e.newCursor(scanCursor{scope: prefix, last: last})
}
