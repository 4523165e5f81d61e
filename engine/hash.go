package engine

import (
	"encoding/binary"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"

	"github.com/sessiond/sessiond/rdb"
)

// Composite values (hash, set, sorted set) keep each element as its own
// buntdb item under childPrefix(db, key), so changing one element costs one
// B-tree update whatever the size of the value. The top-level record's
// payload is small and fixed: the element count and a generation number
// bumped by every change (WATCH compares records, and a change to one field
// must change the record).
//
// Sub-keys under the prefix:
//
//	hash    "f" field             -> value
//	set     "m" member            -> ""
//	zset    "m" member            -> 8-byte IEEE score (big-endian bits)
//	        "s" sortable(score) member -> ""   (the score-ordered index)
const (
	subField  = "f"
	subMember = "m"
	subScore  = "s"
)

const compPayloadLen = 16

func compPayload(n int64, gen uint64) string {
	var b [compPayloadLen]byte
	binary.BigEndian.PutUint64(b[0:8], uint64(n))
	binary.BigEndian.PutUint64(b[8:16], gen)
	return string(b[:])
}

func compHeader(payload string) (n int64, gen uint64) {
	if len(payload) < compPayloadLen {
		return 0, 0
	}
	return int64(binary.BigEndian.Uint64([]byte(payload[0:8]))), binary.BigEndian.Uint64([]byte(payload[8:16]))
}

// comp is an open composite value inside a write or read transaction.
type comp struct {
	tx      *Tx
	db      int
	key     string
	typ     byte
	rec     Record
	exists  bool
	prefix  string
	n       int64
	gen     uint64
	changed bool
}

// openComp looks key up as a composite of type typ. A missing key gives an
// empty value that save() creates if elements were added.
func (tx *Tx) openComp(db int, key string, typ byte) (*comp, error) {
	r, ok, err := tx.lookupType(db, key, typ)
	if err != nil {
		return nil, err
	}
	c := &comp{tx: tx, db: db, key: key, typ: typ, rec: r, exists: ok, prefix: childPrefix(db, key)}
	if ok {
		c.n, c.gen = compHeader(r.Payload)
	}
	return c, nil
}

func (c *comp) get(sub string) (string, bool) {
	v, err := c.tx.bt.Get(c.prefix+sub, true)
	if err != nil {
		return "", false
	}
	return v, true
}

// set writes a child and reports whether it was new.
func (c *comp) set(sub, val string) bool {
	_, replaced, _ := c.tx.bt.Set(c.prefix+sub, val, nil)
	c.changed = true
	c.tx.wrote = true
	return !replaced
}

// del deletes a child and reports whether it existed.
func (c *comp) del(sub string) bool {
	if _, err := c.tx.bt.Delete(c.prefix + sub); err != nil {
		return false
	}
	c.changed = true
	c.tx.wrote = true
	return true
}

// each calls fn for the children whose sub-key starts with sub, in order,
// with the sub-key stripped of prefix and sub, until fn returns false.
func (c *comp) each(sub string, fn func(k, v string) bool) {
	if !c.exists {
		return
	}
	p := c.prefix + sub
	c.tx.bt.AscendGreaterOrEqual("", p, func(k, v string) bool {
		if !strings.HasPrefix(k, p) {
			return false
		}
		return fn(k[len(p):], v)
	})
}

// save writes the record after changes: it creates the key, updates its count
// and generation, or deletes it when no element is left. It reports whether
// the key was deleted (the caller then publishes "del").
func (c *comp) save() bool {
	if !c.changed {
		return false
	}
	if c.n <= 0 {
		if c.exists {
			c.tx.removeRecord(c.rec, DropDeleted)
			c.exists = false
			return true
		}
		return false
	}
	c.gen++
	if c.exists {
		c.tx.putRecord(c.rec, compPayload(c.n, c.gen))
		c.rec.Payload = compPayload(c.n, c.gen)
		return false
	}
	c.tx.put(c.db, c.key, c.typ, 0, compPayload(c.n, c.gen))
	c.exists = true
	c.rec, _ = c.tx.Lookup(c.db, c.key)
	return false
}

