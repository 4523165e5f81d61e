package config

import (
	"fmt"
	"strconv"
	"strings"
)

// Defaults returns a Config holding every parameter sessiond knows, at its
// default value. This is the one list of parameters.
func Defaults() *Config {
	return New([]*Param{
		// Network and process.
		// port and bind may change at run time: the server moves its
		// listener (server/rebind.go).
		{Name: "port", Kind: Int, Default: "6379", Min: 0, Max: 65535},
		{Name: "bind", Kind: String, Default: "127.0.0.1"},
		{Name: "unixsocket", Kind: String, Default: "", Immutable: true, Protected: true},
		{Name: "tls-port", Kind: Int, Default: "0", Min: 0, Max: 65535, Immutable: true},
		{Name: "tls-cert-file", Kind: String, Default: "", Immutable: true, Protected: true},
		{Name: "tls-key-file", Kind: String, Default: "", Immutable: true, Protected: true},
		// Client certificates on the TLS port, as Redis: required (yes, the
		// default), checked when given (optional), or not asked for (no);
		// verified against the CA certificates in tls-ca-cert-file.
		{Name: "tls-ca-cert-file", Kind: String, Default: "", Immutable: true, Protected: true},
		{Name: "tls-auth-clients", Kind: Enum, Enum: []string{"yes", "no", "optional"}, Default: "yes", Immutable: true},
		{Name: "requirepass", Kind: String, Default: "", Sensitive: false},
		// ACLs (Redis 7): the file ACL SAVE/LOAD use (a path, relative to
		// dir, set only at startup), the length of ACL LOG, and whether new
		// users start with allchannels or resetchannels.
		{Name: "aclfile", Kind: String, Default: "", Immutable: true, Protected: true},
		{Name: "acllog-max-len", Kind: Int, Default: "128", Min: 0, Max: 1 << 31},
		{Name: "acl-pubsub-default", Kind: Enum, Default: "resetchannels", Enum: []string{"allchannels", "resetchannels"}},
		{Name: "maxclients", Kind: Int, Default: "10000", Min: 1, Max: 1 << 20},
		// protected-mode: with no password for the default user, only
		// clients on this machine are served (Redis' protected mode).
		{Name: "protected-mode", Kind: Bool, Default: "yes"},
		{Name: "timeout", Kind: Int, Default: "0", Min: 0, Max: 1 << 31},
		{Name: "tcp-keepalive", Kind: Int, Default: "300", Min: 0, Max: 1 << 31},
		// io-threads is the number of event loops serving plain TCP (each a
		// thread doing socket I/O and running commands).
		{Name: "io-threads", Kind: Int, Default: "1", Min: 1, Max: 128, Immutable: true},
		{Name: "proto-max-bulk-len", Kind: Int, Memory: true, Default: "512mb", Min: 1 << 20, Max: 1 << 40},
		{Name: "client-query-buffer-limit", Kind: Int, Memory: true, Default: "1gb", Min: 1 << 20, Max: 1 << 40},
		{Name: "client-output-buffer-limit", Kind: String, Default: "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
			Check: checkOutputLimits, Normalize: normalizeOutputLimits},
		{Name: "databases", Kind: Int, Default: "16", Min: 1, Max: 16, Immutable: true},
		{Name: "loglevel", Kind: Enum, Default: "notice", Enum: []string{"debug", "verbose", "notice", "warning", "nothing"}},
		{Name: "logfile", Kind: String, Default: "", Immutable: true, Protected: true},
		{Name: "log-format", Kind: Enum, Default: "text", Enum: []string{"text", "json"}, Immutable: true},
		// The Prometheus endpoint (/metrics, /health); 0 = off.
		{Name: "metrics-port", Kind: Int, Default: "0", Min: 0, Max: 65535, Immutable: true},
		{Name: "metrics-bind", Kind: String, Default: "127.0.0.1", Immutable: true},
		{Name: "daemonize", Kind: Bool, Default: "no", Immutable: true},
		{Name: "hz", Kind: Int, Default: "10", Min: 1, Max: 500},
		// Who may change the Protected parameters (the files and directories
		// the server writes) at run time: no one, local clients (loopback or
		// unix socket) or every client. Only the operator sets it, at startup.
		// Who may run DEBUG: no one (default), local clients, or everyone,
		// as Redis 7's enable-debug-command; startup only.
		{Name: "enable-debug-command", Kind: Enum, Default: "no", Enum: []string{"no", "yes", "local"}, Immutable: true},
		{Name: "enable-protected-configs", Kind: Enum, Default: "no", Enum: []string{"no", "yes", "local"}, Immutable: true},

		// Persistence.
		{Name: "dir", Kind: String, Default: ".", Protected: true, CheckLive: checkDirLive},
		{Name: "appendonly", Kind: Bool, Default: "yes", Immutable: true},
		{Name: "appendfilename", Kind: String, Default: "sessiond.db", Immutable: true, Protected: true, Check: plainFileName("appendfilename")},
		{Name: "appendfsync", Kind: Enum, Default: "everysec", Enum: []string{"always", "everysec", "no"}},
		{Name: "dbfilename", Kind: String, Default: "dump.db", Protected: true, Check: plainFileName("dbfilename")},
		// save rules ("seconds changes" pairs) take snapshots to dbfilename.
		{Name: "save", Kind: String, Default: "", Check: checkSave},
		{Name: "auto-aof-rewrite-percentage", Kind: Int, Default: "100", Min: 0, Max: 1 << 31},
		{Name: "auto-aof-rewrite-min-size", Kind: Int, Memory: true, Default: "64mb", Min: 0, Max: 1 << 40},

		// Keyspace.
		{Name: "notify-keyspace-events", Kind: String, Default: "", Check: checkKeyspaceEvents, Normalize: NormalizeKeyspaceEvents},
		{Name: "maxmemory", Kind: Int, Memory: true, Default: "0", Min: 0, Max: 1 << 50},
		// Client eviction (README "Client memory"): all clients together
		// may hold this much (a size, or a percentage of maxmemory); past
		// it the largest are disconnected. 0: no limit.
		{Name: "maxmemory-clients", Kind: String, Default: "0", Check: CheckPercentOrMemory, Normalize: normalizePercentOrMemory},
		// Per-command latency percentiles in INFO latencystats.
		{Name: "latency-tracking", Kind: Bool, Default: "yes"},
		{Name: "latency-tracking-info-percentiles", Kind: String, Default: "50 99 99.9", Check: checkPercentiles, Normalize: normalizePercentiles},
		{Name: "maxmemory-policy", Kind: Enum, Default: "noeviction", Enum: []string{"noeviction", "allkeys-lru", "volatile-lru", "allkeys-random", "volatile-random", "volatile-ttl", "allkeys-lfu", "volatile-lfu"}},
		{Name: "lazyfree-lazy-user-del", Kind: Bool, Default: "no"},
		{Name: "lazyfree-lazy-user-flush", Kind: Bool, Default: "no"},
		// Memory (README "Memory"): sampling and LFU settings of eviction.
		{Name: "maxmemory-samples", Kind: Int, Default: "5", Min: 1, Max: 64},
		{Name: "lfu-log-factor", Kind: Int, Default: "10", Min: 0, Max: 1 << 31},
		{Name: "lfu-decay-time", Kind: Int, Default: "1", Min: 0, Max: 1 << 31},
		// Freeing is never on the command path in sessiond (a deleted value
		// is reclaimed by Go's concurrent collector), so these are always in
		// effect whatever their value; accepted as Redis' (README "Memory").
		{Name: "lazyfree-lazy-eviction", Kind: Bool, Default: "no"},
		{Name: "lazyfree-lazy-expire", Kind: Bool, Default: "no"},
		{Name: "lazyfree-lazy-server-del", Kind: Bool, Default: "no"},
		{Name: "replica-lazy-flush", Kind: Bool, Default: "no"},
		{Name: "slowlog-log-slower-than", Kind: Int, Default: "10000"},
		{Name: "slowlog-max-len", Kind: Int, Default: "128", Min: 0, Max: 1 << 31},
		// latency-monitor-threshold (ms): events at least this long are
		// kept for LATENCY; 0 turns the monitor off.
		{Name: "latency-monitor-threshold", Kind: Int, Default: "0", Min: 0, Max: 1 << 40},
		// Encoding thresholds. Small hashes (at most hash-max-listpack-entries fields, none
		// longer than hash-max-listpack-value bytes) keep insertion order,
		// as Redis' listpack; the ziplist names are Redis 6's aliases.
		{Name: "hash-max-listpack-entries", Alias: "hash-max-ziplist-entries", Kind: Int, Default: "128", Min: 0, Max: 1 << 40},
		{Name: "hash-max-listpack-value", Alias: "hash-max-ziplist-value", Kind: Int, Default: "64", Min: 0, Max: 1 << 40},
		// The others are accepted for compatibility (clients and tests save
		// and restore them); sessiond's layouts do not depend on them.
		{Name: "zset-max-listpack-entries", Alias: "zset-max-ziplist-entries", Kind: Int, Default: "128", Min: 0, Max: 1 << 40},
		{Name: "zset-max-listpack-value", Alias: "zset-max-ziplist-value", Kind: Int, Default: "64", Min: 0, Max: 1 << 40},
		{Name: "set-max-intset-entries", Kind: Int, Default: "512", Min: 0, Max: 1 << 40},
		{Name: "list-max-listpack-size", Kind: Int, Default: "-2", Min: -5, Max: 1 << 31},
		{Name: "list-max-ziplist-size", Kind: Int, Default: "-2", Min: -5, Max: 1 << 31},
		{Name: "list-compress-depth", Kind: Int, Default: "0", Min: 0, Max: 1 << 31},
		// Scripting: a script running longer than this (ms) makes other
		// clients' commands answer BUSY until it ends or SCRIPT KILL.
		{Name: "lua-time-limit", Alias: "busy-reply-threshold", Kind: Int, Default: "5000", Min: 0, Max: 1 << 40},
		// Writes are refused (NOREPLICAS) unless this many replicas are in
		// good standing: a standalone server has none.
		{Name: "min-replicas-to-write", Alias: "min-slaves-to-write", Kind: Int, Default: "0", Min: 0, Max: 1 << 31},
		{Name: "min-replicas-max-lag", Alias: "min-slaves-max-lag", Kind: Int, Default: "10", Min: 0, Max: 1 << 31},
		{Name: "active-expire-effort", Kind: Int, Default: "1", Min: 1, Max: 10},
		// Streams: approximate ("~") trimming removes whole nodes of this
		// many entries, as Redis' listpack nodes (the byte limit is kept
		// for CONFIG parity; nodes are counted in entries only).
		{Name: "stream-node-max-entries", Kind: Int, Default: "100", Min: 0, Max: 1 << 40},
		{Name: "stream-node-max-bytes", Kind: Int, Default: "4096", Min: 0, Max: 1 << 40},
		// Client-side caching: the tracking table keeps at most this many
		// keys (0: no limit), invalidating others to stay under it.
		{Name: "tracking-table-max-keys", Kind: Int, Default: "1000000", Min: 0, Max: 1 << 40},
		// HyperLogLog: a sparse HLL growing past this many bytes (header
		// included) becomes dense, as in Redis.
		{Name: "hll-sparse-max-bytes", Kind: Int, Memory: true, Default: "3000", Min: 0, Max: 1 << 40},

		// Native sessions.
		{Name: "session-idle-timeout", Kind: Int, Default: "3600", Min: 0, Max: 1 << 40},
		{Name: "session-absolute-timeout", Kind: Int, Default: "86400", Min: 0, Max: 1 << 40},
		{Name: "session-detached-timeout", Kind: Int, Default: "0", Min: 0, Max: 1 << 40},
		{Name: "session-auto-touch", Kind: Bool, Default: "yes"},
		{Name: "session-rotate-grace", Kind: Int, Default: "10", Min: 0, Max: 1 << 40},
		{Name: "session-replay-revoke", Kind: Bool, Default: "yes"},
		{Name: "notify-session-events", Kind: Bool, Default: "no"},
		// Per-owner concurrent-session limit (0 none) and what SESS.NEW does
		// at it; client binding mismatches; the durable lifecycle log (a
		// stream key in database 0, "" off, capped at maxlen entries).
		{Name: "session-max-per-owner", Kind: Int, Default: "0", Min: 0, Max: 1 << 40},
		{Name: "session-limit-policy", Kind: Enum, Default: "evict-oldest", Enum: []string{"evict-oldest", "refuse"}},
		{Name: "session-binding-mismatch", Kind: Enum, Default: "reject", Enum: []string{"reject", "revoke"}},
		{Name: "session-events-stream", Kind: String, Default: ""},
		{Name: "session-events-maxlen", Kind: Int, Default: "100000", Min: 0, Max: 1 << 40},

		// Transition tokens.
		{Name: "token-default-ttl", Kind: Int, Default: "0", Min: 0, Max: 1 << 40},
		{Name: "token-disown-timeout", Kind: Int, Default: "3600", Min: 0, Max: 1 << 40},

		// JWT.
		{Name: "jwt-algorithm", Kind: Enum, Default: "eddsa", Enum: []string{"eddsa", "hs256"}},
		{Name: "jwt-secret", Kind: String, Default: "", Sensitive: true},
		{Name: "jwt-issuer", Kind: String, Default: "sessiond"},
		{Name: "jwt-access-ttl", Kind: Int, Default: "900", Min: 1, Max: 1 << 40},
		{Name: "jwt-refresh-ttl", Kind: Int, Default: "2592000", Min: 1, Max: 1 << 40},

		// Replicated group (package replication; README "A replicated
		// group"). An empty raft-node-id is a standalone server.
		{Name: "raft-node-id", Kind: String, Default: "", Immutable: true},
		{Name: "raft-bind", Kind: String, Default: "", Immutable: true},
		{Name: "raft-peers", Kind: String, Default: "", Immutable: true},
		{Name: "raft-dir", Kind: String, Default: "", Immutable: true, Protected: true},
		{Name: "raft-group-name", Kind: String, Default: "sessiond", Immutable: true},
		{Name: "raft-follower-writes", Kind: Enum, Default: "forward", Enum: []string{"forward", "readonly"}},
		{Name: "raft-follower-reads", Kind: Enum, Default: "consistent", Enum: []string{"consistent", "local"}},
		{Name: "announce-ip", Kind: String, Default: "", Immutable: true},
		{Name: "announce-port", Kind: Int, Default: "0", Min: 0, Max: 65535, Immutable: true},
		// TLS between the nodes of a group (Redis' name for its replication
		// links): raft's transport and forwarded writes, with the TLS port's
		// certificate and CA (server/replicated.go).
		{Name: "tls-replication", Kind: Bool, Default: "no", Immutable: true},

		// Accepted for Redis parity (clients and Redis' suite save and set
		// them back); sessiond's replication is raft's log, so there is no
		// backlog buffer to size.
		{Name: "repl-backlog-size", Kind: Int, Memory: true, Default: "1mb", Min: 1, Max: 1 << 50},
		// replicaof is always empty: sessiond is never a replica of a Redis
		// master (a replicated group is raft's, raft-node-id); shown by
		// CONFIG GET as Redis shows it on a master, refused when set.
		{Name: "replicaof", Alias: "slaveof", Kind: String, Default: "", Immutable: true, Check: noReplicaOf},
		// Hidden: Redis' debugging knob that slows loading per key
		// (microseconds); shown only when asked for by name.
		{Name: "key-load-delay", Kind: Int, Default: "0", Min: -1 << 31, Max: 1<<31 - 1, Hidden: true},
	})
}

