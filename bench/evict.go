package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sessiond/sessiond/bench/proc"
	"github.com/sessiond/sessiond/bench/sessions"
	"github.com/sessiond/sessiond/bench/wire"
)

// The eviction scenarios (evict-<policy>) fill a fresh server past its
// maxmemory with sessions and plain keys, alternately, and report what is
// left: how many sessions and plain keys were evicted, used_memory against
// maxmemory, and RSS. Both servers get the same budget above their own
// baseline: maxmemory = used_memory at start + n × (data + value) / 2 (at
// least 4 MiB: Redis counts its clients' buffers in used_memory), while n
// (-evict-n, at most -n) sessions and n plain keys are written, so most of
// what is written must go. A write refused with OOM is counted, not failed. The plain keys have no TTL; the sessions have deadlines
// (on Redis, the session hash and token keys; the owner sets have none).

// evictPolicies are the policies the scenario runs, one row each.
var evictPolicies = []string{"allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-ttl"}

func (b *bench) evictions() error {
	for _, pol := range evictPolicies {
		name := "evict-" + pol
		if !b.cfg.want(name) {
			continue
		}
		r := b.row(name, kindEvict, "")
		if err := b.eachRound(r, func(k proc.Kind, round int) (measure, error) { return b.evict(k, pol, round) }); err != nil {
			return err
		}
	}
	return nil
}

// evict runs one round of evict-<policy> on one side.
func (b *bench) evict(k proc.Kind, policy string, round int) (m measure, err error) {
	dir := fmt.Sprintf("evict-%s-%s-r%d", k, policy, round)
	s, err := b.startSide(k, dir, "everysec")
	if err != nil {
		return m, err
	}
	defer func() {
		b.stopSide(s)
		if !b.cfg.keep {
			os.RemoveAll(filepath.Join(b.workdir, dir))
		}
	}()
	if err := s.lacks("SESS.NEW", "SESS.COUNT"); err != nil {
		return m, err
	}
	n := min(b.cfg.n, b.cfg.evictN)
	used0 := usedMemory(s.srv.Addr)
	budget := used0 + max(int64(n)*int64(b.cfg.dataSize+b.cfg.valueSize)/2, 4<<20)
	for _, kv := range [][2]string{{"maxmemory-policy", policy}, {"maxmemory", strconv.FormatInt(budget, 10)}} {
		if v := redisDo(s.srv.Addr, "CONFIG", "SET", kv[0], kv[1]); v == nil {
			return m, fmt.Errorf("CONFIG SET %s %s refused", kv[0], kv[1])
		}
	}
	data, value := filler(b.cfg.dataSize, 'A'), filler(b.cfg.valueSize, 'v')
	var refused atomic.Int64
	// A write refused with OOM (a volatile policy with nothing volatile
	// left) is counted, not a failure: it is what the policy must do.
	check := func(ok func(v *wire.Value) error) func(int64, *wire.Value) error {
		return func(_ int64, v *wire.Value) error {
			if v.IsError() && bytes.HasPrefix(v.Str, []byte("OOM")) {
				refused.Add(1)
				return nil
			}
			return ok(v)
		}
	}
	const chunks = 10
	var seed atomic.Uint64
	start := time.Now()
	for c := 0; c < chunks; c++ {
		from, cnt := int64(c*n/chunks), (c+1)*n/chunks-c*n/chunks
		if cnt == 0 {
			continue
		}
		_, err := bulk(b.ctx, s.srv.Addr, cnt, func(int) func(int64, *wire.Writer) {
			r := newRand(seed.Add(1))
			var ns sessions.NewSession
			return func(i int64, w *wire.Writer) {
				ns = sessions.NewSession{Token: randomToken(r, 32), Handle: randomToken(r, 16),
					Owner: "u" + strconv.FormatInt((from+i)/4, 10), Data: data, Idle: 3600, Absolute: 86400}
				s.api.WriteCreate(w, &ns)
			}
		}, check(func(v *wire.Value) error { _, err := s.api.ParseCreate(v); return err }))
		if err != nil {
			return m, fmt.Errorf("sessions %d..: %w", from, err)
		}
		_, err = bulk(b.ctx, s.srv.Addr, cnt, func(int) func(int64, *wire.Writer) {
			var kb []byte
			return func(i int64, w *wire.Writer) {
				kb = strconv.AppendInt(append(kb[:0], "plain:"...), from+i, 10)
				w.Begin(3)
				w.Str("SET")
				w.Bytes(kb)
				w.Bytes(value)
			}
		}, check(func(v *wire.Value) error {
			if v.Kind != wire.Simple || string(v.Str) != "OK" {
				return fmt.Errorf("SET: unexpected reply %s", v.Text())
			}
			return nil
		}))
		if err != nil {
			return m, fmt.Errorf("plain keys %d..: %w", from, err)
		}
	}
	el := time.Since(start)
	rss, _, err := settledRSS(s.srv.RSS)
	if err != nil {
		return m, err
	}
	used := usedMemory(s.srv.Addr)
	sess, plain := countEvictScenario(s)
	evicted := infoInt(s.srv.Addr, "stats", "evicted_keys")
	m.Value = float64(rss) / (1 << 20)
	m.Note = fmt.Sprintf("%s: sessions kept %d/%d, plain kept %d/%d; evicted_keys %d; %d writes refused (OOM); used_memory %s of maxmemory %s (start %s); RSS %s; %d writes at %.0f/s",
		policy, sess, n, plain, n, evicted, refused.Load(), mib(used), mib(budget), mib(used0), mib(rss), 2*n, float64(2*n)/el.Seconds())
	if used > budget+budget/50 {
		m.Note += "; OVER maxmemory"
	}
	if s.kind == proc.Redis {
		// Redis evicts a session's keys one by one: a hash may stay
		// without its token key (a session nobody can use) and owner sets
		// keep handles of evicted sessions.
		m.Note += fmt.Sprintf("; token keys kept %d, owner sets %d", scanCount(s.srv.Addr, "sess:t:*"), scanCount(s.srv.Addr, "sess:o:*"))
	}
	return m, nil
}

