// Package filelock keeps a file or directory for one process: an exclusive
// flock on a lock file that also holds the owner's pid, so that a second
// process is refused with who holds it. The kernel drops the lock when the
// process dies, so a crash leaves nothing to clean up.
package filelock

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// HeldError is Acquire's refusal: another process holds the lock file.
type HeldError struct {
	Path string // the lock file
	PID  string // its holder's pid as the file says ("unknown" if empty)
}

func (e *HeldError) Error() string { return fmt.Sprintf("pid %s holds %s", e.PID, e.Path) }

// Lock is a held lock file.
type Lock struct{ f *os.File }

// Acquire takes the lock file at path (created if missing) for this process
// without waiting: a lock another process holds is a *HeldError.
func Acquire(path string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		pid := strings.TrimSpace(string(holder))
		if pid == "" {
			pid = "unknown"
		}
		return nil, &HeldError{Path: path, PID: pid}
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return &Lock{f: f}, nil
}

// Release gives the lock up (a nil Lock is none).
func (l *Lock) Release() {
	if l == nil || l.f == nil {
		return
	}
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	l.f.Close()
	l.f = nil
}
