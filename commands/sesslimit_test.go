package commands_test

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

// Issue 18 over the socket: per-owner limits, client binding, the lifecycle
// stream, SESS.SET OWNER, SESS.VALIDATE WITHDATA, TOK.NEW UUID.

const okDataFields = "ok token nonce expires data"

func config(t testing.TB, c *redis.Client, kv ...string) {
	t.Helper()
	for i := 0; i+1 < len(kv); i += 2 {
		if err := c.ConfigSet(bg, kv[i], kv[i+1]).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSessOwnerLimit(t *testing.T) {
	s := testserver.Start(t, "session-max-per-owner", "2")
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		config(t, c, "session-limit-policy", "evict-oldest", "session-max-per-owner", "2", "notify-session-events", "no")
		// Last use is to the millisecond: the pauses make the order certain.
		a := newSess(t, c, "OWNER", "u")
		time.Sleep(2 * time.Millisecond)
		b := newSess(t, c, "OWNER", "u")
		time.Sleep(2 * time.Millisecond)
		do(t, c, "sess.touch", a.token) // b is now the least recently used
		x := newSess(t, c, "OWNER", "u")
		wantReason(t, validate(t, c, b.token, 1), "limit")
		testserver.Run(t, c, []C{
			{Cmd: []any{"sess.get", b.token}, Want: nil},
			{Cmd: []any{"sess.touch", b.token}, Want: int64(-2)},
			{Cmd: []any{"sess.count", "OWNER", "u"}, Want: int64(2)},
			{Cmd: []any{"sess.active", a.token}, Want: int64(1)},
			{Cmd: []any{"sess.active", x.token}, Want: int64(1)},
		})
		// MAXSESSIONS overrides the parameter, both ways.
		newSess(t, c, "OWNER", "u", "MAXSESSIONS", "1")
		testserver.Run(t, c, []C{{Cmd: []any{"sess.count", "OWNER", "u"}, Want: int64(1)}})
		for i := 0; i < 3; i++ {
			newSess(t, c, "OWNER", "u", "MAXSESSIONS", "0")
		}
		testserver.Run(t, c, []C{{Cmd: []any{"sess.count", "OWNER", "u"}, Want: int64(4)}})
		// refuse: an error, and nothing is created.
		config(t, c, "session-limit-policy", "refuse")
		testserver.Run(t, c, []C{
			{Cmd: []any{"sess.new", "OWNER", "u"}, WantErr: "LIMIT owner has reached 2 sessions"},
			{Cmd: []any{"sess.new", "OWNER", "u", "MAXSESSIONS", "4"}, WantErr: "LIMIT owner has reached 4 sessions"},
			{Cmd: []any{"sess.count", "OWNER", "u"}, Want: int64(4)},
			{Cmd: []any{"sess.count"}, Want: int64(4)},
			{Cmd: []any{"sess.new", "OWNER", "u", "MAXSESSIONS", "-1"}, WantErr: "ERR value is not an integer"},
			{Cmd: []any{"sess.new", "OWNER", "u", "MAXSESSIONS", "x"}, WantErr: "ERR value is not an integer"},
			{Cmd: []any{"sess.new", "OWNER", "u", "MAXSESSIONS"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"config", "set", "session-limit-policy", "lru"}, WantErr: "ERR"},
		})
		// Ownerless sessions have no limit.
		for i := 0; i < 3; i++ {
			newSess(t, c, "MAXSESSIONS", "1")
		}
		info := do(t, c, "info", "sessions").(string)
		if !strings.Contains(info, "sessions_limit_refused:") || !strings.Contains(info, "sessions_limit_evicted:") {
			t.Fatalf("INFO sessions:\n%s", info)
		}
	})
}

