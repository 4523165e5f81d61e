package engine

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
)

// Sorted sets keep two children per member (see hash.go): "m"+member holding
// the score's exact bits, and "s"+sortable(score)+member, an index ordered
// exactly as Redis orders a sorted set (by score, then member bytes). Adding
// or scoring a member is O(log n); a range by score or lex seeks its start
// in O(log n); ranks walk from the nearer end.

// ScoreMember is one element of a sorted set.
type ScoreMember struct {
	Member string
	Score  float64
}

// ErrScoreNaN: an increment produced NaN.
var ErrScoreNaN = errorString("ERR resulting score is not a number (NaN)")

// sortable maps a float to 8 bytes whose byte order is the numeric order.
// -0 sorts as 0, as Redis compares them equal.
func sortable(f float64) [8]byte {
	if f == 0 {
		f = 0
	}
	u := math.Float64bits(f)
	if u&(1<<63) != 0 {
		u = ^u
	} else {
		u |= 1 << 63
	}
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], u)
	return b
}

func unsortable(b string) float64 {
	u := binary.BigEndian.Uint64([]byte(b[:8]))
	if u&(1<<63) != 0 {
		u &^= 1 << 63
	} else {
		u = ^u
	}
	return math.Float64frombits(u)
}

func scoreBytes(f float64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], math.Float64bits(f))
	return string(b[:])
}

func scoreOf(v string) float64 {
	if len(v) < 8 {
		return 0
	}
	return math.Float64frombits(binary.BigEndian.Uint64([]byte(v[:8])))
}

func scoreSub(score float64, member string) string {
	k := sortable(score)
	return subScore + string(k[:]) + member
}

func (c *comp) zscore(member string) (float64, bool) {
	v, ok := c.get(subMember + member)
	if !ok {
		return 0, false
	}
	return scoreOf(v), true
}

// zput sets member's score; old/had describe its current one.
func (c *comp) zput(member string, score, old float64, had bool) {
	if had {
		c.del(scoreSub(old, member))
	} else {
		c.n++
	}
	c.set(subMember+member, scoreBytes(score))
	c.set(scoreSub(score, member), "")
}

func (c *comp) zdel(member string, score float64) {
	c.del(subMember + member)
	c.del(scoreSub(score, member))
	c.n--
}

// zwalk visits the score index in order (or reverse) starting at the full
// item key from (inclusive; "" for the first or last element).
func (c *comp) zwalk(rev bool, from string, fn func(score float64, member string) bool) {
	if !c.exists {
		return
	}
	p := c.prefix + subScore
	visit := func(k, _ string) bool {
		if !strings.HasPrefix(k, p) || len(k) < len(p)+8 {
			return false
		}
		return fn(unsortable(k[len(p):len(p)+8]), k[len(p)+8:])
	}
	if rev {
		if from == "" {
			from = c.prefix + "t" // just past every "s" child
		}
		c.tx.bt.DescendLessOrEqual("", from, visit)
		return
	}
	if from == "" {
		from = p
	}
	c.tx.bt.AscendGreaterOrEqual("", from, visit)
}

// ScoreRange is a score interval as ZRANGEBYSCORE takes it.
type ScoreRange struct {
	Min, Max     float64
	MinEx, MaxEx bool
}

func (r ScoreRange) aboveMin(s float64) bool {
	if r.MinEx {
		return s > r.Min
	}
	return s >= r.Min
}

func (r ScoreRange) belowMax(s float64) bool {
	if r.MaxEx {
		return s < r.Max
	}
	return s <= r.Max
}

func (r ScoreRange) empty() bool {
	return r.Min > r.Max || (r.Min == r.Max && (r.MinEx || r.MaxEx))
}

// LexBound is one end of a ZRANGEBYLEX interval: "-" (Inf -1), "+" (Inf
// +1), "[value" or "(value" (Ex).
type LexBound struct {
	Inf   int
	Value string
	Ex    bool
}

// LexRange is a ZRANGEBYLEX interval.
type LexRange struct{ Min, Max LexBound }

