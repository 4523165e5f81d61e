package commands

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sessiond/sessiond/config"
	"github.com/sessiond/sessiond/engine"
	"github.com/sessiond/sessiond/glob"
	"github.com/sessiond/sessiond/internal/buildinfo"
	"github.com/sessiond/sessiond/persistence"
)

func init() {
	register(
		&Spec{Name: "info", ACL: "@dangerous", Arity: -1, Flags: FlagLoading | FlagStale, Group: "server", Since: "1.0.0",
			Syntax: "[section [section ...]]", Summary: "Returns information and statistics about the server.", Example: "> INFO persistence\n# Persistence\nloading:0\n...", Run: cmdInfo},
		&Spec{Name: "dbsize", Arity: 1, Flags: FlagReadonly | FlagFast, Group: "server", Since: "1.0.0",
			Summary: "Returns the number of keys in the database.", Example: "> DBSIZE\n(integer) 42", Run: cmdDBSize},
		&Spec{Name: "flushdb", ACL: "@keyspace @dangerous", Arity: -1, Flags: FlagWrite | FlagLong, Group: "server", Since: "1.0.0",
			Syntax: "[ASYNC|SYNC]", Summary: "Removes all keys from the current database (native sessions and tokens stay).", Example: "> FLUSHDB\nOK", Run: cmdFlushDB},
		&Spec{Name: "flushall", ACL: "@keyspace @dangerous", Arity: -1, Flags: FlagWrite | FlagLong, Group: "server", Since: "1.0.0",
			Syntax: "[ASYNC|SYNC]", Summary: "Removes all keys from all databases, and every session and token.", Example: "> FLUSHALL\nOK", Run: cmdFlushAll},
		&Spec{Name: "swapdb", ACL: "@keyspace @dangerous", Arity: 3, Flags: FlagWrite | FlagFast, Group: "server", Since: "4.0.0",
			Syntax: "index1 index2", Summary: "Swaps two databases.", Example: "> SWAPDB 0 1\nOK", Run: cmdSwapDB},
		&Spec{Name: "time", Arity: 1, Flags: FlagLoading | FlagStale | FlagFast, Group: "server", Since: "2.6.0",
			Summary: "Returns the server time.", Example: "> TIME\n1) \"1763900000\"\n2) \"123456\"", Run: cmdTime},
		&Spec{Name: "lastsave", ACL: "@admin @dangerous", Arity: 1, Flags: FlagLoading | FlagStale | FlagFast, Group: "server", Since: "1.0.0",
			Summary: "Returns the Unix timestamp of the last successful save to disk.", Example: "> LASTSAVE\n(integer) 1763900000", Run: func(c *Call) { c.W.Int(c.d.Engine.Store().LastSave()) }},
		&Spec{Name: "save", Arity: 1, Flags: FlagAdmin | FlagNoScript | FlagNoMulti | FlagLong, Group: "server", Since: "1.0.0",
			Summary: "Writes a consistent snapshot of the data set to dbfilename in dir.", Example: "> SAVE\nOK", Run: cmdSave},
		&Spec{Name: "bgsave", Arity: -1, Flags: FlagAdmin | FlagNoScript, Group: "server", Since: "1.0.0",
			Syntax: "[SCHEDULE]", Summary: "Writes the snapshot in the background.", Example: "> BGSAVE\nBackground saving started", Run: cmdBgsave},
		&Spec{Name: "bgrewriteaof", Arity: 1, Flags: FlagAdmin | FlagNoScript, Group: "server", Since: "1.0.0",
			Summary: "Compacts the data file in the background.", Example: "> BGREWRITEAOF\nBackground append only file rewriting started", Run: cmdBgrewriteaof},
		&Spec{Name: "shutdown", Arity: -1, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale | FlagNoMulti | FlagAllowBusy | FlagLong, Group: "server", Since: "1.0.0",
			Syntax: "[NOSAVE|SAVE] [NOW] [FORCE]", Summary: "Flushes the data file and stops the server.", Example: "> SHUTDOWN\n(the connection closes)", Run: cmdShutdown},
		&Spec{Name: "config", Arity: -2, Group: "server", Since: "2.0.0", Summary: "A container for server configuration commands.",
			Subcommands: []*Spec{
				{Name: "get", Arity: -3, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Syntax: "parameter [parameter ...]", Summary: "Returns the effective values of configuration parameters.", Example: "> CONFIG GET session-idle-timeout\n1) \"session-idle-timeout\"\n2) \"3600\"", Run: cmdConfigGet},
				{Name: "set", Arity: -4, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Syntax: "parameter value [parameter value ...]", Summary: "Sets configuration parameters at run time.", Example: "> CONFIG SET notify-keyspace-events Ex\nOK", Run: cmdConfigSet},
				{Name: "resetstat", Arity: 2, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Summary: "Resets the server's statistics.", Example: "> CONFIG RESETSTAT\nOK", Run: cmdConfigResetstat},
				{Name: "rewrite", Arity: 2, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Summary: "Persists the effective configuration to the config file.", Example: "> CONFIG REWRITE\nOK", Run: cmdConfigRewrite},
				{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Summary: "Returns helpful text about the different subcommands.", Run: helpFor("CONFIG")},
			}},
		&Spec{Name: "command", Arity: -1, Flags: FlagLoading | FlagStale, Group: "server", ACL: "@connection", Since: "2.8.13", Summary: "Returns detailed information about all commands.",
			Example: "> COMMAND COUNT\n(integer) 180", Run: cmdCommand,
			Subcommands: []*Spec{
				{Name: "count", Arity: 2, Flags: FlagLoading | FlagStale, Summary: "Returns a count of commands.", Example: "> COMMAND COUNT\n(integer) 180", Run: cmdCommandCount},
				{Name: "info", Arity: -2, Flags: FlagLoading | FlagStale, Syntax: "[command-name [command-name ...]]", Summary: "Returns information about one, multiple or all commands.", Example: "> COMMAND INFO get\n1) 1) \"get\"\n   2) (integer) 2 ...", Run: cmdCommandInfo},
				{Name: "docs", Arity: -2, Flags: FlagLoading | FlagStale, Syntax: "[command-name [command-name ...]]", Summary: "Returns documentary information about one, multiple or all commands.", Example: "> COMMAND DOCS sess.new\n1) \"sess.new\"\n2) 1) \"summary\" ...", Run: cmdCommandDocs},
				{Name: "list", Arity: -2, Flags: FlagLoading | FlagStale, Syntax: "[FILTERBY MODULE module-name|ACLCAT category|PATTERN pattern]", Summary: "Returns a list of command names.", Example: "> COMMAND LIST FILTERBY PATTERN sess.*\n1) \"sess.new\" ...", Run: cmdCommandList},
				{Name: "getkeys", Arity: -3, Flags: FlagLoading | FlagStale, Syntax: "command [arg [arg ...]]", Summary: "Extracts the key names from an arbitrary command.", Example: "> COMMAND GETKEYS SET k v\n1) \"k\"", Run: cmdCommandGetkeys},
				{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Summary: "Returns helpful text about the different subcommands.", Run: helpFor("COMMAND")},
			}},
	)
}

