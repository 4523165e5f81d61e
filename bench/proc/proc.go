// Package proc starts and stops the servers under test: sessiond and redis-server, each on a free
// loopback port with its own data directory. Every process started here is remembered and can be
// killed by its PID (KillAll), so the bench leaves nothing running on any exit path.
package proc

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sessiond/sessiond/bench/wire"
)

// Kind names a server implementation.
type Kind string

// The two sides of the comparison.
const (
	Sessiond Kind = "sessiond"
	Redis    Kind = "redis"
)

// Config describes one server process.
type Config struct {
	Kind Kind
	Bin  string // path of the executable
	Dir  string // data directory (created if missing)
	Port int    // 0 picks a free loopback port
	// Fsync is the appendfsync policy: always, everysec or no.
	Fsync string
	// Extra arguments appended to the command line.
	Extra []string
	// Env is added to the bench's environment for the process.
	Env []string
}

// Server is a running server process.
type Server struct {
	Cfg     Config
	Addr    string
	Started time.Time
	cmd     *exec.Cmd
	log     *os.File
	logPath string
	done    chan struct{}
	waitErr error
}

var (
	regMu   sync.Mutex
	running = map[int]*Server{}
)

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Args returns the command line (without the program) for cfg: matched persistence on both
// sides (append-only log, the given fsync policy, no RDB snapshots), bound to loopback.
func Args(cfg Config) []string {
	port := strconv.Itoa(cfg.Port)
	var a []string
	switch cfg.Kind {
	case Redis:
		a = []string{
			"--port", port, "--bind", "127.0.0.1", "--dir", cfg.Dir,
			"--appendonly", "yes", "--appendfsync", cfg.Fsync, "--save", "",
			"--daemonize", "no", "--protected-mode", "yes", "--logfile", "",
		}
	default:
		a = []string{"--port", port, "--dir", cfg.Dir, "--appendfsync", cfg.Fsync, "--appendonly", "yes"}
	}
	return append(a, cfg.Extra...)
}

// Start launches the server and returns at once; use WaitReady before sending load. The
// server's output goes to server.log in its data directory.
func Start(cfg Config) (*Server, error) {
	if cfg.Port == 0 {
		p, err := FreePort()
		if err != nil {
			return nil, err
		}
		cfg.Port = p
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, err
	}
	logPath := filepath.Join(cfg.Dir, "server.log")
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(cfg.Bin, Args(cfg)...)
	cmd.Dir = cfg.Dir
	if len(cfg.Env) > 0 {
		cmd.Env = append(os.Environ(), cfg.Env...)
	}
	cmd.Stdout = lf
	cmd.Stderr = lf
	// If the bench itself dies without running its cleanup, the kernel kills the server.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	s := &Server{Cfg: cfg, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.Port)), cmd: cmd,
		log: lf, logPath: logPath, done: make(chan struct{})}
	s.Started = time.Now()
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("start %s: %w", cfg.Bin, err)
	}
	regMu.Lock()
	running[cmd.Process.Pid] = s
	regMu.Unlock()
	go func() {
		s.waitErr = cmd.Wait()
		regMu.Lock()
		delete(running, cmd.Process.Pid)
		regMu.Unlock()
		lf.Close()
		close(s.done)
	}()
	return s, nil
}

// PID is the server's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Exited reports whether the process has exited.
func (s *Server) Exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// LogTail returns the last few lines of the server's output, for error messages.
func (s *Server) LogTail() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 8 {
		lines = lines[len(lines)-8:]
	}
	return strings.Join(lines, "\n")
}

// ErrExited is returned when the server process ended while it was awaited.
var ErrExited = errors.New("server exited")

// WaitReady polls the server until probe succeeds on a fresh connection or timeout passes. It
// returns the time from process start to the first success. probe nil means PING -> PONG.
// The poll interval is 1 ms so the measurement of a restart is not dominated by it.
func (s *Server) WaitReady(timeout time.Duration, probe func(c *wire.Conn) error) (time.Duration, error) {
	if probe == nil {
		probe = Ping
	}
	deadline := time.Now().Add(timeout)
	var lastErr error
	var c *wire.Conn
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	for time.Now().Before(deadline) {
		if s.Exited() {
			return 0, fmt.Errorf("%s: %w (%v); log:\n%s", s.Cfg.Kind, ErrExited, s.waitErr, s.LogTail())
		}
		if c == nil {
			var err error
			c, err = wire.Dial(s.Addr, 100*time.Millisecond)
			if err != nil {
				lastErr = err
				time.Sleep(time.Millisecond)
				continue
			}
		}
		err := probe(c)
		if err == nil {
			return time.Since(s.Started), nil
		}
		lastErr = err
		var ne net.Error
		if errors.As(err, &ne) || errors.Is(err, wire.ErrProtocol) || strings.Contains(err.Error(), "EOF") {
			c.Close()
			c = nil
		}
		time.Sleep(time.Millisecond)
	}
	return 0, fmt.Errorf("%s not ready after %v: %v", s.Cfg.Kind, timeout, lastErr)
}

// Ping is the default readiness probe.
func Ping(c *wire.Conn) error {
	var v wire.Value
	if err := c.Do(2*time.Second, &v, "PING"); err != nil {
		return err
	}
	if v.Kind != wire.Simple || string(v.Str) != "PONG" {
		return fmt.Errorf("PING answered %s", v.Text())
	}
	return nil
}

// Stop asks the server to exit (SIGTERM: both servers flush their log and exit cleanly), waits up
// to timeout, then kills it.
func (s *Server) Stop(timeout time.Duration) error {
	if s.Exited() {
		return nil
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		return nil
	case <-time.After(timeout):
		s.Kill()
		return fmt.Errorf("%s (pid %d) did not exit within %v of SIGTERM; killed", s.Cfg.Kind, s.PID(), timeout)
	}
}

// Kill kills the process by its PID and waits briefly for it to be reaped.
func (s *Server) Kill() {
	if s.Exited() {
		return
	}
	s.cmd.Process.Kill()
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
	}
}

// KillAll kills every server this process started that is still running.
func KillAll() {
	regMu.Lock()
	list := make([]*Server, 0, len(running))
	for _, s := range running {
		list = append(list, s)
	}
	regMu.Unlock()
	for _, s := range list {
		s.Kill()
	}
}

// RSS returns the resident set size of the process in bytes (VmRSS).
func (s *Server) RSS() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.PID()))
	if err != nil {
		return 0, err
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if bytes.HasPrefix(line, []byte("VmRSS:")) {
			f := strings.Fields(string(line[6:]))
			if len(f) < 1 {
				break
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return 0, err
			}
			return kb * 1024, nil
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// clockTicks is USER_HZ, 100 on every Linux this runs on.
const clockTicks = 100

// CPUTime returns the user+system CPU time the process has used so far.
func (s *Server) CPUTime() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.PID()))
	if err != nil {
		return 0, err
	}
	// The command name is in parentheses and may contain spaces: fields count from after it.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("bad /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	// After ")": state(3) ppid(4) ... utime(14) stime(15) -> indexes 11 and 12 here.
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("bad cpu times in /proc stat")
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}
