package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessiond/sessiond/bench/proc"
	"github.com/sessiond/sessiond/bench/wire"
)

// go run ./bench raft: a replicated group of three sessiond processes
// against a standalone one (issue 14).
//
//   - throughput: set-p1 and sess-create on the group's leader and on a
//     standalone node, rounds alternating, medians and the ratio group /
//     standalone (target >= 0.5);
//   - failover: 50 clients write unique keys to the leader; the leader is
//     killed with SIGKILL; each client finds the new leader through SENTINEL
//     get-master-addr-by-name on the surviving nodes and goes on. Reported:
//     the time from the kill to the first acknowledged write sent after it,
//     and the acknowledged writes missing afterwards (must be 0).

type raftGroup struct {
	nodes []*proc.Server
	ids   []string
}

func (b *bench) startRaftGroup(name string, size int) (*raftGroup, error) {
	g := &raftGroup{}
	var peers []string
	raftPorts := make([]int, size)
	for i := range raftPorts {
		p, err := proc.FreePort()
		if err != nil {
			return nil, err
		}
		raftPorts[i] = p
		g.ids = append(g.ids, "n"+strconv.Itoa(i+1))
		peers = append(peers, g.ids[i]+"=127.0.0.1:"+strconv.Itoa(p))
	}
	for i := 0; i < size; i++ {
		dir := filepath.Join(b.workdir, name, g.ids[i])
		_ = os.RemoveAll(dir)
		extra := append(strings.Fields(b.cfg.sessiondArgs), "--raft-node-id", g.ids[i], "--raft-bind", "127.0.0.1:"+strconv.Itoa(raftPorts[i]),
			"--raft-peers", strings.Join(peers, ","))
		srv, err := proc.Start(proc.Config{Kind: proc.Sessiond, Bin: b.cfg.sessiondBin, Dir: dir, Fsync: "everysec", Extra: extra})
		if err != nil {
			g.stop()
			return nil, err
		}
		g.nodes = append(g.nodes, srv)
	}
	for _, s := range g.nodes {
		if _, err := s.WaitReady(60*time.Second, nil); err != nil {
			g.stop()
			return nil, err
		}
	}
	if _, err := g.leader(20 * time.Second); err != nil {
		g.stop()
		return nil, err
	}
	return g, nil
}

func (g *raftGroup) stop() {
	for _, s := range g.nodes {
		if s != nil && !s.Exited() {
			_ = s.Stop(30 * time.Second)
		}
	}
}

