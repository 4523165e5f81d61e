package commands

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessiond/sessiond/config"
	"github.com/sessiond/sessiond/latency"
)

// Observability: SLOWLOG, LATENCY, MONITOR, and CLIENT PAUSE (which needs
// the same per-command hook). The per-command cost on the hot path is what
// run already paid for commandstats (one clock read) plus, in account, a
// histogram increment and two atomic loads; slow-log entries, latency
// samples and monitor lines are only built when someone asked for them.

const (
	// flagSkipSlowlog keeps a command out of the slow log (EXEC: the
	// commands it ran are logged instead), as Redis' CMD_SKIP_SLOWLOG.
	flagSkipSlowlog Flag = 1 << 28
	// flagSkipMonitor keeps a command's line from MONITOR (scripts: the
	// commands they call are shown instead), as Redis' CMD_SKIP_MONITOR.
	flagSkipMonitor Flag = 1 << 29
	// flagMayReplicate marks commands that are not writes but that Redis
	// propagates (PUBLISH, scripts): CLIENT PAUSE WRITE holds them too, and
	// read-only scripts may not call them.
	flagMayReplicate Flag = 1 << 30

	// FlagSkipSlowlog is Redis' skip_slowlog (see flagSkipSlowlog).
	FlagSkipSlowlog = flagSkipSlowlog
	// FlagSkipMonitor is Redis' skip_monitor (see flagSkipMonitor).
	FlagSkipMonitor = flagSkipMonitor
	// FlagMayReplicate is Redis' may_replicate (see flagMayReplicate).
	FlagMayReplicate = flagMayReplicate
)

// Slow-log entry limits, as Redis' SLOWLOG_ENTRY_MAX_ARGC and _STRING.
const (
	slowlogMaxArgs  = 32
	slowlogMaxBytes = 128
)

type slowEntry struct {
	id       int64
	time     int64 // unix seconds
	usec     int64
	args     [][]byte
	addr     string
	name     string
	received time.Time
}

type observer struct {
	d *Dispatcher

	slowThreshold *config.Param // slowlog-log-slower-than (µs; <0 off)
	slowMax       *config.Param // slowlog-max-len
	lat           *latency.Monitor

	slowMu   sync.Mutex
	slow     []slowEntry // newest last
	slowNext int64

	monitorsN atomic.Int32
	monMu     sync.Mutex
	monitors  []*Client

	pause pauseState
}

func (o *observer) init(d *Dispatcher) {
	o.d = d
	o.slowThreshold = d.Config.Lookup("slowlog-log-slower-than")
	o.slowMax = d.Config.Lookup("slowlog-max-len")
	o.lat = d.Engine.Latency()
	d.Config.Follow(func() { o.lat.SetThreshold(d.Config.Int("latency-monitor-threshold")) }, "latency-monitor-threshold")
	o.pause.init(d)
	// hz and active-expire-effort drive the engine's active expirer.
	d.Config.Follow(func() { d.Engine.SetExpireTuning(d.Config.Int("hz"), d.Config.Int("active-expire-effort")) },
		"hz", "active-expire-effort")
}

// account records a command that ran for dur: commandstats, its latency
// histogram, the latency monitor, the slow log and MONITOR.
func (d *Dispatcher) account(cl *Client, spec *Spec, args [][]byte, dur time.Duration) {
	us := dur.Microseconds()
	spec.stats.calls.Add(1)
	spec.stats.usec.Add(us)
	if d.latTrack.on.Load() {
		spec.stats.hist.AddCount(us)
	}
	o := &d.obs
	if cl.scriptCaller {
		// Commands a script calls are part of the script's run (Redis
		// logs the EVAL), but monitors see them.
		if o.monitorsN.Load() > 0 && spec.Flags&(flagSkipMonitor|FlagAdmin) == 0 {
			o.feedMonitors(cl, args, true)
		}
		return
	}
	if o.lat.Enabled() {
		ev := "command"
		if spec.Flags&FlagFast != 0 {
			ev = "fast-command"
		}
		o.lat.Observe(ev, dur)
	}
	if th := o.slowThreshold.Int(); th >= 0 && us >= th && spec.Flags&flagSkipSlowlog == 0 {
		o.addSlow(cl, spec, args, us)
	}
	if o.monitorsN.Load() > 0 && spec.Flags&(flagSkipMonitor|FlagAdmin) == 0 {
		o.feedMonitors(cl, args, false)
	}
}

