// Command gendocs writes docs/commands.md from the command table.
//
//	go generate ./commands   (or: go run ./internal/gendocs docs/commands.md)
package main

import (
	"fmt"
	"os"

	"github.com/sessiond/sessiond/commands"
)

func main() {
	out := "docs/commands.md"
	if len(os.Args) > 1 {
		out = os.Args[1]
	}
	if err := os.WriteFile(out, []byte(commands.RenderDocs()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}