// countEvictScenario counts the sessions and plain keys left: SESS.COUNT and
// DBSIZE on sessiond (sessions are not keys there), SCAN by prefix on Redis.
func countEvictScenario(s *side) (sessions, plain int64) {
	if s.kind == proc.Sessiond {
		return countItems(s, variantSessions), countItems(s, variantPlain)
	}
	return scanCount(s.srv.Addr, "sess:h:*"), scanCount(s.srv.Addr, "plain:*")
}

// scanCount counts the keys matching pattern with SCAN.
func scanCount(addr, pattern string) int64 {
	c, err := wire.Dial(addr, 5*time.Second)
	if err != nil {
		return -1
	}
	defer c.Close()
	cursor, n := "0", int64(0)
	for i := 0; i < 10_000_000; i++ {
		var v wire.Value
		if err := c.Do(30*time.Second, &v, "SCAN", cursor, "MATCH", pattern, "COUNT", "1000"); err != nil || len(v.Elems) != 2 {
			return -1
		}
		cursor = string(v.Elems[0].Str)
		n += int64(len(v.Elems[1].Elems))
		if cursor == "0" {
			return n
		}
	}
	return -1
}

// infoInt returns one integer field of an INFO section, -1 if absent.
func infoInt(addr, section, field string) int64 {
	v := redisDo(addr, "INFO", section)
	if v == nil || v.Kind != wire.Bulk {
		return -1
	}
	for _, line := range strings.Split(string(v.Str), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			if n, err := strconv.ParseInt(strings.TrimSpace(rest), 10, 64); err == nil {
				return n
			}
		}
	}
	return -1
}
