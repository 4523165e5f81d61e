package commands

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/sessiond/sessiond/engine"
)

// msgOOM is Redis' shared.oomerr.
const msgOOM = "OOM command not allowed when used memory > 'maxmemory'."

func init() {
	onNewDispatcher(func(d *Dispatcher) {
		// The engine reads the memory settings on its write path: keep its
		// copy in step with every parameter that makes it up.
		d.Config.Follow(func() { d.Engine.SetMemoryPolicy(d.memoryPolicy()) },
			"maxmemory", "maxmemory-policy", "maxmemory-samples", "lfu-log-factor", "lfu-decay-time")
	})
}

// memoryPolicy reads the maxmemory settings from the config.
func (d *Dispatcher) memoryPolicy() engine.MemoryPolicy {
	pol, _ := engine.ParsePolicy(d.Config.Get("maxmemory-policy"))
	return engine.MemoryPolicy{
		Max:          d.Config.Int("maxmemory"),
		Policy:       pol,
		Samples:      int(d.Config.Int("maxmemory-samples")),
		LFULogFactor: int(d.Config.Int("lfu-log-factor")),
		LFUDecayTime: int(d.Config.Int("lfu-decay-time")),
	}
}

// freeMemory is Redis' performEvictions before a command: when memory is
// over maxmemory it evicts (in tx when the command runs in a shared
// transaction, else in a transaction of its own) and reports whether the
// command must be refused with OOM: one that may grow memory (denyoom), an
// EXEC whose queue holds one, or any command queued in MULTI but DISCARD and
// the like, as Redis' processCommand. Without a limit it costs one atomic load.
// A node of a group never evicts (see below).
func (d *Dispatcher) freeMemory(cl *Client, spec *Spec, tx *engine.Tx, now time.Time) (refuse bool) {
	if !d.Engine.OverLimit() {
		return false
	}
	var ok bool
	if d.repl != nil {
		// In a group nothing is evicted: every node would pick its own
		// victims (random samples, LRU/LFU clocks moved by its own reads)
		// and the data sets would drift apart. The policy acts as
		// noeviction, which is the same on every node: the memory estimate
		// follows the replicated data exactly.
	} else if tx != nil {
		ok = d.evictBefore(cl, tx)
	} else if !d.Engine.Evicts() {
		ok = false // no write lock for reads while over the limit
	} else {
		_, _ = d.Engine.Update(now.UnixMilli(), func(tx *engine.Tx) error {
			ok = d.evictBefore(cl, tx)
			return nil
		})
	}
	if ok {
		return false
	}
	if spec.Flags&FlagDenyOOM != 0 {
		return true
	}
	switch spec.Name {
	case "exec":
		for _, q := range cl.multi.queue {
			if q.spec.Flags&FlagDenyOOM != 0 {
				return true
			}
		}
		return false
	case "discard", "quit", "reset", "multi", "watch", "unwatch":
		return false
	}
	return cl.multi.active
}

// evictBefore frees memory in tx before cl's command runs. The clients
// that cached an evicted key are told at once, so cl reads the invalidation
// ahead of its command's reply (the commit that follows finds them told).
func (d *Dispatcher) evictBefore(cl *Client, tx *engine.Tx) bool {
	if !d.tracking.active.Load() {
		return tx.FreeMemory()
	}
	var evicted []engine.KeyRef
	ok := tx.FreeMemoryFunc(func(k engine.KeyRef) { evicted = append(evicted, k) })
	if len(evicted) > 0 {
		d.trackingInvalidateBefore(engine.Commit{Touched: evicted}, cl)
	}
	return ok
}

// shebangAllowsOOM reports whether a script's shebang line carries the
// allow-oom flag.
func shebangAllowsOOM(body string) bool {
	line := body
	if i := strings.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	for _, f := range strings.Fields(line) {
		if strings.HasPrefix(f, "flags=") {
			for _, fl := range strings.Split(f[len("flags="):], ",") {
				if fl == "allow-oom" {
					return true
				}
			}
		}
	}
	return false
}

// evictAfterConfig evicts at once after CONFIG SET when memory is now over
// the limit (a lowered maxmemory, a policy that now may evict), as Redis
// does when maxmemory is set.
func evictAfterConfig(c *Call) {
	if c.d.Engine.OverLimit() {
		_ = c.Write(func(tx *engine.Tx) error { tx.FreeMemory(); return nil })
	}
}

