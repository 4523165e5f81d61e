package commands_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

const oomErr = "OOM command not allowed when used memory > 'maxmemory'."

// infoInt reads one integer field of INFO.
func infoInt(t testing.TB, c *redis.Client, section, field string) int64 {
	t.Helper()
	v := infoField(t, c, section, field)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t.Fatalf("%s: %q", field, v)
	}
	return n
}

func usedMemory(t testing.TB, c *redis.Client) int64 {
	t.Helper()
	return infoInt(t, c, "memory", "used_memory")
}

// limitTo sets maxmemory to used_memory + extra (extra < 0: below it, which
// makes CONFIG SET evict at once) under the given policy.
func limitTo(t testing.TB, c *redis.Client, policy string, extra int64) int64 {
	t.Helper()
	do(t, c, "config", "set", "maxmemory-policy", policy)
	max := usedMemory(t, c) + extra
	do(t, c, "config", "set", "maxmemory", max)
	return max
}

func unlimit(t testing.TB, c *redis.Client) {
	t.Helper()
	do(t, c, "config", "set", "maxmemory", "0", "maxmemory-policy", "noeviction", "maxmemory-samples", "5")
}

func exists(t testing.TB, c *redis.Client, key string) bool {
	t.Helper()
	n, err := c.Exists(bg, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	return n == 1
}

// used_memory follows the data set exactly: a SET then a DEL of the same
// key leave it where it was, and MEMORY USAGE grows with the value.
func TestUsedMemoryTracksDataSet(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		before := usedMemory(t, c)
		do(t, c, "set", "k", strings.Repeat("x", 10000))
		during := usedMemory(t, c)
		if during < before+10000 || during > before+11000 {
			t.Fatalf("used_memory %d -> %d after a 10000-byte SET", before, during)
		}
		small := do(t, c, "memory", "usage", "k").(int64)
		if small < 10000 || small > 11000 {
			t.Fatalf("MEMORY USAGE of a 10000-byte value = %d", small)
		}
		do(t, c, "del", "k")
		if after := usedMemory(t, c); after != before {
			t.Fatalf("used_memory %d after SET+DEL, was %d", after, before)
		}
		// A set's members count as they are added and go with UNLINK.
		args := []any{"sadd", "s"}
		for i := 0; i < 1000; i++ {
			args = append(args, i)
		}
		do(t, c, args...)
		if grown := usedMemory(t, c); grown < before+100000 {
			t.Fatalf("used_memory %d after 1000 members, was %d", grown, before)
		}
		do(t, c, "unlink", "s")
		if after := usedMemory(t, c); after != before {
			t.Fatalf("used_memory %d after UNLINK, was %d", after, before)
		}
		for _, f := range []string{"lazyfree_pending_objects", "used_memory_dataset", "used_memory_peak"} {
			infoInt(t, c, "memory", f)
		}
	})
}

// noeviction: commands that may grow memory get OOM, the others run; MULTI
// and scripts are refused as in Redis.
func TestMaxmemoryNoeviction(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		defer unlimit(t, c)
		do(t, c, "set", "keep", "1")
		limitTo(t, c, "noeviction", 20000)
		refused := 0
		for i := 0; i < 1000 && refused == 0; i++ {
			err := c.Set(bg, fmt.Sprint("k", i), strings.Repeat("v", 100), 0).Err()
			if err != nil {
				if err.Error() != oomErr {
					t.Fatalf("SET: %v", err)
				}
				refused = i
			}
		}
		if refused == 0 {
			t.Fatal("1000 SETs of 100 bytes fit in 20 KB")
		}
		testserver.Run(t, c, []testserver.Case{
			{Cmd: []any{"set", "x", "1"}, WantErr: "OOM command not allowed"},
			{Cmd: []any{"incr", "keep"}, WantErr: "OOM command not allowed"},
			{Cmd: []any{"sess.new"}, WantErr: "OOM command not allowed"},
			{Cmd: []any{"get", "keep"}, Want: "1"},
			{Cmd: []any{"expire", "keep", "100"}, Want: int64(1)},
			{Cmd: []any{"eval", "redis.call('set', 'x', 1)", "0"}, WantErr: "OOM command not allowed"},
			{Cmd: []any{"eval", "#!lua\nredis.call('get', 'x')", "0"}, WantErr: "OOM command not allowed"},
			{Cmd: []any{"eval", "#!lua flags=no-writes\nreturn redis.call('get', 'keep')", "0"}, Want: "1"},
			{Cmd: []any{"multi"}, Want: "OK"},
			{Cmd: []any{"get", "keep"}, WantErr: "OOM command not allowed"},
			{Cmd: []any{"exec"}, WantErr: "EXECABORT"},
			{Cmd: []any{"info", "stats"}, Any: true},
		})
		if n := infoInt(t, c, "stats", "evicted_keys"); n != 0 {
			t.Fatalf("evicted_keys %d under noeviction", n)
		}
		// Deleting makes room again.
		do(t, c, "flushall")
		do(t, c, "set", "x", "1")
	})
}

