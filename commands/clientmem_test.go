package commands_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

// clientField returns field f of the CLIENT LIST line of the client named
// name ("" when there is no such client).
func clientField(t *testing.T, c *redis.Client, name, f string) string {
	t.Helper()
	list, err := c.ClientList(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(list, "\n") {
		if !strings.Contains(line, " name="+name+" ") {
			continue
		}
		for _, kv := range strings.Fields(line) {
			if k, v, ok := strings.Cut(kv, "="); ok && k == f {
				return v
			}
		}
		t.Fatalf("no field %s in %q", f, line)
	}
	return ""
}

func clientInt(t *testing.T, c *redis.Client, name, f string) int64 {
	t.Helper()
	v := clientField(t, c, name, f)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t.Fatalf("%s of %s: %q", f, name, v)
	}
	return n
}

// A command that has not all arrived shows in qbuf (the unparsed rest: the
// payload of its current argument) and argv-mem (its complete arguments),
// as Redis shows it; once it runs, both are 0 again.
func TestClientListInputFields(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		raw := dialRaw(t, s)
		name := "partial" + strconv.Itoa(c.Options().Protocol)
		raw.send("CLIENT", "SETNAME", name)
		if got := raw.read(); got != "OK" {
			t.Fatal(got)
		}
		// SET k <100000 bytes>, of which 60000 are sent.
		head := "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\n"
		if _, err := raw.nc.Write([]byte(head + strings.Repeat("v", 60000))); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return clientInt(t, c, name, "qbuf") == 60000 })
		if got := clientInt(t, c, name, "argv-mem"); got != 4 {
			t.Errorf("argv-mem = %d, want 4 (SET and k)", got)
		}
		if got := clientInt(t, c, name, "tot-mem"); got < 60000 {
			t.Errorf("tot-mem = %d, want at least the 60000 bytes held", got)
		}
		if _, err := raw.nc.Write([]byte(strings.Repeat("v", 40000) + "\r\n")); err != nil {
			t.Fatal(err)
		}
		if got := raw.read(); got != "OK" {
			t.Fatal(got)
		}
		waitFor(t, func() bool { return clientInt(t, c, name, "qbuf") == 0 })
		if got := clientInt(t, c, name, "argv-mem"); got != 0 {
			t.Errorf("argv-mem = %d after the command ran", got)
		}
	})
}

// multi-mem counts the commands queued in MULTI, until EXEC.
func TestClientListMultiMem(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		tx := s.Client(c.Options().Protocol)
		conn := tx.Conn()
		defer conn.Close()
		name := "tx" + strconv.Itoa(c.Options().Protocol)
		conn.Do(ctx, "client", "setname", name)
		conn.Do(ctx, "multi")
		conn.Do(ctx, "set", "k", strings.Repeat("x", 50000))
		if got := clientInt(t, c, name, "multi-mem"); got < 50000 {
			t.Errorf("multi-mem = %d with a 50000-byte SET queued", got)
		}
		if err := conn.Do(ctx, "exec").Err(); err != nil {
			t.Fatal(err)
		}
		if got := clientInt(t, c, name, "multi-mem"); got != 0 {
			t.Errorf("multi-mem = %d after EXEC", got)
		}
	})
}

// A subscriber that does not read: its pending output shows in omem, and the
// pubsub class's hard limit disconnects it.
func TestClientListOmemAndPubsubHardLimit(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		if err := c.ConfigSet(ctx, "client-output-buffer-limit", "pubsub 2000000 0 0").Err(); err != nil {
			t.Fatal(err)
		}
		name := subscriberNotReading(t, s, c, "slowsub")
		msg := strings.Repeat("m", 10000)
		var most int64
		for i := 0; i < 5000; i++ {
			if err := c.Publish(ctx, "ch", msg).Err(); err != nil {
				t.Fatal(err)
			}
			v := clientField(t, c, name, "omem")
			if v == "" {
				break // disconnected
			}
			n, _ := strconv.ParseInt(v, 10, 64)
			most = max(most, n)
		}
		if clientField(t, c, name, "omem") != "" {
			t.Fatal("the subscriber is still connected past the hard limit")
		}
		if most <= 0 || most > 2000000 {
			t.Errorf("omem peaked at %d, want between 1 and the 2000000 limit", most)
		}
	})
}

