package commands_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

func TestCompatStreams(t *testing.T) {
	s := testserver.Start(t)
	compat(t, s, func(t *testing.T, tg target) {
		e := func(id string, fv ...any) []any { return []any{id, fv} }
		m := func(kv ...any) any {
			if tg.proto == 2 {
				return kv
			}
			out := map[any]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				out[kv[i]] = kv[i+1]
			}
			return out
		}
		testserver.Run(t, tg.c, []C{
			{Cmd: []any{"xadd", "s", "1-1", "a", "1"}, Want: "1-1"},
			{Cmd: []any{"xadd", "s", "1-*", "b", "2"}, Want: "1-2"},
			{Cmd: []any{"xadd", "s", "2", "c", "3"}, Want: "2-0"},
			{Cmd: []any{"xadd", "s", "2-0", "d", "4"}, WantErr: "ERR The ID specified in XADD is equal or smaller than the target stream top item"},
			{Cmd: []any{"xadd", "s", "1-*", "d", "4"}, WantErr: "ERR The ID specified in XADD is equal or smaller than the target stream top item"},
			{Cmd: []any{"xadd", "new", "0-0", "a", "1"}, WantErr: "ERR The ID specified in XADD must be greater than 0-0"},
			{Cmd: []any{"xadd", "s", "abc", "a", "1"}, WantErr: "ERR Invalid stream ID specified as stream command argument"},
			{Cmd: []any{"xadd", "s", "3-0", "a"}, WantErr: "ERR wrong number of arguments for 'xadd' command"},
			{Cmd: []any{"xadd", "nope", "nomkstream", "*", "a", "1"}, Want: nil},
			{Cmd: []any{"exists", "nope"}, Want: int64(0)},
			{Cmd: []any{"xadd", "s", "maxlen", "-1", "*", "a", "1"}, WantErr: "ERR The MAXLEN argument must be >= 0."},
			{Cmd: []any{"xadd", "s", "limit", "10", "*", "a", "1"}, WantErr: "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"},
			{Cmd: []any{"xadd", "s", "maxlen", "5", "limit", "10", "*", "a", "1"}, WantErr: "ERR syntax error, LIMIT cannot be used without the special ~ option"},
			{Cmd: []any{"xlen", "s"}, Want: int64(3)},
			{Cmd: []any{"xlen", "nope"}, Want: int64(0)},
			{Cmd: []any{"xrange", "s", "-", "+"}, Want: []any{e("1-1", "a", "1"), e("1-2", "b", "2"), e("2-0", "c", "3")}},
			{Cmd: []any{"xrange", "s", "(1-1", "+", "count", "1"}, Want: []any{e("1-2", "b", "2")}},
			{Cmd: []any{"xrange", "s", "1", "1"}, Want: []any{e("1-1", "a", "1"), e("1-2", "b", "2")}},
			{Cmd: []any{"xrange", "s", "-", "+", "count", "0"}, Want: nil},
			{Cmd: []any{"xrange", "s", "+", "-"}, Want: []any{}},
			{Cmd: []any{"xrange", "s", "(-", "+"}, WantErr: "ERR Invalid stream ID specified as stream command argument"},
			{Cmd: []any{"xrange", "s", "-", "+", "foo"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"xrevrange", "s", "+", "-", "count", "2"}, Want: []any{e("2-0", "c", "3"), e("1-2", "b", "2")}},
			{Cmd: []any{"xrange", "nope", "-", "+"}, Want: []any{}},
			{Cmd: []any{"xdel", "s", "1-2", "9-9"}, Want: int64(1)},
			{Cmd: []any{"xdel", "s", "abc"}, WantErr: "ERR Invalid stream ID specified as stream command argument"},
			{Cmd: []any{"xadd", "s", "3-0", "d", "4"}, Want: "3-0"},
			{Cmd: []any{"xtrim", "s", "maxlen", "2"}, Want: int64(1)},
			{Cmd: []any{"xtrim", "s", "minid", "3"}, Want: int64(1)},
			{Cmd: []any{"xtrim", "s", "foo", "2"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"xlen", "s"}, Want: int64(1)},
			// Consumer groups.
			{Cmd: []any{"del", "s"}, Want: int64(1)},
			{Cmd: []any{"xgroup", "create", "s", "g", "$"}, WantErr: "ERR The XGROUP subcommand requires the key to exist."},
			{Cmd: []any{"xgroup", "create", "s", "g", "$", "mkstream"}, Want: "OK"},
			{Cmd: []any{"xgroup", "create", "s", "g", "$"}, WantErr: "BUSYGROUP Consumer Group name already exists"},
			{Cmd: []any{"xgroup", "setid", "s", "nog", "0"}, WantErr: "NOGROUP No such consumer group 'nog' for key name 's'"},
			{Cmd: []any{"xadd", "s", "1-0", "a", "1"}, Want: "1-0"},
			{Cmd: []any{"xadd", "s", "2-0", "b", "2"}, Want: "2-0"},
			{Cmd: []any{"xadd", "s", "3-0", "c", "3"}, Want: "3-0"},
			{Cmd: []any{"xreadgroup", "group", "g", "alice", "count", "1", "streams", "s", ">"},
				Want: tg.by([]any{[]any{"s", []any{e("1-0", "a", "1")}}}, map[any]any{"s": []any{e("1-0", "a", "1")}})},
			{Cmd: []any{"xreadgroup", "group", "g", "bob", "noack", "count", "1", "streams", "s", ">"},
				Want: tg.by([]any{[]any{"s", []any{e("2-0", "b", "2")}}}, map[any]any{"s": []any{e("2-0", "b", "2")}})},
			{Cmd: []any{"xreadgroup", "group", "g", "alice", "streams", "s", "0"},
				Want: tg.by([]any{[]any{"s", []any{e("1-0", "a", "1")}}}, map[any]any{"s": []any{e("1-0", "a", "1")}})},
			{Cmd: []any{"xreadgroup", "group", "g", "carol", "streams", "s", ">"},
				Want: tg.by([]any{[]any{"s", []any{e("3-0", "c", "3")}}}, map[any]any{"s": []any{e("3-0", "c", "3")}})},
			{Cmd: []any{"xreadgroup", "group", "g", "carol", "streams", "s", ">"}, Want: nil},
			{Cmd: []any{"xreadgroup", "group", "nog", "x", "streams", "s", ">"}, WantErr: "NOGROUP No such key 's' or consumer group 'nog' in XREADGROUP with GROUP option"},
			{Cmd: []any{"xreadgroup", "group", "g", "x", "streams", "s", "$"}, WantErr: "ERR The $ ID is meaningless in the context of XREADGROUP"},
			{Cmd: []any{"xreadgroup", "count", "1", "noack", "streams", "s", ">"}, WantErr: "ERR Missing GROUP option for XREADGROUP"},
			{Cmd: []any{"xread", "streams", "s", ">"}, WantErr: "ERR The > ID can be specified only when calling XREADGROUP"},
			{Cmd: []any{"xread", "count", "1", "streams", "s", "nope", "1-0", "0"},
				Want: tg.by([]any{[]any{"s", []any{e("2-0", "b", "2")}}}, map[any]any{"s": []any{e("2-0", "b", "2")}})},
			{Cmd: []any{"xread", "streams", "s", "$"}, Want: nil},
			{Cmd: []any{"xread", "streams", "s", "0", "x"}, WantErr: "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified."},
			{Cmd: []any{"xpending", "s", "g"}, Want: []any{int64(2), "1-0", "3-0", []any{[]any{"alice", "1"}, []any{"carol", "1"}}}},
			{Cmd: []any{"xack", "s", "g", "1-0", "9-0"}, Want: int64(1)},
			{Cmd: []any{"xpending", "s", "g", "-", "+", "10", "alice"}, Want: []any{}},
			{Cmd: []any{"xpending", "s", "nog"}, WantErr: "NOGROUP No such key 's' or consumer group 'nog'"},
			{Cmd: []any{"xgroup", "createconsumer", "s", "g", "dave"}, Want: int64(1)},
			{Cmd: []any{"xgroup", "createconsumer", "s", "g", "dave"}, Want: int64(0)},
			{Cmd: []any{"xgroup", "delconsumer", "s", "g", "carol"}, Want: int64(1)},
			{Cmd: []any{"xpending", "s", "g"}, Want: []any{int64(0), nil, nil, nil}},
			{Cmd: []any{"xinfo", "groups", "s"}, Want: []any{m("name", "g", "consumers", int64(3), "pending", int64(0), "last-delivered-id", "3-0", "entries-read", int64(3), "lag", int64(0))}},
			{Cmd: []any{"xgroup", "setid", "s", "g", "0", "entriesread", "0"}, Want: "OK"},
			{Cmd: []any{"xinfo", "groups", "s"}, Want: []any{m("name", "g", "consumers", int64(3), "pending", int64(0), "last-delivered-id", "0-0", "entries-read", int64(0), "lag", int64(3))}},
			{Cmd: []any{"xgroup", "destroy", "s", "g"}, Want: int64(1)},
			{Cmd: []any{"xgroup", "destroy", "s", "g"}, Want: int64(0)},
			{Cmd: []any{"xinfo", "stream", "nope"}, WantErr: "ERR no such key"},
			{Cmd: []any{"set", "str", "v"}, Want: "OK"},
			{Cmd: []any{"xadd", "str", "*", "a", "1"}, WantErr: "WRONGTYPE"},
			{Cmd: []any{"xrange", "str", "-", "+"}, WantErr: "WRONGTYPE"},
			{Cmd: []any{"xlen", "str"}, WantErr: "WRONGTYPE"},
		})
		info := toMap(must(t, tg.c, "xinfo", "stream", "s"))
		if info["length"] != int64(3) || info["last-generated-id"] != "3-0" || info["entries-added"] != int64(3) || info["groups"] != int64(0) ||
			info["recorded-first-entry-id"] != "1-0" || info["max-deleted-entry-id"] != "0-0" {
			t.Fatalf("XINFO STREAM = %v", info)
		}
		if first := info["first-entry"].([]any); first[0] != "1-0" {
			t.Fatalf("XINFO STREAM first-entry = %v", first)
		}
		full := toMap(must(t, tg.c, "xinfo", "stream", "s", "full"))
		if entries := full["entries"].([]any); len(entries) != 3 {
			t.Fatalf("XINFO STREAM FULL entries = %v", entries)
		}
		// An auto ID is the current time in ms.
		id := must(t, tg.c, "xadd", "auto", "*", "f", "v").(string)
		if ms, _, _ := strings.Cut(id, "-"); len(ms) != 13 {
			t.Fatalf("auto ID %q", id)
		}
	})
}