func (r LexRange) aboveMin(m string) bool {
	switch r.Min.Inf {
	case -1:
		return true
	case 1:
		return false
	}
	if r.Min.Ex {
		return m > r.Min.Value
	}
	return m >= r.Min.Value
}

func (r LexRange) belowMax(m string) bool {
	switch r.Max.Inf {
	case 1:
		return true
	case -1:
		return false
	}
	if r.Max.Ex {
		return m < r.Max.Value
	}
	return m <= r.Max.Value
}

func (r LexRange) empty() bool {
	if r.Min.Inf == 1 || r.Max.Inf == -1 {
		return true
	}
	if r.Min.Inf == 0 && r.Max.Inf == 0 {
		return r.Min.Value > r.Max.Value || (r.Min.Value == r.Max.Value && (r.Min.Ex || r.Max.Ex))
	}
	return false
}

// Range kinds for ZRangeSpec.By.
const (
	ByRank = iota
	ByScore
	ByLex
)

// ZRangeSpec selects elements of a sorted set as ZRANGE does.
type ZRangeSpec struct {
	By          int
	Rev         bool
	Start, Stop int64      // ByRank: inclusive, negative from the end
	Score       ScoreRange // ByScore: Min <= Max whatever Rev
	Lex         LexRange   // ByLex: Min <= Max whatever Rev
	Offset      int64      // ByScore/ByLex: elements to skip
	Count       int64      // ByScore/ByLex: at most this many; < 0 for all
}

// zrange calls fn for the selected elements in reply order.
func (c *comp) zrange(spec ZRangeSpec, fn func(sm ScoreMember) bool) {
	if !c.exists {
		return
	}
	switch spec.By {
	case ByRank:
		start, stop, ok := normRange(spec.Start, spec.Stop, c.n)
		if !ok {
			return
		}
		i := int64(0)
		c.zwalk(spec.Rev, "", func(s float64, m string) bool {
			if i > stop {
				return false
			}
			if i >= start && !fn(ScoreMember{m, s}) {
				return false
			}
			i++
			return i <= stop
		})
	case ByScore:
		r := spec.Score
		if r.empty() {
			return
		}
		var from string
		if spec.Rev {
			if !math.IsInf(r.Max, 1) {
				k := sortable(r.Max)
				u := binary.BigEndian.Uint64(k[:]) + 1
				binary.BigEndian.PutUint64(k[:], u)
				from = c.prefix + subScore + string(k[:])
			}
		} else {
			k := sortable(r.Min)
			from = c.prefix + subScore + string(k[:])
		}
		skip, left := spec.Offset, spec.Count
		c.zwalk(spec.Rev, from, func(s float64, m string) bool {
			if spec.Rev {
				if !r.belowMax(s) {
					return true
				}
				if !r.aboveMin(s) {
					return false
				}
			} else {
				if !r.aboveMin(s) {
					return true
				}
				if !r.belowMax(s) {
					return false
				}
			}
			if skip > 0 {
				skip--
				return true
			}
			if left == 0 {
				return false
			}
			left--
			return fn(ScoreMember{m, s})
		})
	case ByLex:
		r := spec.Lex
		if r.empty() {
			return
		}
		// Lex ranges assume every score is equal (as Redis documents), so
		// the seek point is that score followed by the bound.
		var from string
		var first ScoreMember
		found := false
		c.zwalk(spec.Rev, "", func(s float64, m string) bool {
			first, found = ScoreMember{m, s}, true
			return false
		})
		if !found {
			return
		}
		if spec.Rev {
			if r.Max.Inf == 0 {
				from = c.prefix + scoreSub(first.Score, r.Max.Value)
			}
		} else if r.Min.Inf == 0 {
			from = c.prefix + scoreSub(first.Score, r.Min.Value)
		}
		skip, left := spec.Offset, spec.Count
		c.zwalk(spec.Rev, from, func(s float64, m string) bool {
			if spec.Rev {
				if !r.belowMax(m) {
					return true
				}
				if !r.aboveMin(m) {
					return false
				}
			} else {
				if !r.aboveMin(m) {
					return true
				}
				if !r.belowMax(m) {
					return false
				}
			}
			if skip > 0 {
				skip--
				return true
			}
			if left == 0 {
				return false
			}
			left--
			return fn(ScoreMember{m, s})
		})
	}
}

