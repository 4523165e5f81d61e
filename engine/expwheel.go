package engine

import (
	"container/heap"
	"math/bits"
	"strings"
)

// The expiry wheel: where the active expirer finds records whose deadline
// may have passed.
//
// A record's true deadline is in its header (and so in the data file, to the
// millisecond). The wheel holds hints: (due time, buntdb key) with the due
// time a LOWER BOUND of the moment the record can expire (deadline + 1). The
// invariant, kept by every write of a "k" item (Tx.setItem):
//
//	every record with a deadline D has at least one hint due at or before D+1.
//
// So a write that moves a deadline later (a touch, SET ... EX on an existing
// key with a deadline, SESS.GET) files nothing: the existing hint is still a
// lower bound. Only a new deadline, or an earlier one, files a hint. Hints
// are never removed when a record is deleted or persisted: when one comes due
// the expirer reads the record and expires it (deadline passed), re-files it
// (deadline moved later), or drops the hint (record gone or without a
// deadline). A hint too many is harmless, so a rolled-back transaction needs
// no undo here; a hint too few would leave a record to lazy expiry alone,
// which is why only the expirer (after reading the record) and FLUSHALL
// remove hints, and put them back if their transaction fails.
//
// Due times are rounded down to a granularity that grows with the distance
// from now (about 1/64 of it, a power of two of milliseconds), so at most
// about 64 buckets per doubling of the distance exist: a few thousand at
// most, however spread the deadlines. A hint filed an hour ahead comes due a
// minute early, is re-filed about a second ahead, and so on: each record is
// re-filed a few times in its life, each re-file one lookup, where the
// buntdb index on the deadline it replaces moved the item (a delete and an
// insert in a B-tree over every record) on every write.
//
// The wheel is not persisted: Open files a hint for every record with a
// deadline. It is only used under buntdb's write lock (inside Update) or
// before the engine is shared (Open), so it needs no lock of its own.
type expWheel struct {
	buckets map[int64]*expBucket
	due     dueHeap // due times that have a bucket, earliest first
	n       int     // hints filed
}

type expBucket struct{ keys []string }

// expFine is the distance (ms) under which hints are exact (due = D+1).
const expFine = 64

func newExpWheel() *expWheel { return &expWheel{buckets: map[int64]*expBucket{}} }

// dueTime is the bucket a record with deadline d is filed in at now.
func dueTime(d, now int64) int64 {
	due := d + 1
	if due < d {
		due = d // the largest deadline: never due in practice
	}
	if delta := due - now; delta > expFine {
		g := int64(1) << (bits.Len64(uint64(delta/expFine)) - 1)
		due &^= g - 1
	}
	return due
}

// file adds a hint for the record at item with deadline d (> 0).
func (w *expWheel) file(item string, d, now int64) {
	w.add(dueTime(d, now), item)
}

func (w *expWheel) add(due int64, item string) {
	b := w.buckets[due]
	if b == nil {
		b = &expBucket{}
		w.buckets[due] = b
		heap.Push(&w.due, due)
	}
	b.keys = append(b.keys, item)
	w.n++
}

// pop removes and returns one hint due at or before now.
func (w *expWheel) pop(now int64) (string, bool) {
	for len(w.due) > 0 {
		due := w.due[0]
		if due > now {
			return "", false
		}
		b := w.buckets[due]
		if n := len(b.keys); n > 0 {
			k := b.keys[n-1]
			b.keys[n-1] = ""
			b.keys = b.keys[:n-1]
			w.n--
			return k, true
		}
		delete(w.buckets, due)
		heap.Pop(&w.due)
	}
	return "", false
}

// pending reports whether a hint is due at now.
func (w *expWheel) pending(now int64) bool {
	for len(w.due) > 0 && w.due[0] <= now {
		if len(w.buckets[w.due[0]].keys) > 0 {
			return true
		}
		delete(w.buckets, w.due[0])
		heap.Pop(&w.due)
	}
	return false
}

// takeAll empties the wheel and returns what it held (FLUSHALL).
func (w *expWheel) takeAll() *expWheel {
	old := *w
	*w = *newExpWheel()
	return &old
}

// merge files every hint of o into w (undoing takeAll).
func (w *expWheel) merge(o *expWheel) {
	for due, b := range o.buckets {
		for _, k := range b.keys {
			w.add(due, k)
		}
	}
}

// dropPrefix removes the hints of items under prefix (FLUSHDB) and returns them.
func (w *expWheel) dropPrefix(prefix string) []string {
	var out []string
	for _, b := range w.buckets {
		keep := b.keys[:0]
		for _, k := range b.keys {
			if strings.HasPrefix(k, prefix) {
				out = append(out, k)
			} else {
				keep = append(keep, k)
			}
		}
		clear(b.keys[len(keep):])
		b.keys = keep
	}
	w.n -= len(out)
	return out
}

type dueHeap []int64

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h dueHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)        { *h = append(*h, x.(int64)) }
func (h *dueHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
