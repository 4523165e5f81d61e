package server

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// idleCollector returns memory to the operating system when the server goes
// quiet after a burst of allocation (a bulk load, a mass expiry). Go's
// collector lets the heap grow to about twice the live data between cycles,
// and that headroom would otherwise stay in the process's RSS for as long as
// the server sits idle. Collecting while idle costs no client anything.
type idleCollector struct {
	commands func() int64 // total commands processed so far
	stop     chan struct{}
}

// idleSlack is how much retained memory beyond the live data makes an idle
// collection worthwhile.
const idleSlack = 16 << 20

// idleTick is how long the server must be quiet before it collects.
const idleTick = 500 * time.Millisecond

func (ic *idleCollector) run() {
	t := time.NewTicker(idleTick)
	defer t.Stop()
	samples := []metrics.Sample{
		{Name: "/gc/heap/live:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
	}
	last := ic.commands()
	collectedAt := int64(-1) // command count at the last idle collection
	for {
		select {
		case <-ic.stop:
			return
		case <-t.C:
		}
		now := ic.commands()
		busy := now-last > 50 // more than a trickle of commands in the last tick
		last = now
		if busy || now == collectedAt {
			continue // busy, or nothing happened since the last idle collection
		}
		metrics.Read(samples)
		for _, s := range samples {
			if s.Value.Kind() != metrics.KindUint64 {
				return
			}
		}
		live := samples[0].Value.Uint64()
		retained := samples[1].Value.Uint64() - samples[2].Value.Uint64()
		if retained > live+live/4+idleSlack {
			runtime.GC()
			debug.FreeOSMemory()
			collectedAt = now
		}
	}
}