func (o *observer) addSlow(cl *Client, spec *Spec, args [][]byte, us int64) {
	max := o.slowMax.Int()
	e := slowEntry{time: time.Now().Unix(), usec: us, addr: cl.Conn.RemoteAddr()}
	cl.mu.Lock()
	e.name = cl.name
	cl.mu.Unlock()
	red := redactedArgs(spec, args)
	n := len(args)
	if n > slowlogMaxArgs {
		n = slowlogMaxArgs
	}
	e.args = make([][]byte, n)
	for i := 0; i < n; i++ {
		switch {
		case n != len(args) && i == n-1:
			e.args[i] = []byte(fmt.Sprintf("... (%d more arguments)", len(args)-n+1))
		case red[i]:
			e.args[i] = []byte(redacted)
		case len(args[i]) > slowlogMaxBytes:
			e.args[i] = []byte(fmt.Sprintf("%s... (%d more bytes)", args[i][:slowlogMaxBytes], len(args[i])-slowlogMaxBytes))
		default:
			e.args[i] = append([]byte(nil), args[i]...)
		}
	}
	o.slowMu.Lock()
	e.id = o.slowNext
	o.slowNext++
	o.slow = append(o.slow, e)
	if over := len(o.slow) - int(max); over > 0 {
		o.slow = append(o.slow[:0], o.slow[over:]...)
	}
	o.slowMu.Unlock()
}

const redacted = "(redacted)"

// redactedArgs says which arguments never leave the server (SLOWLOG,
// MONITOR): passwords of AUTH and HELLO, secret CONFIG SET values, ACL
// SETUSER rules, MIGRATE's credentials, as Redis redacts them. It returns
// nil when none is.
func redactedArgs(spec *Spec, args [][]byte) []bool {
	var red []bool
	mark := func(i int) {
		if i < len(args) {
			if red == nil {
				red = make([]bool, len(args))
			}
			red[i] = true
		}
	}
	switch spec.FullName() {
	case "auth":
		for i := 1; i < len(args); i++ {
			mark(i)
		}
	case "hello":
		for i := 2; i < len(args); i++ {
			if strings.EqualFold(string(args[i]), "auth") {
				mark(i + 1)
				mark(i + 2)
				i += 2
			}
		}
	case "acl|setuser":
		for i := 2; i < len(args); i++ {
			mark(i)
		}
	case "config|set":
		for i := 2; i+1 < len(args); i += 2 {
			switch strings.ToLower(string(args[i])) {
			case "requirepass", "masterauth", "jwt-secret", "tls-key-file-pass", "tls-client-key-file-pass":
				mark(i + 1)
			}
		}
	case "migrate":
		for i := 6; i < len(args); i++ {
			switch strings.ToUpper(string(args[i])) {
			case "AUTH":
				mark(i + 1)
				i++
			case "AUTH2":
				mark(i + 1)
				mark(i + 2)
				i += 2
			}
		}
	}
	if red == nil {
		return make([]bool, len(args))
	}
	return red
}

