package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/sessiond/sessiond/bench/proc"
)

type config struct {
	sessiondBin  string
	redisBin     string
	redisBench   string
	sidesFlag    string
	sides        []proc.Kind
	sidesGiven   bool
	clients      int
	sessPipeline int
	duration     time.Duration
	warmup       time.Duration
	ops          int64
	n            int
	keys         int
	rounds       int
	dataSize     int
	valueSize    int
	evictN       int
	stormWindow  time.Duration
	stormRate    float64
	scenarios    string
	patterns     []string
	workdir      string
	keep         bool
	jsonOut      string
	smoke        bool
	sessiondArgs string
	redisArgs    string
	noRB         bool
	verbose      bool
	profileDir   string
}

func defaultConfig() *config {
	return &config{
		sidesFlag:    "sessiond,redis",
		clients:      50,
		sessPipeline: 1,
		duration:     5 * time.Second,
		warmup:       time.Second,
		n:            1_000_000,
		keys:         100_000,
		rounds:       3,
		dataSize:     200,
		valueSize:    100,
		stormWindow:  10 * time.Second,
		stormRate:    5000,
		evictN:       100_000,
		scenarios:    "all",
	}
}

func (c *config) register(fs *flag.FlagSet) {
	fs.StringVar(&c.sessiondBin, "sessiond", "", "sessiond binary (default: go build of the module this bench is in)")
	fs.StringVar(&c.redisBin, "redis-server", "redis-server", "redis-server binary (looked up in PATH)")
	fs.StringVar(&c.redisBench, "redis-benchmark", "redis-benchmark", "redis-benchmark binary for the cross-check (skipped when absent)")
	fs.StringVar(&c.sidesFlag, "sides", c.sidesFlag, "which servers to run: sessiond,redis or just one")
	fs.IntVar(&c.clients, "clients", c.clients, "client connections of the load generator")
	fs.IntVar(&c.sessPipeline, "session-pipeline", c.sessPipeline, "pipeline depth of the session scenarios")
	fs.DurationVar(&c.duration, "duration", c.duration, "measured time of each throughput run")
	fs.DurationVar(&c.warmup, "warmup", c.warmup, "unmeasured load before each throughput run")
	fs.Int64Var(&c.ops, "ops", 0, "stop each throughput run after this many operations (0: duration only)")
	fs.IntVar(&c.n, "n", c.n, "sessions (or keys) for the memory, expiry-storm and restart scenarios")
	fs.IntVar(&c.evictN, "evict-n", c.evictN, "sessions and plain keys each written by the evict-* scenarios (capped at -n)")
	fs.IntVar(&c.keys, "keys", c.keys, "keyspace / session population of the throughput scenarios (capped at -n)")
	fs.IntVar(&c.rounds, "rounds", c.rounds, "rounds per scenario; each round runs sessiond then Redis; medians are reported")
	fs.IntVar(&c.dataSize, "data", c.dataSize, "bytes of session data")
	fs.IntVar(&c.valueSize, "value", c.valueSize, "bytes of each plain value")
	fs.DurationVar(&c.stormWindow, "storm-window", c.stormWindow, "how long GETs run after the expiry storm's deadline")
	fs.Float64Var(&c.stormRate, "storm-rate", c.stormRate, "GETs per second (all clients) during the expiry storm, paced so latency shows stalls, not saturation; 0: as fast as possible")
	fs.StringVar(&c.scenarios, "scenarios", c.scenarios, "comma-separated scenario names or globs (e.g. 'set-*,sess-get'); 'all'")
	fs.StringVar(&c.workdir, "workdir", "", "where data directories go (default: a new temporary directory, removed after)")
	fs.BoolVar(&c.keep, "keep", false, "keep the data directories and server logs")
	fs.StringVar(&c.jsonOut, "json", "", "also write every measurement as JSON to this file")
	fs.BoolVar(&c.smoke, "smoke", false, "CI mode: every scenario for about a second with small N, 1 round; exit 1 on any failed reply")
	fs.StringVar(&c.sessiondArgs, "sessiond-args", "", "extra arguments for sessiond (space-separated)")
	fs.StringVar(&c.redisArgs, "redis-args", "", "extra arguments for redis-server (space-separated)")
	fs.BoolVar(&c.noRB, "no-redis-benchmark", false, "skip the redis-benchmark cross-check")
	fs.StringVar(&c.profileDir, "profile", "", "save sessiond's pprof CPU profile of each scenario's first round (and heap profiles) into this directory")
	fs.BoolVar(&c.verbose, "v", false, "print every round's numbers as they come")
}

