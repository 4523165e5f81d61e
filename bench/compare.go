package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sessiond/sessiond/bench/load"
	"github.com/sessiond/sessiond/bench/proc"
	"github.com/sessiond/sessiond/bench/sessions"
	"github.com/sessiond/sessiond/bench/wire"
)

// measure is one side's result of one round of one scenario.
type measure struct {
	OpsPerSec float64       `json:"ops_per_sec,omitempty"`
	P50       time.Duration `json:"p50_ns,omitempty"`
	P99       time.Duration `json:"p99_ns,omitempty"`
	P999      time.Duration `json:"p999_ns,omitempty"`
	Max       time.Duration `json:"max_ns,omitempty"`
	Ops       uint64        `json:"ops,omitempty"`
	Failures  uint64        `json:"failures,omitempty"`
	CPUPerOp  time.Duration `json:"server_cpu_per_op_ns,omitempty"`
	Value     float64       `json:"value,omitempty"` // bytes/session (memory) or ms (restart)
	Note      string        `json:"note,omitempty"`
}

// Row kinds: what the numbers of a row mean and how its ratio is formed.
const (
	kindThroughput = "throughput" // ratio: ops/s sessiond / Redis
	kindBenchmark  = "redis-benchmark"
	kindMemory     = "memory"  // Value = bytes per session; ratio sessiond / Redis
	kindRestart    = "restart" // Value = ms to first good reply; ratio sessiond / Redis
	kindStorm      = "storm"   // GETs during the storm; ratio of the worst latency
	kindEvict      = "evict"   // Value = RSS MiB after filling past maxmemory; ratio sessiond / Redis
)

// row is one line of the table: every round of one scenario on each side.
type row struct {
	Name   string                  `json:"scenario"`
	Kind   string                  `json:"kind"`
	Target string                  `json:"target,omitempty"`
	Runs   map[proc.Kind][]measure `json:"runs"`
	Skip   map[proc.Kind]string    `json:"skipped,omitempty"`
	Errs   map[proc.Kind][]string  `json:"errors,omitempty"`
}

type bench struct {
	cfg     *config
	ctx     context.Context
	workdir string
	rows    []*row
	byName  map[string]*row
	bad     bool // a reply check failed or a run errored
	// loadRate remembers how fast each side loaded -n items (by kind+variant) in the memory
	// scenario, so the storm can place its second far enough ahead.
	loadRate map[string]float64
}

// side is one running server with what the bench has loaded into it.
type side struct {
	kind    proc.Kind
	srv     *proc.Server
	api     sessions.API
	missing []string // native commands the server does not know
	plain   bool     // key:0..keys-1 are loaded
	table   *sessTable
	pprof   string // sessiond's pprof HTTP address when profiling
}

func (b *bench) row(name, kind, target string) *row {
	if r, ok := b.byName[name]; ok {
		return r
	}
	r := &row{Name: name, Kind: kind, Target: target, Runs: map[proc.Kind][]measure{},
		Skip: map[proc.Kind]string{}, Errs: map[proc.Kind][]string{}}
	b.rows = append(b.rows, r)
	b.byName[name] = r
	return r
}

// record files one side's outcome of one round.
func (b *bench) record(r *row, k proc.Kind, round int, m measure, err error) {
	var skip *skipError
	switch {
	case errors.As(err, &skip):
		r.Skip[k] = skip.reason
		if b.cfg.verbose || round == 0 {
			progress("%-18s %-8s skipped: %s", r.Name, k, skip.reason)
		}
		return
	case err != nil:
		b.bad = true
		r.Errs[k] = append(r.Errs[k], err.Error())
		progress("%-18s %-8s round %d ERROR: %v", r.Name, k, round+1, err)
		return
	}
	if m.Failures > 0 {
		b.bad = true
	}
	r.Runs[k] = append(r.Runs[k], m)
	progress("%-18s %-8s round %d: %s", r.Name, k, round+1, describe(r.Kind, &m))
}

type skipError struct{ reason string }

func (e *skipError) Error() string { return "skipped: " + e.reason }

func skipf(format string, args ...any) error { return &skipError{fmt.Sprintf(format, args...)} }

// lacks returns a skip error when s is a sessiond missing any of the native commands.
func (s *side) lacks(cmds ...string) error {
	if s.kind != proc.Sessiond {
		return nil
	}
	for _, c := range cmds {
		for _, m := range s.missing {
			if strings.EqualFold(c, m) {
				return skipf("sessiond lacks %s", m)
			}
		}
	}
	return nil
}