// feedMonitors sends the command to every MONITOR client, in Redis' line
// format: +1339518083.107412 [0 127.0.0.1:60866] "keys" "*".
func (o *observer) feedMonitors(cl *Client, args [][]byte, fromScript bool) {
	o.monMu.Lock()
	mons := o.monitors
	o.monMu.Unlock()
	if len(mons) == 0 {
		return
	}
	now := time.Now()
	b := make([]byte, 0, 64)
	b = append(b, '+')
	b = strconv.AppendInt(b, now.Unix(), 10)
	b = append(b, '.')
	b = append(b, fmt.Sprintf("%06d", now.Nanosecond()/1000)...)
	b = append(b, " ["...)
	b = strconv.AppendInt(b, int64(cl.DB()), 10)
	b = append(b, ' ')
	if fromScript {
		b = append(b, "lua"...)
	} else {
		b = append(b, cl.Conn.RemoteAddr()...)
	}
	b = append(b, "] "...)
	spec := lookupCommand(args)
	var red []bool
	if spec != nil {
		red = redactedArgs(spec, args)
	}
	for i, a := range args {
		if i > 0 {
			b = append(b, ' ')
		}
		if red != nil && red[i] {
			a = []byte(redacted)
		}
		b = appendRepr(b, a)
	}
	b = append(b, '\r', '\n')
	for _, m := range mons {
		m.Conn.Push(b)
	}
}

// appendRepr quotes s as Redis' sdscatrepr does.
func appendRepr(b, s []byte) []byte {
	b = append(b, '"')
	for _, c := range s {
		switch c {
		case '\\', '"':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\a':
			b = append(b, '\\', 'a')
		case '\b':
			b = append(b, '\\', 'b')
		default:
			if c >= 0x20 && c < 0x7f {
				b = append(b, c)
			} else {
				b = append(b, fmt.Sprintf("\\x%02x", c)...)
			}
		}
	}
	return append(b, '"')
}

func (o *observer) unmonitor(cl *Client) {
	if !cl.monitor {
		return
	}
	o.monMu.Lock()
	out := make([]*Client, 0, len(o.monitors))
	for _, m := range o.monitors {
		if m != cl {
			out = append(out, m)
		}
	}
	o.monitors = out
	o.monitorsN.Store(int32(len(out)))
	o.monMu.Unlock()
	cl.monitor = false
}

func cmdMonitor(c *Call) {
	cl := c.Client
	if cl.monitor {
		c.W.OK()
		return
	}
	o := &c.d.obs
	o.monMu.Lock()
	// Copy on write: feedMonitors reads the slice without the lock held.
	o.monitors = append(append([]*Client(nil), o.monitors...), cl)
	o.monitorsN.Store(int32(len(o.monitors)))
	o.monMu.Unlock()
	cl.monitor = true
	c.W.OK()
}

