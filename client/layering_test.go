package client_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The client is a user of the server, beside it: the server's packages never
// import it, and it imports none of theirs (it talks to the server over the
// network only).
func TestLayering(t *testing.T) {
	deps := func(pkgs ...string) []string {
		out, err := exec.Command("go", append([]string{"list", "-deps"}, pkgs...)...).Output()
		if err != nil {
			t.Fatalf("go list -deps %v: %v", pkgs, err)
		}
		return strings.Fields(string(out))
	}
	const mod = "github.com/sessiond/sessiond/"
	for _, d := range deps("../server", "../commands", "../engine", "../persistence", "../config", "..") {
		if d == mod+"client" {
			t.Errorf("the server imports %s", d)
		}
	}
	for _, d := range deps(".") {
		if strings.HasPrefix(d, mod) && d != mod+"client" {
			t.Errorf("the client imports the server's package %s", d)
		}
	}
}