func TestCompatXclaim(t *testing.T) {
	s := testserver.Start(t)
	compat(t, s, func(t *testing.T, tg target) {
		e := func(id string, fv ...any) []any { return []any{id, fv} }
		testserver.Run(t, tg.c, []C{
			{Cmd: []any{"xadd", "s", "1-0", "a", "1"}, Any: true},
			{Cmd: []any{"xadd", "s", "2-0", "b", "2"}, Any: true},
			{Cmd: []any{"xadd", "s", "3-0", "c", "3"}, Any: true},
			{Cmd: []any{"xgroup", "create", "s", "g", "0"}, Want: "OK"},
			{Cmd: []any{"xreadgroup", "group", "g", "alice", "streams", "s", ">"}, Any: true},
			// Errors: key and group first, then the arguments.
			{Cmd: []any{"xclaim", "s", "g", "bob", "0"}, WantErr: "ERR wrong number of arguments for 'xclaim' command"},
			{Cmd: []any{"xclaim", "nokey", "g", "bob", "x", "1-0"}, WantErr: "NOGROUP No such key 'nokey' or consumer group 'g'"},
			{Cmd: []any{"xclaim", "s", "nog", "bob", "0", "1-0"}, WantErr: "NOGROUP No such key 's' or consumer group 'nog'"},
			{Cmd: []any{"xclaim", "s", "g", "bob", "x", "1-0"}, WantErr: "ERR Invalid min-idle-time argument for XCLAIM"},
			{Cmd: []any{"xclaim", "s", "g", "bob", "0", "1-0", "idle", "x"}, WantErr: "ERR Invalid IDLE option argument for XCLAIM"},
			{Cmd: []any{"xclaim", "s", "g", "bob", "0", "1-0", "time", "x"}, WantErr: "ERR Invalid TIME option argument for XCLAIM"},
			{Cmd: []any{"xclaim", "s", "g", "bob", "0", "1-0", "retrycount", "x"}, WantErr: "ERR Invalid RETRYCOUNT option argument for XCLAIM"},
			{Cmd: []any{"xclaim", "s", "g", "bob", "0", "1-0", "lastid", "x"}, WantErr: "ERR Invalid stream ID specified as stream command argument"},
			{Cmd: []any{"xclaim", "s", "g", "bob", "0", "1-0", "foo"}, WantErr: "ERR Unrecognized XCLAIM option 'foo'"},
			{Cmd: []any{"xclaim", "s", "g", "bob", "0", "1-0", "idle"}, WantErr: "ERR Unrecognized XCLAIM option 'idle'"},
			// An argument that is not an ID ends the IDs: the rest are options.
			{Cmd: []any{"xclaim", "s", "g", "bob", "0", "1-0", "bad", "2-0"}, WantErr: "ERR Unrecognized XCLAIM option 'bad'"},
			// Nothing was claimed by the failed calls, and bob was not created.
			{Cmd: []any{"xpending", "s", "g"}, Want: []any{int64(3), "1-0", "3-0", []any{[]any{"alice", "3"}}}},
			{Cmd: []any{"xclaim", "s", "g", "bob", "0", "1-0"}, Want: []any{e("1-0", "a", "1")}},
			{Cmd: []any{"xclaim", "s", "g", "bob", "3600000", "2-0"}, Want: []any{}}, // not idle long enough
			{Cmd: []any{"xclaim", "s", "g", "bob", "0", "2-0", "justid"}, Want: []any{"2-0"}},
			{Cmd: []any{"xclaim", "s", "g", "bob", "0", "9-0", "force"}, Want: []any{}}, // FORCE needs the entry
			{Cmd: []any{"xpending", "s", "g"}, Want: []any{int64(3), "1-0", "3-0", []any{[]any{"alice", "1"}, []any{"bob", "2"}}}},
			// FORCE puts an entry that is not pending into the PEL.
			{Cmd: []any{"xack", "s", "g", "3-0"}, Want: int64(1)},
			{Cmd: []any{"xclaim", "s", "g", "carol", "0", "3-0"}, Want: []any{}},
			{Cmd: []any{"xgroup", "createconsumer", "s", "g", "carol"}, Want: int64(1)}, // claiming nothing created nobody
			{Cmd: []any{"xgroup", "delconsumer", "s", "g", "carol"}, Want: int64(0)},
			{Cmd: []any{"xclaim", "s", "g", "carol", "3600000", "3-0", "force", "retrycount", "7", "time", "1000"}, Want: []any{e("3-0", "c", "3")}},
			// An entry deleted from the stream leaves the PEL when claimed.
			{Cmd: []any{"xdel", "s", "1-0"}, Want: int64(1)},
			{Cmd: []any{"xclaim", "s", "g", "dave", "0", "1-0"}, Want: []any{}},
			{Cmd: []any{"xpending", "s", "g"}, Want: []any{int64(2), "2-0", "3-0", []any{[]any{"bob", "1"}, []any{"carol", "1"}}}},
			{Cmd: []any{"xgroup", "createconsumer", "s", "g", "dave"}, Want: int64(1)},
			// LASTID raises the group's last delivered ID, never lowers it.
			{Cmd: []any{"xgroup", "create", "s", "g2", "2-0"}, Want: "OK"},
			{Cmd: []any{"xclaim", "s", "g2", "x", "0", "2-0", "lastid", "1-0"}, Want: []any{}},
			{Cmd: []any{"xclaim", "s", "g2", "x", "0", "2-0", "lastid", "5-0", "justid"}, Want: []any{}},
			{Cmd: []any{"set", "str", "v"}, Want: "OK"},
			{Cmd: []any{"xclaim", "str", "g", "bob", "0", "1-0"}, WantErr: "WRONGTYPE"},
		})
		// Delivery counts and times: RETRYCOUNT and TIME are kept as given;
		// JUSTID does not count a delivery, a plain claim does.
		full := toMap(must(t, tg.c, "xinfo", "stream", "s", "full"))
		pel := map[string][]any{}
		var g2Last any
		for _, g := range full["groups"].([]any) {
			gm := toMap(g)
			if gm["name"] == "g2" {
				g2Last = gm["last-delivered-id"]
				continue
			}
			for _, p := range gm["pending"].([]any) {
				p := p.([]any)
				pel[p[0].(string)] = p
			}
		}
		if p := pel["3-0"]; p == nil || p[1] != "carol" || p[2] != int64(1000) || p[3] != int64(7) {
			t.Errorf("pending 3-0 = %v, want carol, time 1000, 7 deliveries", p)
		}
		if p := pel["2-0"]; p == nil || p[1] != "bob" || p[3] != int64(1) {
			t.Errorf("pending 2-0 = %v, want bob with 1 delivery (JUSTID does not count)", p)
		}
		if g2Last != "5-0" {
			t.Errorf("g2 last-delivered-id = %v, want 5-0", g2Last)
		}
		must(t, tg.c, "xclaim", "s", "g", "bob", "0", "3-0")
		if p := must(t, tg.c, "xpending", "s", "g", "3-0", "3-0", "1").([]any); len(p) != 1 || p[0].([]any)[3] != int64(8) {
			t.Errorf("after a plain claim: %v, want 8 deliveries", p)
		}
		// IDLE sets the delivery time back; a future TIME means now.
		must(t, tg.c, "xclaim", "s", "g", "bob", "0", "3-0", "idle", "50000")
		if p := must(t, tg.c, "xpending", "s", "g", "3-0", "3-0", "1").([]any); len(p) != 1 || p[0].([]any)[2].(int64) < 50000 {
			t.Errorf("after IDLE 50000: %v", p)
		}
		must(t, tg.c, "xclaim", "s", "g", "bob", "0", "3-0", "time", "99999999999999")
		if p := must(t, tg.c, "xpending", "s", "g", "3-0", "3-0", "1").([]any); len(p) != 1 || p[0].([]any)[2].(int64) > 5000 {
			t.Errorf("after a TIME in the future: %v", p)
		}
	})
}