// Fifty clients create sessions for a few owners at once, under each
// policy: no owner is ever seen above its limit (a watcher counts all the
// time), and at the end every owner has exactly its limit.
func TestSessOwnerLimitConcurrent(t *testing.T) {
	for _, policy := range []string{"evict-oldest", "refuse"} {
		t.Run(policy, func(t *testing.T) {
			const limit, owners, clients, each = 3, 4, 50, 12
			s := testserver.Start(t, "session-max-per-owner", fmt.Sprint(limit), "session-limit-policy", policy)
			var wg sync.WaitGroup
			var created, refused atomic.Int64
			start := make(chan struct{})
			for i := 0; i < clients; i++ {
				c := s.Client(2 + i%2)
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					<-start
					for j := 0; j < each; j++ {
						err := c.Do(bg, "sess.new", "OWNER", fmt.Sprint("o", (i+j)%owners)).Err()
						switch {
						case err == nil:
							created.Add(1)
						case strings.HasPrefix(err.Error(), "LIMIT owner has reached 3 sessions"):
							refused.Add(1)
						default:
							t.Errorf("client %d: %v", i, err)
							return
						}
					}
				}(i)
			}
			done, watcherDone := make(chan struct{}), make(chan struct{})
			var watched atomic.Int64
			w := s.Client(3)
			go func() {
				defer close(watcherDone)
				for {
					select {
					case <-done:
						return
					default:
					}
					for o := 0; o < owners; o++ {
						n, err := w.Do(bg, "sess.count", "OWNER", fmt.Sprint("o", o)).Int64()
						if err != nil {
							t.Errorf("count: %v", err)
							return
						}
						if n > limit {
							t.Errorf("owner o%d has %d sessions, limit %d", o, n, limit)
						}
						watched.Add(1)
					}
				}
			}()
			close(start)
			wg.Wait()
			close(done)
			<-watcherDone
			c := s.Client(3)
			for o := 0; o < owners; o++ {
				if n := do(t, c, "sess.count", "OWNER", fmt.Sprint("o", o)); n != int64(limit) {
					t.Fatalf("owner o%d ends with %v sessions", o, n)
				}
			}
			total := int64(clients * each)
			if created.Load()+refused.Load() != total {
				t.Fatalf("created %d refused %d of %d", created.Load(), refused.Load(), total)
			}
			if policy == "refuse" && created.Load() != limit*owners {
				t.Fatalf("refuse created %d", created.Load())
			}
			if policy == "evict-oldest" && (created.Load() != total || s.Engine().SessionStats().LimitEvicted.Load() != total-limit*owners) {
				t.Fatalf("evict-oldest created %d, evicted %d", created.Load(), s.Engine().SessionStats().LimitEvicted.Load())
			}
			if watched.Load() == 0 {
				t.Fatal("the watcher never counted")
			}
		})
	}
}

func TestSessBinding(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		config(t, c, "session-binding-mismatch", "reject")
		a := newSess(t, c, "BIND", "ua+net", "DATA", "d")
		free := newSess(t, c, "DATA", "f")
		testserver.Run(t, c, []C{
			{Cmd: []any{"sess.get", a.token, "BIND", "ua+net"}, Want: "d"},
			{Cmd: []any{"sess.get", a.token, "BIND", "other"}, Want: nil},
			{Cmd: []any{"sess.get", a.token, "NOTOUCH", "BIND", "other"}, Want: nil},
			{Cmd: []any{"sess.get", a.token, "BIND", "ua+net", "TOUCH"}, Want: "d"},
			{Cmd: []any{"sess.touch", a.token, "BIND", "other"}, Want: int64(-2)},
			{Cmd: []any{"sess.touch", a.token, "IDLE", "100", "BIND", "ua+net"}, Want: int64(100_000)},
			{Cmd: []any{"sess.get", a.token}, Want: "d"}, // no BIND presented: not checked
			{Cmd: []any{"sess.get", free.token, "BIND", "anything"}, Want: "f"},
			{Cmd: []any{"sess.get", a.token, "BIND"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"sess.get", a.token, "BIND", "x", "BIND", "y"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"sess.touch", a.token, "BIND"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"sess.validate", a.token, 1, "BIND"}, WantErr: "ERR syntax error"},
		})
		wantReason(t, validate(t, c, a.token, 1, "BIND", "other"), "binding")
		v := validate(t, c, a.token, 1, "BIND", "ua+net")
		if v["ok"] != int64(1) {
			t.Fatalf("validate with the right fingerprint: %v", v)
		}
		// revoke: the mismatch ends the session.
		config(t, c, "session-binding-mismatch", "revoke")
		wantReason(t, validate(t, c, v["token"].(string), 2, "BIND", "stolen"), "binding")
		wantReason(t, validate(t, c, v["token"].(string), 2, "BIND", "ua+net"), "revoked")
		if do(t, c, "sess.get", free.token, "BIND", "anything") != "f" {
			t.Fatal("an unbound session refused a fingerprint")
		}
		info := do(t, c, "info", "sessions").(string)
		if !strings.Contains(info, "sessions_binding_mismatch:") {
			t.Fatalf("INFO sessions:\n%s", info)
		}
	})
}