func TestMaxmemoryClientsConfig(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		get := func(want string) {
			t.Helper()
			if got := c.ConfigGet(context.Background(), "maxmemory-clients").Val()["maxmemory-clients"]; got != want {
				t.Errorf("maxmemory-clients = %q, want %q", got, want)
			}
		}
		testserver.Run(t, c, []C{{Cmd: []any{"config", "set", "maxmemory-clients", "3mb"}, Want: "OK"}})
		get("3145728")
		testserver.Run(t, c, []C{{Cmd: []any{"config", "set", "maxmemory-clients", "7%"}, Want: "OK"}})
		get("7%")
		testserver.Run(t, c, []C{
			{Cmd: []any{"config", "set", "maxmemory-clients", "101%"}, WantErr: "ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - percentage argument must be less or equal to 100"},
			{Cmd: []any{"config", "set", "maxmemory-clients", "lots"}, WantErr: "ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - argument must be a memory or percent value"},
			{Cmd: []any{"config", "set", "maxmemory-clients", "0"}, Want: "OK"},
		})
	})
}

// sendPartial sends a command whose last argument has n of its n+1 bytes,
// so the server holds n bytes of input for the client.
func sendPartial(t *testing.T, r *rawConn, n int) {
	t.Helper()
	if _, err := r.nc.Write([]byte(fmt.Sprintf("*2\r\n$4\r\nECHO\r\n$%d\r\n%s", n+1, strings.Repeat("v", n)))); err != nil {
		t.Fatal(err)
	}
}

// Client eviction: when the clients together hold more than
// maxmemory-clients, the largest are disconnected until they fit; a client
// with CLIENT NO-EVICT on is never; INFO counts the evictions.
func TestClientEviction(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		c.Do(ctx, "client", "setname", "control")
		c.Do(ctx, "client", "no-evict", "on")
		before := infoInt(t, c, "stats", "evicted_clients")
		if err := c.ConfigSet(ctx, "maxmemory-clients", "4mb").Err(); err != nil {
			t.Fatal(err)
		}
		defer c.ConfigSet(ctx, "maxmemory-clients", "0")
		// Three clients of 100 KB, 200 KB and 1 MB of input, and one of
		// 1.5 MB that asked not to be evicted.
		p := strconv.Itoa(c.Options().Protocol)
		small, mid, big, keep := "small"+p, "mid"+p, "big"+p, "keep"+p
		sizes := map[string]int{small: 100 << 10, mid: 200 << 10, big: 1 << 20, keep: 1536 << 10}
		for name, n := range sizes {
			r := dialRaw(t, s)
			r.send("CLIENT", "SETNAME", name)
			r.read()
			if name == keep {
				r.send("CLIENT", "NO-EVICT", "on")
				r.read()
			}
			sendPartial(t, r, n)
			waitFor(t, func() bool { return clientInt(t, c, name, "qbuf") == int64(n) })
		}
		// 2 MB fit the "keep" client and the two small ones, not the big one.
		if err := c.ConfigSet(ctx, "maxmemory-clients", "2mb").Err(); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{small, mid, keep} {
			if clientField(t, c, name, "name") == "" {
				t.Errorf("%s was evicted", name)
			}
		}
		if clientField(t, c, big, "name") != "" {
			t.Error("the largest evictable client is still connected")
		}
		if got := infoInt(t, c, "stats", "evicted_clients") - before; got != 1 {
			t.Errorf("evicted_clients rose by %d, want 1", got)
		}
		if mem := infoInt(t, c, "memory", "mem_clients_normal"); mem > 2<<20 {
			t.Errorf("mem_clients_normal = %d over the 2 MB limit", mem)
		}
		// A client that grows past all the others is evicted as its input
		// arrives, and only it.
		if err := c.ConfigSet(ctx, "maxmemory-clients", "4mb").Err(); err != nil {
			t.Fatal(err)
		}
		r := dialRaw(t, s)
		r.send("CLIENT", "SETNAME", "grower"+p)
		r.read()
		sendPartial(t, r, 3<<20)
		waitFor(t, func() bool { return clientField(t, c, "grower"+p, "name") == "" })
		for _, name := range []string{small, mid, keep} {
			if clientField(t, c, name, "name") == "" {
				t.Errorf("%s was evicted for another client's input", name)
			}
		}
		c.Do(ctx, "client", "kill", "skipme", "yes")
	})
}

// WATCHed keys and subscriptions count towards a client's memory: a
// client that watches keys past the limit is disconnected.
func TestClientEvictionWatchedKeys(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		c.Do(ctx, "client", "no-evict", "on")
		if err := c.ConfigSet(ctx, "maxmemory-clients", "200000").Err(); err != nil {
			t.Fatal(err)
		}
		defer c.ConfigSet(ctx, "maxmemory-clients", "0")
		w := s.Client(c.Options().Protocol)
		conn := w.Conn()
		defer conn.Close()
		var err error
		n := 0
		for ; n < 100000 && err == nil; n++ {
			err = conn.Do(ctx, "watch", fmt.Sprintf("key:%d", n)).Err()
		}
		if err == nil {
			t.Fatal("a client watching 100000 keys was not evicted at 200000 bytes")
		}
		if n < 100 {
			t.Errorf("evicted after %d keys: the limit is far from reached", n)
		}
	})
}

