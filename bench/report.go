package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sessiond/sessiond/bench/proc"
)

func median(ms []measure, f func(measure) float64) float64 {
	if len(ms) == 0 {
		return 0
	}
	v := make([]float64, len(ms))
	for i, m := range ms {
		v[i] = f(m)
	}
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func medDur(ms []measure, f func(measure) time.Duration) time.Duration {
	return time.Duration(median(ms, func(m measure) float64 { return float64(f(m)) }))
}

// summary is the median of one side's rounds of one row.
type summary struct {
	ok                  bool
	ops, value          float64
	p50, p99, p999, max time.Duration
	cpu                 time.Duration
	failures            uint64
	note                string
}

func summarize(ms []measure) summary {
	if len(ms) == 0 {
		return summary{}
	}
	s := summary{ok: true,
		ops:   median(ms, func(m measure) float64 { return m.OpsPerSec }),
		value: median(ms, func(m measure) float64 { return m.Value }),
		p50:   medDur(ms, func(m measure) time.Duration { return m.P50 }),
		p99:   medDur(ms, func(m measure) time.Duration { return m.P99 }),
		p999:  medDur(ms, func(m measure) time.Duration { return m.P999 }),
		max:   medDur(ms, func(m measure) time.Duration { return m.Max }),
		cpu:   medDur(ms, func(m measure) time.Duration { return m.CPUPerOp }),
	}
	for _, m := range ms {
		s.failures += m.Failures
	}
	s.note = ms[len(ms)/2].Note
	return s
}

func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d/time.Microsecond)
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