// Fifty clients present the right and wrong fingerprints of one bound
// session at once: a wrong one never reads, touches or validates it; the
// right one always does (reject policy keeps the session).
func TestSessBindingConcurrent(t *testing.T) {
	s := testserver.Start(t)
	c := s.Client(3)
	a := newSess(t, c, "BIND", "right", "DATA", "secret-data")
	var wg sync.WaitGroup
	start := make(chan struct{})
	var validated atomic.Int64
	for i := 0; i < 50; i++ {
		cl := s.Client(2 + i%2)
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			fp := "right"
			if i%2 == 1 {
				fp = fmt.Sprint("wrong-", i)
			}
			for j := 0; j < 20; j++ {
				get, err := cl.Do(bg, "sess.get", a.token, "BIND", fp).Result()
				if (fp == "right") != (err == nil && get == "secret-data") {
					t.Errorf("client %d GET with %s: %v %v", i, fp, get, err)
					return
				}
				touch, err := cl.Do(bg, "sess.touch", a.token, "BIND", fp).Int64()
				if err != nil || (fp == "right") != (touch > 0) {
					t.Errorf("client %d TOUCH with %s: %v %v", i, fp, touch, err)
					return
				}
				v, err := cl.Do(bg, "sess.validate", a.token, j+1, "NOROTATE", "BIND", fp).Result()
				if err != nil {
					t.Errorf("validate: %v", err)
					return
				}
				m, _ := fieldMap(t, v)
				if fp != "right" && (m["ok"] != int64(0) || m["reason"] != "binding") {
					t.Errorf("client %d: a wrong fingerprint validated: %v", i, m)
					return
				}
				if m["ok"] == int64(1) {
					validated.Add(1)
				}
			}
		}(i)
	}
	close(start)
	wg.Wait()
	if st := s.Engine().SessionStats(); st.BindingMismatch.Load() != 25*20*3 {
		t.Fatalf("mismatches %d, want %d", st.BindingMismatch.Load(), 25*20*3)
	}
	if validated.Load() == 0 {
		t.Fatal("the right fingerprint never validated")
	}
}

type streamEvent struct{ event, handle, owner, reason string }

func (e streamEvent) String() string {
	return e.event + " " + e.handle + " " + e.owner + " " + e.reason
}

