package engine

import (
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
	m map[string]string
}

// load fills the index from the database (at Open, before any
// transaction), calling each for every item on the way.
func (p *points) load(db *buntdb.DB, each func(k, v string)) error {
	return db.View(func(bt *buntdb.Tx) error {
		n, err := bt.Len()
		if err != nil {
			return err
		}
		p.m = make(map[string]string, n)
		return bt.Ascend("", func(k, v string) bool {
			p.m[k] = v
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
	// cleared is the whole map as it was before DeleteAll, if one ran.
	cleared map[string]string
}

// pointUndo is how to put one key of the map back.
type pointUndo struct {
	key, val string
	had      bool
}

func (t *pointTx) bind(bt *buntdb.Tx, p *points) {
	t.Tx, t.p = bt, p
	t.undo, t.cleared = t.undo[:0], nil
}

// Get returns the value of key, or buntdb.ErrNotFound.
func (t *pointTx) Get(key string, _ ...bool) (string, error) {
	if v, ok := t.p.m[key]; ok {
		return v, nil
	}
	return "", buntdb.ErrNotFound
}

// Set writes key in the tree and the map.
func (t *pointTx) Set(key, val string, opts *buntdb.SetOptions) (string, bool, error) {
	prev, replaced, err := t.Tx.Set(key, val, opts)
	if err != nil {
		return prev, replaced, err
	}
	t.undo = append(t.undo, pointUndo{key, prev, replaced})
	t.p.m[key] = val
	return prev, replaced, nil
}

// Delete removes key from the tree and the map.
func (t *pointTx) Delete(key string) (string, error) {
	v, err := t.Tx.Delete(key)
	if err != nil {
		return v, err
	}
	t.undo = append(t.undo, pointUndo{key, v, true})
	delete(t.p.m, key)
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
		t.cleared = t.p.m
	}
	t.p.m = map[string]string{}
	return nil
}

// rollback puts the map back as it was when the transaction began. It must
// run under buntdb's exclusive lock.
func (t *pointTx) rollback() {
	if t.cleared != nil {
		t.p.m = t.cleared
		t.cleared = nil
		t.undo = t.undo[:0]
		return
	}
	for i := len(t.undo) - 1; i >= 0; i-- {
		u := t.undo[i]
		if u.had {
			t.p.m[u.key] = u.val
		} else {
			delete(t.p.m, u.key)
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
}
