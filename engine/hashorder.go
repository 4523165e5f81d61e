package engine

import (
	"encoding/binary"
	"sync/atomic"
)

// Small hashes keep their fields in insertion order, as Redis' listpack
// encoding does: HGETALL, HKEYS, HVALS, HSCAN and a whole-hash HRANDFIELD
// list them in the order they were first set. A hash is small while it has
// at most hash-max-listpack-entries fields and every field and value set
// has at most hash-max-listpack-value bytes; past either it becomes large
// for good (Redis converts it to a hashtable and never back), and lists in
// field order. The order is one child item, subOrder, holding the fields
// as length-prefixed strings; its presence is what makes a hash small.
// DUMP/RESTORE, RENAME, COPY and MOVE copy it with the other children.
const subOrder = "o"

// hashLimits are the listpack thresholds (SetHashListpackLimits).
type hashLimits struct {
	entries atomic.Int64
	value   atomic.Int64
}

// SetHashListpackLimits sets the largest hash (fields) and the longest field
// or value (bytes) a hash may have and keep its insertion order, as Redis'
// hash-max-listpack-entries and hash-max-listpack-value. It applies to
// later writes; a hash past them stays in field order.
func (e *Engine) SetHashListpackLimits(entries, value int64) {
	e.hashLimits.entries.Store(entries)
	e.hashLimits.value.Store(value)
}

// hashOrder is an open hash's insertion order: on while the hash is small.
type hashOrder struct {
	on    bool
	raw   []byte // the fields, each a uvarint length and the bytes
	dirty bool
}

// openOrder reads the order of c (a hash); a hash that does not exist yet
// starts small.
func (c *comp) openOrder() *hashOrder {
	if !c.exists {
		return &hashOrder{on: true}
	}
	v, ok := c.get(subOrder)
	return &hashOrder{on: ok, raw: []byte(v)}
}

// fits reports whether a field and value keep a hash small.
func (o *hashOrder) fits(tx *Tx, field, val string) bool {
	max := tx.e.hashLimits.value.Load()
	return int64(len(field)) <= max && int64(len(val)) <= max
}

// add appends a new field.
func (o *hashOrder) add(field string) {
	if !o.on {
		return
	}
	o.raw = binary.AppendUvarint(o.raw, uint64(len(field)))
	o.raw = append(o.raw, field...)
	o.dirty = true
}

// drop makes the hash large: no order from now on.
func (o *hashOrder) drop() {
	if o.on {
		o.on, o.raw, o.dirty = false, nil, true
	}
}

// remove deletes fields from the order.
func (o *hashOrder) remove(gone map[string]bool) {
	if !o.on || len(gone) == 0 {
		return
	}
	var out []byte
	o.each(func(f string) bool {
		if !gone[f] {
			out = binary.AppendUvarint(out, uint64(len(f)))
			out = append(out, f...)
		}
		return true
	})
	o.raw, o.dirty = out, true
}

// each calls fn with the fields in order until it returns false.
func (o *hashOrder) each(fn func(f string) bool) {
	b := o.raw
	for len(b) > 0 {
		n, w := binary.Uvarint(b)
		if w <= 0 || uint64(len(b)-w) < n {
			return // a damaged order lists what it can
		}
		if !fn(string(b[w : w+int(n)])) {
			return
		}
		b = b[w+int(n):]
	}
}

// save writes the order after the hash's changes (before c.save): a hash
// with more fields than the limit becomes large.
func (o *hashOrder) save(c *comp) {
	if o.on && c.n > c.tx.e.hashLimits.entries.Load() {
		o.drop()
	}
	if !o.dirty || c.n <= 0 {
		return
	}
	if o.on {
		c.set(subOrder, string(o.raw))
	} else {
		c.del(subOrder)
	}
}

// ordered lists a small hash's fields and values in insertion order; ok is
// false for a large hash (or none).
func (c *comp) ordered() (fields, vals []string, ok bool) {
	if !c.exists {
		return nil, nil, false
	}
	o := c.openOrder()
	if !o.on {
		return nil, nil, false
	}
	o.each(func(f string) bool {
		if v, found := c.get(subField + f); found {
			fields = append(fields, f)
			vals = append(vals, v)
		}
		return true
	})
	return fields, vals, true
}
