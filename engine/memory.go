package engine

// Memory accounting and eviction (maxmemory).
//
// used_memory here is an estimate of the data set, kept exactly in step with
// every write: each buntdb item costs len(key)+len(value)+ItemOverhead (the
// B-tree slot, buntdb's item, the hash-index entry), a record eviction may
// choose costs KeyOverhead more (its access metadata and its places in the
// candidate lists), and the server itself counts as BaseMemory. It is not the
// Go heap: the runtime's figures lag behind deletes until the collector runs
// and include garbage, so a policy driven by them would evict too much, then
// too little. The estimate is maintained by points.put/del under buntdb's
// write lock, so reading it is one atomic load.
//
// Eviction candidates are the records of the user databases, native
// sessions and transition tokens: every other native record (a session's
// token entries, owner index, refresh families) hangs off one of those and
// goes with it. Each candidate has a keyMeta with its last access (LRU clock,
// seconds) and its LFU counter (Redis' 8-bit logarithmic counter with a
// 16-bit minute stamp for decay), and a place in the list of all candidates
// and, when it has a deadline, in the list of volatile ones, so sampling is
// a random index, not a scan.

import (
	"math"
	"math/rand/v2"
	"sync/atomic"
)

const (
	// ItemOverhead is what one buntdb item costs beside its key and value
	// bytes: buntdb's item (48 bytes), its B-tree slot with node slack, the
	// hash index's map entry (40 bytes in buckets kept at most 7/8 full,
	// grown by doubling), the rounding of the strings to Go's size classes.
	// Calibrated against the live Go heap after a collection: 200,000 SETs
	// of 100-byte values cost 322 bytes each on the heap (estimate 325),
	// 100,000 set members 221 each (estimate 195).
	ItemOverhead = 184
	// KeyOverhead is the extra cost of an eviction candidate: its keyMeta
	// (32 bytes) and its entries in the candidate lists (8 bytes each), less
	// what the calibration above puts in ItemOverhead.
	KeyOverhead = 16
	// BaseMemory is what used_memory counts for the server itself (Redis'
	// empty instance reports a little under 1 MB): with maxmemory below it
	// every write that may grow memory is refused, as in Redis.
	BaseMemory = 1 << 20
)

// Eviction policies (maxmemory-policy).
const (
	NoEviction = iota
	AllKeysLRU
	AllKeysLFU
	AllKeysRandom
	VolatileLRU
	VolatileLFU
	VolatileRandom
	VolatileTTL
)

// ParsePolicy maps a maxmemory-policy name to its constant.
func ParsePolicy(name string) (int, bool) {
	switch name {
	case "noeviction":
		return NoEviction, true
	case "allkeys-lru":
		return AllKeysLRU, true
	case "allkeys-lfu":
		return AllKeysLFU, true
	case "allkeys-random":
		return AllKeysRandom, true
	case "volatile-lru":
		return VolatileLRU, true
	case "volatile-lfu":
		return VolatileLFU, true
	case "volatile-random":
		return VolatileRandom, true
	case "volatile-ttl":
		return VolatileTTL, true
	}
	return 0, false
}

// MemoryPolicy is the maxmemory configuration.
type MemoryPolicy struct {
	Max          int64 // maxmemory in bytes; 0: no limit
	Policy       int   // one of NoEviction...VolatileTTL
	Samples      int   // maxmemory-samples
	LFULogFactor int   // lfu-log-factor
	LFUDecayTime int   // lfu-decay-time, minutes
}

func (p *MemoryPolicy) lfu() bool { return p.Policy == AllKeysLFU || p.Policy == VolatileLFU }
func (p *MemoryPolicy) volatile() bool {
	return p.Policy >= VolatileLRU
}

// SetMemoryPolicy installs the maxmemory configuration. Switching to or from
// an LFU policy changes what accesses record (as in Redis, counters start
// from their current values).
func (e *Engine) SetMemoryPolicy(p MemoryPolicy) {
	if p.Samples <= 0 {
		p.Samples = 5
	}
	e.points.lfuOn.Store(p.lfu())
	e.points.lfuLog.Store(int32(p.LFULogFactor))
	e.points.lfuDecay.Store(int32(p.LFUDecayTime))
	e.memMax.Store(p.Max)
	e.memPolicy.Store(&p)
}

