package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Settings sessiond does not support are refused when the server starts, so
// an operator never runs with a setting silently ignored. Two kinds: Redis
// parameters sessiond does not declare at all (Unsupported words the
// refusal), and declared parameters some of whose values it cannot honour
// (CheckStartup).

// unsupported names Redis parameters sessiond deliberately lacks, with why.
var unsupported = map[string]string{
	"cluster-enabled":        "sessiond has no Redis Cluster mode",
	"cluster-config-file":    "sessiond has no Redis Cluster mode",
	"cluster-node-timeout":   "sessiond has no Redis Cluster mode",
	"replicaof":              "sessiond has no replication",
	"slaveof":                "sessiond has no replication",
	"masterauth":             "sessiond has no replication",
	"masteruser":             "sessiond has no replication",
	"replica-read-only":      "sessiond has no replication",
	"repl-diskless-sync":     "sessiond has no replication",
	"unixsocketperm":         "sessiond listens on TCP only (no unix socket)",
	"supervised":             "sessiond runs in the foreground; let the supervisor (systemd, a container runtime) manage it",
	"pidfile":                "sessiond writes no pid file; its supervisor knows the pid",
	"rdbcompression":         "sessiond writes no RDB file (its data file is its own format)",
	"rdbchecksum":            "sessiond writes no RDB file (its data file is its own format)",
	"aof-use-rdb-preamble":   "sessiond's data file is its own format",
	"appenddirname":          "sessiond keeps one data file, appendfilename in dir",
	"loadmodule":             "sessiond has no modules",
	"syslog-enabled":         "sessiond logs to logfile or stdout (log-format json suits log collectors)",
	"activedefrag":           "sessiond's memory is managed by the Go runtime",
	"io-threads-do-reads":    "sessiond's event loops always read (io-threads sets how many)",
	"always-show-logo":       "sessiond prints no logo",
	"set-proc-title":         "sessiond does not rename its process",
	"oom-score-adj":          "sessiond does not adjust its OOM score",
	"disable-thp":            "sessiond does not change transparent huge pages",
	"lua-replicate-commands": "sessiond has no replication",
}

// Unsupported returns why sessiond refuses the Redis parameter name, or ""
// when it is not one it knows to refuse.
func Unsupported(name string) string { return unsupported[strings.ToLower(name)] }

// ExplainUnknown turns an ErrUnknown for name into an error that says why
// the parameter is refused, when that is known.
func ExplainUnknown(name string, err error) error {
	if errors.Is(err, ErrUnknown) {
		if why := Unsupported(name); why != "" {
			return fmt.Errorf("%s is not supported: %s", name, why)
		}
	}
	return err
}

// CheckStartup refuses values of declared parameters that sessiond cannot
// honour, naming each: a unix socket, daemonizing, more than one bind
// address. The server calls it before it binds or opens anything.
func (c *Config) CheckStartup() error {
	var errs []string
	if v := c.Get("unixsocket"); v != "" {
		errs = append(errs, fmt.Sprintf("unixsocket %q: sessiond listens on TCP only (remove unixsocket)", v))
	}
	if c.Bool("daemonize") {
		errs = append(errs, "daemonize yes: sessiond runs in the foreground; let the supervisor (systemd, a container runtime) run it in the background")
	}
	if f := strings.Fields(c.Get("bind")); len(f) != 1 {
		errs = append(errs, fmt.Sprintf("bind %q: sessiond listens on exactly one address", c.Get("bind")))
	}
	if len(errs) > 0 {
		return fmt.Errorf("unsupported settings: %s", strings.Join(errs, "; "))
	}
	return nil
}

// SaveRule is one "save <seconds> <changes>" rule: snapshot when at least
// Changes writes happened and Seconds passed since the last snapshot.
type SaveRule struct {
	Seconds, Changes int64
}

// SaveRules parses the save parameter ("" or pairs of numbers).
func SaveRules(v string) ([]SaveRule, error) {
	f := strings.Fields(v)
	if len(f)%2 != 0 {
		return nil, errors.New("Invalid save parameters")
	}
	var rules []SaveRule
	for i := 0; i < len(f); i += 2 {
		s, err1 := strconv.ParseInt(f[i], 10, 64)
		n, err2 := strconv.ParseInt(f[i+1], 10, 64)
		if err1 != nil || err2 != nil || s < 0 || n < 0 {
			return nil, errors.New("Invalid save parameters")
		}
		rules = append(rules, SaveRule{Seconds: s, Changes: n})
	}
	return rules, nil
}

func checkSave(v string) error {
	if strings.TrimSpace(v) == "" || v == `""` {
		return nil
	}
	_, err := SaveRules(v)
	return err
}