// normRange turns Redis start/stop indexes (negative from the end) into an
// inclusive range within [0, n).
func normRange(start, stop, n int64) (int64, int64, bool) {
	if start < 0 {
		start = n + start
	}
	if stop < 0 {
		stop = n + stop
	}
	if start < 0 {
		start = 0
	}
	if start > stop || start >= n {
		return 0, 0, false
	}
	if stop >= n {
		stop = n - 1
	}
	return start, stop, true
}

// ZAddOptions are ZADD's flags.
type ZAddOptions struct {
	NX, XX, GT, LT, CH, Incr bool
}

// ZAddResult says what ZADD did.
type ZAddResult struct {
	Added, Updated int
	Score          float64 // with Incr: the new score
	Done           bool    // with Incr: whether the element was added or updated
}

// ZAdd adds or updates members.
func (tx *Tx) ZAdd(db int, key string, o ZAddOptions, items []ScoreMember) (ZAddResult, error) {
	var res ZAddResult
	c, err := tx.openComp(db, key, TypeZSet)
	if err != nil {
		return res, err
	}
	for _, it := range items {
		cur, had := c.zscore(it.Member)
		score := it.Score
		if had {
			if o.NX {
				continue
			}
			if o.Incr {
				score = cur + score
				if math.IsNaN(score) {
					return ZAddResult{}, ErrScoreNaN
				}
			}
			if (o.LT && score >= cur) || (o.GT && score <= cur) {
				continue
			}
			res.Score, res.Done = score, true
			if score != cur {
				c.zput(it.Member, score, cur, true)
				res.Updated++
			}
			continue
		}
		if o.XX {
			continue
		}
		c.zput(it.Member, score, 0, false)
		res.Added++
		res.Score, res.Done = score, true
	}
	if res.Added+res.Updated > 0 {
		c.save()
		if o.Incr {
			tx.Notify('z', "zincr", db, key)
		} else {
			tx.Notify('z', "zadd", db, key)
		}
	}
	return res, nil
}

// ZRem removes members and returns how many existed.
func (tx *Tx) ZRem(db int, key string, members []string) (int, error) {
	c, err := tx.openComp(db, key, TypeZSet)
	if err != nil || !c.exists {
		return 0, err
	}
	n := 0
	for _, m := range members {
		if s, ok := c.zscore(m); ok {
			c.zdel(m, s)
			n++
		}
	}
	if n > 0 {
		deleted := c.save()
		tx.Notify('z', "zrem", db, key)
		if deleted {
			tx.Notify('g', "del", db, key)
		}
	}
	return n, nil
}

// ZScores returns the scores of members; ok[i] is false when absent.
func (tx *Tx) ZScores(db int, key string, members []string) (scores []float64, ok []bool, err error) {
	c, err := tx.openComp(db, key, TypeZSet)
	if err != nil {
		return nil, nil, err
	}
	scores = make([]float64, len(members))
	ok = make([]bool, len(members))
	if !c.exists {
		return scores, ok, nil
	}
	for i, m := range members {
		scores[i], ok[i] = c.zscore(m)
	}
	return scores, ok, nil
}

// ZCard returns the number of members.
func (tx *Tx) ZCard(db int, key string) (int64, error) {
	c, err := tx.openComp(db, key, TypeZSet)
	if err != nil {
		return 0, err
	}
	return c.n, nil
}

// ZRange returns the elements spec selects, in reply order.
func (tx *Tx) ZRange(db int, key string, spec ZRangeSpec) ([]ScoreMember, error) {
	c, err := tx.openComp(db, key, TypeZSet)
	if err != nil {
		return nil, err
	}
	var out []ScoreMember
	c.zrange(spec, func(sm ScoreMember) bool {
		out = append(out, sm)
		return true
	})
	return out, nil
}

// ZCount counts the elements spec selects (ZCOUNT, ZLEXCOUNT).
func (tx *Tx) ZCount(db int, key string, spec ZRangeSpec) (int64, error) {
	c, err := tx.openComp(db, key, TypeZSet)
	if err != nil {
		return 0, err
	}
	spec.Count = -1
	var n int64
	c.zrange(spec, func(ScoreMember) bool { n++; return true })
	return n, nil
}