// replaceWith deletes whatever key holds (of any type) so that a new value
// can be stored there (the STORE commands). It returns whether a key existed.
func (tx *Tx) replaceWith(db int, key string) bool {
	r, ok := tx.Lookup(db, key)
	if ok {
		tx.removeRecord(r, DropDeleted)
	}
	return ok
}

// clearForStore empties dst for a *STORE command that will write n
// elements. With none to write, dst stays deleted (a "del" event when it
// existed) and it reports false.
func (tx *Tx) clearForStore(db int, dst string, n int) bool {
	existed := tx.replaceWith(db, dst)
	if n == 0 && existed {
		tx.Notify('g', "del", db, dst)
	}
	return n > 0
}

// pickRandom chooses elements of a composite for HRANDFIELD, SRANDMEMBER,
// SPOP and ZRANDMEMBER, uniformly. With count >= 0 the picks are distinct
// (at most n); with count < 0, -count picks with repetition. Small values
// and large samples shuffle a full listing; otherwise random positions are
// drawn first and collected in one ordered walk. Either way the cost is
// linear in the size of the value (buntdb has no positional access).
func (c *comp) pickRandom(sub string, count int64, rnd *rand.Rand) (keys, vals []string) {
	if !c.exists || c.n <= 0 || count == 0 {
		return nil, nil
	}
	const listAll = 1024
	n := c.n
	if n <= listAll || (count > 0 && count*4 >= n) {
		var ks, vs []string
		c.each(sub, func(k, v string) bool {
			ks = append(ks, k)
			vs = append(vs, v)
			return true
		})
		if len(ks) == 0 {
			return nil, nil
		}
		if count < 0 {
			for i := int64(0); i < -count; i++ {
				j := rnd.IntN(len(ks))
				keys = append(keys, ks[j])
				vals = append(vals, vs[j])
			}
			return keys, vals
		}
		if count >= int64(len(ks)) {
			return ks, vs
		}
		// Partial Fisher-Yates: the first count slots end up a uniform sample.
		for i := 0; i < int(count); i++ {
			j := i + rnd.IntN(len(ks)-i)
			ks[i], ks[j] = ks[j], ks[i]
			vs[i], vs[j] = vs[j], vs[i]
		}
		return ks[:count], vs[:count]
	}
	var idx []int64
	if count < 0 {
		for i := int64(0); i < -count; i++ {
			idx = append(idx, rnd.Int64N(n))
		}
	} else {
		// Floyd's algorithm: count distinct positions.
		chosen := make(map[int64]bool, count)
		for j := n - count; j < n; j++ {
			t := rnd.Int64N(j + 1)
			if chosen[t] {
				t = j
			}
			chosen[t] = true
			idx = append(idx, t)
		}
	}
	sort.Slice(idx, func(a, b int) bool { return idx[a] < idx[b] })
	pos, next := int64(0), 0
	c.each(sub, func(k, v string) bool {
		for next < len(idx) && idx[next] == pos {
			keys = append(keys, k)
			vals = append(vals, v)
			next++
		}
		pos++
		return next < len(idx)
	})
	rnd.Shuffle(len(keys), func(a, b int) {
		keys[a], keys[b] = keys[b], keys[a]
		vals[a], vals[b] = vals[b], vals[a]
	})
	return keys, vals
}

// scanComp is HSCAN/SSCAN/ZSCAN: one step of a cursor over the children
// of key under sub.
func (tx *Tx) scanComp(db int, key string, typ byte, sub string, cursor uint64, count int, fn func(k, v string)) (uint64, error) {
	r, ok, err := tx.lookupType(db, key, typ)
	if err != nil || !ok {
		return 0, err
	}
	return tx.ScanChildren(r, sub, cursor, count, fn), nil
}

// Errors of the hash commands, in Redis' words.
var (
	ErrHashNotInt   = errorString("ERR hash value is not an integer")
	ErrHashNotFloat = errorString("ERR hash value is not a float")
)