func init() {
	register(
		&Spec{Name: "slowlog", Arity: -2, Group: "server", Since: "2.2.12", Summary: "A container for slow log commands.",
			Subcommands: []*Spec{
				{Name: "get", Arity: -2, Flags: FlagAdmin | FlagLoading | FlagStale, Syntax: "[count]", Summary: "Returns the slow log's entries (default 10, -1 for all): id, timestamp, duration in microseconds, arguments, client address, client name.", Example: "> SLOWLOG GET 1\n1) 1) (integer) 12\n   2) (integer) 1763900000\n   3) (integer) 15320\n   4) 1) \"KEYS\"\n      2) \"*\"\n   5) \"127.0.0.1:50312\"\n   6) \"\"", Run: cmdSlowlogGet},
				{Name: "len", Arity: 2, Flags: FlagAdmin | FlagLoading | FlagStale, Summary: "Returns the number of entries in the slow log.", Example: "> SLOWLOG LEN\n(integer) 3", Run: cmdSlowlogLen},
				{Name: "reset", Arity: 2, Flags: FlagAdmin | FlagLoading | FlagStale, Summary: "Clears all entries from the slow log.", Example: "> SLOWLOG RESET\nOK", Run: cmdSlowlogReset},
				{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Summary: "Show helpful text about the different subcommands.", Run: helpFor("SLOWLOG")},
			}},
		&Spec{Name: "latency", Arity: -2, Group: "server", Since: "2.8.13", Summary: "A container for latency diagnostics commands.",
			Subcommands: []*Spec{
				{Name: "latest", Arity: 2, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Summary: "Returns the latest latency samples of every event: name, time, latest and maximum milliseconds.", Example: "> LATENCY LATEST\n1) 1) \"command\"\n   2) (integer) 1763900000\n   3) (integer) 250\n   4) (integer) 1000", Run: cmdLatencyLatest},
				{Name: "history", Arity: 3, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Syntax: "event", Summary: "Returns an event's latency samples (time, milliseconds), up to 160.", Example: "> LATENCY HISTORY aof-fsync\n1) 1) (integer) 1763900000\n   2) (integer) 12", Run: cmdLatencyHistory},
				{Name: "reset", Arity: -2, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Syntax: "[event [event ...]]", Summary: "Resets the latency data of events (all when none is named); returns how many.", Example: "> LATENCY RESET\n(integer) 2", Run: cmdLatencyReset},
				{Name: "doctor", Arity: 2, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Summary: "Returns a human-readable latency analysis report.", Example: "> LATENCY DOCTOR\n\"Dave, I have observed latency spikes ...\"", Run: cmdLatencyDoctor},
				{Name: "graph", Arity: 3, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Syntax: "event", Summary: "Returns a latency graph for an event.", Example: "> LATENCY GRAPH command\n...", Run: cmdLatencyGraph},
				{Name: "histogram", Arity: -2, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Syntax: "[command [command ...]]", Summary: "Returns the cumulative distribution of commands' latencies in microseconds (power-of-two buckets).", Example: "> LATENCY HISTOGRAM set\n1) \"set\"\n2) 1) \"calls\"\n   2) (integer) 2\n   3) \"histogram_usec\"\n   4) 1) (integer) 4\n      2) (integer) 2", Run: cmdLatencyHistogram},
				{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Summary: "Returns helpful text about the different subcommands.", Run: helpFor("LATENCY")},
			}},
		&Spec{Name: "monitor", Arity: 1, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Group: "server", Since: "1.0.0",
			Summary: "Streams every command the server runs, as Redis' MONITOR (passwords redacted).", Example: "> MONITOR\nOK\n+1763900000.123456 [0 127.0.0.1:50312] \"get\" \"k\"", Run: cmdMonitor},
	)
}

func cmdSlowlogGet(c *Call) {
	count := int64(10)
	if len(c.Args) > 3 {
		c.W.Error(errWrongArgs("slowlog|get"))
		return
	}
	if len(c.Args) == 3 {
		n, err := strconv.ParseInt(string(c.Args[2]), 10, 64)
		if err != nil {
			c.W.Error(msgNotInt)
			return
		}
		if n < -1 {
			c.W.Error("ERR count should be greater than or equal to -1")
			return
		}
		count = n
	}
	o := &c.d.obs
	o.slowMu.Lock()
	n := int64(len(o.slow))
	if count == -1 || count > n {
		count = n
	}
	out := make([]slowEntry, 0, count)
	for i := len(o.slow) - 1; i >= 0 && int64(len(out)) < count; i-- {
		out = append(out, o.slow[i])
	}
	o.slowMu.Unlock()
	c.W.Array(len(out))
	for _, e := range out {
		c.W.Array(6)
		c.W.Int(e.id)
		c.W.Int(e.time)
		c.W.Int(e.usec)
		c.W.Array(len(e.args))
		for _, a := range e.args {
			c.W.Bulk(a)
		}
		c.W.BulkString(e.addr)
		c.W.BulkString(e.name)
	}
}

func cmdSlowlogLen(c *Call) {
	o := &c.d.obs
	o.slowMu.Lock()
	n := len(o.slow)
	o.slowMu.Unlock()
	c.W.Int(int64(n))
}

func cmdSlowlogReset(c *Call) {
	o := &c.d.obs
	o.slowMu.Lock()
	o.slow = nil
	o.slowMu.Unlock()
	c.W.OK()
}

