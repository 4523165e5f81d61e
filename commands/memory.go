package commands

import (
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
		apply := func(string) { d.Engine.SetMemoryPolicy(d.memoryPolicy()) }
		apply("")
		for _, name := range []string{"maxmemory", "maxmemory-policy", "maxmemory-samples", "lfu-log-factor", "lfu-decay-time"} {
			if p := d.Config.Lookup(name); p != nil {
				prev := p.OnChange
				p.OnChange = func(v string) {
					apply(v)
					if prev != nil {
						prev(v)
					}
				}
			}
		}
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
func (d *Dispatcher) freeMemory(cl *Client, spec *Spec, tx *engine.Tx, now time.Time) (refuse bool) {
	if !d.Engine.OverLimit() {
		return false
	}
	var ok bool
	if tx != nil {
		ok = tx.FreeMemory()
	} else {
		ok = d.Engine.FreeMemory(now.UnixMilli())
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
