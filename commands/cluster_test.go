package commands_test

import (
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

// CLUSTER answers as a Redis server without cluster mode: HELP lists the
// subcommands, every other one says cluster support is disabled, and
// scripts may not call CLUSTER RESET.
func TestClusterDisabled(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		testserver.Run(t, c, []testserver.Case{
			{Cmd: []any{"CLUSTER", "INFO"}, WantErr: "ERR This instance has cluster support disabled"},
			{Cmd: []any{"CLUSTER", "SLOTS"}, WantErr: "ERR This instance has cluster support disabled"},
			{Cmd: []any{"CLUSTER", "KEYSLOT", "k"}, WantErr: "ERR This instance has cluster support disabled"},
			{Cmd: []any{"CLUSTER", "KEYSLOT"}, WantErr: "ERR wrong number of arguments for 'cluster|keyslot' command"},
			{Cmd: []any{"CLUSTER", "NOPE"}, WantErr: "ERR unknown subcommand 'NOPE'. Try CLUSTER HELP."},
			{Cmd: []any{"EVAL", "return redis.call('cluster', 'reset', 'hard')", "0"}, WantErr: "ERR This Redis command is not allowed from script"},
			{Cmd: []any{"COMMAND", "LIST", "FILTERBY", "PATTERN", "cl*help"}, Want: []any{"client|help", "cluster|help"}},
		})
		help, err := c.Do(bg, "CLUSTER", "HELP").StringSlice()
		if err != nil || len(help) < 10 || help[0] != "CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:" {
			t.Errorf("CLUSTER HELP %v %v", help, err)
		}
	})
}