// leader returns the index of the node whose ROLE says master.
func (g *raftGroup) leader(timeout time.Duration) (int, error) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		for i, s := range g.nodes {
			if s.Exited() {
				continue
			}
			c, err := wire.Dial(s.Addr, time.Second)
			if err != nil {
				continue
			}
			var v wire.Value
			err = c.Do(time.Second, &v, "ROLE")
			c.Close()
			if err == nil && len(v.Elems) > 0 && string(v.Elems[0].Str) == "master" {
				return i, nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return -1, errors.New("no leader")
}

func raftBench(ctx context.Context, cfg *config, scenarios string) (bool, error) {
	b := &bench{cfg: cfg, ctx: ctx, byName: map[string]*row{}, loadRate: map[string]float64{}}
	d, err := os.MkdirTemp("", "sessiond-raft-bench-")
	if err != nil {
		return false, err
	}
	b.workdir = d
	if !cfg.keep {
		defer os.RemoveAll(d)
	}
	cfg.sides = []proc.Kind{proc.Sessiond}
	if err := cfg.resolveBinaries(b.workdir); err != nil {
		return false, err
	}
	progress("workdir %s; %d clients, %v per run (+%v warmup), %d rounds", b.workdir, cfg.clients, cfg.duration, cfg.warmup, cfg.rounds)
	want := func(s string) bool { return scenarios == "all" || strings.Contains(","+scenarios+",", ","+s+",") }
	ok := true
	if want("throughput") {
		if err := b.raftThroughput(); err != nil {
			return false, err
		}
	}
	if want("failover") {
		fo, err := b.raftFailover()
		if err != nil {
			return false, err
		}
		fmt.Printf("\nfailover (kill -9 of the leader under %d writing clients, %d rounds):\n", cfg.clients, len(fo))
		fmt.Printf("%-6s %-22s %-14s %-10s %s\n", "round", "first write after kill", "acked before", "lost", "acked in total")
		for i, r := range fo {
			fmt.Printf("%-6d %-22v %-14d %-10d %d\n", i+1, r.firstWrite.Round(time.Millisecond), r.ackedBefore, r.lost, r.acked)
			if r.lost != 0 {
				ok = false
			}
		}
	}
	fmt.Printf("\n%s; load average %s\n", machineLine(), loadAvg())
	return ok, nil
}

func (b *bench) raftThroughput() error {
	single, err := b.startSide(proc.Sessiond, "standalone", "everysec")
	if err != nil {
		return err
	}
	defer b.stopSide(single)
	g, err := b.startRaftGroup("group", 3)
	if err != nil {
		return err
	}
	defer g.stop()
	li, _ := g.leader(time.Second)
	gs := &side{kind: proc.Sessiond, srv: g.nodes[li]}
	if err := gs.prepare(); err != nil {
		return err
	}
	scs := []tpScenario{
		{name: "set-p1", pipeline: 1, setup: setupSet},
		{name: "set-p16", pipeline: 16, setup: setupSet},
		{name: "sess-create", pipeline: 1, needs: []string{"SESS.NEW"}, setup: setupCreate},
	}
	fmt.Printf("%-12s %14s %14s %8s   %s\n", "scenario", "standalone/s", "3-node/s", "ratio", "p99 standalone / 3-node")
	for _, sc := range scs {
		var a, c []measure
		for round := 0; round < b.cfg.rounds; round++ {
			m1, err := b.runThroughput(sc, single, round)
			if err != nil {
				return fmt.Errorf("%s standalone: %w", sc.name, err)
			}
			m2, err := b.runThroughput(sc, gs, round)
			if err != nil {
				return fmt.Errorf("%s group: %w", sc.name, err)
			}
			progress("%s round %d: standalone %.0f/s, group %.0f/s", sc.name, round+1, m1.OpsPerSec, m2.OpsPerSec)
			a, c = append(a, m1), append(c, m2)
		}
		ma, mc := medianOps(a), medianOps(c)
		fmt.Printf("%-12s %14.0f %14.0f %8.2f   %v / %v\n", sc.name, ma.OpsPerSec, mc.OpsPerSec, mc.OpsPerSec/ma.OpsPerSec, ma.P99, mc.P99)
	}
	return nil
}

func medianOps(ms []measure) measure {
	sort.Slice(ms, func(i, j int) bool { return ms[i].OpsPerSec < ms[j].OpsPerSec })
	return ms[len(ms)/2]
}

type failoverResult struct {
	firstWrite  time.Duration
	ackedBefore int
	acked       int
	lost        int
}

func (b *bench) raftFailover() ([]failoverResult, error) {
	var out []failoverResult
	for round := 0; round < b.cfg.rounds; round++ {
		r, err := b.failoverRound(round)
		if err != nil {
			return nil, err
		}
		progress("failover round %d: first write %v after the kill, %d lost of %d", round+1, r.firstWrite, r.lost, r.acked)
		out = append(out, r)
	}
	return out, nil
}

func (b *bench) failoverRound(round int) (failoverResult, error) {
	g, err := b.startRaftGroup("failover-"+strconv.Itoa(round), 3)
	if err != nil {
		return failoverResult{}, err
	}
	defer g.stop()
	li, _ := g.leader(time.Second)
	var (
		mu        sync.Mutex
		acked     []string
		killedAt  atomic.Int64 // unix ns; 0 before the kill
		firstNS   atomic.Int64 // first ack of a write sent after the kill
		ackBefore atomic.Int64
		stop      atomic.Bool
		wg        sync.WaitGroup
	)
	firstNS.Store(0)
	findLeader := func() string {
		for _, s := range g.nodes {
			if s.Exited() {
				continue
			}
			c, err := wire.Dial(s.Addr, 200*time.Millisecond)
			if err != nil {
				continue
			}
			var v wire.Value
			err = c.Do(time.Second, &v, "SENTINEL", "get-master-addr-by-name", "sessiond")
			c.Close()
			if err == nil && len(v.Elems) == 2 {
				return net.JoinHostPort(string(v.Elems[0].Str), string(v.Elems[1].Str))
			}
		}
		return ""
	}
	for w := 0; w < b.cfg.clients; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			addr := g.nodes[li].Addr
			var c *wire.Conn
			for k := 0; !stop.Load(); k++ {
				if c == nil {
					var err error
					if c, err = wire.Dial(addr, 200*time.Millisecond); err != nil {
						c = nil
						time.Sleep(20 * time.Millisecond)
						addr = findLeader()
						continue
					}
				}
				key := "fo:" + strconv.Itoa(w) + ":" + strconv.Itoa(k)
				sent := time.Now().UnixNano()
				var v wire.Value
				err := c.Do(3*time.Second, &v, "SET", key, "1")
				if err != nil || v.IsError() {
					if err != nil {
						c.Close()
						c = nil
					}
					time.Sleep(10 * time.Millisecond)
					if a := findLeader(); a != "" {
						if a != addr && c != nil {
							c.Close()
							c = nil
						}
						addr = a
					}
					continue
				}
				now := time.Now().UnixNano()
				if ka := killedAt.Load(); ka == 0 {
					ackBefore.Add(1)
				} else if sent > ka {
					firstNS.CompareAndSwap(0, now)
				}
				mu.Lock()
				acked = append(acked, key)
				mu.Unlock()
			}
			if c != nil {
				c.Close()
			}
		}(w)
	}
	time.Sleep(time.Second)
	killedAt.Store(time.Now().UnixNano())
	g.nodes[li].Kill()
	deadline := time.Now().Add(30 * time.Second)
	for firstNS.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(time.Second) // some load on the new leader
	stop.Store(true)
	wg.Wait()
	if firstNS.Load() == 0 {
		return failoverResult{}, errors.New("failover: no write accepted within 30 s of the kill")
	}
	res := failoverResult{firstWrite: time.Duration(firstNS.Load() - killedAt.Load()), ackedBefore: int(ackBefore.Load()), acked: len(acked)}
	// Every acknowledged write must be on the new leader.
	nl, err := g.leader(10 * time.Second)
	if err != nil {
		return res, err
	}
	c, err := wire.Dial(g.nodes[nl].Addr, time.Second)
	if err != nil {
		return res, err
	}
	defer c.Close()
	for i := 0; i < len(acked); i += 500 {
		batch := acked[i:min(i+500, len(acked))]
		var v wire.Value
		if err := c.Do(10*time.Second, &v, append([]string{"MGET"}, batch...)...); err != nil {
			return res, err
		}
		for _, e := range v.Elems {
			if e.Kind == wire.Null || string(e.Str) != "1" {
				res.lost++
			}
		}
	}
	return res, nil
}