// cmdMemoryStats is MEMORY STATS: the parts of used_memory as sessiond
// counts them, in Redis' field names where they exist.
func cmdMemoryStats(c *Call) {
	e := c.d.Engine
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	used, peak, data := e.UsedMemory(), e.MemoryPeak(), e.DatasetMemory()
	var all, vol int
	_ = c.Read(func(tx *engine.Tx) error { all, vol = tx.Candidates(); return nil })
	perKey := int64(0)
	if all > 0 {
		perKey = data / int64(all)
	}
	ints := []struct {
		name string
		v    int64
	}{
		{"peak.allocated", peak}, {"total.allocated", used}, {"startup.allocated", engine.BaseMemory},
		{"overhead.total", engine.BaseMemory}, {"keys.count", int64(all)}, {"keys.volatile", int64(vol)},
		{"keys.bytes-per-key", perKey}, {"dataset.bytes", data}, {"maxmemory", e.MaxMemory()},
		{"go.heap.alloc", int64(ms.HeapAlloc)}, {"go.heap.sys", int64(ms.HeapSys)}, {"rss", readRSS()},
	}
	c.W.Map(len(ints) + 2)
	for _, f := range ints {
		c.W.BulkString(f.name)
		c.W.Int(f.v)
	}
	c.W.BulkString("dataset.percentage")
	c.W.Double(100 * float64(data) / float64(max(used, 1)))
	c.W.BulkString("peak.percentage")
	c.W.Double(100 * float64(used) / float64(max(peak, 1)))
}

// cmdMemoryDoctor is MEMORY DOCTOR: what an operator should look at, from
// the figures sessiond has.
func cmdMemoryDoctor(c *Call) {
	e := c.d.Engine
	data, used, max := e.DatasetMemory(), e.UsedMemory(), e.MaxMemory()
	if data < 5<<20 {
		c.W.Verbatim("Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.")
		return
	}
	var issues []string
	if rss := readRSS(); rss > 3*used {
		issues = append(issues, fmt.Sprintf(" * High RSS: the process uses %s for %s of data set estimate. The Go runtime keeps freed memory for reuse and its collector needs headroom; MEMORY PURGE returns free pages to the system.", human(rss), human(used)))
	}
	if max > 0 && used > max-max/20 {
		pol := c.d.Config.Get("maxmemory-policy")
		issues = append(issues, fmt.Sprintf(" * Near maxmemory: used_memory %s of %s with policy %s; evicted_keys %d.", human(used), human(max), pol, e.Stats().EvictedKeys.Load()))
	}
	if len(issues) == 0 {
		c.W.Verbatim("Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.")
		return
	}
	c.W.Verbatim("Sam, I detected a few issues in this sessiond instance memory implants:\n\n" + strings.Join(issues, "\n\n") + "\n\nI'm here to keep you safe, Sam. I want to help you.")
}

// cmdMemoryPurge is MEMORY PURGE: Go's collector, then free pages back to
// the system.
func cmdMemoryPurge(c *Call) {
	debug.FreeOSMemory()
	c.W.OK()
}

// cmdMemoryMallocStats is MEMORY MALLOC-STATS: Redis prints its
// allocator's (jemalloc's) report; sessiond's allocator is the Go runtime,
// so this is the runtime's view of the heap, one "name: value" per line.
func cmdMemoryMallocStats(c *Call) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	var b strings.Builder
	b.WriteString("___ Begin Go runtime allocator statistics ___\n")
	for _, f := range []struct {
		name string
		v    uint64
	}{
		{"heap_alloc_bytes", m.HeapAlloc}, {"heap_inuse_bytes", m.HeapInuse}, {"heap_idle_bytes", m.HeapIdle},
		{"heap_released_bytes", m.HeapReleased}, {"heap_sys_bytes", m.HeapSys}, {"heap_objects", m.HeapObjects},
		{"stack_inuse_bytes", m.StackInuse}, {"sys_bytes", m.Sys}, {"total_alloc_bytes", m.TotalAlloc},
		{"mallocs", m.Mallocs}, {"frees", m.Frees}, {"gc_cycles", uint64(m.NumGC)}, {"next_gc_bytes", m.NextGC},
	} {
		fmt.Fprintf(&b, "%s: %d\n", f.name, f.v)
	}
	b.WriteString("___ End Go runtime allocator statistics ___\n")
	c.W.Verbatim(b.String())
}
