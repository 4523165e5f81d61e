package commands

import "sync/atomic"

// min-replicas-to-write and min-replicas-max-lag: Redis refuses writes
// (NOREPLICAS) unless that many replicas are in good standing. A standalone
// sessiond has none, so any setting above 0 refuses every write, as a Redis
// primary with no replica attached does. In a replicated group the leader
// counts the other voting members: the log itself only acknowledges a write
// a majority holds, and members that stop answering are removed from the
// leader's count only when they are removed from the group. A follower
// forwards writes, so the leader's count is the one that decides.

const msgNoReplicas = "NOREPLICAS Not enough good replicas to write."

// minReplicas caches the two parameters for the write path (one atomic load
// when they are off).
type minReplicas struct {
	toWrite atomic.Int64
	maxLag  atomic.Int64
}

func init() {
	onNewDispatcher(func(d *Dispatcher) {
		for name, v := range map[string]*atomic.Int64{"min-replicas-to-write": &d.minReplicas.toWrite, "min-replicas-max-lag": &d.minReplicas.maxLag} {
			p := d.Config.Lookup(name)
			if p == nil {
				continue
			}
			v.Store(d.Config.Int(name))
			prev := p.OnChange
			p.OnChange = func(s string) {
				v.Store(d.Config.Int(name))
				if prev != nil {
					prev(s)
				}
			}
		}
	})
}

// replicasError is the NOREPLICAS refusal of a write when fewer replicas
// than min-replicas-to-write are in good standing, or "". A max lag of 0
// turns the check off, as in Redis.
func (d *Dispatcher) replicasError() string {
	need := d.minReplicas.toWrite.Load()
	if need == 0 || d.minReplicas.maxLag.Load() == 0 {
		return ""
	}
	if d.goodReplicas() >= need {
		return ""
	}
	return msgNoReplicas
}

// goodReplicas counts the replicas in good standing (see above).
func (d *Dispatcher) goodReplicas() int64 {
	if d.repl == nil {
		return 0
	}
	r := d.repl.r
	if !r.IsLeader() {
		return 1 << 62 // a follower's writes are the leader's to refuse
	}
	var n int64
	for _, p := range r.Peers() {
		if !p.Self && p.Voter {
			n++
		}
	}
	return n
}
