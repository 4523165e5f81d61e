package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sessiond/sessiond/bench/load"
	"github.com/sessiond/sessiond/bench/proc"
	"github.com/sessiond/sessiond/bench/wire"
)

// The heavy scenarios load -n sessions (or plain keys) into a fresh server each round:
// memory + restart share one load; the expiry storm has its own.

const (
	variantPlain    = "plain"
	variantSessions = "sessions"
)

func (b *bench) heavy() error {
	for _, v := range []string{variantPlain, variantSessions} {
		mem, rst := b.cfg.want("memory-"+v), b.cfg.want("restart-"+v)
		if mem || rst {
			var rm, rr *row
			if mem {
				rm = b.row("memory-"+v, kindMemory, "<=1.0")
			}
			if rst {
				rr = b.row("restart-"+v, kindRestart, "<=1.0")
			}
			for round := 0; round < b.cfg.rounds; round++ {
				for _, k := range b.cfg.sides {
					if b.ctx.Err() != nil {
						return b.ctx.Err()
					}
					m, r, err := b.memoryRestart(k, v, round)
					if rm != nil {
						b.record(rm, k, round, m, err)
					}
					if rr != nil {
						if err == nil && r.Value == 0 && r.Note != "" {
							err = fmt.Errorf("%s", r.Note)
						}
						b.record(rr, k, round, r, err)
					}
				}
			}
		}
		if b.cfg.want("storm-" + v) {
			rs := b.row("storm-"+v, kindStorm, "max<=10ms")
			if err := b.eachRound(rs, func(k proc.Kind, round int) (measure, error) { return b.storm(k, v, round) }); err != nil {
				return err
			}
		}
	}
	return nil
}

// eachRound runs one scenario round by round, each round on every side in
// turn, and records the results in r.
func (b *bench) eachRound(r *row, run func(k proc.Kind, round int) (measure, error)) error {
	for round := 0; round < b.cfg.rounds; round++ {
		for _, k := range b.cfg.sides {
			if b.ctx.Err() != nil {
				return b.ctx.Err()
			}
			m, err := run(k, round)
			b.record(r, k, round, m, err)
		}
	}
	return nil
}

// loader writes item i of the heavy load (a session or a plain key) and checks its reply.
type loader struct {
	s       *side
	variant string
	data    []byte
	samples map[int64]string // index -> token (sessions) kept to verify after a restart
	last    int64
}

func (b *bench) newLoader(s *side, variant string, n int) *loader {
	l := &loader{s: s, variant: variant, data: filler(b.cfg.dataSize, 'A'), samples: map[int64]string{}, last: int64(n - 1)}
	return l
}

// load creates items [from, from+n) with keys/owners named by tag; absolute(i) gives each its
// absolute timeout in seconds.
func (l *loader) load(b *bench, tag string, from int64, n int, absolute func(i int64) int64) (time.Duration, error) {
	if l.variant == variantSessions {
		step := max(int64(n)/100, 1)
		tokens, el, err := createSessions(b.ctx, l.s.srv.Addr, l.s.api, n, l.data, 3600,
			func(i int64) string { return tag + strconv.FormatInt((from+i)/4, 10) }, absolute)
		if err != nil {
			return 0, err
		}
		for i := int64(0); i < int64(n); i += step {
			l.samples[from+i] = tokens[i]
		}
		l.samples[from+int64(n)-1] = tokens[n-1]
		return el, nil
	}
	start := time.Now()
	_, err := bulk(b.ctx, l.s.srv.Addr, n, func(int) func(int64, *wire.Writer) {
		var kb []byte
		return func(i int64, w *wire.Writer) {
			kb = strconv.AppendInt(append(kb[:0], tag...), from+i, 10)
			w.Begin(5)
			w.Str("SET")
			w.Bytes(kb)
			w.Bytes(l.data)
			w.Str("EX")
			w.Int(absolute(i))
		}
	}, func(_ int64, v *wire.Value) error {
		if v.Kind != wire.Simple || string(v.Str) != "OK" {
			return fmt.Errorf("SET: unexpected reply %s", v.Text())
		}
		return nil
	})
	return time.Since(start), err
}

