package commands

import (
	"testing"

	"github.com/sessiond/sessiond/config"
	"github.com/sessiond/sessiond/engine"
	"github.com/sessiond/sessiond/persistence"
)

// BenchmarkRunShared measures the event loop's shared pass per command
// (the per-command accounting is on this path): 16 clients with one command
// each, in memory.
func BenchmarkRunShared(b *testing.B) {
	for _, tc := range []struct {
		name  string
		cmd   []string
		write bool
	}{
		{"get", []string{"get", "k"}, false},
		{"set", []string{"set", "k", "v"}, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			st, err := persistence.Open(persistence.Options{})
			if err != nil {
				b.Fatal(err)
			}
			eng, err := engine.Open(engine.Options{Store: st})
			if err != nil {
				b.Fatal(err)
			}
			defer func() { eng.Close(); st.Close() }()
			d := NewDispatcher(eng, config.Defaults())
			groups := make([]Group, 16)
			for i := range groups {
				cl, err := d.NewClient(fakeConn{})
				if err != nil {
					b.Fatal(err)
				}
				groups[i] = Group{Client: cl, Cmds: [][][]byte{args(tc.cmd...)}, Write: tc.write}
			}
			b.ResetTimer()
			for i := 0; i < b.N; i += len(groups) {
				d.RunShared(groups)
				for _, g := range groups {
					g.Client.W.Reset()
					g.Client.Ticket()
				}
			}
		})
	}
}