func TestCompatXautoclaim(t *testing.T) {
	s := testserver.Start(t)
	compat(t, s, func(t *testing.T, tg target) {
		e := func(id string, fv ...any) []any { return []any{id, fv} }
		testserver.Run(t, tg.c, []C{
			{Cmd: []any{"xadd", "s", "1-0", "a", "1"}, Any: true},
			{Cmd: []any{"xadd", "s", "2-0", "b", "2"}, Any: true},
			{Cmd: []any{"xadd", "s", "3-0", "c", "3"}, Any: true},
			{Cmd: []any{"xadd", "s", "4-0", "d", "4"}, Any: true},
			{Cmd: []any{"xadd", "s", "5-0", "e", "5"}, Any: true},
			{Cmd: []any{"xgroup", "create", "s", "g", "0"}, Want: "OK"},
			{Cmd: []any{"xreadgroup", "group", "g", "alice", "streams", "s", ">"}, Any: true},
			// Errors: the arguments first, then key and group.
			{Cmd: []any{"xautoclaim", "s", "g", "bob", "0"}, WantErr: "ERR wrong number of arguments for 'xautoclaim' command"},
			{Cmd: []any{"xautoclaim", "nokey", "g", "bob", "x", "-"}, WantErr: "ERR Invalid min-idle-time argument for XAUTOCLAIM"},
			{Cmd: []any{"xautoclaim", "s", "g", "bob", "0", "x"}, WantErr: "ERR Invalid stream ID specified as stream command argument"},
			{Cmd: []any{"xautoclaim", "s", "g", "bob", "0", "(18446744073709551615-18446744073709551615"}, WantErr: "ERR invalid start ID for the interval"},
			{Cmd: []any{"xautoclaim", "s", "g", "bob", "0", "-", "count", "0"}, WantErr: "ERR COUNT must be > 0"},
			{Cmd: []any{"xautoclaim", "s", "g", "bob", "0", "-", "count", "x"}, WantErr: "ERR COUNT must be > 0"},
			{Cmd: []any{"xautoclaim", "s", "g", "bob", "0", "-", "count", "9223372036854775807"}, WantErr: "ERR COUNT must be > 0"},
			{Cmd: []any{"xautoclaim", "s", "g", "bob", "0", "-", "foo"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"xautoclaim", "nokey", "g", "bob", "0", "-"}, WantErr: "NOGROUP No such key 'nokey' or consumer group 'g'"},
			{Cmd: []any{"xautoclaim", "s", "nog", "bob", "0", "-"}, WantErr: "NOGROUP No such key 's' or consumer group 'nog'"},
			// Not idle long enough: nothing, and the scan reaches the end.
			{Cmd: []any{"xautoclaim", "s", "g", "bob", "3600000", "-"}, Want: []any{"0-0", []any{}, []any{}}},
			// A deleted entry is dropped from the PEL, reported, and counts.
			{Cmd: []any{"xdel", "s", "2-0"}, Want: int64(1)},
			{Cmd: []any{"xautoclaim", "s", "g", "bob", "0", "-", "count", "2"}, Want: []any{"3-0", []any{e("1-0", "a", "1")}, []any{"2-0"}}},
			{Cmd: []any{"xautoclaim", "s", "g", "bob", "0", "(3-0", "count", "1", "justid"}, Want: []any{"5-0", []any{"4-0"}, []any{}}},
			{Cmd: []any{"xautoclaim", "s", "g", "bob", "0", "3-0", "justid"}, Want: []any{"0-0", []any{"3-0", "4-0", "5-0"}, []any{}}},
			{Cmd: []any{"xpending", "s", "g"}, Want: []any{int64(4), "1-0", "5-0", []any{[]any{"bob", "4"}}}},
			{Cmd: []any{"set", "str", "v"}, Want: "OK"},
			{Cmd: []any{"xautoclaim", "str", "g", "bob", "0", "-"}, WantErr: "WRONGTYPE"},
		})
		// JUSTID does not count a delivery; a plain claim does.
		if p := must(t, tg.c, "xpending", "s", "g", "-", "+", "10").([]any); len(p) != 4 ||
			p[0].([]any)[3] != int64(2) || p[1].([]any)[3] != int64(1) {
			t.Errorf("delivery counts after XAUTOCLAIM: %v", p)
		}
	})
}