// infoSection is one section of INFO. Families add theirs with addInfoSection.
type infoSection struct {
	name   string
	dflt   bool // part of plain INFO
	render func(c *Call, b *strings.Builder)
}

var infoSections = []infoSection{
	{"server", true, infoServer},
	{"clients", true, infoClients},
	{"memory", true, infoMemory},
	{"persistence", true, infoPersistence},
	{"stats", true, infoStats},
	{"replication", true, infoReplication},
	{"cpu", true, infoCPU},
	{"modules", true, func(*Call, *strings.Builder) {}},
	{"errorstats", true, infoErrorstats},
	{"commandstats", false, infoCommandstats},
	{"cluster", true, func(_ *Call, b *strings.Builder) { b.WriteString("cluster_enabled:0\r\n") }},
	{"keyspace", true, infoKeyspace},
}

// addInfoSection adds a section (before keyspace, which Redis prints last).
func addInfoSection(name string, dflt bool, render func(c *Call, b *strings.Builder)) {
	n := len(infoSections)
	infoSections = append(infoSections[:n-1], infoSection{name, dflt, render}, infoSections[n-1])
}

func cmdInfo(c *Call) {
	want := map[string]bool{}
	all, everything := false, false
	for _, a := range c.Args[1:] {
		s := strings.ToLower(string(a))
		switch s {
		case "all":
			all = true
		case "everything":
			everything = true
		case "default":
			for _, sec := range infoSections {
				if sec.dflt {
					want[sec.name] = true
				}
			}
		default:
			want[s] = true
		}
	}
	var b strings.Builder
	for _, sec := range infoSections {
		include := want[sec.name] || everything || (all && sec.name != "commandstats") || (len(c.Args) == 1 && sec.dflt)
		if all && sec.name == "commandstats" {
			include = true
		}
		if !include {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString("# " + strings.ToUpper(sec.name[:1]) + sec.name[1:] + "\r\n")
		sec.render(c, &b)
	}
	c.W.Verbatim(b.String())
}

func infoServer(c *Call, b *strings.Builder) {
	d := c.d
	up := time.Since(d.started)
	exe, _ := os.Executable()
	bi := buildinfo.Get()
	fmt.Fprintf(b, "redis_version:%s\r\nsessiond_version:%s\r\nredis_git_sha1:%s\r\nredis_git_dirty:%d\r\nredis_build_id:0\r\nredis_mode:standalone\r\nos:%s %s\r\narch_bits:64\r\nmultiplexing_api:epoll\r\ngo_version:%s\r\nprocess_id:%d\r\nrun_id:%s\r\ntcp_port:%d\r\nserver_time_usec:%d\r\nuptime_in_seconds:%d\r\nuptime_in_days:%d\r\nhz:%d\r\nconfigured_hz:%d\r\nexecutable:%s\r\nconfig_file:%s\r\n",
		RedisVersion, Version, bi.ShortSHA(), b2i(bi.Dirty), runtime.GOOS, runtime.GOARCH, runtime.Version(), os.Getpid(), runID, d.Config.Int("port"),
		time.Now().UnixMicro(), int(up.Seconds()), int(up.Hours()/24), d.Config.Int("hz"), d.Config.Int("hz"), exe, ConfigFile)
}

// Version is sessiond's own version (stamped at build, see
// internal/buildinfo).
var Version = buildinfo.Get().Version

// ConfigFile is the path of the config file the process was started with ("" if none).
var ConfigFile string

var runID = func() string {
	var b [20]byte
	f, err := os.Open("/dev/urandom")
	if err == nil {
		_, _ = f.Read(b[:])
		f.Close()
	}
	return fmt.Sprintf("%x", b)
}()

func infoClients(c *Call, b *strings.Builder) {
	d := c.d
	cs := d.Clients()
	tracking, _, _, _ := d.trackingStats()
	pub := 0
	for _, cl := range cs {
		if cl.subs.count() > 0 {
			pub++
		}
	}
	fmt.Fprintf(b, "connected_clients:%d\r\ncluster_connections:0\r\nmaxclients:%d\r\nclient_recent_max_input_buffer:0\r\nclient_recent_max_output_buffer:0\r\nblocked_clients:%d\r\ntracking_clients:%d\r\npubsub_clients:%d\r\nclients_in_timeout_table:%d\r\n",
		len(cs), d.Config.Int("maxclients"), d.watch.blockedCount()+int(d.obs.pause.held.Load()), tracking, pub, d.watch.blockedCount())
}

func infoMemory(c *Call, b *strings.Builder) {
	d := c.d
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss := readRSS()
	// used_memory is the engine's estimate of the data set plus the server's
	// own base (engine/memory.go, README "Memory"), the figure maxmemory is
	// enforced against; the Go heap is shown beside it (go_heap_alloc).
	used := d.Engine.UsedMemory()
	peak := d.Engine.MemoryPeak()
	fmt.Fprintf(b, "used_memory:%d\r\nused_memory_human:%s\r\nused_memory_rss:%d\r\nused_memory_rss_human:%s\r\nused_memory_peak:%d\r\nused_memory_peak_human:%s\r\nused_memory_startup:%d\r\nused_memory_dataset:%d\r\nused_memory_lua:0\r\nmaxmemory:%d\r\nmaxmemory_human:%s\r\nmaxmemory_policy:%s\r\nmem_not_counted_for_evict:0\r\nmem_allocator:go\r\nmem_fragmentation_ratio:%.2f\r\nlazyfree_pending_objects:0\r\nlazyfreed_objects:0\r\ngo_heap_alloc:%d\r\ngo_heap_sys:%d\r\ngo_heap_objects:%d\r\ngo_gc_cycles:%d\r\n",
		used, human(used), rss, human(rss), peak, human(peak), int64(engine.BaseMemory), d.Engine.DatasetMemory(),
		d.Config.Int("maxmemory"), human(d.Config.Int("maxmemory")), d.Config.Get("maxmemory-policy"),
		float64(rss)/float64(max(used, 1)), ms.HeapAlloc, ms.HeapSys, ms.HeapObjects, ms.NumGC)
	d.scripts.cacheMu.RLock()
	fmt.Fprintf(b, "number_of_cached_scripts:%d\r\n", len(d.scripts.cache))
	d.scripts.cacheMu.RUnlock()
	fmt.Fprintf(b, "mem_clients_slaves:0\r\nmem_clients_normal:%d\r\n", d.ClientsMemory())
}

func readRSS() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, res int64
	fmt.Sscanf(string(data), "%d %d", &size, &res)
	return res * int64(os.Getpagesize())
}