func noReplicaOf(v string) error {
	if v != "" {
		return fmt.Errorf("replicaof is not supported: %s", unsupported["replicaof"])
	}
	return nil
}

// OutputLimit is one class of client-output-buffer-limit.
type OutputLimit struct {
	Hard, Soft int64
	SoftSecs   int64
}

// OutputLimits returns the current client-output-buffer-limit by class
// (normal, replica, pubsub). It is read on every reply write, so the parsed
// form is cached until the value changes. The map must not be modified.
func (c *Config) OutputLimits() map[string]OutputLimit {
	p := c.params["client-output-buffer-limit"]
	cur := p.val.Load()
	if lc := c.limits.Load(); lc != nil && lc.src == cur {
		return lc.byClass
	}
	out := map[string]OutputLimit{}
	f := strings.Fields(*cur)
	for i := 0; i+3 < len(f); i += 4 {
		h, _ := ParseMemory(f[i+1])
		s, _ := ParseMemory(f[i+2])
		secs, _ := ParseMemory(f[i+3])
		class := f[i]
		if class == "slave" {
			class = "replica"
		}
		out[class] = OutputLimit{Hard: h, Soft: s, SoftSecs: secs}
	}
	c.limits.Store(&limitsCache{src: cur, byClass: out})
	return out
}

