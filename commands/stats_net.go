package commands

import (
	"sync"
	"syscall"
	"time"
)

// Network counters and the instantaneous metrics of INFO stats
// (instantaneous_ops_per_sec, instantaneous_input_kbps, ..._output_kbps):
// as Redis' trackInstantaneousMetric, a sample every 100 ms of each
// counter's rate, averaged over the last 16 samples.

// CountRead records one read of n bytes from a client socket
// (total_net_input_bytes, total_reads_processed).
func (d *Dispatcher) CountRead(n int) {
	d.stats.netInput.Add(int64(n))
	d.stats.reads.Add(1)
}

// CountWrite records one write of n bytes to a client socket
// (total_net_output_bytes, total_writes_processed).
func (d *Dispatcher) CountWrite(n int) {
	d.stats.netOutput.Add(int64(n))
	d.stats.writes.Add(1)
}

// instSamples is Redis' STATS_METRIC_SAMPLES.
const instSamples = 16

// SampleEvery is how often the server should call SampleMetrics.
const SampleEvery = 100 * time.Millisecond

type instMetric struct {
	lastTime  time.Time
	lastValue int64
	samples   [instSamples]float64
	idx       int
}

func (m *instMetric) track(now time.Time, value int64) {
	if !m.lastTime.IsZero() {
		dt := now.Sub(m.lastTime).Seconds()
		rate := 0.0
		if dt > 0 {
			rate = float64(value-m.lastValue) / dt
		}
		m.samples[m.idx] = rate
		m.idx = (m.idx + 1) % instSamples
	}
	m.lastTime, m.lastValue = now, value
}

func (m *instMetric) mean() float64 {
	sum := 0.0
	for _, s := range m.samples {
		sum += s
	}
	return sum / instSamples
}

type instMetrics struct {
	mu           sync.Mutex
	ops, in, out instMetric
}

// SampleMetrics takes one sample of the instantaneous metrics; the server
// calls it every SampleEvery.
func (d *Dispatcher) SampleMetrics() {
	now := time.Now()
	m := &d.inst
	m.mu.Lock()
	m.ops.track(now, d.stats.commands.Load())
	m.in.track(now, d.stats.netInput.Load())
	m.out.track(now, d.stats.netOutput.Load())
	m.mu.Unlock()
}

// instantaneous returns ops/sec and input/output KB/s.
func (d *Dispatcher) instantaneous() (ops int64, inKbps, outKbps float64) {
	m := &d.inst
	m.mu.Lock()
	defer m.mu.Unlock()
	return int64(m.ops.mean() + 0.5), m.in.mean() / 1024, m.out.mean() / 1024
}

// cpuTimes returns the process's and its children's system and user CPU
// seconds (getrusage), as INFO's used_cpu_* fields.
func cpuTimes() (sys, user, childSys, childUser float64) {
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		sys, user = tv(ru.Stime), tv(ru.Utime)
	}
	if syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru) == nil {
		childSys, childUser = tv(ru.Stime), tv(ru.Utime)
	}
	return
}