type errorString string

func (e errorString) Error() string { return string(e) }

// HSet sets field/value pairs (pairs alternates them) and returns how many
// fields were new. With nx, a field that exists is left alone (HSETNX).
func (tx *Tx) HSet(db int, key string, pairs []string, nx bool) (int, error) {
	c, err := tx.openComp(db, key, TypeHash)
	if err != nil {
		return 0, err
	}
	added := 0
	o := c.openOrder()
	for i := 0; i+1 < len(pairs); i += 2 {
		if nx {
			if _, ok := c.get(subField + pairs[i]); ok {
				continue
			}
		}
		if !o.fits(tx, pairs[i], pairs[i+1]) {
			o.drop()
		}
		if c.set(subField+pairs[i], pairs[i+1]) {
			added++
			c.n++
			o.add(pairs[i])
		}
	}
	if c.changed {
		o.save(c)
		c.save()
		tx.Notify('h', "hset", db, key)
	}
	return added, nil
}

// HGet returns one field's value.
func (tx *Tx) HGet(db int, key, field string) (string, bool, error) {
	c, err := tx.openComp(db, key, TypeHash)
	if err != nil || !c.exists {
		return "", false, err
	}
	v, ok := c.get(subField + field)
	return v, ok, nil
}

// HMGet returns the values of fields; ok[i] is false for a missing field.
func (tx *Tx) HMGet(db int, key string, fields []string) (vals []string, ok []bool, err error) {
	c, err := tx.openComp(db, key, TypeHash)
	if err != nil {
		return nil, nil, err
	}
	vals = make([]string, len(fields))
	ok = make([]bool, len(fields))
	if !c.exists {
		return vals, ok, nil
	}
	for i, f := range fields {
		vals[i], ok[i] = c.get(subField + f)
	}
	return vals, ok, nil
}

// HGetAll returns every field and value: a small hash's in insertion
// order, a large one's in field order.
func (tx *Tx) HGetAll(db int, key string) (fields, vals []string, err error) {
	c, err := tx.openComp(db, key, TypeHash)
	if err != nil {
		return nil, nil, err
	}
	if fields, vals, ok := c.ordered(); ok {
		return fields, vals, nil
	}
	c.each(subField, func(k, v string) bool {
		fields = append(fields, k)
		vals = append(vals, v)
		return true
	})
	return fields, vals, nil
}

// HLen returns the number of fields.
func (tx *Tx) HLen(db int, key string) (int64, error) {
	c, err := tx.openComp(db, key, TypeHash)
	if err != nil {
		return 0, err
	}
	return c.n, nil
}

// HDel deletes fields and returns how many existed.
func (tx *Tx) HDel(db int, key string, fields []string) (int, error) {
	c, err := tx.openComp(db, key, TypeHash)
	if err != nil || !c.exists {
		return 0, err
	}
	n := 0
	gone := map[string]bool{}
	for _, f := range fields {
		if c.del(subField + f) {
			n++
			c.n--
			gone[f] = true
		}
	}
	if n > 0 {
		o := c.openOrder()
		o.remove(gone)
		o.save(c)
		deleted := c.save()
		tx.Notify('h', "hdel", db, key)
		if deleted {
			tx.Notify('g', "del", db, key)
		}
	}
	return n, nil
}

// HIncrBy adds delta to an integer field (0 when missing).
func (tx *Tx) HIncrBy(db int, key, field string, delta int64) (int64, error) {
	c, err := tx.openComp(db, key, TypeHash)
	if err != nil {
		return 0, err
	}
	var cur int64
	if v, ok := c.get(subField + field); ok {
		cur, err = ParseRedisInt(v)
		if err != nil {
			return 0, ErrHashNotInt
		}
	}
	if (delta > 0 && cur > math.MaxInt64-delta) || (delta < 0 && cur < math.MinInt64-delta) {
		return 0, ErrOverflow
	}
	cur += delta
	if c.set(subField+field, strconv.FormatInt(cur, 10)) {
		c.n++
		o := c.openOrder()
		o.add(field)
		o.save(c)
	}
	c.save()
	tx.Notify('h', "hincrby", db, key)
	return cur, nil
}

