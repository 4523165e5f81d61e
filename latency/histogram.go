package latency

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// Buckets is the number of buckets of a Histogram: bucket i counts
// durations under 2^i microseconds (and at least 2^(i-1)); the last one
// takes everything longer.
const Buckets = 32

// Histogram counts durations in power-of-two microsecond buckets. Adding is
// one atomic increment; it is safe from any goroutine. The zero value is
// ready.
type Histogram struct {
	b   [Buckets]atomic.Int64
	sum atomic.Int64 // microseconds
}

// Add counts one duration.
func (h *Histogram) Add(d time.Duration) {
	us := d.Microseconds()
	if us < 0 {
		us = 0
	}
	h.b[BucketOf(us)].Add(1)
	h.sum.Add(us)
}

// AddCount counts one duration without its sum (a caller that keeps the
// sum itself, as commandstats does).
func (h *Histogram) AddCount(us int64) {
	if us < 0 {
		us = 0
	}
	h.b[BucketOf(us)].Add(1)
}

// BucketOf returns the bucket of a duration in microseconds.
func BucketOf(us int64) int {
	i := bits.Len64(uint64(us))
	if i >= Buckets {
		i = Buckets - 1
	}
	return i
}

// UpperUS returns the bound of bucket i in microseconds (2^i).
func UpperUS(i int) int64 { return int64(1) << i }

// Snapshot returns the per-bucket counts (not cumulative) and the sum in
// microseconds.
func (h *Histogram) Snapshot() (counts [Buckets]int64, sumUS int64) {
	for i := range h.b {
		counts[i] = h.b[i].Load()
	}
	return counts, h.sum.Load()
}

// Reset zeroes the histogram (CONFIG RESETSTAT).
func (h *Histogram) Reset() {
	for i := range h.b {
		h.b[i].Store(0)
	}
	h.sum.Store(0)
}
