// Command sessiond is a Redis-protocol server with native session and token
// commands.
//
//	sessiond [config-file] [--name value ...]
//	sessiond check [--repair] data-file
//
// Configuration follows redis-server: an optional file of "name value" lines,
// then "--name value" flags that override it. With no arguments it serves on
// 127.0.0.1:6379 and keeps its data in ./sessiond.db, fsynced every second.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/sessiond/sessiond/commands"
	"github.com/sessiond/sessiond/config"
	"github.com/sessiond/sessiond/engine"
	"github.com/sessiond/sessiond/internal/buildinfo"
	"github.com/sessiond/sessiond/internal/logging"
	"github.com/sessiond/sessiond/persistence"
	"github.com/sessiond/sessiond/server"
	"github.com/tidwall/buntdb"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "check" {
		os.Exit(runCheck(os.Args[2:]))
	}
	if len(os.Args) == 2 {
		switch os.Args[1] {
		case "-v", "--version":
			fmt.Println(buildinfo.Get())
			return
		case "-h", "--help":
			config.Defaults().Usage(os.Stdout)
			return
		}
	}
	cfg, err := loadConfig(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "sessiond:", err)
		os.Exit(2)
	}
	if err := cfg.CheckStartup(); err != nil {
		fmt.Fprintln(os.Stderr, "sessiond:", err)
		os.Exit(2)
	}
	closeLog, err := logging.Setup(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sessiond:", err)
		os.Exit(2)
	}
	defer closeLog()
	os.Exit(run(cfg))
}

// run serves until a signal or SHUTDOWN and returns the exit status.
func run(cfg *config.Config) int {
	if addr := os.Getenv("SESSIOND_PPROF"); addr != "" {
		// Profiling for bench/: SESSIOND_PPROF=127.0.0.1:6060 sessiond ...
		go func() { slog.Warn("pprof endpoint stopped", "error", http.ListenAndServe(addr, nil)) }()
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var serving atomic.Pointer[server.Server]
	go func() {
		// The first signal starts a graceful shutdown; restoring the default
		// action lets a second one end the process at once, as Redis does
		// when it is told twice, should the shutdown ever hang. A data file
		// that cannot be flushed keeps the server running, as Redis does
		// when its save fails: a later signal tries again.
		for {
			select {
			case sig := <-sigs:
				if srv := serving.Load(); srv != nil && srv.SyncForShutdown() != nil {
					slog.Error("received signal but errors trying to shut down the server, check the logs for more information", "signal", sig.String())
					continue
				}
				slog.Warn("received signal, shutting down", "signal", sig.String())
				signal.Reset(os.Interrupt, syscall.SIGTERM)
				cancel()
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	bi := buildinfo.Get()
	slog.Info("sessiond starting", "version", bi.Version, "sha", bi.ShortSHA(), "go", bi.Go, "pid", os.Getpid())
	srv, err := server.Start(cfg)
	if err != nil {
		slog.Error("cannot start", "error", err)
		if errors.Is(err, server.ErrListen) {
			// Redis' words first: tools that start redis-server (its Tcl
			// suite) look for them to retry on another port.
			fmt.Fprintf(os.Stderr, "Failed listening on port %d (tcp), aborting.\n", cfg.Int("port"))
		}
		fmt.Fprintln(os.Stderr, "sessiond:", err)
		return 1
	}
	st := srv.Dispatcher().Engine.Store()
	var records int
	_ = st.DB().View(func(tx *buntdb.Tx) error { records, _ = tx.Len(); return nil })
	slog.Info("data file loaded", "path", dataFile(cfg), "records", records, "took", st.LoadTime().String(), "appendfsync", cfg.Get("appendfsync"))
	serving.Store(srv)
	slog.Info("Ready to accept connections", "addr", srv.Addr().String(), "port", cfg.Int("port"), "tls_port", cfg.Int("tls-port"))
	if err := srv.Serve(ctx); err != nil {
		slog.Error("server stopped with an error", "error", err)
		fmt.Fprintln(os.Stderr, "sessiond:", err)
		return 1
	}
	slog.Warn("sessiond is now ready to exit, bye bye")
	return 0
}

func dataFile(cfg *config.Config) string {
	if !cfg.Bool("appendonly") {
		return ":memory:"
	}
	return filepath.Join(cfg.Get("dir"), cfg.Get("appendfilename"))
}

// loadConfig applies an optional config file, then --name value flags.
func loadConfig(args []string) (*config.Config, error) {
	cfg := config.Defaults()
	if len(args) > 0 && !strings.HasPrefix(args[0], "--") {
		if err := cfg.LoadFile(args[0]); err != nil {
			return nil, err
		}
		abs, err := filepath.Abs(args[0])
		if err == nil {
			commands.ConfigFile = abs
		}
		args = args[1:]
	}
	for i := 0; i < len(args); i++ {
		name, ok := strings.CutPrefix(args[i], "--")
		if !ok || name == "" {
			return nil, fmt.Errorf("unexpected argument %q (flags are --name value)", args[i])
		}
		if name == "help" {
			cfg.Usage(os.Stdout)
			os.Exit(0)
		}
		if name == "version" {
			fmt.Println(buildinfo.Get())
			os.Exit(0)
		}
		var vals []string
		for i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
			i++
			vals = append(vals, args[i])
		}
		if len(vals) == 0 {
			return nil, fmt.Errorf("--%s needs a value", name)
		}
		if config.IsDirective(name) {
			// --user "alice on >pw ~* +@all", or its words as separate arguments.
			words := vals
			if len(vals) == 1 {
				if w, err := config.SplitArgs(vals[0]); err == nil {
					words = w
				}
			}
			cfg.AddDirective(name, words, "--"+name)
			continue
		}
		if err := cfg.Set(name, strings.Join(vals, " ")); err != nil {
			return nil, fmt.Errorf("--%s: %w", name, config.ExplainUnknown(name, err))
		}
	}
	return cfg, nil
}

func runCheck(args []string) int {
	repair := false
	var path string
	for _, a := range args {
		switch a {
		case "--repair":
			repair = true
		default:
			path = a
		}
	}
	if path == "" {
		fmt.Fprintln(os.Stderr, "usage: sessiond check [--repair] data-file")
		return 2
	}
	rep, err := persistence.Check(path, repair)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sessiond check:", err)
		return 1
	}
	fmt.Println(rep)
	code := 0
	if !rep.OK && !rep.Repaired {
		code = 1
	}
	if !rep.OK && !rep.Torn && !rep.HalfWritten && !rep.Repaired {
		return code // damaged: the server would not load it
	}
	// What the server would load: decode every record and cross-check the
	// native ones with their indexes.
	crep, problems, err := engine.CheckFile(path, rep.GoodSize)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sessiond check:", err)
		return 1
	}
	for _, p := range crep.Problems {
		fmt.Printf("%s: %s\n", path, p)
	}
	if problems > len(crep.Problems) {
		fmt.Printf("%s: ... and %d more problems\n", path, problems-len(crep.Problems))
	}
	if problems > 0 {
		fmt.Printf("%s: %d problems in the records: %d items (%d sessions) load, these cannot be accounted for\n", path, problems, crep.Items, crep.Sessions)
		return 1
	}
	fmt.Printf("%s: records ok: %d items (%d sessions) decode, and every native record agrees with its indexes\n", path, crep.Items, crep.Sessions)
	return code
}