// HIncrByFloat adds delta to a numeric field (0 when missing) and returns
// the stored text of the result.
func (tx *Tx) HIncrByFloat(db int, key, field string, delta float64) (string, error) {
	c, err := tx.openComp(db, key, TypeHash)
	if err != nil {
		return "", err
	}
	var cur float64
	if v, ok := c.get(subField + field); ok {
		cur, err = ParseRedisFloat(v)
		if err != nil || strings.IndexByte(v, 0) >= 0 {
			return "", ErrHashNotFloat
		}
	}
	cur += delta
	if math.IsNaN(cur) || math.IsInf(cur, 0) {
		return "", ErrNaN
	}
	s := strconv.FormatFloat(cur, 'f', -1, 64)
	if s == "-0" {
		s = "0"
	}
	if c.set(subField+field, s) {
		c.n++
		o := c.openOrder()
		o.add(field)
		o.save(c)
	}
	c.save()
	tx.Notify('h', "hincrbyfloat", db, key)
	return s, nil
}

// HRandField returns random fields (and their values): count >= 0 distinct,
// count < 0 with repetition.
func (tx *Tx) HRandField(db int, key string, count int64, rnd *rand.Rand) (fields, vals []string, err error) {
	c, err := tx.openComp(db, key, TypeHash)
	if err != nil {
		return nil, nil, err
	}
	if count >= c.n {
		// The whole hash: a small one in insertion order, as Redis.
		if fields, vals, ok := c.ordered(); ok {
			return fields, vals, nil
		}
	}
	fields, vals = c.pickRandom(subField, count, rnd)
	return fields, vals, nil
}

// HScan is one HSCAN step: fn receives each field and value examined. A
// small hash is returned whole, in insertion order, with cursor 0, as
// Redis scans a listpack.
func (tx *Tx) HScan(db int, key string, cursor uint64, count int, fn func(field, val string)) (uint64, error) {
	c, err := tx.openComp(db, key, TypeHash)
	if err != nil {
		return 0, err
	}
	if fields, vals, ok := c.ordered(); ok {
		for i := range fields {
			fn(fields[i], vals[i])
		}
		return 0, nil
	}
	return tx.scanComp(db, key, TypeHash, subField, cursor, count, fn)
}

// MemoryUsage estimates the bytes key takes (MEMORY USAGE): its record and,
// for a composite value, its children (sampling the first samples of them
// when samples > 0, as Redis does, and scaling up).
func (tx *Tx) MemoryUsage(db int, key string, samples int) (int64, bool) {
	r, ok := tx.Lookup(db, key)
	if !ok {
		return 0, false
	}
	const overhead = ItemOverhead // as used_memory counts each item (memory.go)
	size := itemCost(r.item, "", true) + int64(headerLen+len(r.Payload))
	if !composite(r.Type) {
		return size, true
	}
	p := childPrefix(db, key)
	var seen, bytes int64
	tx.bt.AscendGreaterOrEqual("", p, func(k, v string) bool {
		if !strings.HasPrefix(k, p) || (samples > 0 && seen >= int64(samples)) {
			return false
		}
		seen++
		bytes += int64(len(k)+len(v)) + overhead
		return true
	})
	if seen > 0 && r.Type != TypeList {
		n, _ := compHeader(r.Payload)
		children := n
		if r.Type == TypeZSet {
			children = 2 * n
		}
		if children > seen {
			bytes = bytes * children / seen
		}
	}
	return size + bytes, true
}

// DUMP/RESTORE. Values are dumped in Redis' format (dumpRedis). sessiond's
// own format, which earlier versions wrote and RESTORE still reads, is a
// magic, the record's type and payload, its children as they are stored,
// and a CRC-32C; Dump falls back to it for a value Redis' format cannot
// hold.
const dumpMagic = "SDD1"

// Errors of RESTORE.
var (
	ErrBusyKey = errorString("BUSYKEY Target key name already exists.")
	ErrBadDump = errorString("ERR DUMP payload version or checksum are wrong")
)

