package server

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/sessiond/sessiond/config"
	"golang.org/x/sys/unix"
)

// reservedFDs are the descriptors kept for everything but clients: the data
// file and its lock, listeners, event loops, snapshots (Redis keeps 32).
const reservedFDs = 32

// fitOpenFilesLimit makes room for maxclients connections, as Redis'
// adjustOpenFilesLimit does: it raises the soft limit on open files toward
// maxclients plus a reserve (and the hard limit too where the process may),
// and when the system will not give that many, lowers maxclients to what
// fits and says so. A server that runs out of descriptors anyway keeps
// serving: failed accepts back off and are retried.
func fitOpenFilesLimit(cfg *config.Config) {
	maxclients := cfg.Int("maxclients")
	want := uint64(maxclients) + reservedFDs
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		slog.Warn("cannot read the open files limit", "error", err)
		return
	}
	if lim.Cur >= want {
		return
	}
	// Try the whole amount (raising the hard limit needs privilege), then
	// the most any process may have (fs.nr_open), then the hard limit.
	candidates := []uint64{want}
	if b, err := os.ReadFile("/proc/sys/fs/nr_open"); err == nil {
		if n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil && n < want {
			candidates = append(candidates, n)
		}
	}
	candidates = append(candidates, lim.Max)
	for _, target := range candidates {
		if target <= lim.Cur {
			continue
		}
		try := unix.Rlimit{Cur: target, Max: max(lim.Max, target)}
		if unix.Setrlimit(unix.RLIMIT_NOFILE, &try) == nil {
			lim.Cur = target
			break
		}
	}
	if lim.Cur >= want {
		return
	}
	fit := int64(lim.Cur) - reservedFDs
	if fit < 1 {
		fit = 1
	}
	slog.Warn(fmt.Sprintf("open files limit is %d: maxclients lowered from %d to %d (raise it with `ulimit -n %d`)", lim.Cur, maxclients, fit, want))
	if err := cfg.Set("maxclients", strconv.FormatInt(fit, 10)); err != nil {
		slog.Warn("cannot lower maxclients", "error", err)
	}
}
