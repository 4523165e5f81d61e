package engine

import (
	"encoding/binary"
)

// Lists. A list's record payload holds two 8-byte big-endian sequence
// numbers, head and tail: its elements are the children numbered head ..
// tail-1, each child key the 8-byte big-endian sequence number with the sign
// bit flipped (so children sort in list order). Pushing or popping at either
// end touches one child and the record, whatever the list's length; an index
// is one lookup. An emptied list is deleted, as in Redis.

type listHead struct {
	r          Record
	exists     bool
	head, tail int64
}

func (l *listHead) n() int64 { return l.tail - l.head }

func seqKey(prefix string, seq int64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(seq)^(1<<63))
	return prefix + string(b[:])
}

func (tx *Tx) openList(db int, key string) (*listHead, error) {
	r, ok, err := tx.lookupType(db, key, TypeList)
	if err != nil {
		return nil, err
	}
	l := &listHead{r: r, exists: ok}
	if ok && len(r.Payload) >= 16 {
		l.head = int64(binary.BigEndian.Uint64([]byte(r.Payload[:8])))
		l.tail = int64(binary.BigEndian.Uint64([]byte(r.Payload[8:16])))
	}
	return l, nil
}

func (l *listHead) payload() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(l.head))
	binary.BigEndian.PutUint64(b[8:], uint64(l.tail))
	return string(b[:])
}

// save writes the list's record, or deletes it when empty; it reports
// whether the key was deleted.
func (tx *Tx) saveList(db int, key string, l *listHead) bool {
	if l.n() == 0 {
		if l.exists {
			tx.removeRecord(l.r, DropDeleted)
		}
		return l.exists
	}
	if l.exists {
		tx.putRecord(l.r, l.payload())
	} else {
		tx.put(db, key, TypeList, 0, l.payload())
	}
	return false
}

// ListPush adds vals at the head (left) or tail of the list and returns its
// new length. With onlyExisting (LPUSHX/RPUSHX) a missing key stays missing.
func (tx *Tx) ListPush(db int, key string, vals []string, left, onlyExisting bool) (int64, error) {
	l, err := tx.openList(db, key)
	if err != nil {
		return 0, err
	}
	if !l.exists && onlyExisting {
		return 0, nil
	}
	prefix := childPrefix(db, key)
	for _, v := range vals {
		if left {
			l.head--
			_, _, _ = tx.bt.Set(seqKey(prefix, l.head), v, nil)
		} else {
			_, _, _ = tx.bt.Set(seqKey(prefix, l.tail), v, nil)
			l.tail++
		}
	}
	tx.saveList(db, key, l)
	if left {
		tx.Notify('l', "lpush", db, key)
	} else {
		tx.Notify('l', "rpush", db, key)
	}
	return l.n(), nil
}

// ListPop removes and returns up to count elements from the head (left) or
// tail. It reports false when the key does not exist.
func (tx *Tx) ListPop(db int, key string, left bool, count int64) ([]string, bool, error) {
	l, err := tx.openList(db, key)
	if err != nil || !l.exists {
		return nil, false, err
	}
	prefix := childPrefix(db, key)
	count = min(count, l.n())
	out := make([]string, 0, count)
	for i := int64(0); i < count; i++ {
		var seq int64
		if left {
			seq = l.head
			l.head++
		} else {
			l.tail--
			seq = l.tail
		}
		v, _ := tx.bt.Delete(seqKey(prefix, seq))
		out = append(out, v)
	}
	if count > 0 {
		deleted := tx.saveList(db, key, l)
		if left {
			tx.Notify('l', "lpop", db, key)
		} else {
			tx.Notify('l', "rpop", db, key)
		}
		if deleted {
			tx.Notify('g', "del", db, key)
		}
	}
	return out, true, nil
}

// ListLen returns the length of the list (0 when missing).
func (tx *Tx) ListLen(db int, key string) (int64, error) {
	l, err := tx.openList(db, key)
	if err != nil {
		return 0, err
	}
	return l.n(), nil
}

// ListIndex returns the element at index (negative from the tail).
func (tx *Tx) ListIndex(db int, key string, index int64) (string, bool, error) {
	l, err := tx.openList(db, key)
	if err != nil || !l.exists {
		return "", false, err
	}
	if index < 0 {
		index += l.n()
	}
	if index < 0 || index >= l.n() {
		return "", false, nil
	}
	v, err := tx.bt.Get(seqKey(childPrefix(db, key), l.head+index))
	return v, err == nil, nil
}

// ListSet replaces the element at index; ErrNoSuchKey when the key is
// missing, ErrIndexRange when index is outside the list.
func (tx *Tx) ListSet(db int, key string, index int64, val string) error {
	l, err := tx.openList(db, key)
	if err != nil {
		return err
	}
	if !l.exists {
		return ErrNoSuchKey
	}
	if index < 0 {
		index += l.n()
	}
	if index < 0 || index >= l.n() {
		return ErrIndexRange
	}
	_, _, _ = tx.bt.Set(seqKey(childPrefix(db, key), l.head+index), val, nil)
	tx.putRecord(l.r, l.payload())
	tx.Notify('l', "lset", db, key)
	return nil
}

