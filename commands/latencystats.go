package commands

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/sessiond/sessiond/config"
	"github.com/sessiond/sessiond/latency"
)

// INFO latencystats (Redis 7): per-command latency percentiles, from the
// histogram each command keeps while latency-tracking is yes. The
// histograms have power-of-two microsecond buckets, so a percentile is the
// upper bound of the bucket it falls in (within a factor of two), where
// Redis' HdrHistogram has three significant digits.

// latencyTracking caches latency-tracking for the command path.
type latencyTracking struct{ on atomic.Bool }

func init() {
	addInfoSection("latencystats", false, infoLatencystats)
	onNewDispatcher(func(d *Dispatcher) {
		d.Config.Follow(func() { d.latTrack.on.Store(d.Config.Bool("latency-tracking")) }, "latency-tracking")
	})
}

// percentileOf returns the upper bound, in microseconds, of the bucket
// holding the p-th percentile of counts (total calls in all).
func percentileOf(counts *[latency.Buckets]int64, total int64, p float64) int64 {
	rank := int64(p / 100 * float64(total))
	if float64(rank) < p/100*float64(total) {
		rank++ // the smallest count at or above the percentile
	}
	if rank < 1 {
		rank = 1
	}
	var seen int64
	for i, n := range counts {
		seen += n
		if seen >= rank {
			return latency.UpperUS(i)
		}
	}
	return latency.UpperUS(latency.Buckets - 1)
}

func infoLatencystats(c *Call, b *strings.Builder) {
	ps, err := config.Percentiles(c.d.Config.Get("latency-tracking-info-percentiles"))
	if err != nil || len(ps) == 0 {
		return
	}
	for _, s := range Specs() {
		for _, x := range append([]*Spec{s}, s.Subs()...) {
			counts, _ := x.stats.hist.Snapshot()
			var total int64
			for _, n := range counts {
				total += n
			}
			if total == 0 {
				continue
			}
			fmt.Fprintf(b, "latency_percentiles_usec_%s:", x.FullName())
			for i, p := range ps {
				if i > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(b, "p%s=%.3f", strconv.FormatFloat(p, 'f', -1, 64), float64(percentileOf(&counts, total, p)))
			}
			b.WriteString("\r\n")
		}
	}
}
