package commands_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sessiond/sessiond/internal/testserver"
)

// A standalone server (raft-node-id empty) answers ROLE as a Redis master
// with no replicas and refuses the group commands; replication/ tests the
// commands on real groups.
func TestStandaloneGroupCommands(t *testing.T) {
	s := testserver.Start(t)
	msg := "ERR this server is not part of a replicated group (raft-node-id is empty)"
	compat(t, s, func(t *testing.T, tg target) {
		testserver.Run(t, tg.c, []C{
			{Cmd: []any{"role"}, Want: []any{"master", int64(0), []any{}}},
			{Cmd: []any{"role", "x"}, WantErr: "ERR wrong number of arguments for 'role' command"},
			{Cmd: []any{"raft", "info"}, WantErr: msg},
			{Cmd: []any{"raft", "add", "n4", "127.0.0.1:7004"}, WantErr: msg},
			{Cmd: []any{"raft", "remove", "n4"}, WantErr: msg},
			{Cmd: []any{"raft", "transfer"}, WantErr: msg},
			{Cmd: []any{"raft", "snapshot"}, WantErr: msg},
			{Cmd: []any{"raft", "nosuch"}, WantErr: "ERR unknown subcommand 'nosuch'. Try RAFT HELP."},
			{Cmd: []any{"raft", "add", "n4"}, WantErr: "ERR wrong number of arguments for 'raft|add' command"},
			{Cmd: []any{"sentinel", "get-master-addr-by-name", "sessiond"}, WantErr: msg},
			{Cmd: []any{"sentinel", "masters"}, WantErr: msg},
			{Cmd: []any{"sentinel", "nosuch"}, WantErr: "ERR unknown subcommand 'nosuch'. Try SENTINEL HELP."},
			{Cmd: []any{"config", "get", "raft-follower-reads"}, Want: tg.by([]any{"raft-follower-reads", "consistent"}, map[any]any{"raft-follower-reads": "consistent"})},
			{Cmd: []any{"config", "set", "raft-follower-writes", "sometimes"}, WantErr: "ERR CONFIG SET failed (possibly related to argument 'raft-follower-writes') - argument(s) must be one of the following: forward, readonly"},
		})
		info, err := tg.c.Info(context.Background(), "raft").Result()
		if err != nil || !strings.Contains(info, "raft_enabled:0") {
			t.Fatalf("INFO raft = %q, %v", info, err)
		}
		repl, err := tg.c.Info(context.Background(), "replication").Result()
		if err != nil || !strings.Contains(repl, "role:master") {
			t.Fatalf("INFO replication = %q, %v", repl, err)
		}
	})
}