// Pipelined writes of many clients share transactions in the event loop:
// eviction runs there too, and used_memory never ends above the limit by
// more than one write.
func TestMaxmemoryEvictsInPipelines(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		defer unlimit(t, c)
		max := limitTo(t, c, "allkeys-lru", 50000)
		done := make(chan error, 4)
		for w := 0; w < 4; w++ {
			go func(w int) {
				cl := s.Client(2)
				p := cl.Pipeline()
				for i := 0; i < 500; i++ {
					p.Set(bg, fmt.Sprintf("w%d:%d", w, i), strings.Repeat("v", 200), 0)
				}
				_, err := p.Exec(bg)
				done <- err
			}(w)
		}
		for w := 0; w < 4; w++ {
			if err := <-done; err != nil {
				t.Fatalf("pipeline: %v", err)
			}
		}
		if used := usedMemory(t, c); used > max {
			t.Fatalf("used_memory %d over maxmemory %d", used, max)
		}
		if n := infoInt(t, c, "stats", "evicted_keys"); n < 1000 {
			t.Fatalf("evicted_keys %d after writing 400 KB into 50 KB", n)
		}
	})
}

// The volatile policies never evict a key without a TTL, the allkeys ones
// may; both bring memory under the limit.
func TestMaxmemoryPolicies(t *testing.T) {
	s := testserver.Start(t)
	for _, policy := range []string{"allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"} {
		t.Run(policy, func(t *testing.T) {
			s.Protocols(t, func(t *testing.T, c *redis.Client) {
				defer unlimit(t, c)
				do(t, c, "config", "resetstat")
				for i := 0; i < 100; i++ {
					do(t, c, "set", fmt.Sprint("p:", i), strings.Repeat("p", 100))
					do(t, c, "set", fmt.Sprint("v:", i), strings.Repeat("v", 100), "EX", 1000+i)
				}
				// Room for about half the keys: CONFIG SET evicts at once.
				max := limitTo(t, c, policy, -15000)
				if used := usedMemory(t, c); used > max {
					t.Fatalf("used_memory %d over maxmemory %d", used, max)
				}
				evicted := infoInt(t, c, "stats", "evicted_keys")
				if evicted == 0 {
					t.Fatal("nothing evicted")
				}
				p, v := 0, 0
				for i := 0; i < 100; i++ {
					if exists(t, c, fmt.Sprint("p:", i)) {
						p++
					}
					if exists(t, c, fmt.Sprint("v:", i)) {
						v++
					}
				}
				if int64(200-p-v) != evicted {
					t.Fatalf("%d keys gone, evicted_keys %d", 200-p-v, evicted)
				}
				if strings.HasPrefix(policy, "volatile") && p != 100 {
					t.Fatalf("%s evicted %d keys without TTL", policy, 100-p)
				}
				// Writes go on: each evicts what it needs.
				for i := 0; i < 50; i++ {
					do(t, c, "set", fmt.Sprint("n:", i), strings.Repeat("n", 100), "EX", 5000)
				}
				if used := usedMemory(t, c); used > max {
					t.Fatalf("used_memory %d over maxmemory %d after writes", used, max)
				}
			})
		})
	}
}