func compare(ctx context.Context, cfg *config) (bool, error) {
	b := &bench{cfg: cfg, ctx: ctx, byName: map[string]*row{}, loadRate: map[string]float64{}}
	if cfg.workdir != "" {
		if err := os.MkdirAll(cfg.workdir, 0o755); err != nil {
			return false, err
		}
		b.workdir = cfg.workdir
	} else {
		d, err := os.MkdirTemp("", "sessiond-bench-")
		if err != nil {
			return false, err
		}
		b.workdir = d
		if !cfg.keep {
			defer os.RemoveAll(d)
		}
	}
	if err := cfg.resolveBinaries(b.workdir); err != nil {
		return false, err
	}
	progress("workdir %s; sides %v; %d clients, %v per run (+%v warmup), %d rounds, n=%d, keys=%d",
		b.workdir, cfg.sides, cfg.clients, cfg.duration, cfg.warmup, cfg.rounds, cfg.n, cfg.keys)
	started := time.Now()
	load0 := loadAvg()

	steps := []func() error{
		func() error { return b.throughputGroup("everysec", "everysec", b.mainScenarios()) },
		func() error { return b.throughputGroup("durable", "always", b.durableScenarios()) },
		b.heavy,
		b.bigreadScenario,
		b.evictions,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			return false, err
		}
	}
	printTable(os.Stdout, b)
	fmt.Printf("\n%s; load average %s at start, %s at end\n%s vs %s; total %v\n", machineLine(), load0, loadAvg(),
		versionOf(cfg, proc.Sessiond), versionOf(cfg, proc.Redis), time.Since(started).Round(time.Second))
	if cfg.jsonOut != "" {
		if err := writeJSON(cfg.jsonOut, b); err != nil {
			return false, err
		}
	}
	if b.bad {
		fmt.Println("FAILED: some replies were not a success or some runs errored (see above)")
	}
	return !b.bad, nil
}

// startSide starts one server with a fresh data directory and readies it for the scenarios.
func (b *bench) startSide(k proc.Kind, dir, fsync string) (*side, error) {
	cfg := proc.Config{Kind: k, Dir: filepath.Join(b.workdir, dir), Fsync: fsync}
	if err := os.RemoveAll(cfg.Dir); err != nil {
		return nil, err
	}
	pprofAddr := ""
	switch k {
	case proc.Sessiond:
		cfg.Bin = b.cfg.sessiondBin
		cfg.Extra = strings.Fields(b.cfg.sessiondArgs)
		if b.cfg.profileDir != "" {
			port, err := proc.FreePort()
			if err != nil {
				return nil, err
			}
			pprofAddr = "127.0.0.1:" + strconv.Itoa(port)
			cfg.Env = []string{"SESSIOND_PPROF=" + pprofAddr}
		}
	default:
		cfg.Bin = b.cfg.redisBin
		cfg.Extra = strings.Fields(b.cfg.redisArgs)
	}
	srv, err := proc.Start(cfg)
	if err != nil {
		return nil, err
	}
	s := &side{kind: k, srv: srv, pprof: pprofAddr}
	if _, err := srv.WaitReady(60*time.Second, nil); err != nil {
		srv.Kill()
		return nil, err
	}
	if err := s.prepare(); err != nil {
		srv.Kill()
		return nil, err
	}
	return s, nil
}

