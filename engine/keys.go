package engine

import (
	"math/rand/v2"
	"strings"

	"github.com/sessiond/sessiond/glob"
)

// Lookup returns the live record of key in db. An expired record is treated
// as absent (and deleted: at once in a write transaction, right after a read one).
func (tx *Tx) Lookup(db int, key string) (Record, bool) {
	ik := itemKey(db, key)
	v, err := tx.bt.Get(ik, true)
	if err != nil {
		return Record{}, false
	}
	r := decodeRecord(ik, v)
	if expired(r.Deadline, tx.Now) {
		if tx.writable {
			tx.expireRecord(r)
		} else {
			tx.lazyExpired = append(tx.lazyExpired, ik)
		}
		return Record{}, false
	}
	return r, true
}

// lookupType returns the record if it exists and has type t; ErrWrongType if
// it exists with another type.
func (tx *Tx) lookupType(db int, key string, t byte) (Record, bool, error) {
	r, ok := tx.Lookup(db, key)
	if !ok {
		return r, false, nil
	}
	if r.Type != t {
		return r, false, ErrWrongType
	}
	return r, true, nil
}

// put writes a record. The caller has already dealt with any previous record
// of another type (see replace).
func (tx *Tx) put(db int, key string, t byte, deadline int64, payload string) {
	ik := itemKey(db, key)
	replaced := tx.setItem(ik, encodeRecord(t, deadline, payload))
	tx.touch(db, key)
	if !replaced && db < MaxDatabases {
		tx.Notify('n', "new", db, key) // Redis' dbAdd
	}
}

// overwrite writes a record (rec, at buntdb key ik) of the user keyspace
// whatever the key held,
// then deals with the record it replaced as Lookup and removeRecord would
// have before the write: an expired one is expired (its event and count),
// one of a composite type loses its children. Only for db < MaxDatabases,
// whose types have no drop hooks.
func (tx *Tx) overwrite(db int, key, ik, rec string) {
	prev, replaced := tx.setItemPrev(ik, rec)
	tx.touch(db, key)
	if replaced {
		old := decodeRecord(ik, prev)
		if composite(old.Type) {
			tx.deletePrefix(childPrefix(db, key))
		}
		switch {
		case expired(old.Deadline, tx.Now):
			tx.e.stats.ExpiredKeys.Add(1)
			tx.Notify('x', "expired", db, key)
		case old.Type == rec[0]:
			return
		}
		// A record of another type was deleted first, as Lookup and
		// removeRecord do: the key is new.
	}
	tx.Notify('n', "new", db, key) // Redis' dbAdd
}

// putRecord rewrites an existing record with a new payload, keeping its type
// and deadline.
func (tx *Tx) putRecord(r Record, payload string) {
	tx.setItem(r.item, encodeRecord(r.Type, r.Deadline, payload))
	tx.touch(r.DB, r.Key)
}

// removeRecord deletes a record and everything that hangs off it.
func (tx *Tx) removeRecord(r Record, reason DropReason) {
	tx.e.hooksMu.RLock()
	hook := tx.e.dropHook[r.Type]
	tx.e.hooksMu.RUnlock()
	if hook != nil {
		hook(tx, r, reason)
	}
	if composite(r.Type) {
		tx.deletePrefix(childPrefix(r.DB, r.Key))
	}
	_, _ = tx.bt.Delete(r.item)
	tx.wrote = true
	tx.touch(r.DB, r.Key)
}

func (tx *Tx) expireRecord(r Record) {
	tx.removeRecord(r, DropExpired)
	tx.e.stats.ExpiredKeys.Add(1)
	if r.DB < MaxDatabases {
		tx.Notify('x', "expired", r.DB, r.Key)
	}
}

// deletePrefix deletes every item whose key starts with prefix.
func (tx *Tx) deletePrefix(prefix string) int {
	var keys []string
	tx.bt.AscendGreaterOrEqual("", prefix, func(k, _ string) bool {
		if !strings.HasPrefix(k, prefix) {
			return false
		}
		keys = append(keys, k)
		return true
	})
	for _, k := range keys {
		_, _ = tx.bt.Delete(k)
	}
	if len(keys) > 0 {
		tx.wrote = true
	}
	return len(keys)
}

// Delete removes key and reports whether it existed.
func (tx *Tx) Delete(db int, key string) bool {
	r, ok := tx.Lookup(db, key)
	if !ok {
		return false
	}
	tx.removeRecord(r, DropDeleted)
	tx.Notify('g', "del", db, key)
	return true
}

// Exists reports whether key exists.
func (tx *Tx) Exists(db int, key string) bool {
	_, ok := tx.Lookup(db, key)
	return ok
}

// Type returns the TYPE name of key ("none" when absent).
func (tx *Tx) Type(db int, key string) string {
	r, ok := tx.Lookup(db, key)
	if !ok {
		return "none"
	}
	return TypeName(r.Type)
}