// UsedMemory is used_memory: BaseMemory plus the data set's estimate.
func (e *Engine) UsedMemory() int64 { return BaseMemory + e.points.used.Load() }

// MemoryPeak is the highest used_memory seen by its calls (INFO, MEMORY STATS).
func (e *Engine) MemoryPeak() int64 {
	u := e.UsedMemory()
	for {
		p := e.memPeak.Load()
		if u <= p || e.memPeak.CompareAndSwap(p, u) {
			return max(u, p)
		}
	}
}

// DatasetMemory is the data set's estimate alone.
func (e *Engine) DatasetMemory() int64 { return e.points.used.Load() }

// MaxMemory is the limit in force (0: none).
func (e *Engine) MaxMemory() int64 { return e.memMax.Load() }

// Evicts reports whether the maxmemory policy may evict (not noeviction).
func (e *Engine) Evicts() bool {
	pol := e.memPolicy.Load()
	return pol != nil && pol.Policy != NoEviction
}

// OverLimit reports whether used memory is past maxmemory (always false
// without a limit): one atomic load on the common path.
func (e *Engine) OverLimit() bool {
	max := e.memMax.Load()
	return max != 0 && e.UsedMemory() > max
}

// Candidates returns how many records eviction may choose from, and how
// many of them have a deadline.
func (tx *Tx) Candidates() (all, volatile int) {
	return len(tx.e.points.mem.all), len(tx.e.points.mem.vol)
}

// FreeMemory evicts, when memory is over the limit, until it is not. It
// reports false when memory stays over the limit (noeviction, or nothing
// left the policy may evict): the caller refuses a command that may grow
// memory. In a read transaction it evicts nothing.
func (tx *Tx) FreeMemory() bool { return tx.FreeMemoryFunc(nil) }

// FreeMemoryFunc is FreeMemory calling evicted, if not nil, with each key of
// a database it evicts, before it commits: client-side caching tells the
// clients that read a key evicted before a command runs ahead of that
// command's reply, as Redis does.
func (tx *Tx) FreeMemoryFunc(evicted func(KeyRef)) bool {
	e := tx.e
	if !e.OverLimit() {
		return true
	}
	pol := e.memPolicy.Load()
	if pol == nil || pol.Policy == NoEviction || !tx.writable {
		return false
	}
	for e.OverLimit() {
		item, ok := tx.victim(pol)
		if !ok {
			return false
		}
		if r := tx.evict(item); evicted != nil && r.DB < MaxDatabases {
			evicted(KeyRef{r.DB, r.Key})
		}
	}
	return true
}

// evict removes a candidate record as eviction does: its drop hook (a
// session ends with reason evicted), its children, the "evicted" event.
func (tx *Tx) evict(item string) Record {
	v, _ := tx.bt.peek(item)
	r := decodeRecord(item, v)
	tx.removeRecord(r, DropEvicted)
	tx.e.stats.EvictedKeys.Add(1)
	if r.DB < MaxDatabases {
		tx.Notify('e', "evicted", r.DB, r.Key)
	}
	return r
}

// victim picks the record to evict: a random candidate for the random
// policies; otherwise the best of an eviction pool refilled with
// maxmemory-samples random candidates, as Redis' evictionPoolPopulate.
func (tx *Tx) victim(pol *MemoryPolicy) (string, bool) {
	p := &tx.e.points
	ring := p.mem.all
	if pol.volatile() {
		ring = p.mem.vol
	}
	if len(ring) == 0 {
		return "", false
	}
	if pol.Policy == AllKeysRandom || pol.Policy == VolatileRandom {
		return ring[rand.IntN(len(ring))].key, true
	}
	pool := &tx.e.evPool
	if pool.policy != pol {
		pool.policy, pool.c = pol, pool.c[:0]
	}
	now := clockOf(tx.Now)
	for attempt := 0; attempt < 16; attempt++ {
		for i := 0; i < pol.Samples; i++ {
			en := ring[rand.IntN(len(ring))]
			pool.offer(en.key, tx.score(pol, en, now))
		}
		for len(pool.c) > 0 {
			c := pool.c[len(pool.c)-1]
			pool.c = pool.c[:len(pool.c)-1]
			pv, ok := p.m[c.key]
			if ok && pv.k != nil && (!pol.volatile() || pv.k.vol >= 0) {
				return c.key, true
			}
		}
	}
	return ring[rand.IntN(len(ring))].key, true
}