// ZRemRange removes the elements spec selects; event is the keyspace event
// ("zremrangebyscore", ...). It returns how many were removed.
func (tx *Tx) ZRemRange(db int, key string, spec ZRangeSpec, event string) (int, error) {
	c, err := tx.openComp(db, key, TypeZSet)
	if err != nil || !c.exists {
		return 0, err
	}
	var victims []ScoreMember
	c.zrange(spec, func(sm ScoreMember) bool {
		victims = append(victims, sm)
		return true
	})
	for _, v := range victims {
		c.zdel(v.Member, v.Score)
	}
	if len(victims) > 0 {
		deleted := c.save()
		tx.Notify('z', event, db, key)
		if deleted {
			tx.Notify('g', "del", db, key)
		}
	}
	return len(victims), nil
}

// ZRank returns member's rank (from the top with rev) and score.
func (tx *Tx) ZRank(db int, key, member string, rev bool) (int64, float64, bool, error) {
	c, err := tx.openComp(db, key, TypeZSet)
	if err != nil || !c.exists {
		return 0, 0, false, err
	}
	score, ok := c.zscore(member)
	if !ok {
		return 0, 0, false, nil
	}
	var rank int64
	c.zwalk(rev, "", func(s float64, m string) bool {
		if m == member && (s == score) {
			return false
		}
		rank++
		return true
	})
	return rank, score, true, nil
}

// ZPop removes and returns up to count elements with the lowest (or, with
// max, the highest) scores.
func (tx *Tx) ZPop(db int, key string, max bool, count int64) ([]ScoreMember, error) {
	c, err := tx.openComp(db, key, TypeZSet)
	if err != nil || !c.exists || count <= 0 {
		return nil, err
	}
	var out []ScoreMember
	c.zwalk(max, "", func(s float64, m string) bool {
		out = append(out, ScoreMember{m, s})
		return int64(len(out)) < count
	})
	for _, sm := range out {
		c.zdel(sm.Member, sm.Score)
	}
	if len(out) > 0 {
		deleted := c.save()
		if max {
			tx.Notify('z', "zpopmax", db, key)
		} else {
			tx.Notify('z', "zpopmin", db, key)
		}
		if deleted {
			tx.Notify('g', "del", db, key)
		}
	}
	return out, nil
}

// ZRandMember returns random elements: count >= 0 distinct, count < 0 with
// repetition.
func (tx *Tx) ZRandMember(db int, key string, count int64, rnd *rand.Rand) ([]ScoreMember, error) {
	c, err := tx.openComp(db, key, TypeZSet)
	if err != nil {
		return nil, err
	}
	ms, vs := c.pickRandom(subMember, count, rnd)
	out := make([]ScoreMember, len(ms))
	for i := range ms {
		out[i] = ScoreMember{ms[i], scoreOf(vs[i])}
	}
	return out, nil
}

// ZScan is one ZSCAN step.
func (tx *Tx) ZScan(db int, key string, cursor uint64, count int, fn func(sm ScoreMember)) (uint64, error) {
	return tx.scanComp(db, key, TypeZSet, subMember, cursor, count, func(k, v string) {
		fn(ScoreMember{k, scoreOf(v)})
	})
}

// Aggregate functions of ZUNION and ZINTER.
const (
	AggSum = iota
	AggMin
	AggMax
)

// Set operations of ZCombine.
const (
	ZUnion = iota
	ZInter
	ZDiff
)

// openZSource opens key as a sorted set or a plain set (whose members score
// 1), as ZUNION and friends accept both; nil when missing.
func (tx *Tx) openZSource(db int, key string) (*comp, error) {
	r, ok := tx.Lookup(db, key)
	if !ok {
		return nil, nil
	}
	if r.Type != TypeZSet && r.Type != TypeSet {
		return nil, ErrWrongType
	}
	return tx.openComp(db, key, r.Type)
}