// The keyspace events of the stream family, as Redis' pubsub.tcl "stream
// events test" checks them: a consumer is announced when XREADGROUP or a
// claim creates it, and XCLAIM/XAUTOCLAIM emit nothing else.
func TestStreamKeyspaceEvents(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	c := s.Client(2)
	if err := c.ConfigSet(ctx, "notify-keyspace-events", "Kt").Err(); err != nil {
		t.Fatal(err)
	}
	sub := dialRaw(t, s)
	sub.send("psubscribe", "*")
	sub.read()
	for _, cmd := range [][]any{
		{"xgroup", "create", "mystream", "mygroup", "$", "mkstream"},
		{"xgroup", "createconsumer", "mystream", "mygroup", "Bob"},
		{"xadd", "mystream", "1", "field1", "A"},
		{"xreadgroup", "group", "mygroup", "Alice", "streams", "mystream", ">"},
		{"xclaim", "mystream", "mygroup", "Mike", "0", "1-0", "force"},
		{"xgroup", "delconsumer", "mystream", "mygroup", "Lee"},
		{"xautoclaim", "mystream", "mygroup", "Bob", "0", "1-0"},
		{"xgroup", "delconsumer", "mystream", "mygroup", "Bob"},
		{"xsetid", "mystream", "5-0"},
	} {
		must(t, c, cmd...)
	}
	ev := func(name string) string { return "[pmessage * __keyspace@0__:mystream " + name + "]" }
	expect(t, sub, ev("xgroup-create"), ev("xgroup-createconsumer"), ev("xadd"),
		ev("xgroup-createconsumer"), ev("xgroup-createconsumer"), ev("xgroup-delconsumer"), ev("xsetid"))
}