func human(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2fG", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2fM", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.2fK", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%dB", n)
}

func infoPersistence(c *Call, b *strings.Builder) {
	d := c.d
	st := d.Engine.Store()
	aof := 1
	if st.InMemory() {
		aof = 0
	}
	status := "ok"
	if !st.LastSaveOK() {
		status = "err"
	}
	writeStatus := "ok"
	if st.WriteError() != nil {
		writeStatus = "err"
	}
	rewriteStatus := "ok"
	if st.LastRewriteError() != nil {
		rewriteStatus = "err"
	}
	fmt.Fprintf(b, "loading:0\r\nasync_loading:0\r\ncurrent_cow_peak:0\r\nrdb_changes_since_last_save:%d\r\nrdb_bgsave_in_progress:%d\r\nrdb_last_save_time:%d\r\nrdb_last_bgsave_status:%s\r\naof_enabled:%d\r\naof_rewrite_in_progress:%d\r\naof_rewrite_scheduled:0\r\naof_last_bgrewrite_status:%s\r\naof_last_write_status:%s\r\naof_fsync:%s\r\ndata_file:%s\r\n",
		st.Changes(), b2i(st.Saving()), st.LastSave(), status, aof, b2i(st.Rewriting()), rewriteStatus, writeStatus, st.FsyncPolicy(), st.Path())
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func infoStats(c *Call, b *strings.Builder) {
	d := c.d
	es := d.Engine.Stats()
	_, keys, items, prefixes := d.trackingStats()
	ops, inKbps, outKbps := d.instantaneous()
	// Fields in Redis 7.0's order. Those of features sessiond does not
	// have (replication, forks, defragmentation, client tracking, I/O
	// threads, reply buffer resizing) are 0, which is what Redis reports
	// when they are not in use.
	fmt.Fprintf(b, "total_connections_received:%d\r\ntotal_commands_processed:%d\r\ninstantaneous_ops_per_sec:%d\r\ntotal_net_input_bytes:%d\r\ntotal_net_output_bytes:%d\r\ntotal_net_repl_input_bytes:0\r\ntotal_net_repl_output_bytes:0\r\ninstantaneous_input_kbps:%.2f\r\ninstantaneous_output_kbps:%.2f\r\ninstantaneous_input_repl_kbps:0.00\r\ninstantaneous_output_repl_kbps:0.00\r\nrejected_connections:%d\r\nsync_full:0\r\nsync_partial_ok:0\r\nsync_partial_err:0\r\n",
		d.stats.connections.Load(), d.stats.commands.Load(), ops, d.stats.netInput.Load(), d.stats.netOutput.Load(), inKbps, outKbps, d.stats.rejectedConns.Load())
	fmt.Fprintf(b, "expired_keys:%d\r\nexpired_stale_perc:0.00\r\nexpired_time_cap_reached_count:0\r\nexpire_cycle_cpu_milliseconds:%d\r\nevicted_keys:%d\r\nevicted_clients:%d\r\ntotal_eviction_exceeded_time:0\r\ncurrent_eviction_exceeded_time:0\r\nkeyspace_hits:%d\r\nkeyspace_misses:%d\r\npubsub_channels:%d\r\npubsub_patterns:%d\r\npubsubshard_channels:%d\r\nlatest_fork_usec:0\r\ntotal_forks:0\r\nmigrate_cached_sockets:0\r\nslave_expires_tracked_keys:0\r\nactive_defrag_hits:0\r\nactive_defrag_misses:0\r\nactive_defrag_key_hits:0\r\nactive_defrag_key_misses:0\r\ntotal_active_defrag_time:0\r\ncurrent_active_defrag_time:0\r\ntracking_total_keys:%d\r\ntracking_total_items:%d\r\ntracking_total_prefixes:%d\r\nunexpected_error_replies:0\r\ntotal_error_replies:%d\r\ndump_payload_sanitizations:0\r\ntotal_reads_processed:%d\r\ntotal_writes_processed:%d\r\nio_threaded_reads_processed:0\r\nio_threaded_writes_processed:0\r\nreply_buffer_shrinks:0\r\nreply_buffer_expands:0\r\ntotal_writes_committed:%d\r\n",
		es.ExpiredKeys.Load(), es.ExpireTimeUsec.Load()/1000, es.EvictedKeys.Load(), d.cmem.evicted.Load(), es.KeyspaceHits.Load(), es.KeyspaceMisses.Load(),
		d.hub.channelCount(), d.hub.patternCount(), d.hub.shardCount(), keys, items, prefixes, d.stats.errorReplies.Load(), d.stats.reads.Load(), d.stats.writes.Load(), es.WriteCommits.Load())
	fmt.Fprintf(b, "acl_access_denied_auth:%d\r\nacl_access_denied_cmd:%d\r\nacl_access_denied_key:%d\r\nacl_access_denied_channel:%d\r\n",
		d.acl.deniedAuth.Load(), d.acl.deniedCmd.Load(), d.acl.deniedKey.Load(), d.acl.deniedChannel.Load())
}

func infoReplication(c *Call, b *strings.Builder) {
	if c.d.repl != nil {
		infoReplicated(c, c.d.repl.r, b)
		return
	}
	b.WriteString("role:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\nmaster_replid:" + runID[:40] + "\r\nmaster_repl_offset:0\r\n")
}

func infoCPU(c *Call, b *strings.Builder) {
	sys, user, csys, cuser := cpuTimes()
	// sessiond has no main thread (its event loops and commands run on the
	// Go scheduler's threads): the _main_thread fields repeat the process's.
	fmt.Fprintf(b, "used_cpu_sys:%.6f\r\nused_cpu_user:%.6f\r\nused_cpu_sys_children:%.6f\r\nused_cpu_user_children:%.6f\r\nused_cpu_sys_main_thread:%.6f\r\nused_cpu_user_main_thread:%.6f\r\ngoroutines:%d\r\n",
		sys, user, csys, cuser, sys, user, runtime.NumGoroutine())
}

// errorCounts counts error replies by their code (the first word, as
// Redis' afterErrorReply takes it), for INFO errorstats. Like Redis it stops
// tracking new codes after 128 of them.
type errorCounts struct {
	mu sync.Mutex
	m  map[string]int64
}

const maxErrorCodes = 128

// add counts one error reply; reply starts with '-'.
func (e *errorCounts) add(reply []byte) {
	code := "ERR"
	if i := bytes.IndexByte(reply[:min(len(reply), 32)], ' '); i > 1 {
		code = string(reply[1:i])
	}
	e.mu.Lock()
	if e.m == nil {
		e.m = map[string]int64{}
	}
	if _, ok := e.m[code]; ok || len(e.m) < maxErrorCodes {
		e.m[code]++
	}
	e.mu.Unlock()
}

func (e *errorCounts) reset() {
	e.mu.Lock()
	e.m = nil
	e.mu.Unlock()
}

func infoErrorstats(c *Call, b *strings.Builder) {
	d := c.d
	e := &d.stats.errorCodes
	e.mu.Lock()
	codes := make([]string, 0, len(e.m))
	for c := range e.m {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, c := range codes {
		fmt.Fprintf(b, "errorstat_%s:count=%d\r\n", c, e.m[c])
	}
	e.mu.Unlock()
}

func infoCommandstats(c *Call, b *strings.Builder) {
	var all []*Spec
	for _, s := range Specs() {
		all = append(all, s)
		all = append(all, s.Subs()...)
	}
	for _, s := range all {
		calls := s.stats.calls.Load()
		rej, fail := s.stats.rejected.Load(), s.stats.failed.Load()
		if calls == 0 && rej == 0 && fail == 0 {
			continue
		}
		usec := s.stats.usec.Load()
		per := 0.0
		if calls > 0 {
			per = float64(usec) / float64(calls)
		}
		fmt.Fprintf(b, "cmdstat_%s:calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,failed_calls=%d\r\n", s.FullName(), calls, usec, per, rej, fail)
	}
}

func infoKeyspace(c *Call, b *strings.Builder) {
	d := c.d
	_ = c.Read(func(tx *engine.Tx) error {
		for db := 0; db < int(d.Config.Int("databases")); db++ {
			keys, expires := tx.KeyspaceInfo(db)
			if keys > 0 {
				fmt.Fprintf(b, "db%d:keys=%d,expires=%d,avg_ttl=0\r\n", db, keys, expires)
			}
		}
		return nil
	})
}

func cmdDBSize(c *Call) {
	var n int
	_ = c.Read(func(tx *engine.Tx) error { n = tx.DBSize(c.DB()); return nil })
	c.W.Int(int64(n))
}

func flushMode(c *Call) bool {
	if len(c.Args) > 2 {
		c.W.Error(msgSyntax)
		return false
	}
	if len(c.Args) == 2 && !keyword(c.Args[1], "ASYNC") && !keyword(c.Args[1], "SYNC") {
		c.W.Error(msgSyntax)
		return false
	}
	return true
}

func cmdFlushDB(c *Call) {
	if !flushMode(c) {
		return
	}
	_ = c.Write(func(tx *engine.Tx) error { tx.FlushDB(c.DB()); return nil })
	c.W.OK()
}

func cmdFlushAll(c *Call) {
	if !flushMode(c) {
		return
	}
	_ = c.Write(func(tx *engine.Tx) error { tx.FlushAll(); return nil })
	c.W.OK()
}

func cmdSwapDB(c *Call) {
	a, ok1 := parseInt(c.Args[1])
	b, ok2 := parseInt(c.Args[2])
	if !ok1 {
		c.W.Error("ERR invalid first DB index")
		return
	}
	if !ok2 {
		c.W.Error("ERR invalid second DB index")
		return
	}
	n := c.d.Config.Int("databases")
	if a < 0 || a >= n || b < 0 || b >= n {
		c.W.Error(msgDBIndex)
		return
	}
	_ = c.Write(func(tx *engine.Tx) error { tx.SwapDB(int(a), int(b)); return nil })
	c.W.OK()
}

func cmdTime(c *Call) {
	now := time.Now()
	c.W.Array(2)
	c.W.BulkString(fmt.Sprint(now.Unix()))
	c.W.BulkString(fmt.Sprint(now.Nanosecond() / 1000))
}

// snapshotPath is where SAVE and BGSAVE write: dbfilename inside dir. The
// config refuses a dbfilename that is a path; this checks again, so that no
// way of setting it can make a snapshot land outside dir.
func (d *Dispatcher) snapshotPath() (string, error) {
	name := d.Config.Get("dbfilename")
	if err := config.PlainFileName(name); err != nil {
		return "", fmt.Errorf("ERR dbfilename %s", err)
	}
	return filepath.Join(d.Config.Get("dir"), name), nil
}

func cmdSave(c *Call) {
	path, err := c.d.snapshotPath()
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	if err := c.d.Engine.Store().Snapshot(path); err != nil {
		if err == persistence.ErrBusy {
			c.W.Error("ERR Background save already in progress")
			return
		}
		c.W.Error("ERR " + err.Error())
		return
	}
	c.W.OK()
}

func cmdBgsave(c *Call) {
	if len(c.Args) > 2 || (len(c.Args) == 2 && !keyword(c.Args[1], "SCHEDULE")) {
		c.W.Error(msgSyntax)
		return
	}
	st := c.d.Engine.Store()
	if st.Saving() {
		if len(c.Args) == 2 {
			c.W.Simple("Background saving scheduled")
			return
		}
		c.W.Error("ERR Background save already in progress")
		return
	}
	path, err := c.d.snapshotPath()
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	err = st.SnapshotInBackground(path, func(err error) {
		if err != nil {
			slog.Warn("background saving failed", "error", err)
		}
	})
	if err != nil {
		c.W.Error("ERR Background save already in progress")
		return
	}
	c.W.Simple("Background saving started")
}

func cmdBgrewriteaof(c *Call) {
	// The rewrite is marked in progress before the reply, so INFO right
	// after BGREWRITEAOF says so (it did not when the goroutine was slow to
	// start, and TestBgrewriteaof then read the file before the rewrite).
	err := c.d.Engine.Store().RewriteInBackground(func(err error) {
		if err != nil {
			slog.Warn("background data file rewrite failed", "error", err)
		}
	})
	if err != nil {
		c.W.Error("ERR Background append only file rewriting already in progress")
		return
	}
	c.W.Simple("Background append only file rewriting started")
}

func cmdShutdown(c *Call) {
	save, force := true, false
	for _, a := range c.Args[1:] {
		switch upper(a) {
		case "NOSAVE":
			save = false
		case "FORCE":
			force = true
		case "SAVE", "NOW":
		case "ABORT":
			c.W.Error("ERR No shutdown in progress.")
			return
		default:
			c.W.Error(msgSyntax)
			return
		}
	}
	if c.d.Shutdown == nil {
		c.W.Error("ERR shutdown is not available")
		return
	}
	if !save && c.d.scripts.running.Load() != nil {
		// A script that cannot be killed holds the engine: the graceful
		// path would wait for it forever. Exit at once; the script's
		// uncommitted writes are lost, as in Redis.
		slog.Warn("SHUTDOWN NOSAVE while a script is running: exiting now")
		hardExit()
		return
	}
	if save && c.d.PrepareShutdown != nil {
		if err := c.d.PrepareShutdown(); err != nil && !force {
			// The data file cannot be flushed: exiting now could lose
			// acknowledged writes. NOSAVE or FORCE exit anyway.
			c.W.Error("ERR Errors trying to SHUTDOWN. Check logs.")
			return
		}
	}
	c.Client.CloseAfterReply = true
	c.d.Shutdown(save)
}

// hardExit ends the process without a graceful shutdown (tests replace it).
var hardExit = func() { os.Exit(0) }

func cmdConfigGet(c *Call) {
	seen := map[string]bool{}
	var pairs []string
	for _, a := range c.Args[2:] {
		pat := strings.ToLower(string(a))
		for _, name := range c.d.Config.Names() {
			if seen[name] || !glob.Match(pat, name) {
				continue
			}
			p := c.d.Config.Lookup(name)
			if p.Sensitive || p.Hidden && pat != name {
				continue
			}
			seen[name] = true
			pairs = append(pairs, name, c.d.Config.Get(name))
		}
	}
	c.W.Map(len(pairs) / 2)
	for _, s := range pairs {
		c.W.BulkString(s)
	}
}

// cmdConfigSet checks every name first (unknown, immutable, protected,
// duplicate), then every value, and changes nothing unless all pass, in
// Redis' order and words.
func cmdConfigSet(c *Call) {
	args := c.Args[2:]
	if len(args)%2 != 0 {
		c.W.Error(errWrongArgs("config|set"))
		return
	}
	failed := func(name []byte, reason any) {
		c.W.Error(fmt.Sprintf("ERR CONFIG SET failed (possibly related to argument '%s') - %s", name, reason))
	}
	local := IsLocalClient(c.Client.Conn)
	seen := map[*config.Param]bool{}
	// same marks immutable parameters set to the value they have: a no-op
	// that is accepted (see config.Unchanged).
	same := map[int]bool{}
	for i := 0; i < len(args); i += 2 {
		p := c.d.Config.Lookup(string(args[i]))
		if p == nil {
			c.W.Error(fmt.Sprintf("ERR Unknown option or number of arguments for CONFIG SET - '%s'", args[i]))
			return
		}
		if err := c.d.Config.MaySet(p.Name, local); err != nil {
			if !errors.Is(err, config.ErrImmutable) || !c.d.Config.Unchanged(p.Name, string(args[i+1])) {
				failed(args[i], err)
				return
			}
			same[i] = true
		}
		if seen[p] {
			failed(args[i], "duplicate parameter")
			return
		}
		seen[p] = true
	}
	for i := 0; i < len(args); i += 2 {
		if err := c.d.Config.Validate(string(args[i]), string(args[i+1])); err != nil {
			failed(args[i], err)
			return
		}
	}
	for i := 0; i < len(args); i += 2 {
		if !same[i] {
			_ = c.d.Config.Set(string(args[i]), string(args[i+1]))
		}
	}
	evictAfterConfig(c)
	c.W.OK()
}

// IsLocalClient reports whether a client connects from this machine, for protected-mode and
// enable-protected-configs local, as Redis' islocalClient: from a loopback
// address (127.0.0.0/8, ::1) or over a unix socket. A TCP peer is always
// "ip:port"; a unix socket's peer has no IP (Go reports "" or "@", Redis
// "/path:0") and its local end is the socket's path. Anything else is remote:
// the check fails closed.
func IsLocalClient(conn Conn) bool {
	if conn == nil {
		return false
	}
	if host, _, err := net.SplitHostPort(conn.RemoteAddr()); err == nil {
		if i := strings.IndexByte(host, '%'); i >= 0 { // fe80::1%eth0
			host = host[:i]
		}
		if ip := net.ParseIP(host); ip != nil {
			return ip.IsLoopback()
		}
	}
	local := conn.LocalAddr()
	return strings.HasPrefix(local, "/") || strings.HasPrefix(local, "@")
}

func cmdConfigResetstat(c *Call) {
	for _, s := range Specs() {
		for _, x := range append([]*Spec{s}, s.Subcommands...) {
			x.stats.calls.Store(0)
			x.stats.usec.Store(0)
			x.stats.rejected.Store(0)
			x.stats.failed.Store(0)
			x.stats.hist.Reset()
		}
	}
	c.d.stats.commands.Store(0)
	c.d.stats.errorReplies.Store(0)
	c.d.stats.errorCodes.reset()
	c.d.stats.connections.Store(0)
	c.d.stats.rejectedConns.Store(0)
	c.d.stats.netInput.Store(0)
	c.d.stats.netOutput.Store(0)
	c.d.stats.reads.Store(0)
	c.d.stats.writes.Store(0)
	es := c.d.Engine.Stats()
	es.ExpiredKeys.Store(0)
	es.EvictedKeys.Store(0)
	es.KeyspaceHits.Store(0)
	es.KeyspaceMisses.Store(0)
	c.W.OK()
}

func cmdConfigRewrite(c *Call) {
	if ConfigFile == "" {
		c.W.Error("ERR The server is running without a config file")
		return
	}
	var b strings.Builder
	b.WriteString("# Written by CONFIG REWRITE\n")
	for _, name := range c.d.Config.Names() {
		v := c.d.Config.Get(name)
		if p := c.d.Config.Lookup(name); p.Default == v {
			continue
		}
		fmt.Fprintf(&b, "%s %q\n", name, v)
	}
	b.WriteString(c.d.aclConfigLines())
	tmp := ConfigFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		c.W.Error("ERR Rewriting config file: " + err.Error())
		return
	}
	if err := os.Rename(tmp, ConfigFile); err != nil {
		c.W.Error("ERR Rewriting config file: " + err.Error())
		return
	}
	c.W.OK()
}

// --- COMMAND, derived from the table ---

func writeCommandInfo(c *Call, s *Spec) {
	c.W.Array(10)
	c.W.BulkString(s.FullName())
	c.W.Int(int64(s.Arity))
	flags := s.FlagNames()
	c.W.Set(len(flags))
	for _, f := range flags {
		c.W.Simple(f)
	}
	c.W.Int(int64(s.FirstKey))
	c.W.Int(int64(s.LastKey))
	c.W.Int(int64(s.Step))
	cats := s.ACLCategories()
	c.W.Set(len(cats))
	for _, cat := range cats {
		c.W.Simple(cat)
	}
	c.W.Array(0) // tips
	writeKeySpecs(c, s)
	subs := s.Subs()
	c.W.Array(len(subs))
	for _, sub := range subs {
		writeCommandInfo(c, sub)
	}
}

func cmdCommand(c *Call) {
	specs := Specs()
	c.W.Array(len(specs))
	for _, s := range specs {
		writeCommandInfo(c, s)
	}
}

func cmdCommandCount(c *Call) { c.W.Int(int64(len(table))) }

func cmdCommandInfo(c *Call) {
	if len(c.Args) == 2 {
		cmdCommand(c)
		return
	}
	c.W.Array(len(c.Args) - 2)
	for _, a := range c.Args[2:] {
		s := resolveName(string(a))
		if s == nil {
			c.W.NullArray()
			continue
		}
		writeCommandInfo(c, s)
	}
}

// resolveName finds "name" or "parent|sub".
func resolveName(name string) *Spec {
	name = strings.ToLower(name)
	if i := strings.IndexByte(name, '|'); i >= 0 {
		p := table[name[:i]]
		if p == nil || p.subs == nil {
			return nil
		}
		return p.subs[name[i+1:]]
	}
	return table[name]
}

func writeDocs(c *Call, s *Spec) {
	fields := 3
	subs := s.Subs()
	if len(subs) > 0 {
		fields++
	}
	if s.Syntax != "" {
		fields++
	}
	c.W.Map(fields)
	c.W.BulkString("summary")
	c.W.BulkString(s.Summary)
	c.W.BulkString("since")
	since := s.Since
	if since == "" && s.parent != nil {
		since = s.parent.Since
	}
	c.W.BulkString(since)
	c.W.BulkString("group")
	group := s.Group
	if group == "" && s.parent != nil {
		group = s.parent.Group
	}
	c.W.BulkString(group)
	if s.Syntax != "" {
		c.W.BulkString("syntax")
		c.W.BulkString(s.Syntax)
	}
	if len(subs) > 0 {
		c.W.BulkString("subcommands")
		c.W.Map(len(subs))
		for _, sub := range subs {
			c.W.BulkString(sub.FullName())
			writeDocs(c, sub)
		}
	}
}

func cmdCommandDocs(c *Call) {
	var specs []*Spec
	if len(c.Args) == 2 {
		specs = Specs()
	} else {
		for _, a := range c.Args[2:] {
			if s := resolveName(string(a)); s != nil {
				specs = append(specs, s)
			}
		}
	}
	c.W.Map(len(specs))
	for _, s := range specs {
		c.W.BulkString(s.FullName())
		writeDocs(c, s)
	}
}

func cmdCommandList(c *Call) {
	var names []string
	filter := func(s *Spec) bool { return true }
	if len(c.Args) > 2 {
		if len(c.Args) != 5 || !keyword(c.Args[2], "FILTERBY") {
			c.W.Error(msgSyntax)
			return
		}
		v := c.Arg(4)
		switch upper(c.Args[3]) {
		case "MODULE":
			filter = func(s *Spec) bool { return false }
		case "ACLCAT":
			filter = func(s *Spec) bool {
				for _, cat := range s.ACLCategories() {
					if strings.EqualFold(cat, "@"+v) {
						return true
					}
				}
				return false
			}
		case "PATTERN":
			filter = func(s *Spec) bool { return glob.MatchFold(v, s.FullName()) }
		default:
			c.W.Error(msgSyntax)
			return
		}
	}
	for _, s := range Specs() {
		if filter(s) {
			names = append(names, s.Name)
		}
		for _, sub := range s.Subs() {
			if filter(sub) { // Redis lists subcommands too ("config|get")
				names = append(names, sub.FullName())
			}
		}
	}
	sort.Strings(names)
	c.W.BulkStrings(names)
}

func cmdCommandGetkeys(c *Call) {
	_, args, pos, ok := commandKeys(c)
	if !ok {
		return
	}
	c.W.Array(len(pos))
	for _, p := range pos {
		c.W.Bulk(args[p])
	}
}

// commandKeys finds the command COMMAND GETKEYS[ANDFLAGS] asks about and
// its key positions, or answers the error.
func commandKeys(c *Call) (*Spec, [][]byte, []int, bool) {
	args := c.Args[2:]
	s := lookup(args[0])
	if s == nil {
		c.W.Error("ERR Invalid command specified")
		return nil, nil, nil, false
	}
	if !arityOK(s.Arity, len(args)) {
		c.W.Error("ERR Invalid number of arguments specified for command")
		return nil, nil, nil, false
	}
	if s.subs != nil && len(args) > 1 {
		if sub := s.subs[strings.ToLower(string(args[1]))]; sub != nil {
			s = sub // its key positions count the container's name too
		}
	}
	pos := s.keyPositions(args)
	if len(pos) == 0 {
		if noMandatoryKeys(s) {
			c.W.Array(0)
			return nil, nil, nil, false
		}
		c.W.Error("ERR The command has no key arguments")
		return nil, nil, nil, false
	}
	return s, args, pos, true
}

var _ = config.ParseMemory