// With only keys without TTL, the volatile policies have nothing to evict:
// writes get OOM.
func TestMaxmemoryVolatileWithoutCandidates(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		defer unlimit(t, c)
		for i := 0; i < 50; i++ {
			do(t, c, "set", fmt.Sprint("p:", i), strings.Repeat("p", 100))
		}
		limitTo(t, c, "volatile-lru", -1)
		testserver.Run(t, c, []testserver.Case{
			{Cmd: []any{"set", "x", "1"}, WantErr: "OOM command not allowed"},
			{Cmd: []any{"dbsize"}, Want: int64(50)},
		})
	})
}

// Eviction order: volatile-ttl takes the nearest deadline, LRU the longest
// idle (a touched key stays), LFU the least frequent. Few candidates and 64
// samples make the choice exact.
func TestMaxmemoryEvictionOrder(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		defer unlimit(t, c)
		do(t, c, "config", "set", "maxmemory-samples", "64")
		evictOne := func(policy string) {
			t.Helper()
			limitTo(t, c, policy, -1)
			do(t, c, "config", "set", "maxmemory", "0")
		}
		// volatile-ttl: nearest deadline first; keys without TTL stay.
		do(t, c, "set", "plain", "x")
		for i := 1; i <= 5; i++ {
			do(t, c, "set", fmt.Sprint("t", i), "x", "EX", 100*(6-i)) // t5 nearest
		}
		for _, gone := range []string{"t5", "t4", "t3"} {
			evictOne("volatile-ttl")
			if exists(t, c, gone) {
				t.Fatalf("volatile-ttl kept %s (nearest deadline)", gone)
			}
		}
		if !exists(t, c, "t1") || !exists(t, c, "t2") || !exists(t, c, "plain") {
			t.Fatal("volatile-ttl evicted more than the nearest deadlines")
		}

		// allkeys-lru: idle times set by RESTORE IDLETIME; reading k5 makes it
		// the most recent.
		do(t, c, "flushall")
		do(t, c, "set", "src", "x")
		dump := do(t, c, "dump", "src")
		do(t, c, "del", "src")
		for i := 1; i <= 5; i++ {
			do(t, c, "restore", fmt.Sprint("k", i), "0", dump, "IDLETIME", 1000*i)
		}
		do(t, c, "get", "k5")
		evictOne("allkeys-lru")
		if exists(t, c, "k4") || !exists(t, c, "k5") {
			t.Fatalf("allkeys-lru: k4 (idlest) exists %v, k5 (just read) exists %v", exists(t, c, "k4"), exists(t, c, "k5"))
		}

		// allkeys-lfu: the lowest counter goes.
		do(t, c, "flushall")
		for i := 1; i <= 5; i++ {
			do(t, c, "restore", fmt.Sprint("f", i), "0", dump, "FREQ", 10*i)
		}
		do(t, c, "config", "set", "maxmemory-policy", "allkeys-lfu")
		if f := do(t, c, "object", "freq", "f3"); f != int64(30) {
			t.Fatalf("OBJECT FREQ f3 = %v", f)
		}
		evictOne("allkeys-lfu")
		if exists(t, c, "f1") || !exists(t, c, "f2") {
			t.Fatal("allkeys-lfu did not evict the least frequent key")
		}
	})
}

