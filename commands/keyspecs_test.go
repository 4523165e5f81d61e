package commands_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

// COMMAND GETKEYS and GETKEYSANDFLAGS follow the key specs: a counted run
// of keys (numkeys), the keys after a keyword (STREAMS), a destination
// before counted sources; never the count or the options.
func TestKeySpecsGetKeys(t *testing.T) {
	s := testserver.Start(t)
	many := []any{"COMMAND", "GETKEYS", "ZUNIONSTORE", "target", "260"}
	wantMany := []any{"target"}
	for i := 1; i <= 260; i++ {
		many = append(many, fmt.Sprintf("key%d", i))
		wantMany = append(wantMany, fmt.Sprintf("key%d", i))
	}
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		testserver.Run(t, c, []testserver.Case{
			{Cmd: many, Want: wantMany},
			{Cmd: []any{"COMMAND", "GETKEYS", "ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"}, Want: []any{"d", "a", "b"}},
			{Cmd: []any{"COMMAND", "GETKEYS", "ZUNION", "2", "a", "b", "WITHSCORES"}, Want: []any{"a", "b"}},
			{Cmd: []any{"COMMAND", "GETKEYS", "LMPOP", "2", "a", "b", "LEFT", "COUNT", "3"}, Want: []any{"a", "b"}},
			{Cmd: []any{"COMMAND", "GETKEYS", "BLMPOP", "0", "1", "a", "LEFT"}, Want: []any{"a"}},
			{Cmd: []any{"COMMAND", "GETKEYS", "SINTERCARD", "2", "a", "b", "LIMIT", "1"}, Want: []any{"a", "b"}},
			{Cmd: []any{"COMMAND", "GETKEYS", "XREAD", "COUNT", "2", "STREAMS", "s1", "s2", "0", "0"}, Want: []any{"s1", "s2"}},
			{Cmd: []any{"COMMAND", "GETKEYS", "XREADGROUP", "GROUP", "g", "c", "STREAMS", "s1", ">"}, Want: []any{"s1"}},
			{Cmd: []any{"COMMAND", "GETKEYS", "EVAL", "return 1", "2", "k1", "k2", "argv"}, Want: []any{"k1", "k2"}},
			{Cmd: []any{"COMMAND", "GETKEYS", "FCALL_RO", "f", "1", "k1", "argv"}, Want: []any{"k1"}},
			{Cmd: []any{"COMMAND", "GETKEYS", "SORT_RO", "k", "BY", "w_*"}, Want: []any{"k"}},
			{Cmd: []any{"COMMAND", "GETKEYS", "RENAME", "a", "b"}, Want: []any{"a", "b"}},
			{Cmd: []any{"COMMAND", "GETKEYSANDFLAGS", "SORT", "k", "STORE", "d"}, Want: []any{
				[]any{"k", []any{"RO", "access"}}, []any{"d", []any{"OW", "update"}}}},
			{Cmd: []any{"COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"}, Want: []any{"a", "b"}},
			{Cmd: []any{"COMMAND", "GETKEYSANDFLAGS", "ZINTERSTORE", "d", "1", "a"}, Want: []any{
				[]any{"d", []any{"OW", "update"}}, []any{"a", []any{"RO", "access"}}}},
			{Cmd: []any{"COMMAND", "GETKEYSANDFLAGS", "LMPOP", "1", "a", "LEFT"}, Want: []any{
				[]any{"a", []any{"RW", "access", "delete"}}}},
			{Cmd: []any{"COMMAND", "GETKEYSANDFLAGS", "XREAD", "STREAMS", "s", "0"}, Want: []any{
				[]any{"s", []any{"RO", "access"}}}},
			{Cmd: []any{"COMMAND", "GETKEYSANDFLAGS", "GEORADIUS", "src", "1", "2", "3", "m", "STOREDIST", "dst"}, Want: []any{
				[]any{"src", []any{"RO", "access"}}, []any{"dst", []any{"OW", "update"}}}},
			// ACLs ask what each key spec does: read for access, write
			// for insert/delete/update.
			{Cmd: []any{"ACL", "SETUSER", "ks", "on", "nopass", "+@all", "%R~read*", "%W~write*"}, Want: "OK"},
			{Cmd: []any{"ACL", "DRYRUN", "ks", "GEORADIUS", "read", "1", "2", "3", "m", "STOREDIST", "write"}, Want: "OK"},
			{Cmd: []any{"ACL", "DRYRUN", "ks", "GEORADIUS", "write", "1", "2", "3", "m", "STORE", "write"}, Want: "This user has no permissions to access the 'write' key"},
			{Cmd: []any{"ACL", "DRYRUN", "ks", "XREAD", "STREAMS", "read1", "0"}, Want: "OK"},
			{Cmd: []any{"ACL", "DRYRUN", "ks", "XREADGROUP", "GROUP", "g", "c", "STREAMS", "read1", ">"}, Want: "This user has no permissions to access the 'read1' key"},
			{Cmd: []any{"ACL", "DRYRUN", "ks", "ZUNION", "2", "read1", "read2"}, Want: "OK"},
			{Cmd: []any{"ACL", "DELUSER", "ks"}, Want: int64(1)},
			{Cmd: []any{"COMMAND", "GETKEYSANDFLAGS", "RENAME", "a", "b"}, Want: []any{
				[]any{"a", []any{"RW", "access", "delete"}}, []any{"b", []any{"OW", "update"}}}},
		})
	})
}