// ListRange returns the elements from start to stop inclusive, with Redis'
// LRANGE index rules (negative from the tail, clamped).
func (tx *Tx) ListRange(db int, key string, start, stop int64) ([]string, error) {
	l, err := tx.openList(db, key)
	if err != nil || !l.exists {
		return nil, err
	}
	n := l.n()
	if start < 0 {
		start += n
	}
	if stop < 0 {
		stop += n
	}
	start = max(start, 0)
	if start > stop || start >= n {
		return nil, nil
	}
	stop = min(stop, n-1)
	prefix := childPrefix(db, key)
	out := make([]string, 0, stop-start+1)
	last := seqKey(prefix, l.head+stop)
	tx.bt.AscendGreaterOrEqual("", seqKey(prefix, l.head+start), func(k, v string) bool {
		if k > last {
			return false
		}
		out = append(out, v)
		return true
	})
	return out, nil
}

// ErrIndexRange: a list index outside the list (LSET).
var ErrIndexRange = errIndexRange{}

type errIndexRange struct{}

func (errIndexRange) Error() string { return "index out of range" }

// Middle edits. LINSERT, LREM and LTRIM change the list away from its ends;
// like Redis' (O(n)) they may renumber elements: LINSERT shifts the shorter
// side by one, LREM closes the gaps it leaves, LTRIM only drops the ends.

// listScan calls fn with each element's index and value, from the head (or
// from the tail when fromTail), until fn returns false.
func (tx *Tx) listScan(prefix string, l *listHead, fromTail bool, fn func(i int64, v string) bool) {
	if l.n() == 0 {
		return
	}
	first, last := seqKey(prefix, l.head), seqKey(prefix, l.tail-1)
	if fromTail {
		i := l.n() - 1
		tx.bt.DescendLessOrEqual("", last, func(k, v string) bool {
			if k < first || i < 0 {
				return false
			}
			ok := fn(i, v)
			i--
			return ok
		})
		return
	}
	i := int64(0)
	tx.bt.AscendGreaterOrEqual("", first, func(k, v string) bool {
		if k > last {
			return false
		}
		ok := fn(i, v)
		i++
		return ok
	})
}

// ListInsert inserts val before (or after) the first element equal to
// pivot, and returns the new length: 0 when the key is missing, -1 when
// pivot is not found (LINSERT).
func (tx *Tx) ListInsert(db int, key string, before bool, pivot, val string) (int64, error) {
	l, err := tx.openList(db, key)
	if err != nil || !l.exists {
		return 0, err
	}
	prefix := childPrefix(db, key)
	at := int64(-1)
	tx.listScan(prefix, l, false, func(i int64, v string) bool {
		if v == pivot {
			at = i
			return false
		}
		return true
	})
	if at < 0 {
		return -1, nil
	}
	if !before {
		at++
	}
	// at is the index the new element takes; shift the shorter side.
	if at < l.n()-at {
		for s := l.head; s < l.head+at; s++ {
			v, _ := tx.bt.Get(seqKey(prefix, s))
			_, _, _ = tx.bt.Set(seqKey(prefix, s-1), v, nil)
		}
		l.head--
	} else {
		for s := l.tail - 1; s >= l.head+at; s-- {
			v, _ := tx.bt.Get(seqKey(prefix, s))
			_, _, _ = tx.bt.Set(seqKey(prefix, s+1), v, nil)
		}
		l.tail++
	}
	_, _, _ = tx.bt.Set(seqKey(prefix, l.head+at), val, nil)
	tx.saveList(db, key, l)
	tx.Notify('l', "linsert", db, key)
	return l.n(), nil
}

// ListRem removes elements equal to val: the first count from the head
// (count > 0), the last -count from the tail (count < 0) or all (0). It
// returns how many it removed (LREM); an emptied list is deleted.
func (tx *Tx) ListRem(db int, key string, count int64, val string) (int64, error) {
	l, err := tx.openList(db, key)
	if err != nil || !l.exists {
		return 0, err
	}
	prefix := childPrefix(db, key)
	limit := count
	if limit < 0 {
		limit = -limit
	}
	var gone []int64 // indexes to remove, in scan order
	tx.listScan(prefix, l, count < 0, func(i int64, v string) bool {
		if v == val {
			gone = append(gone, i)
		}
		return limit == 0 || int64(len(gone)) < limit
	})
	if len(gone) == 0 {
		return 0, nil
	}
	if count < 0 {
		for i, j := 0, len(gone)-1; i < j; i, j = i+1, j-1 {
			gone[i], gone[j] = gone[j], gone[i]
		}
	}
	// Close the gaps: every survivor after the first removed index moves
	// down to the next free number.
	next, g := gone[0], 0
	for i := gone[0]; i < l.n(); i++ {
		if g < len(gone) && gone[g] == i {
			g++
			continue
		}
		v, _ := tx.bt.Get(seqKey(prefix, l.head+i))
		_, _, _ = tx.bt.Set(seqKey(prefix, l.head+next), v, nil)
		next++
	}
	for s := l.head + next; s < l.tail; s++ {
		_, _ = tx.bt.Delete(seqKey(prefix, s))
	}
	l.tail = l.head + next
	deleted := tx.saveList(db, key, l)
	tx.Notify('l', "lrem", db, key)
	if deleted {
		tx.Notify('g', "del", db, key)
	}
	return int64(len(gone)), nil
}

