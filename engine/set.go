package engine

import (
	"math/rand/v2"
	"sort"
)

// Sets: each member is a child "m"+member with an empty value (see hash.go
// for the layout shared by the composite types).

// SAdd adds members and returns how many were new.
func (tx *Tx) SAdd(db int, key string, members []string) (int, error) {
	c, err := tx.openComp(db, key, TypeSet)
	if err != nil {
		return 0, err
	}
	added := 0
	for _, m := range members {
		if _, ok := c.get(subMember + m); ok {
			continue
		}
		c.set(subMember+m, "")
		c.n++
		added++
	}
	if added > 0 {
		c.save()
		tx.Notify('s', "sadd", db, key)
	}
	return added, nil
}

// SRem removes members and returns how many existed.
func (tx *Tx) SRem(db int, key string, members []string) (int, error) {
	c, err := tx.openComp(db, key, TypeSet)
	if err != nil || !c.exists {
		return 0, err
	}
	n := 0
	for _, m := range members {
		if c.del(subMember + m) {
			c.n--
			n++
		}
	}
	if n > 0 {
		deleted := c.save()
		tx.Notify('s', "srem", db, key)
		if deleted {
			tx.Notify('g', "del", db, key)
		}
	}
	return n, nil
}

// SIsMember reports whether each member belongs to the set.
func (tx *Tx) SIsMember(db int, key string, members []string) ([]bool, error) {
	c, err := tx.openComp(db, key, TypeSet)
	if err != nil {
		return nil, err
	}
	out := make([]bool, len(members))
	if !c.exists {
		return out, nil
	}
	for i, m := range members {
		_, out[i] = c.get(subMember + m)
	}
	return out, nil
}

// SCard returns the number of members.
func (tx *Tx) SCard(db int, key string) (int64, error) {
	c, err := tx.openComp(db, key, TypeSet)
	if err != nil {
		return 0, err
	}
	return c.n, nil
}

// SMembers returns every member, in byte order.
func (tx *Tx) SMembers(db int, key string) ([]string, error) {
	c, err := tx.openComp(db, key, TypeSet)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, c.n)
	c.each(subMember, func(k, _ string) bool {
		out = append(out, k)
		return true
	})
	return out, nil
}

// SRandMember returns random members: count >= 0 distinct, count < 0 with
// repetition.
func (tx *Tx) SRandMember(db int, key string, count int64, rnd *rand.Rand) ([]string, error) {
	c, err := tx.openComp(db, key, TypeSet)
	if err != nil {
		return nil, err
	}
	ms, _ := c.pickRandom(subMember, count, rnd)
	return ms, nil
}

// SPop removes and returns up to count random members.
func (tx *Tx) SPop(db int, key string, count int64, rnd *rand.Rand) ([]string, error) {
	c, err := tx.openComp(db, key, TypeSet)
	if err != nil || !c.exists || count <= 0 {
		return nil, err
	}
	ms, _ := c.pickRandom(subMember, count, rnd)
	for _, m := range ms {
		if c.del(subMember + m) {
			c.n--
		}
	}
	if len(ms) > 0 {
		deleted := c.save()
		tx.Notify('s', "spop", db, key)
		if deleted {
			tx.Notify('g', "del", db, key)
		}
	}
	return ms, nil
}

// SMove moves member from src to dst; it reports whether src held it.
func (tx *Tx) SMove(db int, src, dst, member string) (bool, error) {
	s, err := tx.openComp(db, src, TypeSet)
	if err != nil {
		return false, err
	}
	if !s.exists {
		return false, nil
	}
	d, err := tx.openComp(db, dst, TypeSet)
	if err != nil {
		return false, err
	}
	if src == dst {
		_, ok := s.get(subMember + member)
		return ok, nil
	}
	if !s.del(subMember + member) {
		return false, nil
	}
	s.n--
	deleted := s.save()
	tx.Notify('s', "srem", db, src)
	if deleted {
		tx.Notify('g', "del", db, src)
	}
	if _, ok := d.get(subMember + member); !ok {
		d.set(subMember+member, "")
		d.n++
		d.save()
		tx.Notify('s', "sadd", db, dst)
	}
	return true, nil
}

// openSets opens every key as a set, checking all types first as Redis
// does; a missing key is an empty set (nil entry).
func (tx *Tx) openSets(db int, keys []string) ([]*comp, error) {
	out := make([]*comp, len(keys))
	for i, k := range keys {
		c, err := tx.openComp(db, k, TypeSet)
		if err != nil {
			return nil, err
		}
		if c.exists {
			out[i] = c
		}
	}
	return out, nil
}

// SInter returns the intersection of the sets, stopping after limit members
// when limit > 0.
func (tx *Tx) SInter(db int, keys []string, limit int) ([]string, error) {
	sets, err := tx.openSets(db, keys)
	if err != nil {
		return nil, err
	}
	for _, s := range sets {
		if s == nil {
			return nil, nil
		}
	}
	// Iterate the smallest set and probe the others.
	sort.SliceStable(sets, func(i, j int) bool { return sets[i].n < sets[j].n })
	var out []string
	sets[0].each(subMember, func(m, _ string) bool {
		for _, o := range sets[1:] {
			if _, ok := o.get(subMember + m); !ok {
				return true
			}
		}
		out = append(out, m)
		return limit <= 0 || len(out) < limit
	})
	return out, nil
}

// SUnion returns the union of the sets.
func (tx *Tx) SUnion(db int, keys []string) ([]string, error) {
	sets, err := tx.openSets(db, keys)
	if err != nil {
		return nil, err
	}
	seen := map[string]struct{}{}
	var out []string
	for _, s := range sets {
		if s == nil {
			continue
		}
		s.each(subMember, func(m, _ string) bool {
			if _, ok := seen[m]; !ok {
				seen[m] = struct{}{}
				out = append(out, m)
			}
			return true
		})
	}
	sort.Strings(out)
	return out, nil
}

// SDiff returns the members of the first set that are in none of the others.
func (tx *Tx) SDiff(db int, keys []string) ([]string, error) {
	sets, err := tx.openSets(db, keys)
	if err != nil {
		return nil, err
	}
	if sets[0] == nil {
		return nil, nil
	}
	var out []string
	sets[0].each(subMember, func(m, _ string) bool {
		for i, o := range sets[1:] {
			if o == nil {
				continue
			}
			if keys[i+1] == keys[0] {
				return true
			}
			if _, ok := o.get(subMember + m); ok {
				return true
			}
		}
		out = append(out, m)
		return true
	})
	return out, nil
}

// SStore replaces dst with a set of the given (distinct) members; an empty
// result deletes dst. event names the keyspace event ("sinterstore", ...).
// It returns the number of members stored.
func (tx *Tx) SStore(db int, dst string, members []string, event string) int {
	if !tx.clearForStore(db, dst, len(members)) {
		return 0
	}
	c := &comp{tx: tx, db: db, key: dst, typ: TypeSet, prefix: childPrefix(db, dst)}
	for _, m := range members {
		if c.set(subMember+m, "") {
			c.n++
		}
	}
	c.save()
	tx.Notify('s', event, db, dst)
	return int(c.n)
}

// SScan is one SSCAN step.
func (tx *Tx) SScan(db int, key string, cursor uint64, count int, fn func(member string)) (uint64, error) {
	return tx.scanComp(db, key, TypeSet, subMember, cursor, count, func(k, _ string) { fn(k) })
}
