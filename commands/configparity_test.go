package commands_test

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

// Immutable parameters refuse a change but accept being set to the value they
// have; hidden parameters answer only to their exact name; replicaof/slaveof
// read empty and refuse a master; repl-backlog-size takes memory units.
func TestConfigParity(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		// pairs is CONFIG GET's reply as go-redis decodes it: a map in
		// RESP3, a flat array in RESP2.
		pairs := func(kv ...string) any {
			if c.Options().Protocol == 3 {
				m := map[any]any{}
				for i := 0; i < len(kv); i += 2 {
					m[kv[i]] = kv[i+1]
				}
				return m
			}
			out := []any{}
			for _, x := range kv {
				out = append(out, x)
			}
			return out
		}
		testserver.Run(t, c, []testserver.Case{
			{Cmd: []any{"CONFIG", "SET", "daemonize", "no"}, Want: "OK"},
			{Cmd: []any{"CONFIG", "SET", "daemonize", "NO", "maxmemory", "0"}, Want: "OK"},
			{Cmd: []any{"CONFIG", "SET", "daemonize", "yes"}, WantErr: "ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config"},
			{Cmd: []any{"CONFIG", "SET", "io-threads", "1"}, Want: "OK"},
			{Cmd: []any{"CONFIG", "SET", "io-threads", "2"}, WantErr: "ERR CONFIG SET failed (possibly related to argument 'io-threads') - can't set immutable config"},
			// A no-op immutable beside a bad value still fails as a whole.
			{Cmd: []any{"CONFIG", "SET", "io-threads", "1", "maxmemory", "x"}, WantErr: "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"},
			{Cmd: []any{"CONFIG", "GET", "key-load-delay"}, Want: pairs("key-load-delay", "0")},
			{Cmd: []any{"CONFIG", "GET", "key-load-*"}, Want: pairs()},
			{Cmd: []any{"CONFIG", "SET", "key-load-delay", "50"}, Want: "OK"},
			{Cmd: []any{"CONFIG", "GET", "key-load-delay"}, Want: pairs("key-load-delay", "50")},
			{Cmd: []any{"CONFIG", "SET", "key-load-delay", "0"}, Want: "OK"},
			{Cmd: []any{"CONFIG", "GET", "*of"}, Want: pairs("replicaof", "", "slaveof", "")},
			{Cmd: []any{"CONFIG", "SET", "replicaof", "127.0.0.1 6379"}, WantErr: "ERR CONFIG SET failed (possibly related to argument 'replicaof') - can't set immutable config"},
			{Cmd: []any{"CONFIG", "SET", "repl-backlog-size", "10mb"}, Want: "OK"},
			{Cmd: []any{"CONFIG", "GET", "repl-backlog-size"}, Want: pairs("repl-backlog-size", "10485760")},
			{Cmd: []any{"CONFIG", "SET", "repl-backlog-size", "0"}, WantErr: "ERR CONFIG SET failed (possibly related to argument 'repl-backlog-size') - argument must be between 1 and"},
			{Cmd: []any{"CONFIG", "SET", "repl-backlog-size", "1mb"}, Want: "OK"},
		})
	})
}

// Every parameter CONFIG GET * lists can be set back to the value it shows
// and then shows the same value (Redis' "CONFIG sanity"), but for the
// protected ones (files and directories), which need enable-protected-configs.
func TestConfigSetEveryParameterToItself(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	c := s.Client(2)
	before, err := c.ConfigGet(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := before["key-load-delay"]; ok {
		t.Error("CONFIG GET * lists the hidden key-load-delay")
	}
	skip := map[string]bool{"dir": true, "dbfilename": true}
	for k, v := range before {
		p := s.Dispatcher().Config.Lookup(k)
		if skip[k] || p.Protected {
			continue
		}
		if err := c.ConfigSet(ctx, k, v).Err(); err != nil {
			t.Errorf("CONFIG SET %s %q: %v", k, v, err)
		}
	}
	after, err := c.ConfigGet(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s: %q after setting it to itself, was %q", k, after[k], v)
		}
	}
}
