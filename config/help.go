package config

import (
	"fmt"
	"io"
	"strings"
)

// docs says what each parameter means, for `sessiond --help`. A parameter
// declared with a Doc of its own uses that instead.
var docs = map[string]string{
	"port":                        "TCP port for RESP clients (0: no plain listener, TLS only)",
	"bind":                        "address to listen on (one address)",
	"unixsocket":                  "refused when set: sessiond listens on TCP only",
	"tls-port":                    "TCP port for RESP over TLS (0: off)",
	"tls-cert-file":               "server certificate (PEM) for the TLS port",
	"tls-key-file":                "private key (PEM) of tls-cert-file",
	"tls-ca-cert-file":            "CA certificates that sign client certificates",
	"tls-auth-clients":            "client certificates on the TLS port: yes (required), optional, no",
	"requirepass":                 "password of the default user (empty: none)",
	"maxclients":                  "most clients connected at once; more are refused",
	"protected-mode":              "without a password, serve only clients on this machine",
	"timeout":                     "close a client idle this many seconds (0: never)",
	"tcp-keepalive":               "TCP keepalive period in seconds (0: off)",
	"io-threads":                  "event loops serving plain TCP (each a thread)",
	"proto-max-bulk-len":          "largest bulk string a client may send",
	"client-query-buffer-limit":   "largest unprocessed input of one client",
	"client-output-buffer-limit":  "output limits per class: class hard soft soft-seconds",
	"databases":                   "number of numbered databases",
	"loglevel":                    "log verbosity: debug, verbose, notice, warning, nothing",
	"logfile":                     "log file (empty: standard output)",
	"log-format":                  "log line format: text or json",
	"daemonize":                   "refused when yes: sessiond runs in the foreground",
	"hz":                          "background task frequency per second (active expiry)",
	"enable-protected-configs":    "who may CONFIG SET file and directory parameters: no, yes, local",
	"dir":                         "directory of the data file and snapshots",
	"appendonly":                  "keep data in the data file (no: in memory only)",
	"appendfilename":              "name of the data file in dir",
	"appendfsync":                 "fsync policy of the data file: always, everysec, no",
	"dbfilename":                  "name of snapshot files (SAVE, BGSAVE, save rules) in dir",
	"save":                        "snapshot rules \"seconds changes ...\" (empty: none)",
	"auto-aof-rewrite-percentage": "rewrite the data file when it grew by this percentage (0: never)",
	"auto-aof-rewrite-min-size":   "smallest data file that is rewritten automatically",
	"notify-keyspace-events":      "keyspace notification classes (as Redis: KEA...)",
	"maxmemory":                   "memory limit for the data set (0: none)",
	"maxmemory-policy":            "what happens at maxmemory: noeviction or an eviction policy",
	"lazyfree-lazy-user-del":      "DEL frees in the background (sessiond's memory is always freed by the Go collector)",
	"lazyfree-lazy-user-flush":    "FLUSHDB/FLUSHALL free in the background (as lazyfree-lazy-user-del)",
	"slowlog-log-slower-than":     "log commands slower than this many microseconds in SLOWLOG (-1: off)",
	"slowlog-max-len":             "entries SLOWLOG keeps",
	"latency-monitor-threshold":   "record events of at least this many milliseconds for LATENCY (0: off)",
	"hash-max-listpack-entries":   "accepted for compatibility; sessiond's layouts do not depend on it",
	"hash-max-listpack-value":     "accepted for compatibility; sessiond's layouts do not depend on it",
	"hash-max-ziplist-entries":    "accepted for compatibility; sessiond's layouts do not depend on it",
	"hash-max-ziplist-value":      "accepted for compatibility; sessiond's layouts do not depend on it",
	"zset-max-listpack-entries":   "accepted for compatibility; sessiond's layouts do not depend on it",
	"zset-max-listpack-value":     "accepted for compatibility; sessiond's layouts do not depend on it",
	"zset-max-ziplist-entries":    "accepted for compatibility; sessiond's layouts do not depend on it",
	"zset-max-ziplist-value":      "accepted for compatibility; sessiond's layouts do not depend on it",
	"lazyfree-lazy-eviction":      "evictions free in the background (as lazyfree-lazy-user-del)",
	"lazyfree-lazy-expire":        "expiries free in the background (as lazyfree-lazy-user-del)",
	"lazyfree-lazy-server-del":    "implicit deletions free in the background (as lazyfree-lazy-user-del)",
	"replica-lazy-flush":          "accepted for compatibility (sessiond has no Redis replication)",
	"lfu-log-factor":              "LFU counter growth: higher makes the counter saturate more slowly",
	"lfu-decay-time":              "minutes after which an LFU counter is halved (0: never)",
	"maxmemory-samples":           "keys sampled per eviction (LRU, LFU and TTL policies)",
	"session-max-per-owner":       "most live sessions per owner (0: no limit)",
	"session-limit-policy":        "at the owner limit: evict-oldest (revoke the least recently used) or refuse",
	"session-binding-mismatch":    "on a BIND fingerprint mismatch: reject the request, or revoke the session",
	"session-events-stream":       "stream key that also receives every session lifecycle event (empty: off)",
	"session-events-maxlen":       "entries kept in session-events-stream (0: no cap)",
	"set-max-intset-entries":      "accepted for compatibility; sessiond's layouts do not depend on it",
	"list-max-listpack-size":      "accepted for compatibility; sessiond's layouts do not depend on it",
	"list-max-ziplist-size":       "accepted for compatibility; sessiond's layouts do not depend on it",
	"list-compress-depth":         "accepted for compatibility; sessiond's layouts do not depend on it",
	"lua-time-limit":              "milliseconds after which a running script makes others answer BUSY",
	"active-expire-effort":        "effort of active expiry, 1-10 (more CPU, fewer expired keys left)",
	"session-idle-timeout":        "seconds a session lives without being touched (0: no idle deadline)",
	"session-absolute-timeout":    "seconds a session lives at most (0: no absolute deadline)",
	"session-detached-timeout":    "seconds a detached session lives (0: none)",
	"session-auto-touch":          "SESS.GET touches the session (pushes its idle deadline)",
	"session-rotate-grace":        "seconds a rotated session token keeps working",
	"session-replay-revoke":       "a rotated token used after its grace revokes the session",
	"notify-session-events":       "publish session lifecycle events on __sessions__",
	"token-default-ttl":           "default lifetime of transition tokens in seconds (0: none)",
	"token-disown-timeout":        "seconds a token outlives the session it belonged to",
	"jwt-algorithm":               "JWT signing algorithm: eddsa or hs256",
	"jwt-secret":                  "HS256 secret (at least 32 bytes)",
	"jwt-issuer":                  "iss claim of issued JWTs",
	"jwt-access-ttl":              "lifetime of access JWTs in seconds",
	"jwt-refresh-ttl":             "lifetime of a refresh token family in seconds",
	"metrics-port":                "port of the Prometheus endpoint /metrics and /health (0: off)",
	"metrics-bind":                "address of the Prometheus endpoint",
}

// Doc returns what a parameter means ("" when undocumented).
func (p *Param) Doc() string { return docs[p.Name] }

// Usage writes the command line's help: the usage line, then every
// parameter with its default and meaning, from the parameter table.
func (c *Config) Usage(w io.Writer) {
	fmt.Fprint(w, `Usage: sessiond [config-file] [--name value ...]
       sessiond check [--repair] data-file
       sessiond -v | --version
       sessiond -h | --help

The config file holds "name value" lines (as redis.conf); --name value flags
override it. Parameters, with their defaults:

`)
	width := 0
	for _, n := range c.names {
		width = max(width, len(n))
	}
	seen := map[*Param]bool{}
	for _, n := range c.names {
		p := c.params[n]
		if seen[p] {
			continue
		}
		seen[p] = true
		name := p.Name
		if p.Alias != "" {
			name += " (" + p.Alias + ")"
		}
		def := p.Default
		if def == "" {
			def = `""`
		}
		if p.Kind == Enum {
			def += " (" + strings.Join(p.Enum, "|") + ")"
		}
		fmt.Fprintf(w, "  --%-*s %s\n  %*s   default %s\n", width, name, p.Doc(), width, "", def)
	}
}
