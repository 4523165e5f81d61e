package commands

import (
	"strings"
	"time"

	"github.com/sessiond/sessiond/latency"
)

// Info renders INFO sections (by name, as INFO takes them) and returns their
// fields, section by section: the one statistics source INFO and the
// metrics endpoint share, so a counter added to INFO (evicted_keys,
// acl_access_denied_auth, ...) reaches both.
func (d *Dispatcher) Info(sections ...string) map[string]map[string]string {
	c := &Call{d: d, Now: time.Now()}
	out := map[string]map[string]string{}
	for _, want := range sections {
		for _, sec := range infoSections {
			if sec.name != want {
				continue
			}
			var b strings.Builder
			sec.render(c, &b)
			fields := map[string]string{}
			for _, line := range strings.Split(b.String(), "\r\n") {
				if k, v, ok := strings.Cut(line, ":"); ok {
					fields[k] = v
				}
			}
			out[want] = fields
		}
	}
	return out
}

// CommandStat is one command's statistics (INFO commandstats and its
// latency histogram).
type CommandStat struct {
	Name                    string // "get", "client|list"
	Calls, Rejected, Failed int64
	Usec                    int64
	// Buckets counts calls by duration: Buckets[i] those under 2^i µs.
	Buckets [latency.Buckets]int64
}

// CommandStats returns the statistics of every command that was called or
// refused, subcommands included.
func CommandStats() []CommandStat {
	var out []CommandStat
	for _, s := range Specs() {
		for _, x := range append([]*Spec{s}, s.Subs()...) {
			calls, rej, fail := x.stats.calls.Load(), x.stats.rejected.Load(), x.stats.failed.Load()
			if calls == 0 && rej == 0 && fail == 0 {
				continue
			}
			b, _ := x.stats.hist.Snapshot()
			out = append(out, CommandStat{Name: x.FullName(), Calls: calls, Rejected: rej, Failed: fail, Usec: x.stats.usec.Load(), Buckets: b})
		}
	}
	return out
}