// TestSessEventStream: every lifecycle event, in order, in the stream,
// read back with XREADGROUP/XACK across a restart with nothing missing (and
// nothing acknowledged delivered again). Never a token.
func TestSessEventStream(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprint("RESP", proto), func(t *testing.T) {
			s := testserver.Start(t, "session-events-stream", "audit", "appendfsync", "always",
				"session-rotate-grace", "0", "session-max-per-owner", "1")
			c := s.Client(proto)
			if err := c.XGroupCreateMkStream(bg, "audit", "siem", "0").Err(); err != nil {
				t.Fatal(err)
			}
			var secrets []string
			var want []streamEvent
			ev := func(event, handle, owner, reason string) {
				want = append(want, streamEvent{event, handle, owner, reason})
			}
			a := newSess(t, c, "OWNER", "u", "DETACHABLE", "BIND", "fp")
			ev("created", a.handle, "u", "")
			v := validate(t, c, a.token, 1)
			ev("rotated", a.handle, "u", "")
			r := doMap(t, c, newTokenFields, "sess.regenerate", v["token"])
			ev("regenerated", a.handle, "u", "")
			do(t, c, "sess.detach", r["token"])
			ev("detached", a.handle, "u", "")
			at := doMap(t, c, newTokenFields, "sess.attach", "HANDLE", a.handle, "OWNER", "u")
			ev("attached", a.handle, "u", "")
			if do(t, c, "sess.get", at["token"], "BIND", "nope") != nil {
				t.Fatal("binding mismatch read the session")
			}
			ev("binding", a.handle, "u", "reject")
			b := newSess(t, c, "OWNER", "u") // limit 1: a goes
			ev("limit", a.handle, "u", "evict-oldest")
			ev("revoked", a.handle, "u", "limit")
			ev("created", b.handle, "u", "")
			// Read the first half and acknowledge it, then restart.
			first := readGroup(t, c, "siem", 5)
			s.Restart()
			c = s.Client(proto)
			b2 := validate(t, c, b.token, 1)
			ev("rotated", b.handle, "u", "")
			time.Sleep(2 * time.Millisecond) // past the zero grace
			wantReason(t, validate(t, c, b.token, 1), "replayed")
			ev("replayed", b.handle, "u", "")
			ev("revoked", b.handle, "u", "replayed")
			d := newSess(t, c, "OWNER", "w")
			ev("created", d.handle, "w", "")
			do(t, c, "sess.destroy", d.token)
			ev("destroyed", d.handle, "w", "destroyed")
			// JWT refresh reuse after the grace.
			j := newSess(t, c, "OWNER", "j")
			ev("created", j.handle, "j", "")
			g := jIssue(t, c, j.token)
			if g2, _ := fieldMap(t, do(t, c, "sess.refresh", g.refresh)); g2["jwt"] == nil {
				t.Fatalf("refresh: %v", g2)
			}
			time.Sleep(2 * time.Millisecond)
			do(t, c, "sess.refresh", g.refresh)
			ev("refresh-reuse", j.handle, "j", "replayed")
			ev("revoked", j.handle, "j", "refresh-reuse")
			// Expiry: written by the expirer's own transaction.
			x := newSess(t, c, "IDLE", "1")
			ev("created", x.handle, "", "")
			ev("expired", x.handle, "", "idle")
			deadline := time.Now().Add(10 * time.Second)
			for do(t, c, "sess.count") != int64(0) && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			// A refused creation is in the stream too (no handle).
			config(t, c, "session-limit-policy", "refuse")
			y := newSess(t, c, "OWNER", "r")
			ev("created", y.handle, "r", "")
			if err := c.Do(bg, "sess.new", "OWNER", "r").Err(); err == nil || !strings.HasPrefix(err.Error(), "LIMIT") {
				t.Fatalf("refuse: %v", err)
			}
			ev("limit", "", "r", "refused")
			secrets = append(secrets, a.token, v["token"].(string), r["token"].(string), at["token"].(string), b.token,
				b2["token"].(string), d.token, j.token, g.refresh, x.token, y.token)

			s.Restart()
			c = s.Client(proto)
			rest := readGroup(t, c, "siem", 1000)
			got := append(first, rest...)
			var gs, ws []string
			for _, e := range got {
				gs = append(gs, e.String())
			}
			for _, e := range want {
				ws = append(ws, e.String())
			}
			if strings.Join(gs, "\n") != strings.Join(ws, "\n") {
				t.Fatalf("stream events\n%s\nwant\n%s", strings.Join(gs, "\n"), strings.Join(ws, "\n"))
			}
			// Nothing pending, nothing left; no token anywhere in the stream.
			if p, err := c.XPending(bg, "audit", "siem").Result(); err != nil || p.Count != 0 {
				t.Fatalf("pending %v %v", p, err)
			}
			all, err := c.XRange(bg, "audit", "-", "+").Result()
			if err != nil || len(all) != len(want) {
				t.Fatalf("XRANGE %d entries %v", len(all), err)
			}
			for _, m := range all {
				for _, f := range []string{"event", "handle", "owner", "reason", "at"} {
					if _, ok := m.Values[f]; !ok {
						t.Fatalf("entry %v lacks %s", m, f)
					}
				}
				for _, val := range m.Values {
					for _, sec := range secrets {
						if strings.Contains(fmt.Sprint(val), sec) {
							t.Fatalf("entry %v holds a token", m)
						}
					}
				}
			}
		})
	}
}