func (c *comp) zsource(fn func(m string, s float64) bool) {
	c.each(subMember, func(k, v string) bool {
		if c.typ == TypeSet {
			return fn(k, 1)
		}
		return fn(k, scoreOf(v))
	})
}

func (c *comp) zsourceScore(m string) (float64, bool) {
	v, ok := c.get(subMember + m)
	if !ok {
		return 0, false
	}
	if c.typ == TypeSet {
		return 1, true
	}
	return scoreOf(v), true
}

func aggregate(agg int, a, b float64) float64 {
	switch agg {
	case AggMin:
		return math.Min(a, b)
	case AggMax:
		return math.Max(a, b)
	}
	s := a + b
	if math.IsNaN(s) {
		return 0
	}
	return s
}

func weighted(s, w float64) float64 {
	v := s * w
	if math.IsNaN(v) {
		return 0
	}
	return v
}

// ZCombine computes ZUNION, ZINTER or ZDIFF of keys (sorted sets or sets)
// with optional weights (nil: all 1) and returns the result in sorted-set
// order. With limit > 0 an intersection stops after limit elements (ZINTERCARD).
func (tx *Tx) ZCombine(db int, keys []string, weights []float64, agg, op int, limit int) ([]ScoreMember, error) {
	srcs := make([]*comp, len(keys))
	for i, k := range keys {
		c, err := tx.openZSource(db, k)
		if err != nil {
			return nil, err
		}
		srcs[i] = c
	}
	w := func(i int) float64 {
		if weights == nil {
			return 1
		}
		return weights[i]
	}
	acc := map[string]float64{}
	switch op {
	case ZUnion:
		for i, c := range srcs {
			if c == nil {
				continue
			}
			c.zsource(func(m string, s float64) bool {
				v := weighted(s, w(i))
				if old, ok := acc[m]; ok {
					acc[m] = aggregate(agg, old, v)
				} else {
					acc[m] = v
				}
				return true
			})
		}
	case ZInter:
		idx := make([]int, len(srcs))
		for i := range srcs {
			if srcs[i] == nil {
				return nil, nil
			}
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return srcs[idx[a]].n < srcs[idx[b]].n })
		first := idx[0]
		srcs[first].zsource(func(m string, s float64) bool {
			v := weighted(s, w(first))
			for _, j := range idx[1:] {
				o, ok := srcs[j].zsourceScore(m)
				if !ok {
					return true
				}
				v = aggregate(agg, v, weighted(o, w(j)))
			}
			acc[m] = v
			return limit <= 0 || len(acc) < limit
		})
	case ZDiff:
		if srcs[0] == nil {
			return nil, nil
		}
		srcs[0].zsource(func(m string, s float64) bool {
			for _, o := range srcs[1:] {
				if o == nil {
					continue
				}
				if _, ok := o.zsourceScore(m); ok {
					return true
				}
			}
			acc[m] = s
			return true
		})
	}
	out := make([]ScoreMember, 0, len(acc))
	for m, s := range acc {
		out = append(out, ScoreMember{m, s})
	}
	SortScoreMembers(out)
	return out, nil
}

// SortScoreMembers sorts elements in sorted-set order (score, then member).
func SortScoreMembers(items []ScoreMember) {
	sort.Slice(items, func(i, j int) bool {
		if items[i].Score != items[j].Score {
			return items[i].Score < items[j].Score
		}
		return items[i].Member < items[j].Member
	})
}

// ZStore replaces dst with a sorted set of items (distinct members); an
// empty result deletes dst. event names the keyspace event. It returns the
// number of elements stored.
func (tx *Tx) ZStore(db int, dst string, items []ScoreMember, event string) int {
	if !tx.clearForStore(db, dst, len(items)) {
		return 0
	}
	c := &comp{tx: tx, db: db, key: dst, typ: TypeZSet, prefix: childPrefix(db, dst)}
	for _, it := range items {
		if old, ok := c.zscore(it.Member); ok {
			c.zput(it.Member, it.Score, old, true)
			continue
		}
		c.zput(it.Member, it.Score, 0, false)
	}
	c.save()
	tx.Notify('z', event, db, dst)
	return int(c.n)
}