// probe reads item i back: the restart's "first successful reply".
func (l *loader) probe(c *wire.Conn, tag string, i int64) error {
	if l.variant == variantSessions {
		tok, ok := l.samples[i]
		if !ok {
			return fmt.Errorf("no sample %d", i)
		}
		return l.s.api.ProbeGet(c, tok, len(l.data))
	}
	var v wire.Value
	if err := c.Do(5*time.Second, &v, "GET", tag+strconv.FormatInt(i, 10)); err != nil {
		return err
	}
	if v.Kind != wire.Bulk || len(v.Str) != len(l.data) {
		return fmt.Errorf("GET answered %s", v.Text())
	}
	return nil
}

// memoryRestart loads -n items into a fresh server, measures RSS, then stops it (SIGTERM),
// starts it again on the same directory and times the first good read of the last item written.
func (b *bench) memoryRestart(k proc.Kind, variant string, round int) (mem, rst measure, err error) {
	dir := fmt.Sprintf("heavy-%s-%s-r%d", k, variant, round)
	s, err := b.startSide(k, dir, "everysec")
	if err != nil {
		return mem, rst, err
	}
	defer func() {
		b.stopSide(s)
		if !b.cfg.keep {
			os.RemoveAll(filepath.Join(b.workdir, dir))
		}
	}()
	if variant == variantSessions {
		if err := s.lacks("SESS.NEW", "SESS.GET"); err != nil {
			return mem, rst, err
		}
	}
	n := b.cfg.n
	time.Sleep(500 * time.Millisecond)
	rss0, err := s.srv.RSS()
	if err != nil {
		return mem, rst, err
	}
	used0 := usedMemory(s.srv.Addr)
	l := b.newLoader(s, variant, n)
	el, err := l.load(b, "m", 0, n, func(int64) int64 { return 86400 })
	if err != nil {
		return mem, rst, fmt.Errorf("load %d: %w", n, err)
	}
	rss1, settled, err := settledRSS(s.srv.RSS)
	if err != nil {
		return mem, rst, err
	}
	used1 := usedMemory(s.srv.Addr)
	if round == 0 {
		b.newProfiler(s, "memory-"+variant).heap()
	}
	mem.Value = float64(rss1-rss0) / float64(n)
	mem.Note = fmt.Sprintf("RSS %s->%s, settled after %s", mib(rss0), mib(rss1), settled.Round(100*time.Millisecond))
	if used0 > 0 && used1 > 0 {
		mem.Note += fmt.Sprintf(", used_memory %.0f B/item", float64(used1-used0)/float64(n))
	}
	rate := float64(n) / el.Seconds()
	mem.Note += fmt.Sprintf(", loaded at %.0f/s", rate)
	if old, ok := b.loadRate[string(k)+variant]; !ok || rate < old {
		b.loadRate[string(k)+variant] = rate
	}

	// Restart on the same directory.
	t0 := time.Now()
	if err := s.srv.Stop(5 * time.Minute); err != nil {
		rst.Note = err.Error()
		return mem, rst, nil
	}
	shutdown := time.Since(t0)
	cfg := s.srv.Cfg
	cfg.Port = 0
	srv, err := proc.Start(cfg)
	if err != nil {
		rst.Note = err.Error()
		return mem, rst, nil
	}
	s.srv = srv
	tag := "m"
	probeIdx := int64(n - 1)
	ready, err := srv.WaitReady(10*time.Minute, func(c *wire.Conn) error { return l.probe(c, tag, probeIdx) })
	if err != nil {
		rst.Note = "restart: " + err.Error()
		return mem, rst, nil
	}
	rst.Value = float64(ready) / float64(time.Millisecond)
	// Check a sample of what was written came back.
	if err := s.prepare(); err != nil {
		rst.Note = err.Error()
		rst.Value = 0
		return mem, rst, nil
	}
	c, err := wire.Dial(srv.Addr, 5*time.Second)
	if err != nil {
		rst.Note = err.Error()
		rst.Value = 0
		return mem, rst, nil
	}
	defer c.Close()
	checked, lost := 0, 0
	step := max(int64(n)/100, 1)
	for i := int64(0); i < int64(n); i += step {
		checked++
		if err := l.probe(c, tag, i); err != nil {
			lost++
			rst.Failures++
		}
	}
	rst.Note = fmt.Sprintf("%d/%d samples back; shutdown %v", checked-lost, checked, shutdown.Round(time.Millisecond))
	if lost > 0 {
		rst.Note = "LOST DATA: " + rst.Note
	}
	return mem, rst, nil
}