// readGroup reads up to max new entries of the group with XREADGROUP and
// acknowledges them.
func readGroup(t testing.TB, c *redis.Client, group string, max int64) []streamEvent {
	t.Helper()
	res, err := c.XReadGroup(bg, &redis.XReadGroupArgs{Group: group, Consumer: "c1", Streams: []string{"audit", ">"}, Count: max, Block: -1}).Result()
	if err == redis.Nil {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []streamEvent
	for _, st := range res {
		for _, m := range st.Messages {
			f := func(k string) string { return fmt.Sprint(m.Values[k]) }
			out = append(out, streamEvent{f("event"), f("handle"), f("owner"), f("reason")})
			if err := c.XAck(bg, "audit", group, m.ID).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	return out
}

// The stream can be turned on, moved and off at run time, and is capped.
func TestSessEventStreamConfig(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		config(t, c, "session-events-stream", "")
		newSess(t, c)
		config(t, c, "session-events-stream", "log1", "session-events-maxlen", "3")
		for i := 0; i < 5; i++ {
			newSess(t, c)
		}
		config(t, c, "session-events-stream", "")
		newSess(t, c)
		testserver.Run(t, c, []C{
			{Cmd: []any{"xlen", "log1"}, Want: int64(3)},
			{Cmd: []any{"exists", "audit"}, Want: int64(0)},
			{Cmd: []any{"config", "get", "session-events-maxlen"}, Any: true},
		})
	})
}

func TestSessSetOwner(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		config(t, c, "session-max-per-owner", "0", "session-limit-policy", "evict-oldest")
		anon := newSess(t, c, "DATA", "cart")
		testserver.Run(t, c, []C{
			{Cmd: []any{"tok.add", "tt-bound-1", "v", "SESSION", anon.token}, Want: int64(1)},
			{Cmd: []any{"tok.add", "tt-xfer-1", "v", "SESSION", anon.token, "TRANSFERABLE"}, Want: int64(1)},
			{Cmd: []any{"sess.set", anon.token, "cart+login", "OWNER", "u"}, Want: int64(1)},
			// The tokens the session holds follow its owner, owner index included.
			{Cmd: []any{"tok.owner", "tt-bound-1"}, Want: "u"},
			{Cmd: []any{"tok.list", "OWNER", "u"}, Want: []any{"tt-bound-1", "tt-xfer-1"}},
			{Cmd: []any{"sess.count", "OWNER", "u"}, Want: int64(1)},
			{Cmd: []any{"sess.active", anon.token, "OWNER", "u"}, Want: int64(1)},
			{Cmd: []any{"sess.get", anon.token}, Want: "cart+login"},
			{Cmd: []any{"sess.set", anon.token, "moved", "OWNER", "v", "IDLE", "60"}, Want: int64(1)},
			{Cmd: []any{"sess.count", "OWNER", "u"}, Want: int64(0)},
			{Cmd: []any{"sess.count", "OWNER", "v"}, Want: int64(1)},
			{Cmd: []any{"tok.list", "OWNER", "u"}, Want: []any{}},
			{Cmd: []any{"tok.owner", "tt-xfer-1"}, Want: "v"},
			{Cmd: []any{"tok.session", "tt-bound-1"}, Want: anon.handle},
			{Cmd: []any{"sess.ttl", anon.token}, Any: true},
			{Cmd: []any{"sess.set", "nope-token", "x", "OWNER", "v"}, Want: int64(0)},
			{Cmd: []any{"sess.set", anon.token, "x", "OWNER"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"sess.set", anon.token, "x", "OWNER", "a", "OWNER", "b"}, WantErr: "ERR syntax error"},
		})
		list := do(t, c, "sess.list", "OWNER", "v").([]any)
		if len(list) != 1 {
			t.Fatalf("list %v", list)
		}
		if m, _ := fieldMap(t, list[0]); m["handle"] != anon.handle || m["owner"] != "v" {
			t.Fatalf("listed %v", m)
		}
		info := doMap(t, c, infoFields, "sess.info", anon.token)
		if info["owner"] != "v" {
			t.Fatalf("info %v", info)
		}
		// Moving into an owner at its limit: evict-oldest makes room (never the
		// session moving), refuse refuses and changes nothing.
		config(t, c, "session-max-per-owner", "1")
		other := newSess(t, c, "OWNER", "w")
		testserver.Run(t, c, []C{
			{Cmd: []any{"sess.set", anon.token, "x", "OWNER", "w"}, Want: int64(1)},
			{Cmd: []any{"sess.count", "OWNER", "w"}, Want: int64(1)},
			{Cmd: []any{"sess.active", anon.token, "OWNER", "w"}, Want: int64(1)},
		})
		wantReason(t, validate(t, c, other.token, 1), "limit")
		config(t, c, "session-limit-policy", "refuse")
		third := newSess(t, c, "OWNER", "z")
		testserver.Run(t, c, []C{
			{Cmd: []any{"sess.set", third.token, "y", "OWNER", "w"}, WantErr: "LIMIT owner has reached 1 sessions"},
			{Cmd: []any{"sess.active", third.token, "OWNER", "z"}, Want: int64(1)},
			{Cmd: []any{"sess.get", third.token}, Want: ""},
			// Giving it up ("" = no owner) is always allowed.
			{Cmd: []any{"sess.set", anon.token, "x", "OWNER", ""}, Want: int64(1)},
			{Cmd: []any{"sess.count", "OWNER", "w"}, Want: int64(0)},
		})
		config(t, c, "session-max-per-owner", "0", "session-limit-policy", "evict-oldest")
		// Access tokens issued after the move name the new owner.
		j := newSess(t, c, "OWNER", "a1")
		g := jIssue(t, c, j.token)
		if _, cl := jParts(t, g.jwt); cl["sub"] != "a1" {
			t.Fatalf("sub before the move %v", cl["sub"])
		}
		do(t, c, "sess.set", j.token, "", "OWNER", "a2")
		r, _ := fieldMap(t, do(t, c, "sess.refresh", g.refresh))
		if _, cl := jParts(t, fmt.Sprint(r["jwt"])); cl["sub"] != "a2" {
			t.Fatalf("sub after the move %v (%v)", cl["sub"], r)
		}
	})
}