// OBJECT IDLETIME and FREQ report what eviction uses, in Redis' words.
func TestObjectIdletimeFreq(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		defer unlimit(t, c)
		do(t, c, "set", "src", "x")
		dump := do(t, c, "dump", "src")
		do(t, c, "restore", "old", "0", dump, "IDLETIME", "1000")
		idle := do(t, c, "object", "idletime", "old").(int64)
		if idle < 1000 || idle > 1010 {
			t.Fatalf("OBJECT IDLETIME after RESTORE IDLETIME 1000 = %d", idle)
		}
		// OBJECT itself is not an access; GET is.
		if again := do(t, c, "object", "idletime", "old").(int64); again < 1000 {
			t.Fatalf("OBJECT IDLETIME touched the key: %d", again)
		}
		do(t, c, "get", "old")
		if idle := do(t, c, "object", "idletime", "old").(int64); idle > 1 {
			t.Fatalf("OBJECT IDLETIME after GET = %d", idle)
		}
		testserver.Run(t, c, []testserver.Case{
			{Cmd: []any{"object", "freq", "old"}, WantErr: "ERR An LFU maxmemory policy is not selected"},
			{Cmd: []any{"restore", "bad", "0", dump, "FREQ", "256"}, WantErr: "ERR Invalid FREQ value"},
			{Cmd: []any{"config", "set", "maxmemory-policy", "allkeys-lfu"}, Want: "OK"},
			{Cmd: []any{"object", "idletime", "old"}, WantErr: "ERR An LFU maxmemory policy is selected"},
			{Cmd: []any{"set", "new", "x"}, Want: "OK"},
			{Cmd: []any{"object", "freq", "new"}, Want: int64(5)}, // LFU_INIT_VAL
			{Cmd: []any{"restore", "hot", "0", dump, "FREQ", "100"}, Want: "OK"},
			{Cmd: []any{"object", "freq", "hot"}, Want: int64(100)},
			{Cmd: []any{"object", "freq", "missing"}, Want: nil},
		})
		// The counter grows with accesses, logarithmically.
		for i := 0; i < 200; i++ {
			do(t, c, "get", "new")
		}
		if f := do(t, c, "object", "freq", "new").(int64); f <= 5 || f > 40 {
			t.Fatalf("OBJECT FREQ after 200 reads = %d", f)
		}
	})
}

// An evicted session is a user logged out: its token answers unknown, the
// counts and owner index agree, and __sessions__ says "evicted". Sessions
// have deadlines, so volatile-ttl takes the one nearest to its end.
func TestMaxmemoryEvictsSessions(t *testing.T) {
	s := testserver.Start(t, "notify-session-events", "yes")
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		defer unlimit(t, c)
		sub := s.Client(3).Subscribe(bg, "__sessions__")
		defer sub.Close()
		if _, err := sub.Receive(bg); err != nil {
			t.Fatal(err)
		}
		ch := sub.Channel()
		do(t, c, "config", "set", "maxmemory-samples", "64")
		near := newSess(t, c, "OWNER", "alice", "IDLE", "60")
		far := newSess(t, c, "OWNER", "alice", "IDLE", "6000")
		other := newSess(t, c, "OWNER", "bob", "IDLE", "6000")
		do(t, c, "set", "plain", strings.Repeat("x", 100))
		for _, want := range []string{"created " + near.handle, "created " + far.handle, "created " + other.handle} {
			select {
			case m := <-ch:
				if m.Payload != want {
					t.Fatalf("event %q, want %q", m.Payload, want)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("no event %q", want)
			}
		}
		limitTo(t, c, "volatile-ttl", -1)
		select {
		case m := <-ch:
			if m.Payload != "evicted "+near.handle {
				t.Fatalf("event %q, want evicted %s", m.Payload, near.handle)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no evicted event")
		}
		wantReason(t, validate(t, c, near.token, 1), "unknown")
		if m := validate(t, c, far.token, 1); m["ok"] != int64(1) {
			t.Fatalf("the far session was hit: %v", m)
		}
		testserver.Run(t, c, []testserver.Case{
			{Cmd: []any{"sess.count"}, Want: int64(2)},
			{Cmd: []any{"sess.count", "OWNER", "alice"}, Want: int64(1)},
			{Cmd: []any{"sess.count", "OWNER", "bob"}, Want: int64(1)},
			{Cmd: []any{"get", "plain"}, Want: strings.Repeat("x", 100)},
		})
		if n := infoInt(t, c, "sessions", "sessions_evicted"); n < 1 {
			t.Fatalf("sessions_evicted %d", n)
		}
		// allkeys-lru may log everyone out: the owner index empties with them.
		unlimit(t, c)
		do(t, c, "del", "plain")
		limitTo(t, c, "allkeys-random", -3000)
		do(t, c, "config", "set", "maxmemory", "0")
		testserver.Run(t, c, []testserver.Case{
			{Cmd: []any{"sess.count"}, Want: int64(0)},
			{Cmd: []any{"sess.count", "OWNER", "alice"}, Want: int64(0)},
			{Cmd: []any{"sess.list", "OWNER", "alice"}, Want: []any{}},
		})
	})
}

