// Package latency is sessiond's latency monitor (Redis' LATENCY): named
// events (a slow command, an fsync, a snapshot, an expire cycle) that took at
// least latency-monitor-threshold milliseconds are kept as a history of up
// to 160 samples per event, one per second, for LATENCY LATEST, HISTORY,
// GRAPH and DOCTOR. Every layer (engine, persistence, commands) reports to
// the one Monitor of its process; with the threshold at 0 (the default) a
// report costs one atomic load.
package latency

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// HistoryLen is how many samples an event keeps (Redis' LATENCY_TS_LEN).
const HistoryLen = 160

// Sample is one second's worst latency of an event.
type Sample struct {
	Time int64 // Unix seconds
	MS   int64 // milliseconds
}

// Series is an event's history and its all-time figures.
type Series struct {
	Samples []Sample // oldest first
	Max     int64    // the largest latency ever recorded (ms)
}

// Latest is the newest sample of the series.
func (s *Series) Latest() Sample { return s.Samples[len(s.Samples)-1] }

// Monitor records latency events. The zero value is not usable: see New.
type Monitor struct {
	threshold atomic.Int64 // ms; 0 = off
	mu        sync.Mutex
	events    map[string]*Series
}

// New returns a monitor that records nothing until SetThreshold.
func New() *Monitor { return &Monitor{events: map[string]*Series{}} }

// SetThreshold sets latency-monitor-threshold (ms); 0 turns the monitor off.
func (m *Monitor) SetThreshold(ms int64) { m.threshold.Store(ms) }

// Threshold returns latency-monitor-threshold (ms).
func (m *Monitor) Threshold() int64 { return m.threshold.Load() }

// Enabled reports whether events are being recorded (callers may skip
// measuring otherwise).
func (m *Monitor) Enabled() bool { return m != nil && m.threshold.Load() > 0 }

// Observe records event if d reaches the threshold. It is safe from any
// goroutine and on a nil Monitor.
func (m *Monitor) Observe(event string, d time.Duration) {
	if m == nil {
		return
	}
	th := m.threshold.Load()
	ms := d.Milliseconds()
	if th <= 0 || ms < th {
		return
	}
	m.add(event, time.Now().Unix(), ms)
}

// add appends a sample; samples of the same second keep the largest, as
// Redis' latencyAddSample does.
func (m *Monitor) add(event string, now, ms int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.events[event]
	if s == nil {
		s = &Series{}
		m.events[event] = s
	}
	if ms > s.Max {
		s.Max = ms
	}
	if n := len(s.Samples); n > 0 && s.Samples[n-1].Time == now {
		if ms > s.Samples[n-1].MS {
			s.Samples[n-1].MS = ms
		}
		return
	}
	if len(s.Samples) == HistoryLen {
		copy(s.Samples, s.Samples[1:])
		s.Samples = s.Samples[:HistoryLen-1]
	}
	s.Samples = append(s.Samples, Sample{Time: now, MS: ms})
}

// Events returns a copy of every event's series, by name.
func (m *Monitor) Events() map[string]Series {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]Series, len(m.events))
	for name, s := range m.events {
		out[name] = Series{Samples: append([]Sample(nil), s.Samples...), Max: s.Max}
	}
	return out
}

// Names returns the recorded events' names, sorted.
func (m *Monitor) Names() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	names := make([]string, 0, len(m.events))
	for n := range m.events {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Series returns a copy of event's series; ok is false when it has none.
func (m *Monitor) Series(event string) (s Series, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.events[event]
	if p == nil {
		return Series{}, false
	}
	return Series{Samples: append([]Sample(nil), p.Samples...), Max: p.Max}, true
}

// Reset forgets the named events (all of them when none is named) and
// returns how many it forgot.
func (m *Monitor) Reset(events ...string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(events) == 0 {
		n := len(m.events)
		m.events = map[string]*Series{}
		return n
	}
	n := 0
	for _, e := range events {
		if _, ok := m.events[e]; ok {
			delete(m.events, e)
			n++
		}
	}
	return n
}