// INFO latencystats: per-command percentiles while latency-tracking is
// yes, in the percentiles latency-tracking-info-percentiles names.
func TestLatencystats(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		stats := func() string {
			v, err := c.Info(ctx, "latencystats").Result()
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		c.ConfigResetStat(ctx)
		c.ConfigSet(ctx, "latency-tracking", "no")
		c.Set(ctx, "a", "b", 0)
		if strings.Contains(stats(), "latency_percentiles_usec_set:") {
			t.Error("SET tracked with latency-tracking no")
		}
		c.ConfigSet(ctx, "latency-tracking", "yes")
		c.Set(ctx, "a", "b", 0)
		c.Do(ctx, "client", "id")
		got := stats()
		for _, want := range []string{"latency_percentiles_usec_set:p50=", "latency_percentiles_usec_client|id:p50="} {
			if !strings.Contains(got, want) {
				t.Errorf("no %q in %q", want, got)
			}
		}
		testserver.Run(t, c, []C{
			{Cmd: []any{"config", "set", "latency-tracking-info-percentiles", "0.0 50.0 100.0"}, Want: "OK"},
			{Cmd: []any{"config", "set", "latency-tracking-info-percentiles", "10 50 a"}, WantErr: "ERR CONFIG SET failed (possibly related to argument 'latency-tracking-info-percentiles') - latency-tracking-info-percentiles: \"a\" is not a percentile between 0 and 100"},
			{Cmd: []any{"config", "set", "latency-tracking-info-percentiles", "10 101"}, WantErr: "ERR CONFIG SET failed (possibly related to argument 'latency-tracking-info-percentiles') - latency-tracking-info-percentiles: \"101\" is not a percentile between 0 and 100"},
		})
		if got := c.ConfigGet(ctx, "latency-tracking-info-percentiles").Val()["latency-tracking-info-percentiles"]; got != "0 50 100" {
			t.Errorf("latency-tracking-info-percentiles = %q, want 0 50 100", got)
		}
		if got := stats(); !strings.Contains(got, "latency_percentiles_usec_set:p0=") || !strings.Contains(got, ",p100=") {
			t.Errorf("percentiles not as configured: %q", got)
		}
		c.ConfigResetStat(ctx)
		if strings.Contains(stats(), "latency_percentiles_usec_set:") {
			t.Error("CONFIG RESETSTAT kept SET's latencies")
		}
		c.ConfigSet(ctx, "latency-tracking-info-percentiles", "50 99 99.9")
	})
}

// The pubsub class's soft limit disconnects a subscriber whose output stays
// over it for its seconds, also once the publishing has stopped (the
// server's periodic check applies the subscriber's class).
func TestPubsubSoftLimitWithoutTraffic(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		if err := c.ConfigSet(ctx, "client-output-buffer-limit", "pubsub 0 100000 1").Err(); err != nil {
			t.Fatal(err)
		}
		name := subscriberNotReading(t, s, c, "softsub")
		msg := strings.Repeat("m", 10000)
		for i := 0; ; i++ {
			if i == 10000 {
				t.Fatal("omem never passed the soft limit")
			}
			c.Publish(ctx, "ch", msg)
			v := clientField(t, c, name, "omem")
			if v == "" {
				t.Fatal("disconnected while publishing: the soft limit's seconds had not passed")
			}
			if n, _ := strconv.ParseInt(v, 10, 64); n > 100000 {
				break
			}
		}
		waitFor(t, func() bool { return clientField(t, c, name, "omem") == "" })
	})
}

// subscriberNotReading connects a client subscribed to "ch" that reads
// nothing more, and returns its name (prefix and c's protocol).
func subscriberNotReading(t *testing.T, s *testserver.Server, c *redis.Client, prefix string) string {
	raw := dialRaw(t, s)
	name := prefix + strconv.Itoa(c.Options().Protocol)
	raw.send("CLIENT", "SETNAME", name)
	raw.read()
	raw.send("SUBSCRIBE", "ch")
	raw.read()
	return name
}

// The caller's own line shows the command running now in its qbuf, as
// Redis does: CLIENT INFO is 26 bytes of RESP.
func TestClientInfoOwnQbuf(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		info, err := c.Do(context.Background(), "client", "info").Text()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(info, " qbuf=26 ") {
			t.Errorf("CLIENT INFO: %q, want qbuf=26", info)
		}
	})
}
