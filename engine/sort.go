package engine

// SORT's reads and its STORE. The sorting itself (BY, GET, ALPHA, LIMIT)
// lives with the command; the engine only hands over the elements and
// writes the result list.

// SortKind is the type of the value SORT reads.
type SortKind byte

const (
	SortList SortKind = 'l' // elements in list order
	SortSet  SortKind = 't' // members in the set's own (byte) order
	SortZSet SortKind = 'z' // members by ascending score
)

// SortElements returns the elements of the list, set or sorted set at key,
// in the kind's native order. A missing key is an empty list, as Redis
// sorts it; a key of another type is ErrWrongType.
func (tx *Tx) SortElements(db int, key string) ([]string, SortKind, error) {
	r, ok := tx.Lookup(db, key)
	if !ok {
		return nil, SortList, nil
	}
	switch r.Type {
	case TypeList:
		out, err := tx.ListRange(db, key, 0, -1)
		return out, SortList, err
	case TypeSet:
		out, err := tx.SMembers(db, key)
		return out, SortSet, err
	case TypeZSet:
		items, err := tx.ZRange(db, key, ZRangeSpec{By: ByRank, Start: 0, Stop: -1})
		out := make([]string, len(items))
		for i, sm := range items {
			out[i] = sm.Member
		}
		return out, SortZSet, err
	}
	return nil, 0, ErrWrongType
}

// ListStore replaces whatever dst holds with a list of vals (SORT ... STORE)
// and reports the list's length. An empty result deletes dst, with a "del"
// event when it existed; otherwise the event is event, class l.
func (tx *Tx) ListStore(db int, dst string, vals []string, event string) int {
	if !tx.clearForStore(db, dst, len(vals)) {
		return 0
	}
	l := &listHead{}
	prefix := childPrefix(db, dst)
	for _, v := range vals {
		_, _, _ = tx.bt.Set(seqKey(prefix, l.tail), v, nil)
		l.tail++
	}
	tx.saveList(db, dst, l)
	tx.Notify('l', event, db, dst)
	return len(vals)
}
