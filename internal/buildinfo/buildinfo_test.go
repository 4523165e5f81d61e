package buildinfo

import (
	"regexp"
	"testing"
)

func TestVersionLine(t *testing.T) {
	i := Info{Version: "1.2.3", Commit: "0123456789abcdef", Dirty: true, Go: "go1.26.0"}
	if got, want := i.String(), "sessiond v=1.2.3 sha=01234567:1 go=go1.26.0 bits=64"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := (Info{Version: "1", Go: "go1"}).ShortSHA(); got != "00000000" {
		t.Errorf("unknown commit: %q", got)
	}
	// The running test binary: a version always, in redis-server's shape.
	if !regexp.MustCompile(`^sessiond v=\S+ sha=[0-9a-f]{8}:[01] go=go\S+ bits=64$`).MatchString(Get().String()) {
		t.Errorf("version line: %q", Get().String())
	}
}