// commandInfo returns COMMAND INFO's entry of name, with sets and maps
// turned into slices and maps of strings the same way in RESP2 and RESP3.
func commandInfo(t *testing.T, c *redis.Client, name string) []any {
	t.Helper()
	v, err := c.Do(context.Background(), "COMMAND", "INFO", name).Slice()
	if err != nil || len(v) != 1 {
		t.Fatalf("COMMAND INFO %s: %v %v", name, v, err)
	}
	return plain(v[0]).([]any)
}

// plain turns RESP2 flat maps and RESP3 maps alike into map[string]any
// where the reply is a map by position (key specs), and sets into slices.
func plain(v any) any {
	switch x := v.(type) {
	case map[any]any:
		m := map[string]any{}
		for k, e := range x {
			m[fmt.Sprint(k)] = plain(e)
		}
		return m
	case map[string]any:
		m := map[string]any{}
		for k, e := range x {
			m[k] = plain(e)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	}
	return v
}

// asMap reads a key-spec map: a RESP3 map, or RESP2's flat array.
func asMap(v any) map[string]any {
	switch x := v.(type) {
	case map[string]any:
		return x
	case []any:
		m := map[string]any{}
		for i := 0; i+1 < len(x); i += 2 {
			m[fmt.Sprint(x[i])] = x[i+1]
		}
		return m
	}
	return nil
}

// COMMAND INFO shows Redis' legacy key range, movablekeys for commands
// whose keys depend on their arguments, and the key specs themselves.
func TestKeySpecsCommandInfo(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		for _, tc := range []struct {
			name             string
			movable          bool
			first, last, stp int64
			specs            int
		}{
			{"zunionstore", true, 1, 1, 1, 2},
			{"zunion", true, 0, 0, 0, 1},
			{"xread", true, 0, 0, 0, 1},
			{"eval", true, 0, 0, 0, 1},
			{"sort_ro", true, 1, 1, 1, 2},
			{"sort", true, 1, 1, 1, 3},
			{"get", false, 1, 1, 1, 1},
			{"rename", false, 1, 2, 1, 2},
			{"mset", false, 1, -1, 2, 1},
			{"ping", false, 0, 0, 0, 0},
		} {
			info := commandInfo(t, c, tc.name)
			flags := fmt.Sprint(info[2])
			if got := reflect.DeepEqual(containsWord(info[2], "movablekeys"), true); got != tc.movable {
				t.Errorf("%s: flags %s, movablekeys want %v", tc.name, flags, tc.movable)
			}
			if info[3] != tc.first || info[4] != tc.last || info[5] != tc.stp {
				t.Errorf("%s: range %v %v %v, want %d %d %d", tc.name, info[3], info[4], info[5], tc.first, tc.last, tc.stp)
			}
			if specs := info[8].([]any); len(specs) != tc.specs {
				t.Errorf("%s: %d key specs, want %d: %v", tc.name, len(specs), tc.specs, specs)
			}
		}
		// The shape of each kind of spec, as Redis 7 shows it.
		specs := commandInfo(t, c, "zunionstore")[8].([]any)
		dst, src := asMap(specs[0]), asMap(specs[1])
		if fmt.Sprint(dst["flags"]) != "[OW update]" || fmt.Sprint(asMap(dst["begin_search"])["type"]) != "index" ||
			fmt.Sprint(asMap(asMap(dst["begin_search"])["spec"])["index"]) != "1" || fmt.Sprint(asMap(dst["find_keys"])["type"]) != "range" {
			t.Errorf("zunionstore destination spec: %v", dst)
		}
		keynum := asMap(asMap(src["find_keys"])["spec"])
		if fmt.Sprint(asMap(src["find_keys"])["type"]) != "keynum" || fmt.Sprint(keynum["keynumidx"]) != "0" ||
			fmt.Sprint(keynum["firstkey"]) != "1" || fmt.Sprint(keynum["keystep"]) != "1" {
			t.Errorf("zunionstore source spec: %v", src)
		}
		xs := asMap(commandInfo(t, c, "xread")[8].([]any)[0])
		bs := asMap(asMap(xs["begin_search"])["spec"])
		fk := asMap(asMap(xs["find_keys"])["spec"])
		if fmt.Sprint(asMap(xs["begin_search"])["type"]) != "keyword" || bs["keyword"] != "STREAMS" || fmt.Sprint(bs["startfrom"]) != "1" ||
			fmt.Sprint(fk["lastkey"]) != "-1" || fmt.Sprint(fk["limit"]) != "2" {
			t.Errorf("xread spec: %v", xs)
		}
		so := asMap(commandInfo(t, c, "sort_ro")[8].([]any)[1])
		if fmt.Sprint(asMap(so["begin_search"])["type"]) != "unknown" || so["notes"] == nil {
			t.Errorf("sort_ro pattern spec: %v", so)
		}
	})
}