// MEMORY STATS reports the parts of used_memory; DOCTOR and PURGE answer.
func TestMemoryStatsDoctorPurge(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		do(t, c, "set", "a", strings.Repeat("x", 1000))
		v := do(t, c, "memory", "stats")
		m := map[string]any{}
		switch x := v.(type) {
		case []any:
			for i := 0; i+1 < len(x); i += 2 {
				m[x[i].(string)] = x[i+1]
			}
		case map[any]any:
			for k, val := range x {
				m[k.(string)] = val
			}
		default:
			t.Fatalf("MEMORY STATS: %T", v)
		}
		used := usedMemory(t, c)
		if m["total.allocated"] != used || m["keys.count"] != int64(1) {
			t.Fatalf("MEMORY STATS %v, used_memory %d", m, used)
		}
		if d := m["dataset.bytes"].(int64); d < 1000 || d != used-m["startup.allocated"].(int64) {
			t.Fatalf("dataset.bytes %d", d)
		}
		if _, ok := m["dataset.percentage"]; !ok {
			t.Fatal("no dataset.percentage")
		}
		if doc := do(t, c, "memory", "doctor").(string); !strings.Contains(doc, "Sam") {
			t.Fatalf("MEMORY DOCTOR: %q", doc)
		}
		testserver.Run(t, c, []testserver.Case{
			{Cmd: []any{"memory", "purge"}, Want: "OK"},
			{Cmd: []any{"memory", "stats", "x"}, WantErr: "ERR wrong number of arguments for 'memory|stats' command"},
		})
	})
}

// CLIENT NO-TOUCH: the client's reads are not accesses (TOUCH still is).
func TestClientNoTouchKeepsIdletime(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		do(t, c, "set", "src", "x")
		dump := do(t, c, "dump", "src")
		do(t, c, "restore", "old", "0", dump, "IDLETIME", "1000")
		cn := c.Conn()
		defer cn.Close()
		if err := cn.Do(bg, "client", "no-touch", "on").Err(); err != nil {
			t.Fatal(err)
		}
		cn.Get(bg, "old")
		if idle := do(t, c, "object", "idletime", "old").(int64); idle < 1000 {
			t.Fatalf("a NO-TOUCH GET reset the idle time: %d", idle)
		}
		cn.Touch(bg, "old")
		if idle := do(t, c, "object", "idletime", "old").(int64); idle > 1 {
			t.Fatalf("TOUCH from a NO-TOUCH client: idle time %d", idle)
		}
	})
}

// An evicted key publishes the keyspace event "evicted" (class e).
func TestEvictedKeyspaceEvent(t *testing.T) {
	s := testserver.Start(t, "notify-keyspace-events", "Ee")
	c := s.Client(2)
	sub := dialRaw(t, s)
	sub.send("psubscribe", "__keyevent*__:*")
	sub.read()
	do(t, c, "set", "foo", "bar")
	do(t, c, "config", "set", "maxmemory-policy", "allkeys-lru")
	do(t, c, "config", "set", "maxmemory", "1")
	expect(t, sub, "[pmessage __keyevent*__:* __keyevent@0__:evicted foo]")
	unlimit(t, c)
}
