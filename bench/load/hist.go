package load

import (
	"math/bits"
	"time"
)

// Hist is a log-linear latency histogram in nanoseconds: exact below 256 ns, then 128 buckets per
// power of two (under 1% relative error). Recording allocates nothing. Not safe for concurrent use:
// each connection keeps its own and they are merged at the end.
type Hist struct {
	counts [histBuckets]uint64
	n      uint64
	max    int64
	sum    int64
}

const (
	subBits     = 7
	subCount    = 1 << subBits // 128
	histBuckets = (64 - subBits) * subCount
)

func bucketOf(v int64) int {
	if v < 0 {
		v = 0
	}
	u := uint64(v)
	if u < 2*subCount {
		return int(u)
	}
	shift := bits.Len64(u) - (subBits + 1)
	return (shift+1)*subCount + int(u>>uint(shift)) - subCount
}

// bucketMid returns a representative value (the middle) of bucket b.
func bucketMid(b int) int64 {
	if b < 2*subCount {
		return int64(b)
	}
	shift := b/subCount - 1
	mant := int64(b%subCount + subCount)
	low := mant << uint(shift)
	return low + (int64(1)<<uint(shift))/2
}

// Record adds one latency.
func (h *Hist) Record(d time.Duration) {
	v := int64(d)
	h.counts[bucketOf(v)]++
	h.n++
	h.sum += v
	if v > h.max {
		h.max = v
	}
}

// Merge adds o's counts into h.
func (h *Hist) Merge(o *Hist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	if o.max > h.max {
		h.max = o.max
	}
}

// Count is the number of recorded values.
func (h *Hist) Count() uint64 { return h.n }

// Max is the largest recorded value (exact).
func (h *Hist) Max() time.Duration { return time.Duration(h.max) }

// Mean is the average recorded value.
func (h *Hist) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / int64(h.n))
}

// Quantile returns the value at quantile q (0..1); q=1 returns the exact maximum.
func (h *Hist) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	if q >= 1 {
		return time.Duration(h.max)
	}
	rank := uint64(q*float64(h.n)) + 1
	if rank > h.n {
		rank = h.n
	}
	var seen uint64
	for b, c := range h.counts {
		seen += c
		if seen >= rank {
			v := bucketMid(b)
			if v > h.max {
				v = h.max
			}
			return time.Duration(v)
		}
	}
	return time.Duration(h.max)
}

// CountAbove returns how many recorded values exceed d (to bucket precision).
func (h *Hist) CountAbove(d time.Duration) uint64 {
	var n uint64
	for b, c := range h.counts {
		if c != 0 && bucketMid(b) > int64(d) {
			n += c
		}
	}
	return n
}
