package load

import (
	"testing"
	"time"
)

func TestHistQuantilesWithinOnePercent(t *testing.T) {
	var h Hist
	for i := 1; i <= 100000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	for _, q := range []float64{0.5, 0.99, 0.999} {
		want := float64(q * 100000 * float64(time.Microsecond))
		got := float64(h.Quantile(q))
		if got < want*0.99 || got > want*1.01 {
			t.Errorf("q%.3f = %v, want about %v", q, time.Duration(got), time.Duration(want))
		}
	}
	if h.Max() != 100*time.Millisecond || h.Quantile(1) != h.Max() {
		t.Errorf("max %v", h.Max())
	}
	if n := h.CountAbove(90 * time.Millisecond); n < 9800 || n > 10200 {
		t.Errorf("CountAbove = %d", n)
	}
}

func TestHistBucketsAreMonotonic(t *testing.T) {
	prev := -1
	for v := int64(0); v < 1<<40; v = v*5/4 + 1 {
		b := bucketOf(v)
		if b < prev {
			t.Fatalf("bucket of %d is %d, below %d", v, b, prev)
		}
		if m := bucketMid(b); float64(m) < float64(v)*0.99-1 || float64(m) > float64(v)*1.01+1 {
			t.Fatalf("bucket %d of %d has middle %d", b, v, m)
		}
		prev = b
	}
}
