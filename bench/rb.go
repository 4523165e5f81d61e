package main

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// crossCheck runs redis-benchmark's own SET and GET against each side (one round), so the load
// generator's plain numbers can be compared with a tool everybody knows. redis-benchmark does not
// check replies and its SET has no EX; its keys are its own (key:__rand_int__).
func (b *bench) crossCheck(sides []*side) {
	for _, p := range []int{1, 16} {
		for _, op := range []string{"set", "get"} {
			name := fmt.Sprintf("rb-%s-p%d", op, p)
			if !b.cfg.want(name) || b.cfg.noRB {
				continue
			}
			r := b.row(name, kindBenchmark, ">=1.0")
			for _, s := range sides {
				if b.ctx.Err() != nil {
					return
				}
				if b.cfg.redisBench == "" {
					b.record(r, s.kind, 0, measure{}, skipf("redis-benchmark not found"))
					continue
				}
				// As many requests as our own generator did in one run, so the runs last alike.
				n := 100000
				if own := b.byName[fmt.Sprintf("%s-p%d", op, p)]; own != nil {
					if ms := own.Runs[s.kind]; len(ms) > 0 {
						n = int(median(ms, func(m measure) float64 { return m.OpsPerSec }) * b.cfg.duration.Seconds())
					}
				}
				n = min(max(n, 1000), 10_000_000)
				m, err := b.redisBenchmark(s, op, p, n)
				b.record(r, s.kind, 0, m, err)
			}
		}
	}
}

func (b *bench) redisBenchmark(s *side, op string, pipeline, n int) (measure, error) {
	var m measure
	host, port, err := net.SplitHostPort(s.srv.Addr)
	if err != nil {
		return m, err
	}
	limit := max(60*time.Second, 20*b.cfg.duration)
	ctx, cancel := context.WithTimeout(b.ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.cfg.redisBench, "-h", host, "-p", port,
		"-c", strconv.Itoa(b.cfg.clients), "-n", strconv.Itoa(n), "-P", strconv.Itoa(pipeline),
		"-r", strconv.Itoa(b.cfg.keys), "-d", strconv.Itoa(b.cfg.valueSize), "-t", op, "--csv")
	out, err := cmd.Output()
	if err != nil {
		return m, fmt.Errorf("redis-benchmark: %v", err)
	}
	// "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
	var fields []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(strings.ReplaceAll(strings.TrimSpace(line), `"`, ""), ",")
		if len(f) >= 8 && strings.EqualFold(f[0], op) {
			fields = f
		}
	}
	if fields == nil {
		return m, fmt.Errorf("redis-benchmark: no result in %q", out)
	}
	num := func(i int) float64 {
		v, _ := strconv.ParseFloat(fields[i], 64)
		return v
	}
	ms := func(i int) time.Duration { return time.Duration(num(i) * float64(time.Millisecond)) }
	m.OpsPerSec = num(1)
	m.P50 = ms(4)
	m.P99 = ms(6)
	m.Max = ms(7)
	m.Ops = uint64(n)
	m.Note = fmt.Sprintf("%d requests; no p99.9 from redis-benchmark", n)
	return m, nil
}
