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
