// Package metrics is sessiond's Prometheus endpoint: /metrics and /health
// over HTTP on metrics-bind:metrics-port. Nothing is counted for it: at each
// scrape a collector reads the counters INFO reads (the command layer's
// statistics, INFO's sections, the data file's fsync and write timings), so
// the hot paths carry no second bookkeeping.
package metrics

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sessiond/sessiond/commands"
	"github.com/sessiond/sessiond/latency"
)

// Health states of /health.
const (
	stateLoading  int32 = iota // 503: the data file is loading
	stateServing               // 200
	stateStopping              // 503: shutting down
)

// Endpoint serves /metrics and /health.
type Endpoint struct {
	ln    net.Listener
	srv   *http.Server
	state atomic.Int32
	src   atomic.Pointer[commands.Dispatcher]
}

// Listen binds addr; the endpoint answers /health with 503 (loading) until
// SetServing.
func Listen(addr string) (*Endpoint, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen %s: %w", addr, err)
	}
	e := &Endpoint{ln: ln}
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsGC, collectors.MetricsMemory, collectors.MetricsScheduler)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&collector{e: e},
	)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	mux.HandleFunc("/health", e.health)
	e.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := e.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // the listener was closed under us: Close has been called
		}
	}()
	return e, nil
}

// Addr is the bound address.
func (e *Endpoint) Addr() net.Addr { return e.ln.Addr() }

// Attach gives the endpoint the command layer to read once the data file is
// loaded.
func (e *Endpoint) Attach(d *commands.Dispatcher) {
	d.Engine.TimeCommits(true)
	e.src.Store(d)
}

// SetServing makes /health answer 200 (serving) or 503 (stopping).
func (e *Endpoint) SetServing(on bool) {
	if on {
		e.state.Store(stateServing)
	} else {
		e.state.Store(stateStopping)
	}
}

// Close stops the endpoint.
func (e *Endpoint) Close() error { return e.srv.Close() }

func (e *Endpoint) health(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	switch e.state.Load() {
	case stateServing:
		w.WriteHeader(http.StatusOK)
		fmt.Fprintln(w, "ok")
	case stateLoading:
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "loading")
	default:
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "stopping")
	}
}

// collector reads sessiond's statistics at scrape time. Its metric set
// follows INFO's fields, so it describes nothing up front (an unchecked
// collector).
type collector struct{ e *Endpoint }

func (*collector) Describe(chan<- *prometheus.Desc) {}

var (
	cmdCalls    = prometheus.NewDesc("sessiond_commands_total", "Commands run, by command (INFO commandstats calls).", []string{"cmd"}, nil)
	cmdRejected = prometheus.NewDesc("sessiond_commands_rejected_total", "Commands refused before running (unknown, arity, auth, ...), by command.", []string{"cmd"}, nil)
	cmdFailed   = prometheus.NewDesc("sessiond_commands_failed_total", "Commands that ran and answered an error, by command.", []string{"cmd"}, nil)
	cmdDuration = prometheus.NewDesc("sessiond_command_duration_seconds", "Time commands took to run, by command (power-of-two microsecond buckets).", []string{"cmd"}, nil)
	dbKeys      = prometheus.NewDesc("sessiond_db_keys", "Keys per database (INFO keyspace).", []string{"db"}, nil)
	dbExpires   = prometheus.NewDesc("sessiond_db_expiring_keys", "Keys with a deadline per database (INFO keyspace).", []string{"db"}, nil)
	errorReply  = prometheus.NewDesc("sessiond_errorstat_total", "Error replies by error code (INFO errorstats).", []string{"code"}, nil)
	aclDenied   = prometheus.NewDesc("sessiond_acl_access_denied_total", "Commands refused by ACL, by reason (INFO acl_access_denied_*).", []string{"reason"}, nil)
	fsyncDur    = prometheus.NewDesc("sessiond_data_file_fsync_duration_seconds", "Time fsyncs of the data file took.", nil, nil)
	writeDur    = prometheus.NewDesc("sessiond_data_file_write_duration_seconds", "Time appending a write transaction to the data file took (the commit after the transaction's work).", nil, nil)
	loading     = prometheus.NewDesc("sessiond_loading", "1 while the data file is loading.", nil, nil)
)

// infoSections are the INFO sections whose numeric fields become metrics.
var infoSections = []string{"clients", "memory", "persistence", "stats", "cpu", "sessions", "tokens"}

// gaugeSections hold levels (every numeric field a gauge but those in
// counters); in the other sections every field is a counter but those in
// gauges.
var gaugeSections = map[string]bool{"clients": true, "memory": true, "persistence": true}

var counters = map[string]bool{"go_gc_cycles": true}

