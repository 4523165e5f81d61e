// Command shim stands in for src/redis-server when Redis' Tcl suite runs in
// its own mode (tests/tcl/run.sh --own): the suite starts
// `src/redis-server <config file> [--name value ...]` for each server it
// needs, waits for " PID: <pid>" and "Ready to accept" in the server's
// stdout, and kills that pid. The shim:
//
//   - reads the suite's generated config file and comments out, in place,
//     every directive sessiond does not have or whose value it refuses,
//     reporting each one on stderr and in the log (stdout) as
//     "sessiond shim: unsupported ..." (never silently);
//   - keeps the file where it is, so CONFIG REWRITE and the suite's
//     restart_server read and write the same file as with redis-server;
//   - drops the same way any "--name value" argument sessiond lacks;
//   - writes the " PID: " line Redis logs at start, sends its stderr to its
//     stdout (the suite's log), and execs sessiond in its own process, so the
//     pid the suite holds is the server's.
//
// sessiond is looked for as SESSIOND_BIN, else "sessiond" beside the shim.
package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/sessiond/sessiond/config"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: redis-server <config file> [--name value ...]")
		os.Exit(2)
	}
	bin := os.Getenv("SESSIOND_BIN")
	if bin == "" {
		self, err := os.Executable()
		if err != nil {
			fatal("locate self: %v", err)
		}
		bin = filepath.Join(filepath.Dir(self), "sessiond")
	}
	var args []string
	var report []string
	if !strings.HasPrefix(os.Args[1], "--") {
		dropped, err := translateFile(os.Args[1])
		if err != nil {
			fatal("%v", err)
		}
		report = append(report, dropped...)
		args = append(args, os.Args[1])
	}
	flags, dropped := translateFlags(os.Args[1:])
	args = append(args, flags...)
	report = append(report, dropped...)

	pid := os.Getpid()
	for _, r := range report {
		line := fmt.Sprintf("sessiond shim: unsupported %s", r)
		fmt.Fprintln(os.Stderr, line)
		fmt.Fprintf(os.Stdout, "%d:M * %s\n", pid, line)
	}
	fmt.Fprintf(os.Stdout, "%d:M * sessiond (as redis-server) started, PID: %d\n", pid, pid)
	// sessiond logs on stderr; the suite reads the server's log from stdout.
	if err := syscall.Dup2(1, 2); err != nil {
		fatal("dup2: %v", err)
	}
	argv := append([]string{bin}, args...)
	if err := syscall.Exec(bin, argv, os.Environ()); err != nil {
		fatal("exec %s: %v", bin, err)
	}
}

// translateFile rewrites the config file in place, turning each line
// sessiond would refuse into a comment, and returns what it dropped.
func translateFile(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	cfg := config.Defaults()
	var out strings.Builder
	var dropped []string
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		text := strings.TrimSpace(line)
		if text == "" || strings.HasPrefix(text, "#") {
			out.WriteString(line + "\n")
			continue
		}
		fields, err := config.SplitArgs(text)
		if err == nil && len(fields) >= 2 {
			if why := refusal(cfg, fields[0], strings.Join(fields[1:], " ")); why == "" {
				out.WriteString(line + "\n")
				continue
			} else {
				dropped = append(dropped, fmt.Sprintf("%q (%s)", text, why))
			}
		} else {
			dropped = append(dropped, fmt.Sprintf("%q (unreadable)", text))
		}
		out.WriteString("# sessiond shim, unsupported: " + line + "\n")
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
		return nil, fmt.Errorf("write config: %w", err)
	}
	return dropped, nil
}

// translateFlags keeps the "--name value ..." arguments sessiond accepts.
func translateFlags(argv []string) (kept, dropped []string) {
	cfg := config.Defaults()
	for i := 0; i < len(argv); i++ {
		name, ok := strings.CutPrefix(argv[i], "--")
		if !ok {
			continue
		}
		var vals []string
		for i+1 < len(argv) && !strings.HasPrefix(argv[i+1], "--") {
			i++
			vals = append(vals, argv[i])
		}
		if why := refusal(cfg, name, strings.Join(vals, " ")); why != "" {
			dropped = append(dropped, fmt.Sprintf("--%s %s (%s)", name, strings.Join(vals, " "), why))
			continue
		}
		kept = append(kept, "--"+name)
		if len(vals) == 0 {
			vals = []string{""}
		}
		kept = append(kept, vals...)
	}
	return kept, dropped
}

// refusal says why sessiond would refuse "name value" at startup ("" when
// it accepts it). Lines that are not parameters (user) pass through.
func refusal(cfg *config.Config, name, value string) string {
	if config.IsDirective(name) {
		return ""
	}
	if cfg.Lookup(name) == nil {
		return "no such parameter in sessiond"
	}
	if err := cfg.Set(name, value); err != nil {
		return err.Error()
	}
	// A value the parameter accepts may still be one sessiond refuses to
	// start with (a unix socket, daemonize yes): ask as the server does, on
	// this setting alone.
	probe := config.Defaults()
	if err := probe.Set(name, value); err == nil {
		if err := probe.CheckStartup(); err != nil {
			return err.Error()
		}
	}
	return ""
}

func fatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "sessiond shim: "+format+"\n", args...)
	os.Exit(1)
}