// asyncReply is the outcome of a command sent with blockedCall.
type asyncReply struct {
	v   any
	err error
}

// blockedCall sends a command on a new connection to c's server (with c's
// protocol) and hands back its reply once it comes.
func blockedCall(c *redis.Client, args ...any) <-chan asyncReply {
	o := c.Options()
	cl := redis.NewClient(&redis.Options{Addr: o.Addr, Protocol: o.Protocol, ReadTimeout: 10 * time.Second, MaxRetries: -1})
	out := make(chan asyncReply, 1)
	go func() {
		defer cl.Close()
		v, err := cl.Do(context.Background(), args...).Result()
		out <- asyncReply{v, err}
	}()
	return out
}

// await returns what a blocked client's channel delivers, failing the test
// when nothing comes within 5 seconds.
func await[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("blocked client not served")
	}
	var zero T
	return zero
}

func TestBlockingXread(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	compat(t, s, func(t *testing.T, tg target) {
		c := tg.c
		e := func(id string, fv ...any) []any { return []any{id, fv} }
		one := func(key string, entries ...any) any {
			return tg.by([]any{[]any{key, entries}}, map[any]any{key: entries})
		}
		check := func(name string, r asyncReply, want any) {
			t.Helper()
			if r.err != nil {
				t.Fatalf("%s: %v", name, r.err)
			}
			if !reflect.DeepEqual(r.v, want) {
				t.Fatalf("%s: got %#v, want %#v", name, r.v, want)
			}
		}
		testserver.Run(t, c, []C{
			{Cmd: []any{"xread", "block", "-1", "streams", "s", "$"}, WantErr: "ERR timeout is negative"},
			{Cmd: []any{"xread", "block", "x", "streams", "s", "$"}, WantErr: "ERR timeout is not an integer or out of range"},
			{Cmd: []any{"xreadgroup", "group", "g", "c", "block", "0", "streams", "nokey", ">"}, WantErr: "NOGROUP No such key 'nokey' or consumer group 'g' in XREADGROUP with GROUP option"},
			{Cmd: []any{"xadd", "s", "1-0", "a", "1"}, Want: "1-0"},
			// Data at once: no blocking.
			{Cmd: []any{"xread", "block", "0", "streams", "s", "0"}, Want: one("s", e("1-0", "a", "1"))},
		})

		// "$" is the last ID when XREAD was called: only the new entry.
		r := blockedCall(c, "xread", "block", "0", "streams", "nokey", "s", "$", "$")
		waitBlocked(t, c, 1)
		must(t, c, "xadd", "s", "2-0", "b", "2")
		check("XREAD woken by XADD", await(t, r), one("s", e("2-0", "b", "2")))

		// A key of another type does not wake XREAD; deleting it neither.
		r = blockedCall(c, "xread", "block", "0", "count", "1", "streams", "other", "$")
		waitBlocked(t, c, 1)
		must(t, c, "set", "other", "x")
		must(t, c, "del", "other")
		if n := blockedClients(t, c); n != 1 {
			t.Fatalf("blocked clients after SET+DEL = %d", n)
		}
		// COUNT limits what a woken client gets.
		if _, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Do(ctx, "xadd", "other", "1-0", "a", "1")
			p.Do(ctx, "xadd", "other", "2-0", "b", "2")
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		check("XREAD COUNT 1 woken by two XADDs", await(t, r), one("other", e("1-0", "a", "1")))

		// Timeout: a null array after the time.
		start := time.Now()
		if v, err := send(c, "xread", "block", "100", "streams", "s", "$"); err != redis.Nil {
			t.Fatalf("XREAD timeout: %#v %v", v, err)
		}
		if time.Since(start) < 90*time.Millisecond {
			t.Fatal("XREAD returned before its timeout")
		}

		// Inside MULTI neither blocks: a null array.
		must(t, c, "xgroup", "create", "s", "g", "$")
		cmds, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Do(ctx, "xread", "block", "0", "streams", "s", "$")
			p.Do(ctx, "xreadgroup", "group", "g", "alice", "block", "0", "streams", "s", ">")
			return nil
		})
		if err != redis.Nil || len(cmds) != 2 || cmds[0].Err() != redis.Nil || cmds[1].Err() != redis.Nil {
			t.Fatalf("blocking reads in MULTI: %v %v", cmds, err)
		}

		// XREADGROUP ">" woken by XADD: delivered and pending.
		r = blockedCall(c, "xreadgroup", "group", "g", "alice", "block", "0", "streams", "s", ">")
		waitBlocked(t, c, 1)
		must(t, c, "xadd", "s", "3-0", "c", "3")
		check("XREADGROUP woken by XADD", await(t, r), one("s", e("3-0", "c", "3")))
		testserver.Run(t, c, []C{
			{Cmd: []any{"xpending", "s", "g"}, Want: []any{int64(1), "3-0", "3-0", []any{[]any{"alice", "1"}}}},
		})
		// An XREADGROUP with a history ID never blocks.
		testserver.Run(t, c, []C{
			{Cmd: []any{"xreadgroup", "group", "g", "bob", "block", "0", "streams", "s", "0"}, Want: one("s")},
		})

		// The group destroyed, the key deleted or overwritten: errors.
		r = blockedCall(c, "xreadgroup", "group", "g", "alice", "block", "0", "streams", "s", ">")
		waitBlocked(t, c, 1)
		must(t, c, "xgroup", "destroy", "s", "g")
		if got := await(t, r); got.err == nil || got.err.Error() != "NOGROUP the consumer group this client was blocked on no longer exists" {
			t.Fatalf("XGROUP DESTROY: %#v %v", got.v, got.err)
		}
		for _, kill := range [][]any{{"del", "s"}, {"set", "s", "x"}} {
			must(t, c, "del", "s")
			must(t, c, "xgroup", "create", "s", "g", "$", "mkstream")
			r = blockedCall(c, "xreadgroup", "group", "g", "alice", "block", "0", "streams", "s", ">")
			waitBlocked(t, c, 1)
			must(t, c, kill...)
			if got := await(t, r); got.err == nil || got.err.Error() != "UNBLOCKED the stream key no longer exists" {
				t.Fatalf("%v: %#v %v", kill, got.v, got.err)
			}
		}
		// A timed-out XREADGROUP answers a null array.
		must(t, c, "del", "s")
		must(t, c, "xgroup", "create", "s", "g", "$", "mkstream")
		if v, err := send(c, "xreadgroup", "group", "g", "alice", "block", "50", "streams", "s", ">"); err != redis.Nil {
			t.Fatalf("XREADGROUP timeout: %#v %v", v, err)
		}
		if n := blockedClients(t, c); n != 0 {
			t.Fatalf("blocked_clients = %d at the end", n)
		}
	})
}