// gauges are the fields of counter sections that go up and down.
var gauges = map[string]bool{
	"connected_clients": true, "cluster_connections": true, "maxclients": true, "blocked_clients": true,
	"tracking_clients": true, "pubsub_clients": true, "clients_in_timeout_table": true,
	"client_recent_max_input_buffer": true, "client_recent_max_output_buffer": true,
	"instantaneous_ops_per_sec": true, "instantaneous_input_kbps": true, "instantaneous_output_kbps": true,
	"instantaneous_input_repl_kbps": true, "instantaneous_output_repl_kbps": true,
	"pubsub_channels": true, "pubsub_patterns": true, "pubsubshard_channels": true, "expired_stale_perc": true,
	"current_eviction_exceeded_time": true, "current_active_defrag_time": true, "latest_fork_usec": true,
	"migrate_cached_sockets": true, "slave_expires_tracked_keys": true,
	"tracking_total_keys": true, "tracking_total_items": true, "tracking_total_prefixes": true,
	"sessions": true, "session_owners": true, "sessions_detached": true,
	"tokens_live": true, "tokens_bound": true, "tokens_transferable": true, "tokens_unassigned": true, "tokens_sellable": true,
	"goroutines": true, "number_of_cached_scripts": true,
	"loading": true, "async_loading": true, "rdb_changes_since_last_save": true, "rdb_bgsave_in_progress": true,
	"rdb_last_save_time": true, "aof_enabled": true, "aof_rewrite_in_progress": true, "aof_rewrite_scheduled": true,
	"current_cow_peak": true,
}

// metricName names an INFO field as a Prometheus metric: counters end in
// _total ("total_commands_processed" -> sessiond_commands_processed_total).
func metricName(field string, counter bool) string {
	name := "sessiond_" + strings.TrimPrefix(field, "total_")
	if counter && !strings.HasSuffix(name, "_total") {
		name += "_total"
	}
	return name
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	d := c.e.src.Load()
	if d == nil {
		ch <- prometheus.MustNewConstMetric(loading, prometheus.GaugeValue, 1)
		return
	}
	ch <- prometheus.MustNewConstMetric(loading, prometheus.GaugeValue, 0)
	for _, st := range commands.CommandStats() {
		ch <- prometheus.MustNewConstMetric(cmdCalls, prometheus.CounterValue, float64(st.Calls), st.Name)
		ch <- prometheus.MustNewConstMetric(cmdRejected, prometheus.CounterValue, float64(st.Rejected), st.Name)
		ch <- prometheus.MustNewConstMetric(cmdFailed, prometheus.CounterValue, float64(st.Failed), st.Name)
		ch <- histogram(cmdDuration, st.Buckets, st.Usec, st.Name)
	}
	fs, fsSum := d.Engine.Store().FsyncHistogram()
	ch <- histogram(fsyncDur, fs, fsSum)
	ws, wsSum := d.Engine.CommitHistogram()
	ch <- histogram(writeDur, ws, wsSum)

	info := d.Info(append(infoSections, "keyspace", "errorstats")...)
	for _, sec := range infoSections {
		for field, v := range info[sec] {
			x, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue // not a number (a status, a name)
			}
			if strings.HasPrefix(field, "acl_access_denied_") {
				ch <- prometheus.MustNewConstMetric(aclDenied, prometheus.CounterValue, x, strings.TrimPrefix(field, "acl_access_denied_"))
				continue
			}
			counter := !gauges[field]
			if gaugeSections[sec] {
				counter = counters[field]
			}
			typ := prometheus.GaugeValue
			if counter {
				typ = prometheus.CounterValue
			}
			desc := prometheus.NewDesc(metricName(field, counter), "INFO "+sec+" "+field+".", nil, nil)
			ch <- prometheus.MustNewConstMetric(desc, typ, x)
		}
	}
	for db, v := range info["keyspace"] {
		// db0:keys=3,expires=1,avg_ttl=0
		n := strings.TrimPrefix(db, "db")
		for _, kv := range strings.Split(v, ",") {
			k, val, _ := strings.Cut(kv, "=")
			x, err := strconv.ParseFloat(val, 64)
			if err != nil {
				continue
			}
			switch k {
			case "keys":
				ch <- prometheus.MustNewConstMetric(dbKeys, prometheus.GaugeValue, x, n)
			case "expires":
				ch <- prometheus.MustNewConstMetric(dbExpires, prometheus.GaugeValue, x, n)
			}
		}
	}
	for field, v := range info["errorstats"] {
		// errorstat_ERR:count=3
		if x, err := strconv.ParseFloat(strings.TrimPrefix(v, "count="), 64); err == nil {
			ch <- prometheus.MustNewConstMetric(errorReply, prometheus.CounterValue, x, strings.TrimPrefix(field, "errorstat_"))
		}
	}
}

// topBucket is the last bucket shown with its bound (2^24 µs, about 17 s);
// longer durations are only in +Inf, which keeps the series per command at 26.
const topBucket = 24

// histogram turns power-of-two microsecond buckets into a Prometheus
// histogram in seconds.
func histogram(desc *prometheus.Desc, counts [latency.Buckets]int64, sumUS int64, labels ...string) prometheus.Metric {
	buckets := make(map[float64]uint64, topBucket+1)
	var cum, total uint64
	for i, n := range counts {
		total += uint64(n)
		if i <= topBucket {
			cum += uint64(n)
			buckets[float64(latency.UpperUS(i))/1e6] = cum
		}
	}
	return prometheus.MustNewConstHistogram(desc, total, float64(sumUS)/1e6, buckets, labels...)
}