// Dump serializes key's value (DUMP) in Redis' DUMP format, which Redis'
// RESTORE reads.
func (tx *Tx) Dump(db int, key string) (string, bool) {
	r, ok := tx.Lookup(db, key)
	if !ok {
		return "", false
	}
	if p, ok := tx.dumpRedis(r); ok {
		return p, true
	}
	b := []byte(dumpMagic)
	b = append(b, r.Type)
	b = binary.AppendUvarint(b, uint64(len(r.Payload)))
	b = append(b, r.Payload...)
	if composite(r.Type) {
		p := childPrefix(db, key)
		tx.bt.AscendGreaterOrEqual("", p, func(k, v string) bool {
			if !strings.HasPrefix(k, p) {
				return false
			}
			sub := k[len(p):]
			b = binary.AppendUvarint(b, uint64(len(sub)))
			b = append(b, sub...)
			b = binary.AppendUvarint(b, uint64(len(v)))
			b = append(b, v...)
			return true
		})
	}
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
	return string(b), true
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// clearForRestore makes room for RESTORE's key: an existing key is
// ErrBusyKey without REPLACE, else removed; a deadline already past leaves
// nothing to write. done says RESTORE ends here, with err.
func (tx *Tx) clearForRestore(db int, key string, deadline int64, replace bool) (done bool, err error) {
	if old, ok := tx.Lookup(db, key); ok {
		if !replace {
			return true, ErrBusyKey
		}
		tx.removeRecord(old, DropDeleted)
	}
	return deadline != 0 && deadline < tx.Now, nil
}

// Restore creates key from a Dump payload with the given deadline (Unix ms,
// 0 none). An existing key is an error unless replace. A deadline already
// past leaves no key, as Redis does.
//
// A payload in Redis' DUMP format (RDB object, version, CRC-64) is read too
// (see restoreRedis): values DUMPed by Redis restore here.
func (tx *Tx) Restore(db int, key, payload string, deadline int64, replace bool) error {
	if !strings.HasPrefix(payload, dumpMagic) && rdb.IsDump([]byte(payload)) {
		v, err := decodeRedisDump(payload)
		if err != nil {
			return err // before anything changes, as Redis checks the payload first
		}
		if done, err := tx.clearForRestore(db, key, deadline, replace); done {
			return err
		}
		if err := tx.restoreRedis(db, key, v, deadline); err != nil {
			return err
		}
		tx.Notify('g', "restore", db, key)
		return nil
	}
	if len(payload) < len(dumpMagic)+5 || payload[:len(dumpMagic)] != dumpMagic {
		return ErrBadDump
	}
	body, sum := payload[:len(payload)-4], payload[len(payload)-4:]
	if crc32.Checksum([]byte(body), crcTable) != binary.BigEndian.Uint32([]byte(sum)) {
		return ErrBadDump
	}
	rest := []byte(body[len(dumpMagic):])
	typ := rest[0]
	rest = rest[1:]
	next := func() (string, bool) {
		n, w := binary.Uvarint(rest)
		if w <= 0 || uint64(len(rest)-w) < n {
			return "", false
		}
		s := string(rest[w : w+int(n)])
		rest = rest[w+int(n):]
		return s, true
	}
	recPayload, ok := next()
	if !ok || TypeName(typ) == "none" {
		return ErrBadDump
	}
	type kv struct{ k, v string }
	var children []kv
	for len(rest) > 0 {
		k, ok1 := next()
		v, ok2 := next()
		if !ok1 || !ok2 {
			return ErrBadDump
		}
		children = append(children, kv{k, v})
	}
	if done, err := tx.clearForRestore(db, key, deadline, replace); done {
		return err
	}
	tx.put(db, key, typ, deadline, recPayload)
	p := childPrefix(db, key)
	for _, c := range children {
		_, _, _ = tx.bt.Set(p+c.k, c.v, nil)
	}
	tx.Notify('g', "restore", db, key)
	return nil
}