func fmtOps(v float64) string {
	switch {
	case v <= 0:
		return "-"
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}

// describe is one round's numbers for the progress log.
func describe(kind string, m *measure) string {
	var s string
	switch kind {
	case kindMemory:
		s = fmt.Sprintf("%.0f B/item", m.Value)
	case kindRestart:
		s = fmt.Sprintf("%.0f ms to first good reply", m.Value)
	case kindEvict:
		s = fmt.Sprintf("RSS %.0f MiB", m.Value)
	default:
		s = fmt.Sprintf("%s ops/s p50 %s p99 %s p99.9 %s max %s", fmtOps(m.OpsPerSec), fmtDur(m.P50),
			fmtDur(m.P99), fmtDur(m.P999), fmtDur(m.Max))
		if m.CPUPerOp > 0 {
			s += fmt.Sprintf(" cpu %.1fµs/op", float64(m.CPUPerOp)/1e3)
		}
	}
	if m.Note != "" {
		s += " (" + m.Note + ")"
	}
	return s
}

// cells renders one side of a row: the headline number and p50 p99 p99.9 max.
func cells(kind string, r *row, k proc.Kind) []string {
	if reason, ok := r.Skip[k]; ok {
		return []string{"skipped: " + reason, "", "", "", ""}
	}
	if errs := r.Errs[k]; len(errs) > 0 && len(r.Runs[k]) == 0 {
		return []string{"ERROR", "", "", "", ""}
	}
	s := summarize(r.Runs[k])
	if !s.ok {
		return []string{"-", "", "", "", ""}
	}
	switch kind {
	case kindMemory:
		return []string{fmt.Sprintf("%.0f B/item", s.value), "", "", "", ""}
	case kindRestart:
		return []string{fmt.Sprintf("%.0f ms", s.value), "", "", "", ""}
	case kindEvict:
		return []string{fmt.Sprintf("%.0f MiB RSS", s.value), "", "", "", ""}
	}
	head := fmtOps(s.ops)
	if s.failures > 0 {
		head += " FAIL"
	}
	return []string{head, fmtDur(s.p50), fmtDur(s.p99), fmtDur(s.p999), fmtDur(s.max)}
}

// ratio returns sessiond/Redis for the row's headline metric and whether the target is met.
func ratio(r *row) (string, string) {
	a, b := summarize(r.Runs[proc.Sessiond]), summarize(r.Runs[proc.Redis])
	if r.Kind == kindStorm {
		met := ""
		if a.ok && a.failures == 0 {
			met = "yes"
			if a.max > 10*time.Millisecond {
				met = "NO"
			}
		}
		if !a.ok || !b.ok || b.max <= 0 {
			return "-", met
		}
		return fmt.Sprintf("%.2f", float64(a.max)/float64(b.max)), met
	}
	if !a.ok || !b.ok {
		return "-", ""
	}
	var x, y float64
	higherBetter := true
	switch r.Kind {
	case kindMemory, kindRestart, kindEvict:
		x, y, higherBetter = a.value, b.value, false
	default:
		x, y = a.ops, b.ops
	}
	if y <= 0 {
		return "-", ""
	}
	q := x / y
	met := ""
	if t, err := strconv.ParseFloat(strings.TrimLeft(r.Target, "<>="), 64); err == nil {
		if (higherBetter && q >= t) || (!higherBetter && q <= t) {
			met = "yes"
		} else {
			met = "NO"
		}
	}
	if a.failures > 0 || b.failures > 0 {
		met = "FAIL"
	}
	return fmt.Sprintf("%.2f", q), met
}

// cpuRatio is server CPU per operation, sessiond/Redis: lower is better, and less sensitive than
// ops/s to whatever else shares the machine.
func cpuRatio(r *row) string {
	a, b := summarize(r.Runs[proc.Sessiond]), summarize(r.Runs[proc.Redis])
	if !a.ok || !b.ok || a.cpu <= 0 || b.cpu <= 0 {
		return ""
	}
	return fmt.Sprintf("%.2f", float64(a.cpu)/float64(b.cpu))
}

func printTable(w io.Writer, b *bench) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tsessiond\tp50\tp99\tp99.9\tmax\tredis\tp50\tp99\tp99.9\tmax\tratio\ttarget\tmet\tcpu/op\t")
	for _, r := range b.rows {
		line := []string{r.Name}
		line = append(line, cells(r.Kind, r, proc.Sessiond)...)
		line = append(line, cells(r.Kind, r, proc.Redis)...)
		q, met := ratio(r)
		line = append(line, q, r.Target, met, cpuRatio(r))
		fmt.Fprintln(tw, strings.Join(line, "\t")+"\t")
	}
	tw.Flush()
	fmt.Fprintln(w, "\nthroughput rows: ops/s (median of rounds), latency per operation; ratio = ops/s sessiond/Redis;")
	fmt.Fprintln(w, "cpu/op = server CPU time per operation sessiond/Redis (lower is better; steadier than ops/s on a shared machine)")
	fmt.Fprintln(w, "memory: RSS growth per item, ratio = sessiond/Redis; restart: process start to first good read, ratio = sessiond/Redis")
	fmt.Fprintln(w, "storm: paced GETs of other keys from the expiry second to -storm-window after it; ratio = worst latency sessiond/Redis")
	fmt.Fprintln(w, "evict-<policy>: n sessions and n plain keys written past maxmemory (used_memory at start + n*(data+value)/2); RSS after, ratio = sessiond/Redis; what was kept in the notes")

	// Notes: server CPU per op, errors, failures, per-scenario remarks.
	var notes []string
	for _, r := range b.rows {
		for _, k := range []proc.Kind{proc.Sessiond, proc.Redis} {
			s := summarize(r.Runs[k])
			var parts []string
			if s.cpu > 0 {
				parts = append(parts, fmt.Sprintf("server cpu %.1fµs/op", float64(s.cpu)/1e3))
			}
			if s.note != "" {
				parts = append(parts, s.note)
			}
			for _, e := range r.Errs[k] {
				parts = append(parts, "ERROR "+firstLine(e))
			}
			if len(parts) > 0 {
				notes = append(notes, fmt.Sprintf("  %-18s %-8s %s", r.Name, k, strings.Join(parts, "; ")))
			}
		}
	}
	if len(notes) > 0 {
		fmt.Fprintln(w, "\nnotes:")
		for _, n := range notes {
			fmt.Fprintln(w, n)
		}
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}

func writeJSON(path string, b *bench) error {
	out := struct {
		Date    string `json:"date"`
		Machine string `json:"machine"`
		Command string `json:"command"`
		Rows    []*row `json:"rows"`
	}{time.Now().UTC().Format(time.RFC3339), machineLine(), strings.Join(os.Args, " "), b.rows}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// machineLine describes where the numbers come from.
func machineLine() string {
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), ":"))
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d CPUs, %s %s/%s", model, runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func versionOf(cfg *config, k proc.Kind) string {
	if !cfg.has(k) {
		return string(k) + " (not run)"
	}
	if k == proc.Redis {
		out, err := exec.Command(cfg.redisBin, "--version").Output()
		if err == nil {
			return strings.TrimSpace(string(out))
		}
		return "redis-server"
	}
	return "sessiond " + cfg.sessiondBin
}

// loadAvg is the 1-minute load average: the bench shares the machine with whatever else runs.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}