// finish applies -smoke (to flags not given explicitly) and validates.
func (c *config) finish(set map[string]bool) error {
	if c.smoke {
		def := func(name string, apply func()) {
			if !set[name] {
				apply()
			}
		}
		def("duration", func() { c.duration = time.Second })
		def("warmup", func() { c.warmup = 0 })
		def("n", func() { c.n = 1000 })
		def("rounds", func() { c.rounds = 1 })
		def("storm-window", func() { c.stormWindow = 2 * time.Second })
	} else if set["n"] && c.n < 20000 && !set["storm-window"] {
		// A small -n is a quick run: keep the storm short too.
		c.stormWindow = 2 * time.Second
	}
	c.sidesGiven = set["sides"]
	if c.keys > c.n {
		c.keys = c.n
	}
	if c.clients < 1 || c.rounds < 1 || c.n < 1 || c.keys < 1 || c.sessPipeline < 1 {
		return errors.New("-clients, -rounds, -n, -keys and -session-pipeline must be positive")
	}
	if c.duration <= 0 && c.ops <= 0 {
		return errors.New("set -duration or -ops")
	}
	if c.dataSize < 0 || c.valueSize < 1 {
		return errors.New("bad -data or -value")
	}
	for _, s := range strings.Split(c.sidesFlag, ",") {
		switch strings.TrimSpace(s) {
		case "sessiond":
			c.sides = append(c.sides, proc.Sessiond)
		case "redis":
			c.sides = append(c.sides, proc.Redis)
		case "":
		default:
			return fmt.Errorf("-sides: unknown side %q", s)
		}
	}
	if len(c.sides) == 0 {
		return errors.New("-sides names no server")
	}
	for _, p := range strings.Split(c.scenarios, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("-scenarios: bad pattern %q", p)
		}
		c.patterns = append(c.patterns, p)
	}
	return nil
}

func (c *config) has(k proc.Kind) bool {
	for _, s := range c.sides {
		if s == k {
			return true
		}
	}
	return false
}

// want reports whether scenario name is selected by -scenarios.
func (c *config) want(name string) bool {
	for _, p := range c.patterns {
		if p == "all" || p == name {
			return true
		}
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// resolveBinaries finds redis-server and builds sessiond when no binary was given.
func (c *config) resolveBinaries(workdir string) error {
	if c.has(proc.Redis) {
		p, err := exec.LookPath(c.redisBin)
		if err != nil && c.smoke && !c.sidesGiven && c.has(proc.Sessiond) {
			// The smoke run checks replies; without Redis it can still check sessiond's.
			progress("WARNING: redis-server not found (%v): smoke run of sessiond alone; apt-get install -y redis-server", err)
			c.sides = []proc.Kind{proc.Sessiond}
		} else if err != nil {
			return fmt.Errorf("redis-server not found (%v): apt-get install -y redis-server, or pass -redis-server PATH, or -sides sessiond", err)
		}
		if err == nil {
			c.redisBin = p
		}
	}
	if c.redisBench != "" {
		if p, err := exec.LookPath(c.redisBench); err == nil {
			c.redisBench = p
		} else {
			c.redisBench = ""
		}
	}
	if !c.has(proc.Sessiond) {
		return nil
	}
	if c.sessiondBin != "" {
		p, err := filepath.Abs(c.sessiondBin)
		if err != nil {
			return err
		}
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("-sessiond: %w", err)
		}
		c.sessiondBin = p
		return nil
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	out := filepath.Join(workdir, "sessiond")
	progress("building sessiond from %s", root)
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build sessiond: %v\n%s", err, b)
	}
	c.sessiondBin = out
	return nil
}

// moduleRoot finds the sessiond module's directory from the working directory upwards.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for i := 0; i < 64; i++ {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/sessiond/sessiond\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", errors.New("cannot find the sessiond module (go.mod) above the working directory; pass -sessiond PATH")
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "# "+format+"\n", args...)
}