// storm loads -n items whose deadlines all fall in one second, then runs paced GETs of other keys
// from two seconds before that second (the calm baseline, reported in the note) until
// -storm-window after it (the storm, reported in the row).
func (b *bench) storm(k proc.Kind, variant string, round int) (measure, error) {
	var m measure
	dir := fmt.Sprintf("storm-%s-%s-r%d", k, variant, round)
	s, err := b.startSide(k, dir, "everysec")
	if err != nil {
		return m, err
	}
	defer func() {
		b.stopSide(s)
		if !b.cfg.keep {
			os.RemoveAll(filepath.Join(b.workdir, dir))
		}
	}()
	if variant == variantSessions {
		if err := s.lacks("SESS.NEW"); err != nil {
			return m, err
		}
	}
	g := min(b.cfg.keys, 10000)
	if err := prefillPlain(b.ctx, s.srv.Addr, "g:", g, b.cfg.valueSize, 0); err != nil {
		return m, err
	}
	n := b.cfg.n
	l := b.newLoader(s, variant, n)
	// A pilot load (which stays: long deadlines) estimates the rate, to place the storm's second
	// far enough ahead that the whole load lands before it.
	pilot := min(max(n/20, 100), 20000)
	pel, err := l.load(b, "pilot", 0, pilot, func(int64) int64 { return 86400 })
	if err != nil {
		return m, fmt.Errorf("pilot load: %w", err)
	}
	rate := float64(pilot) / pel.Seconds()
	// A server slows down as it fills (the Lua side by 3x over a million sessions): trust the
	// whole-load rate of the memory scenario when there is one and keep a 2x margin, else 4x.
	margin := time.Duration(4)
	if r, ok := b.loadRate[string(k)+variant]; ok {
		rate = min(rate, r)
		margin = 2
	}
	est := time.Duration(float64(n) / rate * float64(time.Second))
	targetMs := time.Now().Add(est*margin + 3*time.Second).UnixMilli()
	targetMs = (targetMs + 999) / 1000 * 1000
	target := time.UnixMilli(targetMs)
	var overrun atomic.Bool
	if _, err := l.load(b, "st", 0, n, func(int64) int64 {
		left := targetMs - time.Now().UnixMilli()
		if left < 1000 {
			overrun.Store(true)
			return 1
		}
		return (left + 999) / 1000 // the deadline lands in [target, target+1s)
	}); err != nil {
		return m, fmt.Errorf("storm load: %w", err)
	}
	if overrun.Load() || time.Until(target) < 200*time.Millisecond {
		return m, fmt.Errorf("the load of %d items overran the storm's second (estimated rate %.0f/s); rerun with smaller -n", n, rate)
	}
	peak := countItems(s, variant)
	calm := 2 * time.Second
	if d := time.Until(target.Add(-calm)); d > 0 {
		select {
		case <-time.After(d):
		case <-b.ctx.Done():
			return m, b.ctx.Err()
		}
	}
	if s.kind == proc.Redis {
		// Redis' own latency monitor names what stalled it (expire-cycle, aof-write, fork, ...).
		redisDo(s.srv.Addr, "CONFIG", "SET", "latency-monitor-threshold", "5")
		redisDo(s.srv.Addr, "LATENCY", "RESET")
	}
	window := time.Until(target) + b.cfg.stormWindow
	var prof *profiler
	if round == 0 {
		prof = b.newProfiler(s, "storm-"+variant)
	}
	prof.startCPU(window)
	res, err := load.Run(b.ctx, load.Options{Addr: s.srv.Addr, Clients: b.cfg.clients, Pipeline: 1, Duration: window,
		Rate: b.cfg.stormRate, SplitAt: target},
		func(id int) (load.Client, error) {
			return &getClient{r: newRand(uint64(id)), prefix: "g:", keys: g, size: b.cfg.valueSize}, nil
		})
	prof.finish()
	if err != nil {
		return m, err
	}
	m = fromResult(res)
	// fromResult took throughput over the whole run; the latencies are the storm's own.
	stalls := res.Hist.CountAbove(10 * time.Millisecond)
	after := countItems(s, variant)
	note := fmt.Sprintf("%d GETs >10ms in the storm; before it: p99.9 %s max %s", stalls,
		fmtDur(res.Before.Quantile(0.999)), fmtDur(res.Before.Max()))
	if peak >= 0 && after >= 0 {
		note += fmt.Sprintf("; %s %d -> %d after the window", countName(s, variant), peak, after)
	}
	if s.kind == proc.Redis {
		if lat := redisLatency(s.srv.Addr); lat != "" {
			note += "; LATENCY LATEST " + lat
		}
	}
	if m.Note != "" {
		note = m.Note + "; " + note
	}
	m.Note = note
	return m, nil
}

