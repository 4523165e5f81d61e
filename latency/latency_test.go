package latency

import (
	"testing"
	"time"
)

func TestMonitor(t *testing.T) {
	m := New()
	m.Observe("command", time.Second)
	if len(m.Names()) != 0 {
		t.Fatal("recorded with the monitor off")
	}
	m.SetThreshold(100)
	m.Observe("command", 99*time.Millisecond)
	if len(m.Names()) != 0 {
		t.Fatal("recorded below the threshold")
	}
	// Samples of one second merge, keeping the largest.
	m.add("command", 1000, 150)
	m.add("command", 1000, 120)
	m.add("command", 1001, 300)
	s, ok := m.Series("command")
	if !ok || len(s.Samples) != 2 || s.Samples[0] != (Sample{1000, 150}) || s.Max != 300 || s.Latest() != (Sample{1001, 300}) {
		t.Fatalf("series: %+v", s)
	}
	// At most HistoryLen samples, the oldest dropped.
	for i := int64(0); i < HistoryLen+10; i++ {
		m.add("fsync", 2000+i, 1)
	}
	s, _ = m.Series("fsync")
	if len(s.Samples) != HistoryLen || s.Samples[0].Time != 2010 {
		t.Fatalf("fsync history: %d samples from %d", len(s.Samples), s.Samples[0].Time)
	}
	if n := m.Reset("nope", "fsync"); n != 1 {
		t.Errorf("Reset(nope, fsync) = %d", n)
	}
	if n := m.Reset(); n != 1 || len(m.Events()) != 0 {
		t.Errorf("Reset() = %d, left %v", n, m.Events())
	}
	var nilMon *Monitor
	nilMon.Observe("x", time.Hour) // a nil monitor records nothing and does not panic
}

func TestHistogram(t *testing.T) {
	var h Histogram
	h.Add(0)
	h.Add(time.Microsecond)     // bucket 1: under 2 µs
	h.Add(3 * time.Microsecond) // bucket 2: under 4 µs
	h.Add(time.Hour)            // the last bucket
	counts, sum := h.Snapshot()
	if counts[0] != 1 || counts[1] != 1 || counts[2] != 1 || counts[Buckets-1] != 1 {
		t.Errorf("counts: %v", counts)
	}
	if sum != 4+int64(time.Hour/time.Microsecond) {
		t.Errorf("sum: %d", sum)
	}
	if UpperUS(3) != 8 || BucketOf(7) != 3 || BucketOf(8) != 4 {
		t.Error("bucket bounds")
	}
	h.Reset()
	if c, s := h.Snapshot(); c[0] != 0 || s != 0 {
		t.Error("Reset left counts")
	}
}