func cmdLatencyLatest(c *Call) {
	lat := c.d.obs.lat
	names := lat.Names()
	evs := lat.Events()
	c.W.Array(len(names))
	for _, n := range names {
		s := evs[n]
		last := s.Latest()
		c.W.Array(4)
		c.W.BulkString(n)
		c.W.Int(last.Time)
		c.W.Int(last.MS)
		c.W.Int(s.Max)
	}
}

func cmdLatencyHistory(c *Call) {
	s, ok := c.d.obs.lat.Series(string(c.Args[2]))
	if !ok {
		c.W.Array(0)
		return
	}
	c.W.Array(len(s.Samples))
	for _, x := range s.Samples {
		c.W.Array(2)
		c.W.Int(x.Time)
		c.W.Int(x.MS)
	}
}

func cmdLatencyReset(c *Call) {
	names := make([]string, 0, len(c.Args)-2)
	for _, a := range c.Args[2:] {
		names = append(names, string(a))
	}
	c.W.Int(int64(c.d.obs.lat.Reset(names...)))
}

func cmdLatencyDoctor(c *Call) {
	lat := c.d.obs.lat
	evs := lat.Events()
	names := lat.Names()
	var b strings.Builder
	if len(names) == 0 {
		if lat.Threshold() == 0 {
			b.WriteString("I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this sessiond instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it.\n")
		} else {
			b.WriteString("Dave, no latency spike was observed during the lifetime of this sessiond instance, not in the slightest bit. I honestly think you ought to sleep tonight.\n")
		}
		c.W.Verbatim(b.String())
		return
	}
	b.WriteString("Dave, I have observed latency spikes in this sessiond instance. You don't mind talking about it, do you Dave?\n\n")
	advice := map[string]bool{}
	for i, n := range names {
		s := evs[n]
		var sum int64
		for _, x := range s.Samples {
			sum += x.MS
		}
		avg := sum / int64(len(s.Samples))
		period := int64(0)
		if len(s.Samples) > 1 {
			period = (s.Latest().Time - s.Samples[0].Time) / int64(len(s.Samples)-1)
		}
		fmt.Fprintf(&b, "%d. %s: %d latency spikes (average %dms, mean deviation %dms, period %d sec). Worst all time event %dms.\n",
			i+1, n, len(s.Samples), avg, meanDeviation(s.Samples, avg), period, s.Max)
		switch {
		case n == "command":
			advice["command"] = true
		case n == "fast-command":
			advice["fast"] = true
		case strings.HasPrefix(n, "aof-"):
			advice["disk"] = true
		case n == "snapshot":
			advice["snapshot"] = true
		case n == "expire-cycle":
			advice["expire"] = true
		}
	}
	b.WriteString("\nI have a few advices for you:\n\n")
	if advice["command"] {
		b.WriteString("- Check your slow log (SLOWLOG GET) for commands that take long: KEYS, SORT, big SUNION/ZUNIONSTORE, long scripts. Prefer SCAN and smaller batches.\n")
	}
	if advice["fast"] {
		b.WriteString("- Even O(1) commands were slow: the machine may be overloaded or swapping, or another process holds the CPU.\n")
	}
	if advice["disk"] {
		b.WriteString("- The data file's writes or fsyncs are slow: consider appendfsync everysec (or no), and a faster disk, or one not shared with other busy processes.\n")
	}
	if advice["snapshot"] {
		b.WriteString("- Snapshots (SAVE, BGSAVE) hold writers while the data set is copied: schedule them when the load is low.\n")
	}
	if advice["expire"] {
		b.WriteString("- Many keys, or big ones, expire at the same time: spread their deadlines out (add some randomness to the TTLs).\n")
	}
	c.W.Verbatim(b.String())
}

func meanDeviation(s []latency.Sample, avg int64) int64 {
	var dev int64
	for _, x := range s {
		d := x.MS - avg
		if d < 0 {
			d = -d
		}
		dev += d
	}
	return dev / int64(len(s))
}

