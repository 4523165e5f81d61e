package engine

import (
	"sync/atomic"
	"time"

	"github.com/tidwall/buntdb"
)

// points is a hash index of every item in the database, key -> value,
// beside buntdb's B-tree: a point read (GET, a session's token entry and
// record) is one map lookup instead of a descent of about twenty string
// comparisons through the tree. The map holds the very strings buntdb holds
// (Go strings share their bytes), so it costs a map slot per item, not a
// second copy of the data; ordered work (SCAN, KEYS, children of a
// composite record, ranges) still walks the tree.
//
// The map is guarded by buntdb's own lock: it is written only inside write
// transactions (exclusive) and read inside transactions of either kind.
type points struct {
	m   map[string]pval
	mem memIndex // eviction candidates (memory.go); mem.used is unused here
	// used is the data set's estimate in bytes (memory.go), written under
	// the write lock, read by anyone.
	used atomic.Int64
	// LFU settings read by access (memory.go).
	lfuOn            atomic.Bool
	lfuLog, lfuDecay atomic.Int32
}

// pval is a map entry: the item's value and, for a record that eviction
// may choose (memory.go), its access metadata.
type pval struct {
	v string
	k *keyMeta
}

// load fills the index from the database (at Open, before any
// transaction), calling each for every item on the way.
func (p *points) load(db *buntdb.DB, each func(k, v string)) error {
	return db.View(func(bt *buntdb.Tx) error {
		n, err := bt.Len()
		if err != nil {
			return err
		}
		p.m = make(map[string]pval, n)
		p.detach()
		now := clockOf(time.Now().UnixMilli())
		return bt.Ascend("", func(k, v string) bool {
			p.put(k, v, now)
			if each != nil {
				each(k, v)
			}
			return true
		})
	})
}

// pointTx is buntdb's transaction with its point operations going through
// the hash index: Get reads the map; Set, Delete and DeleteAll write both and
// keep what they replaced, so a transaction that fails puts the map back.
// Every other method (ranges, Ascend...) is buntdb's own.
type pointTx struct {
	*buntdb.Tx
	p    *points
	undo []pointUndo
	// cleared is the whole map as it was before DeleteAll, if one ran,
	// with its memory index.
	cleared    map[string]pval
	clearedMem memIndex
	// now is the transaction's time for access tracking; noTouch turns
	// the tracking off (OBJECT, eviction sampling, CLIENT NO-TOUCH).
	now     accessClock
	noTouch bool
}

// pointUndo is how to put one key of the map back.
type pointUndo struct {
	key, val string
	had      bool
}

func (t *pointTx) bind(bt *buntdb.Tx, p *points, now int64) {
	t.Tx, t.p = bt, p
	t.undo, t.cleared = t.undo[:0], nil
	t.now, t.noTouch = clockOf(now), false
}

// Get returns the value of key, or buntdb.ErrNotFound. Reading a record
// eviction may choose counts as an access to it (LRU clock, LFU counter).
func (t *pointTx) Get(key string, _ ...bool) (string, error) {
	if pv, ok := t.p.m[key]; ok {
		if pv.k != nil && !t.noTouch {
			t.p.access(pv.k, t.now)
		}
		return pv.v, nil
	}
	return "", buntdb.ErrNotFound
}

// peek returns the value of key without counting an access.
func (t *pointTx) peek(key string) (string, bool) {
	pv, ok := t.p.m[key]
	return pv.v, ok
}

// Set writes key in the tree and the map.
func (t *pointTx) Set(key, val string, opts *buntdb.SetOptions) (string, bool, error) {
	prev, replaced, err := t.Tx.Set(key, val, opts)
	if err != nil {
		return prev, replaced, err
	}
	t.undo = append(t.undo, pointUndo{key, prev, replaced})
	if evictable(key) {
		t.p.put(key, val, t.now)
	} else {
		// Not a candidate: no metadata to carry over, and buntdb has
		// told what it replaced, so one map operation is enough.
		t.p.m[key] = pval{v: val}
		delta := itemCost(key, val, false)
		if replaced {
			delta -= itemCost(key, prev, false)
		}
		t.p.used.Add(delta)
	}
	return prev, replaced, nil
}

// Delete removes key from the tree and the map.
func (t *pointTx) Delete(key string) (string, error) {
	v, err := t.Tx.Delete(key)
	if err != nil {
		return v, err
	}
	t.undo = append(t.undo, pointUndo{key, v, true})
	if evictable(key) {
		t.p.del(key)
	} else {
		delete(t.p.m, key)
		t.p.used.Add(-itemCost(key, v, false))
	}
	return v, nil
}

// DeleteAll empties the tree and the map.
func (t *pointTx) DeleteAll() error {
	if err := t.Tx.DeleteAll(); err != nil {
		return err
	}
	if t.cleared == nil {
		// Keep the map as it was when the transaction began.
		t.rollback()
		t.cleared, t.clearedMem = t.p.m, t.p.detach()
	} else {
		t.p.detach()
	}
	t.p.m = map[string]pval{}
	return nil
}

// rollback puts the map back as it was when the transaction began. It must
// run under buntdb's exclusive lock.
func (t *pointTx) rollback() {
	if t.cleared != nil {
		t.p.m = t.cleared
		t.p.restore(&t.clearedMem)
		t.cleared, t.clearedMem = nil, memIndex{}
		t.undo = t.undo[:0]
		return
	}
	for i := len(t.undo) - 1; i >= 0; i-- {
		u := t.undo[i]
		if u.had {
			t.p.put(u.key, u.val, t.now)
		} else {
			t.p.del(u.key)
		}
	}
	t.undo = t.undo[:0]
}

// done forgets the transaction's undo log (it committed).
func (t *pointTx) done() {
	for i := range t.undo {
		t.undo[i] = pointUndo{}
	}
	t.undo, t.cleared, t.Tx = t.undo[:0], nil, nil
	t.clearedMem = memIndex{}
}

// put writes key in the map, keeping the memory estimate and the eviction
// candidates in step.
func (p *points) put(key, val string, now accessClock) {
	prev, had := p.m[key]
	k := prev.k
	delta := itemCost(key, val, k != nil || evictable(key))
	if had {
		delta -= itemCost(key, prev.v, k != nil)
	}
	if evictable(key) {
		if k == nil {
			k = p.newMeta(key, now)
			ringAdd(&p.mem.all, k, &k.all)
		} else {
			p.access(k, now)
		}
		if deadlineOf(val) != 0 {
			if k.vol < 0 {
				ringAdd(&p.mem.vol, k, &k.vol)
			}
		} else if k.vol >= 0 {
			ringRemove(&p.mem.vol, &k.vol, true)
		}
	}
	p.m[key] = pval{v: val, k: k}
	p.used.Add(delta)
}

// del removes key from the map, keeping the memory estimate and the
// eviction candidates in step.
func (p *points) del(key string) {
	prev, had := p.m[key]
	if !had {
		return
	}
	if k := prev.k; k != nil {
		ringRemove(&p.mem.all, &k.all, false)
		if k.vol >= 0 {
			ringRemove(&p.mem.vol, &k.vol, true)
		}
	}
	p.used.Add(-itemCost(key, prev.v, prev.k != nil))
	delete(p.m, key)
}