func TestSessValidateWithData(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		a := newSess(t, c, "DATA", `{"cart":3}`, "BIND", "fp")
		m := doMap(t, c, okDataFields, "sess.validate", a.token, 1, "WITHDATA")
		if m["ok"] != int64(1) || m["data"] != `{"cart":3}` || m["nonce"] != int64(2) {
			t.Fatalf("validate withdata %v", m)
		}
		// A repeat within the grace: the same successor and the data.
		again := doMap(t, c, okDataFields, "sess.validate", a.token, 1, "BIND", "fp", "WITHDATA")
		if again["token"] != m["token"] || again["data"] != `{"cart":3}` {
			t.Fatalf("repeat %v", again)
		}
		// Large data (kept out of the record) and NOROTATE.
		big := strings.Repeat("x", 4000)
		do(t, c, "sess.set", m["token"], big)
		n := doMap(t, c, okDataFields, "sess.validate", m["token"], 2, "WITHDATA", "NOROTATE")
		if n["token"] != m["token"] || n["data"] != big {
			t.Fatalf("norotate withdata: token %v, %d bytes", n["token"], len(fmt.Sprint(n["data"])))
		}
		// Without WITHDATA the reply is as before; a failure is ok 0 reason R.
		doMap(t, c, okFields, "sess.validate", m["token"], 3)
		doMap(t, c, failFields, "sess.validate", m["token"], 99, "WITHDATA")
		testserver.Run(t, c, []C{
			{Cmd: []any{"sess.validate", m["token"], 4, "WITHDATA", "WITHDATA"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"sess.validate", m["token"], 4, "NOROTATE", "NOROTATE"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"sess.validate", m["token"], 4, "BOGUS"}, WantErr: "ERR syntax error"},
		})
	})
}

func TestTokNewUUID(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		seen := map[string]bool{}
		for _, args := range [][]any{{"tok.new", "UUID"}, {"tok.new", "PREFIX", "tt_", "UUID"}, {"tok.new", "uuid", "prefix", "tt_"}} {
			v := do(t, c, args...).(string)
			prefix := ""
			if len(args) > 2 {
				prefix = "tt_"
			}
			if !strings.HasPrefix(v, prefix) || !uuidV4(strings.TrimPrefix(v, prefix)) || seen[v] {
				t.Fatalf("%v: %q", args, v)
			}
			seen[v] = true
		}
		if v := do(t, c, "tok.new").(string); len(v) != 43 {
			t.Fatalf("default token %q", v)
		}
		if _, err := uuid.Parse(do(t, c, "tok.new", "UUID").(string)); err != nil {
			t.Fatal(err)
		}
		testserver.Run(t, c, []C{
			{Cmd: []any{"tok.new", "UUID", "UUID"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"tok.new", "PREFIX"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"tok.new", "PREFIX", "a", "PREFIX", "b"}, WantErr: "ERR syntax error"},
		})
	})
}
