// Package buildinfo says which sessiond this is: its version, the commit it
// was built from and the Go release that built it. The version and commit
// are stamped at build time,
//
//	go build -ldflags "-X github.com/sessiond/sessiond/internal/buildinfo.version=1.2.0 \
//	    -X github.com/sessiond/sessiond/internal/buildinfo.commit=$(git rev-parse HEAD)"
//
// and, when not stamped, come from the VCS information the go command
// records in the binary (debug.ReadBuildInfo).
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
)

// Set by -ldflags -X at build time; empty otherwise.
var (
	version string
	commit  string
)

// DefaultVersion is the version of an unstamped build.
const DefaultVersion = "0.1.0"

// Info describes the running binary.
type Info struct {
	Version string // e.g. "0.1.0"
	Commit  string // the full commit hash, or "" when unknown
	Dirty   bool   // built from a work tree with uncommitted changes
	Go      string // e.g. "go1.26.8"
}

var (
	once sync.Once
	info Info
)

// Get returns the binary's build information.
func Get() Info {
	once.Do(func() {
		info = Info{Version: version, Commit: commit, Go: runtime.Version()}
		bi, ok := debug.ReadBuildInfo()
		if ok && info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		if ok && info.Commit == "" {
			for _, s := range bi.Settings {
				switch s.Key {
				case "vcs.revision":
					info.Commit = s.Value
				case "vcs.modified":
					info.Dirty = s.Value == "true"
				}
			}
		}
		if info.Version == "" {
			info.Version = DefaultVersion
		}
	})
	return info
}

// ShortSHA is the first 8 characters of the commit ("00000000" when
// unknown), as Redis prints redis_git_sha1.
func (i Info) ShortSHA() string {
	if len(i.Commit) < 8 {
		return "00000000"
	}
	return i.Commit[:8]
}

// String is the version line of `sessiond --version`, after redis-server's
// "Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64".
func (i Info) String() string {
	dirty := 0
	if i.Dirty {
		dirty = 1
	}
	return fmt.Sprintf("sessiond v=%s sha=%s:%d go=%s bits=64", i.Version, i.ShortSHA(), dirty, i.Go)
}
