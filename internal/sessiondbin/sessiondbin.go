// Package sessiondbin gives tests that run sessiond as a real process the
// binary to run and free loopback ports to run it on.
package sessiondbin

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Path returns a sessiond binary built from this module, once per test
// process (SESSIOND_BIN names one to use instead). The test fails when it
// cannot be built.
func Path(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		if p := os.Getenv("SESSIOND_BIN"); p != "" {
			binPath = p
			return
		}
		dir, err := os.MkdirTemp("", "sessiond-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "sessiond")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/sessiond/sessiond").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