func TestCompatXsetid(t *testing.T) {
	s := testserver.Start(t)
	compat(t, s, func(t *testing.T, tg target) {
		testserver.Run(t, tg.c, []C{
			{Cmd: []any{"xsetid", "s"}, WantErr: "ERR wrong number of arguments for 'xsetid' command"},
			{Cmd: []any{"xsetid", "s", "1-1"}, WantErr: "ERR no such key"},
			{Cmd: []any{"xsetid", "s", "x"}, WantErr: "ERR Invalid stream ID specified as stream command argument"},
			{Cmd: []any{"xsetid", "s", "1-1", "0"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"xsetid", "s", "1-1", "entriesadded"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"xsetid", "s", "1-1", "entriesadded", "x"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"xsetid", "s", "1-1", "entriesadded", "-1", "maxdeletedid", "0-0"}, WantErr: "ERR entries_added must be positive"},
			{Cmd: []any{"xsetid", "s", "1-0", "entriesadded", "1", "maxdeletedid", "2-0"}, WantErr: "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id"},
			{Cmd: []any{"xadd", "s", "5-0", "a", "1"}, Want: "5-0"},
			{Cmd: []any{"xadd", "s", "6-0", "a", "1"}, Want: "6-0"},
			{Cmd: []any{"xsetid", "s", "5-9"}, WantErr: "ERR The ID specified in XSETID is smaller than the target stream top item"},
			{Cmd: []any{"xsetid", "s", "7-0", "entriesadded", "1"}, WantErr: "ERR The entries_added specified in XSETID is smaller than the target stream length"},
			{Cmd: []any{"xsetid", "s", "9-0", "entriesadded", "10", "maxdeletedid", "4-0"}, Want: "OK"},
			{Cmd: []any{"xadd", "s", "8-0", "a", "1"}, WantErr: "ERR The ID specified in XADD is equal or smaller than the target stream top item"},
			{Cmd: []any{"xdel", "s", "6-0"}, Want: int64(1)},
			// The top item counts, not the last ID: 6-0 is gone, 5-0 is the top.
			{Cmd: []any{"xsetid", "s", "5-5"}, Want: "OK"},
			{Cmd: []any{"set", "str", "v"}, Want: "OK"},
			{Cmd: []any{"xsetid", "str", "1-0"}, WantErr: "WRONGTYPE"},
		})
		info := toMap(must(t, tg.c, "xinfo", "stream", "s"))
		if info["last-generated-id"] != "5-5" || info["entries-added"] != int64(10) || info["max-deleted-entry-id"] != "6-0" {
			t.Fatalf("XINFO STREAM after XSETID = %v", info)
		}
	})
}