// prepare finds which session commands the server has and loads the Lua scripts.
func (s *side) prepare() error {
	c, err := wire.Dial(s.srv.Addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	if s.kind == proc.Sessiond {
		s.api = sessions.Native{}
	} else {
		s.api = &sessions.Lua{}
	}
	s.missing, err = sessions.Missing(c, s.api.Commands())
	if err != nil {
		return err
	}
	if s.kind == proc.Redis && len(s.missing) > 0 {
		return fmt.Errorf("redis-server lacks %v", s.missing)
	}
	if s.kind == proc.Sessiond {
		// SESS.COUNT only serves the storm's report; its absence skips nothing.
		if m, err := sessions.Missing(c, []string{"SESS.COUNT"}); err == nil && len(m) > 0 {
			s.missing = append(s.missing, m...)
		}
	}
	return s.api.Prepare(c)
}

func (b *bench) stopSide(s *side) {
	if s == nil {
		return
	}
	if err := s.srv.Stop(2 * time.Minute); err != nil {
		progress("%v", err)
	}
}

// ---- throughput scenarios ----

type clientFactory func(id int) (load.Client, error)

type tpScenario struct {
	name     string
	target   string
	pipeline int
	needs    []string // native commands sessiond must have
	finite   bool     // the workload is a prepared set of operations: no warmup
	// setup readies the server for one round and returns the clients' factory.
	setup func(b *bench, s *side, round, clients, pipeline int) (clientFactory, error)
}

func (b *bench) mainScenarios() []tpScenario {
	var sc []tpScenario
	for _, p := range []int{1, 16} {
		sc = append(sc,
			tpScenario{name: "set-p" + strconv.Itoa(p), target: ">=1.0", pipeline: p, setup: setupSet},
			tpScenario{name: "get-p" + strconv.Itoa(p), target: ">=1.0", pipeline: p, setup: setupGet},
		)
	}
	sp := b.cfg.sessPipeline
	sc = append(sc,
		tpScenario{name: "sess-create", target: ">=2.0", pipeline: sp, needs: []string{"SESS.NEW"}, setup: setupCreate},
		tpScenario{name: "sess-get", target: ">=2.0", pipeline: sp, needs: []string{"SESS.NEW", "SESS.GET"}, setup: setupSessOp("get")},
		tpScenario{name: "sess-touch", target: ">=2.0", pipeline: sp, needs: []string{"SESS.NEW", "SESS.TOUCH"}, setup: setupSessOp("touch")},
		tpScenario{name: "sess-validate", target: ">=2.0", pipeline: sp, needs: []string{"SESS.NEW", "SESS.VALIDATE"}, setup: setupSessOp("validate")},
		tpScenario{name: "sess-revoke-owner", target: ">=2.0", pipeline: sp, needs: []string{"SESS.NEW", "SESS.REVOKE"}, finite: true, setup: setupRevoke},
	)
	return sc
}

func (b *bench) durableScenarios() []tpScenario {
	return []tpScenario{
		{name: "durable-set-p1", target: ">=1.0", pipeline: 1, setup: setupSet},
		{name: "durable-create", target: ">=1.0", pipeline: 1, needs: []string{"SESS.NEW"}, setup: setupCreate},
		{name: "durable-validate", target: ">=1.0", pipeline: 1, needs: []string{"SESS.NEW", "SESS.VALIDATE"}, setup: setupSessOp("validate")},
	}
}

func setupSet(b *bench, s *side, round, clients, pipeline int) (clientFactory, error) {
	value := filler(b.cfg.valueSize, 'a')
	return func(id int) (load.Client, error) {
		return &setClient{r: newRand(uint64(id)), keys: b.cfg.keys, value: value}, nil
	}, nil
}

func setupGet(b *bench, s *side, round, clients, pipeline int) (clientFactory, error) {
	if !s.plain {
		if err := prefillPlain(b.ctx, s.srv.Addr, "key:", b.cfg.keys, b.cfg.valueSize, 0); err != nil {
			return nil, err
		}
		s.plain = true
	}
	return func(id int) (load.Client, error) {
		return &getClient{r: newRand(uint64(id)), prefix: "key:", keys: b.cfg.keys, size: b.cfg.valueSize}, nil
	}, nil
}

func setupCreate(b *bench, s *side, round, clients, pipeline int) (clientFactory, error) {
	data := filler(b.cfg.dataSize, 'A')
	owners := b.cfg.keys/4 + 1
	return func(id int) (load.Client, error) {
		return &sessCreate{api: s.api, r: newRand(uint64(id) + 1000), owners: owners, data: data}, nil
	}, nil
}

// ensureSessions loads the population the get/touch/validate scenarios share.
func (b *bench) ensureSessions(s *side, clients, pipeline int) error {
	if s.table != nil {
		return nil
	}
	n := max(b.cfg.keys, clients*pipeline*2)
	data := filler(b.cfg.dataSize, 'A')
	tokens, _, err := createSessions(b.ctx, s.srv.Addr, s.api, n, data, 3600,
		func(i int64) string { return "p" + strconv.FormatInt(i/4, 10) },
		func(int64) int64 { return 86400 })
	if err != nil {
		return err
	}
	s.table = &sessTable{tokens: tokens, nonces: make([]int64, n), dataLen: len(data)}
	for i := range s.table.nonces {
		s.table.nonces[i] = 1
	}
	return nil
}

func setupSessOp(op string) func(b *bench, s *side, round, clients, pipeline int) (clientFactory, error) {
	return func(b *bench, s *side, round, clients, pipeline int) (clientFactory, error) {
		if err := b.ensureSessions(s, clients, pipeline); err != nil {
			return nil, err
		}
		return func(id int) (load.Client, error) {
			return newSessOp(s.api, op, s.table, id, clients), nil
		}, nil
	}
}

// revokePerOwner is how many sessions each owner has in the revoke scenario.
const revokePerOwner = 3

func setupRevoke(b *bench, s *side, round, clients, pipeline int) (clientFactory, error) {
	owners := max(b.cfg.keys/revokePerOwner, clients*pipeline*2)
	prefix := "rv" + strconv.Itoa(round) + "-"
	data := filler(b.cfg.dataSize, 'A')
	_, _, err := createSessions(b.ctx, s.srv.Addr, s.api, owners*revokePerOwner, data, 3600,
		func(i int64) string { return prefix + strconv.FormatInt(i/revokePerOwner, 10) },
		func(int64) int64 { return 86400 })
	if err != nil {
		return nil, err
	}
	return func(id int) (load.Client, error) {
		c := &sessRevoke{api: s.api, perOwner: revokePerOwner}
		for i := id; i < owners; i += clients {
			c.owners = append(c.owners, prefix+strconv.Itoa(i))
		}
		return c, nil
	}, nil
}

// throughputGroup starts both servers with one fsync policy and runs the selected scenarios,
// each round by round, sessiond then Redis.
func (b *bench) throughputGroup(group, fsync string, all []tpScenario) error {
	var sel []tpScenario
	for _, sc := range all {
		if b.cfg.want(sc.name) {
			sel = append(sel, sc)
		}
	}
	wantRB := false
	for _, n := range []string{"rb-set-p1", "rb-get-p1", "rb-set-p16", "rb-get-p16"} {
		wantRB = wantRB || b.cfg.want(n)
	}
	if len(sel) == 0 && !(group == "everysec" && wantRB) {
		return nil
	}
	progress("%s: starting %v with appendfsync %s", group, b.cfg.sides, fsync)
	var sides []*side
	defer func() {
		for _, s := range sides {
			b.stopSide(s)
		}
	}()
	for _, k := range b.cfg.sides {
		s, err := b.startSide(k, group+"-"+string(k), fsync)
		if err != nil {
			return fmt.Errorf("start %s: %w", k, err)
		}
		sides = append(sides, s)
		if k == proc.Sessiond && len(s.missing) > 0 {
			progress("sessiond lacks %v: the scenarios that need them are skipped", s.missing)
		}
	}
	for _, sc := range sel {
		r := b.row(sc.name, kindThroughput, sc.target)
		for round := 0; round < b.cfg.rounds; round++ {
			for _, s := range sides {
				if b.ctx.Err() != nil {
					return b.ctx.Err()
				}
				m, err := b.runThroughput(sc, s, round)
				b.record(r, s.kind, round, m, err)
			}
		}
	}
	if group == "everysec" {
		b.crossCheck(sides)
	}
	return nil
}

func (b *bench) runThroughput(sc tpScenario, s *side, round int) (measure, error) {
	if err := s.lacks(sc.needs...); err != nil {
		return measure{}, err
	}
	clients := b.cfg.clients
	factory, err := sc.setup(b, s, round, clients, sc.pipeline)
	if err != nil {
		return measure{}, fmt.Errorf("setup: %w", err)
	}
	opts := load.Options{Addr: s.srv.Addr, Clients: clients, Pipeline: sc.pipeline,
		Warmup: b.cfg.warmup, Duration: b.cfg.duration, Ops: b.cfg.ops}
	if sc.finite {
		opts.Warmup = 0
	}
	var cpu0 atomic.Int64
	cpu0.Store(-1)
	var prof *profiler
	if s.pprof != "" && round == 0 && b.cfg.duration > 0 {
		prof = b.newProfiler(s, sc.name)
	}
	opts.AtMeasure = func() {
		if c, err := s.srv.CPUTime(); err == nil {
			cpu0.Store(int64(c))
		}
		prof.startCPU(b.cfg.duration)
	}
	res, err := load.Run(b.ctx, opts, factory)
	prof.finish()
	if err != nil {
		return measure{}, err
	}
	cpu1, err := s.srv.CPUTime()
	m := fromResult(res)
	if c0 := time.Duration(cpu0.Load()); err == nil && c0 >= 0 && res.Ops > 0 && cpu1 > c0 {
		m.CPUPerOp = (cpu1 - c0) / time.Duration(res.Ops)
	}
	if s.srv.Exited() {
		return m, fmt.Errorf("%s exited during the run; log:\n%s", s.kind, s.srv.LogTail())
	}
	return m, nil
}

func fromResult(res *load.Result) measure {
	m := measure{
		OpsPerSec: res.OpsPerSec(),
		P50:       res.Hist.Quantile(0.50),
		P99:       res.Hist.Quantile(0.99),
		P999:      res.Hist.Quantile(0.999),
		Max:       res.Hist.Max(),
		Ops:       res.Ops,
		Failures:  res.Failures,
	}
	if res.Failures > 0 {
		m.Note = fmt.Sprintf("%d FAILED replies, first: %s", res.Failures, strings.Join(res.Failed, "; "))
	}
	return m
}
