package commands_test

import (
	"os"
	"strings"
	"testing"

	"github.com/sessiond/sessiond/commands"
)

// The command reference is generated from the table; this keeps the committed
// file from drifting.
func TestDocsUpToDate(t *testing.T) {
	want := commands.RenderDocs()
	got, err := os.ReadFile("../docs/commands.md")
	if err != nil {
		t.Fatalf("read docs: %v (run: go generate ./commands)", err)
	}
	if string(got) != want {
		t.Fatalf("docs/commands.md is out of date with the command table: run `go generate ./commands`")
	}
}

// Every command documents itself: the table is the reference.
func TestEveryCommandIsDocumented(t *testing.T) {
	for _, s := range commands.Specs() {
		if strings.TrimSpace(s.Summary) == "" {
			t.Errorf("%s has no summary", s.Name)
		}
		if s.Run == nil && len(s.Subcommands) == 0 {
			t.Errorf("%s has no handler", s.Name)
		}
		for _, sub := range s.Subcommands {
			if sub.Summary == "" || sub.Run == nil {
				t.Errorf("%s has no summary or handler", sub.FullName())
			}
		}
	}
}