// Deadline returns key's deadline in Unix ms (0 = persistent) and whether it exists.
func (tx *Tx) Deadline(db int, key string) (int64, bool) {
	r, ok := tx.Lookup(db, key)
	return r.Deadline, ok
}

// SetDeadline sets (ms > 0) or removes (ms == 0) key's deadline. A deadline
// not after now deletes the key, as Redis does; that reports "expired" was
// not needed but "del" is published. It reports whether the key exists.
func (tx *Tx) SetDeadline(db int, key string, ms int64) bool {
	r, ok := tx.Lookup(db, key)
	if !ok {
		return false
	}
	if ms != 0 && ms <= tx.Now {
		tx.removeRecord(r, DropDeleted)
		tx.Notify('g', "del", db, key)
		return true
	}
	r.Deadline = ms
	tx.setItem(r.item, encodeRecord(r.Type, ms, r.Payload))
	tx.touch(db, key)
	if ms == 0 {
		tx.Notify('g', "persist", db, key)
	} else {
		tx.Notify('g', "expire", db, key)
	}
	return true
}

// Rename moves src to dst (overwriting dst unless nx). It returns false with
// nx when dst exists, and ErrNoSuchKey when src does not.
func (tx *Tx) Rename(db int, src, dst string, nx bool) (bool, error) {
	r, ok := tx.Lookup(db, src)
	if !ok {
		return false, ErrNoSuchKey
	}
	if src == dst {
		return !nx, nil
	}
	if old, ok := tx.Lookup(db, dst); ok {
		if nx {
			return false, nil
		}
		tx.removeRecord(old, DropDeleted)
	}
	tx.copyRecord(r, db, dst)
	tx.removeRecord(r, DropDeleted)
	tx.Notify('g', "rename_from", db, src)
	tx.Notify('g', "rename_to", db, dst)
	return true, nil
}

// Copy copies src in srcDB to dst in dstDB; it reports false when src is
// missing or dst exists and replace is false.
func (tx *Tx) Copy(srcDB int, src string, dstDB int, dst string, replace bool) bool {
	r, ok := tx.Lookup(srcDB, src)
	if !ok {
		return false
	}
	if srcDB == dstDB && src == dst {
		return false
	}
	if old, ok := tx.Lookup(dstDB, dst); ok {
		if !replace {
			return false
		}
		tx.removeRecord(old, DropDeleted)
	}
	tx.copyRecord(r, dstDB, dst)
	tx.Notify('g', "copy_to", dstDB, dst)
	return true
}

// Move moves key from db to another database; false if missing or present there.
func (tx *Tx) Move(db int, key string, dstDB int) bool {
	r, ok := tx.Lookup(db, key)
	if !ok {
		return false
	}
	if tx.Exists(dstDB, key) {
		return false
	}
	tx.copyRecord(r, dstDB, key)
	tx.removeRecord(r, DropDeleted)
	tx.Notify('g', "move_from", db, key)
	tx.Notify('g', "move_to", dstDB, key)
	return true
}

func (tx *Tx) copyRecord(r Record, db int, key string) {
	tx.put(db, key, r.Type, r.Deadline, r.Payload)
	if composite(r.Type) {
		from := childPrefix(r.DB, r.Key)
		to := childPrefix(db, key)
		type kv struct{ k, v string }
		var items []kv
		tx.bt.AscendGreaterOrEqual("", from, func(k, v string) bool {
			if !strings.HasPrefix(k, from) {
				return false
			}
			items = append(items, kv{to + k[len(from):], v})
			return true
		})
		for _, it := range items {
			_, _, _ = tx.bt.Set(it.k, it.v, nil)
		}
	}
}

// Keys returns the live keys of db matching pattern, in key order.
func (tx *Tx) Keys(db int, pattern string) []string {
	prefix := dbPrefix(db)
	start := prefix + glob.Prefix(pattern)
	all := pattern == "*"
	var out []string
	tx.bt.AscendGreaterOrEqual("", start, func(k, v string) bool {
		if !strings.HasPrefix(k, start) {
			return false
		}
		key := k[2:]
		if expired(int64(deadlineOf(v)), tx.Now) {
			tx.noteExpired(k)
			return true
		}
		if all || glob.Match(pattern, key) {
			out = append(out, key)
		}
		return true
	})
	return out
}

func (tx *Tx) noteExpired(item string) {
	tx.lazyExpired = append(tx.lazyExpired, item)
}

