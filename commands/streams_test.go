package commands_test

import (
	"strings"
	"testing"

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