// score is how evictable a candidate is (higher first), as Redis' "idle":
// idle milliseconds (LRU), 255 minus the decayed counter (LFU), or the
// farthest from the maximum deadline (TTL: the nearest deadline first).
func (tx *Tx) score(pol *MemoryPolicy, en ringEntry, now accessClock) uint64 {
	switch pol.Policy {
	case AllKeysLFU, VolatileLFU:
		return 255 - uint64(tx.e.points.lfuDecr(en.lfu.Load(), now))
	case VolatileTTL:
		v, _ := tx.bt.peek(en.key)
		return math.MaxUint64 - deadlineOf(v)
	}
	return uint64(idleMS(en.atime.Load(), now))
}

// evictionPool keeps the best candidates seen, in ascending score order,
// across evictions (EVPOOL_SIZE in Redis). It lives under the write lock.
type evictionPool struct {
	policy *MemoryPolicy // the policy its scores were computed for
	c      []poolEntry
}

type poolEntry struct {
	score uint64
	key   string
}

const evPoolSize = 16

func (pl *evictionPool) offer(key string, score uint64) {
	for _, c := range pl.c {
		if c.key == key {
			return
		}
	}
	if len(pl.c) == evPoolSize {
		if score <= pl.c[0].score {
			return
		}
		copy(pl.c, pl.c[1:])
		pl.c = pl.c[:len(pl.c)-1]
	}
	i := len(pl.c)
	for i > 0 && pl.c[i-1].score > score {
		i--
	}
	pl.c = append(pl.c, poolEntry{})
	copy(pl.c[i+1:], pl.c[i:])
	pl.c[i] = poolEntry{score, key}
}

// ---- per-record metadata ----

// keyMeta is the access metadata of an eviction candidate. atime and lfu
// are updated by readers under buntdb's shared lock, hence atomics; the list
// positions change only under the write lock.
type keyMeta struct {
	key      string        // the item's key (the map's own string, not a copy)
	atime    atomic.Uint32 // LRU clock: Unix seconds of the last access
	lfu      atomic.Uint32 // minutes<<8 | logarithmic counter (Redis' layout)
	all, vol int32         // positions in memIndex.all / .vol; -1 = none
}

// accessClock is a transaction's time as access tracking needs it.
type accessClock struct{ sec uint32 }

func clockOf(ms int64) accessClock { return accessClock{sec: uint32(ms / 1000)} }

func (c accessClock) minutes() uint32 { return (c.sec / 60) & 0xFFFF }

// lfuInitVal is the counter of a new record (LFU_INIT_VAL), so that new
// keys are not evicted before they had a chance to be accessed.
const lfuInitVal = 5

// idleMS is the idle time of a record last accessed at atime.
func idleMS(atime uint32, now accessClock) int64 {
	if now.sec <= atime {
		return 0
	}
	return int64(now.sec-atime) * 1000
}

// ringEntry is one candidate in a list: 8 bytes a candidate.
type ringEntry = *keyMeta

// memIndex is the part of the memory state a FLUSHALL swaps out and a
// failed transaction puts back.
type memIndex struct {
	all, vol []ringEntry
	used     int64
}

// evictable reports whether the item is a record eviction may choose: a
// user key, a native session or a transition token.
func evictable(item string) bool {
	return len(item) >= 2 && item[0] == 'k' && (item[1] < MaxDatabases || item[1] == dbSession || item[1] == dbToken)
}

func itemCost(key, val string, cand bool) int64 {
	n := int64(len(key)+len(val)) + ItemOverhead
	if cand {
		n += KeyOverhead
	}
	return n
}

func (p *points) newMeta(key string, now accessClock) *keyMeta {
	k := &keyMeta{key: key, all: -1, vol: -1}
	k.atime.Store(now.sec)
	k.lfu.Store(now.minutes()<<8 | lfuInitVal)
	return k
}

// ringAdd appends a candidate to a list and records its position.
func ringAdd(r *[]ringEntry, k *keyMeta, pos *int32) {
	*pos = int32(len(*r))
	*r = append(*r, k)
}

