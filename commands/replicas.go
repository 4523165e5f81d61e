package commands

import (
	"sync/atomic"
	"time"
)

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
		d.Config.Follow(func() {
			d.minReplicas.toWrite.Store(d.Config.Int("min-replicas-to-write"))
			d.minReplicas.maxLag.Store(d.Config.Int("min-replicas-max-lag"))
		}, "min-replicas-to-write", "min-replicas-max-lag")
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
	if !d.repl.r.IsLeader() {
		return 1 << 62 // a follower's writes are the leader's to refuse
	}
	return d.otherVoters()
}

// otherVoters counts the group's voting members but this node.
func (d *Dispatcher) otherVoters() int64 {
	var n int64
	for _, p := range d.repl.r.Peers() {
		if !p.Self && p.Voter {
			n++
		}
	}
	return n
}

// cmdWait is WAIT numreplicas timeout: how many replicas hold the client's
// writes so far. A standalone server has none: WAIT 0 answers 0 at once,
// and WAIT n > 0 sleeps out its timeout (0: until CLIENT UNBLOCK or the
// connection closes) and answers 0, as a Redis primary with no replica. In
// a group every acknowledged write is already on a majority, so at least
// half the other voting members hold it: that lower bound is the answer.
func cmdWait(c *Call) {
	want, ok := parseInt(c.Args[1])
	if !ok {
		c.W.Error(msgNotInt)
		return
	}
	ms, ok := parseInt(c.Args[2])
	if !ok {
		c.W.Error("ERR timeout is not an integer or out of range")
		return
	}
	if ms < 0 {
		c.W.Error("ERR timeout is negative")
		return
	}
	acked := c.d.replicasHolding()
	if acked >= want || c.tx != nil { // inside EXEC: never blocks
		c.W.Int(acked)
		return
	}
	c.d.block(c, nil, time.Duration(ms)*time.Millisecond, func() bool {
		acked = c.d.replicasHolding()
		return acked >= want
	})
	c.W.Int(acked)
}

// replicasHolding is WAIT's count (see cmdWait).
func (d *Dispatcher) replicasHolding() int64 {
	if d.repl == nil {
		return 0
	}
	return (d.otherVoters() + 1) / 2 // a majority of the voters, less this node
}

func init() {
	register(&Spec{Name: "wait", Arity: 3, Flags: FlagBlocking | FlagNoScript, Group: "generic", Since: "3.0.0",
		Syntax: "numreplicas timeout", Summary: "Blocks until the writes sent so far by the connection are held by numreplicas replicas, or the timeout (ms, 0: none) passes; returns how many hold them.",
		Example: "> WAIT 0 0\n(integer) 0", Run: cmdWait})
}