type limitsCache struct {
	src     *string // the value the cache was parsed from
	byClass map[string]OutputLimit
}

func checkOutputLimits(v string) error {
	f := strings.Fields(v)
	if len(f)%4 != 0 || len(f) == 0 {
		return fmt.Errorf("Wrong number of arguments in buffer limit configuration.")
	}
	for i := 0; i < len(f); i += 4 {
		switch strings.ToLower(f[i]) {
		case "normal", "slave", "replica", "pubsub":
		default:
			return fmt.Errorf("Invalid client class specified in buffer limit configuration.")
		}
		for _, n := range f[i+1 : i+4] {
			if x, err := ParseMemory(n); err != nil || x < 0 {
				return fmt.Errorf("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
			}
		}
	}
	return nil
}

// normalizeOutputLimits merges a partial setting into the full three-class form.
func normalizeOutputLimits(v string) string {
	classes := map[string][3]string{
		"normal": {"0", "0", "0"},
		"slave":  {"268435456", "67108864", "60"},
		"pubsub": {"33554432", "8388608", "60"},
	}
	f := strings.Fields(v)
	for i := 0; i+3 < len(f); i += 4 {
		class := strings.ToLower(f[i])
		if class == "replica" {
			class = "slave"
		}
		var vals [3]string
		for j := 0; j < 3; j++ {
			n, _ := ParseMemory(f[i+1+j])
			vals[j] = fmt.Sprint(n)
		}
		classes[class] = vals
	}
	var b strings.Builder
	for i, class := range []string{"normal", "slave", "pubsub"} {
		if i > 0 {
			b.WriteByte(' ')
		}
		v := classes[class]
		fmt.Fprintf(&b, "%s %s %s %s", class, v[0], v[1], v[2])
	}
	return b.String()
}

const keyspaceFlags = "KEg$lshzxetmdnA"

func checkKeyspaceEvents(v string) error {
	for _, ch := range v {
		if !strings.ContainsRune(keyspaceFlags, ch) {
			return fmt.Errorf("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
		}
	}
	return nil
}

// NormalizeKeyspaceEvents returns flags in Redis' canonical order, with A
// folded in when every class is present.
func NormalizeKeyspaceEvents(v string) string {
	set := map[rune]bool{}
	for _, ch := range v {
		if ch == 'A' {
			for _, c := range "g$lshzxetd" {
				set[c] = true
			}
			continue
		}
		set[ch] = true
	}
	var b strings.Builder
	all := true
	for _, c := range "g$lshzxetd" {
		if !set[c] {
			all = false
		}
	}
	if all {
		b.WriteByte('A')
	} else {
		for _, c := range "g$lshzxetd" {
			if set[c] {
				b.WriteRune(c)
			}
		}
	}
	for _, c := range "mnKE" {
		if set[c] {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// Int returns the parameter's current value as an integer (Int, Bool and
// Enum kinds), without the name lookup of Config.Int: for hot paths that
// keep the *Param.
func (p *Param) Int() int64 { return p.num.Load() }

// CheckPercentOrMemory validates a size (with units) or a percentage from
// 0% to 100% (maxmemory-clients).
func CheckPercentOrMemory(v string) error {
	v = strings.TrimSpace(v)
	if strings.HasSuffix(v, "%") {
		pct, err := strconv.ParseInt(strings.TrimSuffix(v, "%"), 10, 64)
		if err != nil || pct < 0 {
			return fmt.Errorf("argument must be a memory or percent value")
		}
		if pct > 100 {
			return fmt.Errorf("percentage argument must be less or equal to 100") // Redis' words
		}
		return nil
	}
	if n, err := ParseMemory(v); err != nil || n < 0 {
		return fmt.Errorf("argument must be a memory or percent value")
	}
	return nil
}

// normalizePercentOrMemory keeps a percentage as written ("7%") and turns a
// size into bytes, as Redis shows them.
func normalizePercentOrMemory(v string) string {
	v = strings.TrimSpace(v)
	if strings.HasSuffix(v, "%") {
		pct, _ := strconv.ParseInt(strings.TrimSuffix(v, "%"), 10, 64)
		return strconv.FormatInt(pct, 10) + "%"
	}
	n, _ := ParseMemory(v)
	return strconv.FormatInt(n, 10)
}

// PercentOrMemory resolves a value CheckPercentOrMemory accepts: a size in
// bytes, or the percentage of base.
func PercentOrMemory(v string, base int64) int64 {
	v = strings.TrimSpace(v)
	if strings.HasSuffix(v, "%") {
		pct, _ := strconv.ParseInt(strings.TrimSuffix(v, "%"), 10, 64)
		return base * pct / 100
	}
	n, _ := ParseMemory(v)
	return n
}

// Percentiles parses latency-tracking-info-percentiles: numbers from 0 to
// 100, separated by spaces.
func Percentiles(v string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Fields(v) {
		x, err := strconv.ParseFloat(f, 64)
		if err != nil || x < 0 || x > 100 || x != x {
			return nil, fmt.Errorf("latency-tracking-info-percentiles: %q is not a percentile between 0 and 100", f)
		}
		out = append(out, x)
	}
	return out, nil
}

func checkPercentiles(v string) error {
	_, err := Percentiles(v)
	return err
}

// normalizePercentiles writes each percentile in its shortest form
// ("0.0 50.0 100.0" reads back "0 50 100", as Redis).
func normalizePercentiles(v string) string {
	ps, _ := Percentiles(v)
	f := make([]string, len(ps))
	for i, p := range ps {
		f[i] = strconv.FormatFloat(p, 'f', -1, 64)
	}
	return strings.Join(f, " ")
}