// ringRemove removes the candidate at *pos, moving the last one into its
// place (vol says which position field the moved one uses).
func ringRemove(r *[]ringEntry, pos *int32, vol bool) {
	s := *r
	i, last := *pos, int32(len(s)-1)
	if i != last {
		m := s[last]
		s[i] = m
		if vol {
			m.vol = i
		} else {
			m.all = i
		}
	}
	s[last] = nil
	*r = s[:last]
	*pos = -1
}

// access records a read or write of a candidate: its LRU clock and, with an
// LFU policy, its counter (Redis' updateLFU).
func (p *points) access(k *keyMeta, now accessClock) {
	if k.atime.Load() != now.sec {
		k.atime.Store(now.sec)
	}
	if p.lfuOn.Load() {
		c := p.lfuDecr(k.lfu.Load(), now)
		c = p.lfuIncr(c)
		k.lfu.Store(now.minutes()<<8 | c)
	}
}

// lfuDecr is Redis' LFUDecrAndReturn: the counter less one per
// lfu-decay-time minutes elapsed since its stamp.
func (p *points) lfuDecr(v uint32, now accessClock) uint32 {
	ldt, c := v>>8, v&255
	decay := uint32(p.lfuDecay.Load())
	if decay == 0 {
		return c
	}
	nowMin := now.minutes()
	var elapsed uint32
	if nowMin >= ldt {
		elapsed = nowMin - ldt
	} else {
		elapsed = 65535 - ldt + nowMin
	}
	periods := elapsed / decay
	if periods >= c {
		return 0
	}
	return c - periods
}

// lfuIncr is Redis' LFULogIncr: the counter grows with probability
// 1/((counter-LFU_INIT_VAL)*lfu-log-factor+1), so it is logarithmic in the
// number of accesses.
func (p *points) lfuIncr(c uint32) uint32 {
	if c >= 255 {
		return 255
	}
	base := float64(c) - lfuInitVal
	if base < 0 {
		base = 0
	}
	if rand.Float64() < 1.0/(base*float64(p.lfuLog.Load())+1) {
		c++
	}
	return c
}

// detach hands the memory index over (FLUSHALL) and leaves an empty one.
func (p *points) detach() memIndex {
	m := p.mem
	m.used = p.used.Load()
	p.mem = memIndex{}
	p.used.Store(0)
	return m
}

// restore puts back an index detach returned.
func (p *points) restore(m *memIndex) {
	p.mem = *m
	p.used.Store(m.used)
}

// ---- what commands read ----

// KeyAccess returns a user key's idle time in milliseconds and its decayed
// LFU counter, without counting as an access (OBJECT IDLETIME / FREQ).
func (tx *Tx) KeyAccess(db int, key string) (idle int64, freq int, ok bool) {
	if _, found := tx.Lookup(db, key); !found {
		return 0, 0, false
	}
	pv, found := tx.e.points.m[itemKey(db, key)]
	if !found || pv.k == nil {
		return 0, 0, false
	}
	now := clockOf(tx.Now)
	return idleMS(pv.k.atime.Load(), now), int(tx.e.points.lfuDecr(pv.k.lfu.Load(), now)), true
}

// SetKeyAccess sets a user key's idle time (seconds, <0: keep) and LFU
// counter (<0: keep), as RESTORE's IDLETIME and FREQ do.
func (tx *Tx) SetKeyAccess(db int, key string, idleSec int64, freq int) {
	pv, found := tx.e.points.m[itemKey(db, key)]
	if !found || pv.k == nil {
		return
	}
	now := clockOf(tx.Now)
	if idleSec >= 0 {
		at := int64(now.sec) - idleSec
		if at < 0 {
			at = 0
		}
		pv.k.atime.Store(uint32(at))
	}
	if freq >= 0 {
		if freq > 255 {
			freq = 255
		}
		pv.k.lfu.Store(now.minutes()<<8 | uint32(freq))
	}
}

// NoTouch runs fn with access tracking off: reads in fn do not count as
// accesses (OBJECT, TYPE, CLIENT NO-TOUCH).
func (tx *Tx) NoTouch(fn func() error) error {
	prev := tx.bt.noTouch
	tx.bt.noTouch = true
	defer func() { tx.bt.noTouch = prev }()
	return fn()
}