func containsWord(v any, w string) bool {
	for _, x := range v.([]any) {
		if x == w {
			return true
		}
	}
	return false
}

// EXISTS, TYPE and TTL do not count as an access of the key (Redis'
// LOOKUP_NOTOUCH); GET does. With lfu-log-factor 0 every access adds one
// to OBJECT FREQ, so the counter shows which commands touched the key.
func TestNoTouchLookups(t *testing.T) {
	s := testserver.Start(t, "maxmemory-policy", "allkeys-lfu", "lfu-log-factor", "0")
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		c.Set(ctx, "foo", "bar", 0)
		before, err := c.ObjectFreq(ctx, "foo").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, cmd := range [][]any{{"EXISTS", "foo"}, {"TYPE", "foo"}, {"TTL", "foo"}, {"PTTL", "foo"}, {"EXPIRETIME", "foo"}} {
			if err := c.Do(ctx, cmd...).Err(); err != nil {
				t.Fatal(err)
			}
		}
		if after := c.ObjectFreq(ctx, "foo").Val(); after != before {
			t.Errorf("OBJECT FREQ %d after EXISTS/TYPE/TTL, was %d", after, before)
		}
		c.Get(ctx, "foo")
		if after := c.ObjectFreq(ctx, "foo").Val(); after != before+1 {
			t.Errorf("OBJECT FREQ %d after GET, want %d", after, before+1)
		}
		c.Touch(ctx, "foo")
		if after := c.ObjectFreq(ctx, "foo").Val(); after != before+2 {
			t.Errorf("OBJECT FREQ %d after TOUCH, want %d", after, before+2)
		}
	})
}
