package commands_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/commands"
	"github.com/sessiond/sessiond/internal/testserver"
)

// fuzzSkipped are the commands the table fuzzer leaves out: they end the
// server, change who may connect or how the connection speaks (its later
// commands would test something else), block for the fuzzer's input, or run
// for seconds by design (PFSELFTEST: over 10 s under -race, past the
// client's timeout and the server's stop).
var fuzzSkipped = map[string]bool{
	"shutdown": true, "quit": true, "reset": true, "auth": true, "hello": true,
	"subscribe": true, "psubscribe": true, "ssubscribe": true, "monitor": true,
	"client|kill": true, "client|pause": true, "client|reply": true, "config|set": true,
	"multi": true, "debug": true, "pfselftest": true,
}

// fuzzCommands lists "name" or "name|sub" for every command of the table
// the fuzzer drives.
func fuzzCommands() [][]string {
	var out [][]string
	for _, s := range commands.Specs() {
		if len(s.Subcommands) == 0 {
			if !fuzzSkipped[s.Name] && s.Flags&commands.FlagBlocking == 0 {
				out = append(out, []string{s.Name})
			}
			continue
		}
		for _, sub := range s.Subcommands {
			name := strings.TrimPrefix(sub.Name, s.Name+"|")
			if !fuzzSkipped[s.Name+"|"+name] && !fuzzSkipped[s.Name] {
				out = append(out, []string{s.Name, name})
			}
		}
	}
	return out
}

// FuzzCommandTable feeds random argument vectors to every command of the
// table on a live server: whatever the arguments, a command answers (a
// reply or an error in Redis' words), never "internal error" (a recovered
// panic), and the server goes on serving. `go test` runs the seeds, three
// argument shapes for every command; `go test -fuzz FuzzCommandTable`
// explores.
func FuzzCommandTable(f *testing.F) {
	cmds := fuzzCommands()
	shapes := [][]byte{
		nil,
		[]byte("k\x00v\x00EX\x0010"),
		[]byte("k\x00-1\x009223372036854775807\x00\xff\xfe\x00*\x00NX\x00WITHSCORES"),
	}
	for i := range cmds {
		for _, sh := range shapes {
			f.Add(uint16(i), sh)
		}
	}
	s := testserver.Start(f)
	c := redis.NewClient(&redis.Options{Addr: s.Addr, Protocol: 2, MaxRetries: -1,
		ReadTimeout: 5 * time.Second, DisableIdentity: true})
	f.Cleanup(func() { c.Close() })
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, which uint16, raw []byte) {
		cmd := cmds[int(which)%len(cmds)]
		args := make([]any, 0, 12)
		for _, a := range cmd {
			args = append(args, a)
		}
		if len(raw) > 0 {
			for i, a := range bytes.Split(raw, []byte{0}) {
				if i == 10 {
					break
				}
				args = append(args, string(a))
			}
		}
		err := c.Do(ctx, args...).Err()
		if err != nil && strings.Contains(err.Error(), "internal error") {
			t.Fatalf("%q: %v", args, err)
		}
		if err := c.Ping(ctx).Err(); err != nil {
			t.Fatalf("after %q the server does not answer PING: %v", args, err)
		}
	})
}

// Found by FuzzCommandTable: SRANDMEMBER s -9223372036854775807 built a
// reply of 2^63 members until the process ran out of memory. A negative
// count (members may repeat) is refused past 2^24.
func TestRandomMembersWithHugeRepeats(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		testserver.Run(t, c, []C{
			{Cmd: []any{"flushall"}, Want: "OK"},
			{Cmd: []any{"sadd", "s", "a"}, Want: int64(1)},
			{Cmd: []any{"hset", "h", "f", "v"}, Want: int64(1)},
			{Cmd: []any{"zadd", "z", "1", "a"}, Want: int64(1)},
			{Cmd: []any{"srandmember", "s", "-9223372036854775807"}, WantErr: "ERR value is out of range"},
			{Cmd: []any{"hrandfield", "h", "-16777217"}, WantErr: "ERR value is out of range"},
			{Cmd: []any{"zrandmember", "z", "-16777217", "withscores"}, WantErr: "ERR value is out of range"},
			{Cmd: []any{"srandmember", "s", "-3"}, Want: []any{"a", "a", "a"}},
		})
	})
}