// redisDo sends one command on a fresh connection and returns its reply (nil on any error).
func redisDo(addr string, args ...string) *wire.Value {
	c, err := wire.Dial(addr, 5*time.Second)
	if err != nil {
		return nil
	}
	defer c.Close()
	var v wire.Value
	if err := c.Do(10*time.Second, &v, args...); err != nil || v.IsError() {
		return nil
	}
	return &v
}

// redisLatency summarizes LATENCY LATEST: each event's worst stall in ms.
func redisLatency(addr string) string {
	v := redisDo(addr, "LATENCY", "LATEST")
	if v == nil || v.Kind != wire.Array {
		return ""
	}
	var parts []string
	for _, e := range v.Elems {
		// [event, timestamp, latest ms, max ms]
		if len(e.Elems) >= 4 {
			parts = append(parts, fmt.Sprintf("%s max %dms", e.Elems[0].Str, e.Elems[3].Int))
		}
	}
	return strings.Join(parts, ", ")
}

// countItems returns how many items the server reports (DBSIZE, or SESS.COUNT for sessiond's
// sessions), or -1 when it cannot tell.
func countItems(s *side, variant string) int64 {
	cmd := "DBSIZE"
	if variant == variantSessions && s.kind == proc.Sessiond {
		if s.lacks("SESS.COUNT") != nil {
			return -1
		}
		cmd = "SESS.COUNT"
	}
	c, err := wire.Dial(s.srv.Addr, 5*time.Second)
	if err != nil {
		return -1
	}
	defer c.Close()
	var v wire.Value
	if err := c.Do(30*time.Second, &v, cmd); err != nil || v.Kind != wire.Integer {
		return -1
	}
	return v.Int
}

func countName(s *side, variant string) string {
	if variant == variantSessions && s.kind == proc.Sessiond {
		return "SESS.COUNT"
	}
	return "DBSIZE"
}

// usedMemory returns INFO memory's used_memory, or 0 when the server does not say.
// settledRSS waits for a server's RSS to settle after a load and returns
// it: at least a second, then until two readings half a second apart differ
// by less than 1% (at most 15 s). A server that returns memory to the system
// once it goes quiet (Go's collector headroom) is measured at rest, as a
// user's idle server would be; one whose RSS is already flat settles at 1 s.
func settledRSS(rss func() (int64, error)) (int64, time.Duration, error) {
	const step, limit = 500 * time.Millisecond, 15 * time.Second
	start := time.Now()
	time.Sleep(time.Second)
	last, err := rss()
	for err == nil && time.Since(start) < limit {
		time.Sleep(step)
		var cur int64
		if cur, err = rss(); err != nil {
			break
		}
		diff := cur - last
		if diff < 0 {
			diff = -diff
		}
		last = cur
		if diff*100 < cur {
			break
		}
	}
	return last, time.Since(start), err
}

func usedMemory(addr string) int64 {
	return max(infoInt(addr, "memory", "used_memory"), 0)
}

func mib(b int64) string { return fmt.Sprintf("%.0fMiB", float64(b)/(1<<20)) }