// RandomKey returns a random live key of db, or false when db is empty.
func (tx *Tx) RandomKey(db int, rnd *rand.Rand) (string, bool) {
	n := tx.DBSize(db)
	if n == 0 {
		return "", false
	}
	prefix := dbPrefix(db)
	for attempt := 0; attempt < 16; attempt++ {
		skip := rnd.IntN(n)
		var found string
		ok := false
		i := 0
		tx.bt.AscendGreaterOrEqual("", prefix, func(k, v string) bool {
			if !strings.HasPrefix(k, prefix) {
				return false
			}
			if i == skip {
				if !expired(int64(deadlineOf(v)), tx.Now) {
					found, ok = k[2:], true
				}
				return false
			}
			i++
			return true
		})
		if ok {
			return found, true
		}
	}
	// Mostly expired keys: fall back to the first live one.
	var found string
	ok := false
	tx.bt.AscendGreaterOrEqual("", prefix, func(k, v string) bool {
		if !strings.HasPrefix(k, prefix) {
			return false
		}
		if !expired(int64(deadlineOf(v)), tx.Now) {
			found, ok = k[2:], true
			return false
		}
		return true
	})
	return found, ok
}

// DBSize returns the number of records in db, counting expired ones not yet
// reclaimed, as Redis does. It walks the database's range of the key index.
func (tx *Tx) DBSize(db int) int {
	n := 0
	prefix := dbPrefix(db)
	tx.bt.AscendGreaterOrEqual("", prefix, func(k, _ string) bool {
		if !strings.HasPrefix(k, prefix) {
			return false
		}
		n++
		return true
	})
	return n
}

// KeyspaceInfo returns, for INFO keyspace, the number of keys and of keys
// with a deadline in db.
func (tx *Tx) KeyspaceInfo(db int) (keys, expires int) {
	prefix := dbPrefix(db)
	tx.bt.AscendGreaterOrEqual("", prefix, func(k, v string) bool {
		if !strings.HasPrefix(k, prefix) {
			return false
		}
		keys++
		if deadlineOf(v) != 0 {
			expires++
		}
		return true
	})
	return
}

// FlushDB deletes every key of db.
func (tx *Tx) FlushDB(db int) {
	var recs []Record
	prefix := dbPrefix(db)
	tx.bt.AscendGreaterOrEqual("", prefix, func(k, v string) bool {
		if !strings.HasPrefix(k, prefix) {
			return false
		}
		recs = append(recs, decodeRecord(k, v))
		return true
	})
	for _, r := range recs {
		_, _ = tx.bt.Delete(r.item)
	}
	tx.droppedHints = append(tx.droppedHints, tx.e.exp.dropPrefix(prefix)...)
	tx.deletePrefix(string([]byte{'c', byte(db)}))
	tx.wrote = true
	tx.commit.Flushed = append(tx.commit.Flushed, db)
}

// FlushAll deletes everything: every database and every native object;
// function libraries stay, as in Redis.
func (tx *Tx) FlushAll() {
	libs := tx.keepFunctions()
	_ = tx.bt.DeleteAll()
	for _, l := range libs {
		tx.setItem(l[0], l[1])
	}
	c := &tx.e.sess.counts // every session went with it
	tx.sessDelta = sessCountRec{-c.live.Load(), -c.owners.Load(), -c.detached.Load()}
	if w := tx.e.exp.takeAll(); tx.droppedWheel == nil {
		tx.droppedWheel = w
	} else {
		tx.droppedWheel.merge(w)
	}
	tx.wrote = true
	tx.commit.Flushed = append(tx.commit.Flushed, -1)
}

// SwapDB exchanges the contents of two databases.
func (tx *Tx) SwapDB(a, b int) {
	if a == b {
		return
	}
	type kv struct{ k, v string }
	collect := func(prefix string) []kv {
		var out []kv
		tx.bt.AscendGreaterOrEqual("", prefix, func(k, v string) bool {
			if !strings.HasPrefix(k, prefix) {
				return false
			}
			out = append(out, kv{k, v})
			return true
		})
		return out
	}
	moves := map[int][]kv{}
	for _, db := range []int{a, b} {
		moves[db] = append(collect(dbPrefix(db)), collect(string([]byte{'c', byte(db)}))...)
	}
	for _, db := range []int{a, b} {
		for _, it := range moves[db] {
			_, _ = tx.bt.Delete(it.k)
		}
	}
	for db, items := range moves {
		other := byte(a)
		if db == a {
			other = byte(b)
		}
		for _, it := range items {
			nk := []byte(it.k)
			nk[1] = other
			if nk[0] == 'k' {
				tx.setItem(string(nk), it.v)
			} else {
				_, _, _ = tx.bt.Set(string(nk), it.v, nil)
			}
		}
	}
	tx.wrote = true
	tx.commit.Flushed = append(tx.commit.Flushed, a, b)
}

// Version returns an opaque token that changes whenever key's record (value,
// type or deadline) changes; "" when the key does not exist. WATCH compares it.
func (tx *Tx) Version(db int, key string) string {
	r, ok := tx.Lookup(db, key)
	if !ok {
		return ""
	}
	return encodeRecord(r.Type, r.Deadline, r.Payload)
}