// cmdLatencyGraph draws an event's samples as columns of '#', the tallest
// the worst, with the age of each sample under it (as Redis' sparkline).
func cmdLatencyGraph(c *Call) {
	name := string(c.Args[2])
	s, ok := c.d.obs.lat.Series(name)
	if !ok {
		c.W.Error(fmt.Sprintf("ERR No samples available for event '%s'", name))
		return
	}
	const rows = 4
	var lo, hi int64 = s.Samples[0].MS, s.Samples[0].MS
	for _, x := range s.Samples {
		lo, hi = min(lo, x.MS), max(hi, x.MS)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s - high %d ms, low %d ms (all time high %d ms)\n", name, hi, lo, s.Max)
	b.WriteString(strings.Repeat("-", 80) + "\n")
	for r := rows; r >= 1; r-- {
		for _, x := range s.Samples {
			h := int64(1)
			if hi > lo {
				h = 1 + (x.MS-lo)*(rows-1)/(hi-lo)
			}
			switch {
			case h > int64(r):
				b.WriteByte('|')
			case h == int64(r):
				b.WriteByte('_')
			default:
				b.WriteByte(' ')
			}
		}
		b.WriteByte('\n')
	}
	now := time.Now().Unix()
	ages := make([]string, len(s.Samples))
	width := 0
	for i, x := range s.Samples {
		ages[i] = ageLabel(now - x.Time)
		width = max(width, len(ages[i]))
	}
	for row := 0; row < width; row++ {
		for _, a := range ages {
			if row < len(a) {
				b.WriteByte(a[row])
			} else {
				b.WriteByte(' ')
			}
		}
		b.WriteByte('\n')
	}
	c.W.Verbatim(b.String())
}

func ageLabel(secs int64) string {
	switch {
	case secs < 60:
		return strconv.FormatInt(secs, 10) + "s"
	case secs < 3600:
		return strconv.FormatInt(secs/60, 10) + "m"
	case secs < 86400:
		return strconv.FormatInt(secs/3600, 10) + "h"
	}
	return strconv.FormatInt(secs/86400, 10) + "d"
}

// cmdLatencyHistogram is LATENCY HISTOGRAM [command ...]: for each command
// (a container names all its subcommands) that ran, its calls and the
// cumulative count of calls under each power-of-two microsecond bound.
func cmdLatencyHistogram(c *Call) {
	var specs []*Spec
	if len(c.Args) == 2 {
		for _, s := range Specs() {
			specs = append(specs, s)
			specs = append(specs, s.Subs()...)
		}
	} else {
		seen := map[*Spec]bool{}
		for _, a := range c.Args[2:] {
			s := resolveName(strings.ToLower(string(a)))
			if s == nil {
				continue
			}
			for _, x := range append([]*Spec{s}, s.Subs()...) {
				if !seen[x] {
					seen[x] = true
					specs = append(specs, x)
				}
			}
		}
	}
	var ran []*Spec
	for _, s := range specs {
		if s.stats.calls.Load() > 0 {
			ran = append(ran, s)
		}
	}
	sort.SliceStable(ran, func(i, j int) bool { return ran[i].FullName() < ran[j].FullName() })
	c.W.Map(len(ran))
	for _, s := range ran {
		counts, _ := s.stats.hist.Snapshot()
		c.W.BulkString(s.FullName())
		c.W.Map(2)
		c.W.BulkString("calls")
		c.W.Int(s.stats.calls.Load())
		c.W.BulkString("histogram_usec")
		n := 0
		for _, k := range counts {
			if k > 0 {
				n++
			}
		}
		c.W.Map(n)
		var cum int64
		for i, k := range counts {
			if k == 0 {
				continue
			}
			cum += k
			c.W.Int(latency.UpperUS(i))
			c.W.Int(cum)
		}
	}
}