// ListTrim keeps only the elements from start to stop inclusive, with
// Redis' LTRIM index rules; an emptied list is deleted. A missing key is
// left alone.
func (tx *Tx) ListTrim(db int, key string, start, stop int64) error {
	l, err := tx.openList(db, key)
	if err != nil || !l.exists {
		return err
	}
	n := l.n()
	if start < 0 {
		start += n
	}
	if stop < 0 {
		stop += n
	}
	start = max(start, 0)
	var ltrim, rtrim int64
	if start > stop || start >= n {
		ltrim, rtrim = n, 0
	} else {
		stop = min(stop, n-1)
		ltrim, rtrim = start, n-stop-1
	}
	prefix := childPrefix(db, key)
	for i := int64(0); i < ltrim; i++ {
		_, _ = tx.bt.Delete(seqKey(prefix, l.head))
		l.head++
	}
	for i := int64(0); i < rtrim; i++ {
		l.tail--
		_, _ = tx.bt.Delete(seqKey(prefix, l.tail))
	}
	deleted := tx.saveList(db, key, l)
	tx.Notify('l', "ltrim", db, key)
	if deleted {
		tx.Notify('g', "del", db, key)
	}
	return nil
}

// ListPos returns the indexes of elements equal to val (LPOS): skipping the
// first rank-1 matches (rank > 0, scanning from the head) or -rank-1
// matches (rank < 0, from the tail), at most count of them (0: all), among
// the first maxlen elements scanned (0: all). rank must not be 0. It
// reports false when the key is missing.
func (tx *Tx) ListPos(db int, key, val string, rank, count, maxlen int64) ([]int64, bool, error) {
	l, err := tx.openList(db, key)
	if err != nil || !l.exists {
		return nil, false, err
	}
	fromTail := rank < 0
	if fromTail {
		rank = -rank
	}
	var out []int64
	var matches, scanned int64
	tx.listScan(childPrefix(db, key), l, fromTail, func(i int64, v string) bool {
		if maxlen > 0 && scanned >= maxlen {
			return false
		}
		scanned++
		if v == val {
			matches++
			if matches >= rank {
				out = append(out, i)
				if count > 0 && int64(len(out)) >= count {
					return false
				}
			}
		}
		return true
	})
	return out, true, nil
}

// ListMove pops an element from one end of src and pushes it at one end of
// dst (LMOVE, RPOPLPUSH), in one step: src and dst may be the same list. It
// reports false when src is missing; ErrWrongType, with nothing changed,
// when src or dst holds another type. Events follow Redis: the push on dst,
// then the pop on src, then its deletion if emptied.
func (tx *Tx) ListMove(db int, src, dst string, fromLeft, toLeft bool) (string, bool, error) {
	s, err := tx.openList(db, src)
	if err != nil || !s.exists {
		return "", false, err
	}
	d := s
	if dst != src {
		if d, err = tx.openList(db, dst); err != nil {
			return "", false, err
		}
	}
	sp := childPrefix(db, src)
	var seq int64
	if fromLeft {
		seq = s.head
		s.head++
	} else {
		s.tail--
		seq = s.tail
	}
	v, _ := tx.bt.Delete(seqKey(sp, seq))
	dp := childPrefix(db, dst)
	if toLeft {
		d.head--
		_, _, _ = tx.bt.Set(seqKey(dp, d.head), v, nil)
	} else {
		_, _, _ = tx.bt.Set(seqKey(dp, d.tail), v, nil)
		d.tail++
	}
	if d != s {
		tx.saveList(db, dst, d)
	}
	if toLeft {
		tx.Notify('l', "lpush", db, dst)
	} else {
		tx.Notify('l', "rpush", db, dst)
	}
	deleted := tx.saveList(db, src, s)
	if fromLeft {
		tx.Notify('l', "lpop", db, src)
	} else {
		tx.Notify('l', "rpop", db, src)
	}
	if deleted {
		tx.Notify('g', "del", db, src)
	}
	return v, true, nil
}
