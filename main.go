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
	"fmt"
	"log"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/sessiond/sessiond/commands"
	"github.com/sessiond/sessiond/config"
	"github.com/sessiond/sessiond/persistence"
	"github.com/sessiond/sessiond/server"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "check" {
		os.Exit(runCheck(os.Args[2:]))
	}
	cfg, err := loadConfig(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "sessiond:", err)
		os.Exit(2)
	}
	if addr := os.Getenv("SESSIOND_PPROF"); addr != "" {
		// Profiling for bench/: SESSIOND_PPROF=127.0.0.1:6060 sessiond ...
		go func() { log.Println(http.ListenAndServe(addr, nil)) }()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// The first signal starts a graceful shutdown; restoring the default
		// action lets a second one end the process at once, as Redis does
		// when it is told twice, should the shutdown ever hang.
		<-ctx.Done()
		stop()
	}()
	srv, err := server.Open(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sessiond:", err)
		os.Exit(1)
	}
	if err := srv.Listen(); err != nil {
		// Redis' words first: tools that start redis-server (its Tcl suite)
		// look for them to retry on another port.
		fmt.Fprintf(os.Stderr, "Failed listening on port %d (tcp), aborting.\n", cfg.Int("port"))
		fmt.Fprintln(os.Stderr, "sessiond:", err)
		os.Exit(1)
	}
	log.Printf("sessiond %s ready on %s (data: %s, appendfsync %s)", commands.Version, srv.Addr(), dataFile(cfg), cfg.Get("appendfsync"))
	log.Printf("Ready to accept connections")
	if err := srv.Serve(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "sessiond:", err)
		os.Exit(1)
	}
	log.Printf("sessiond stopped")
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
			fmt.Println("usage: sessiond [config-file] [--name value ...] | sessiond check [--repair] data-file")
			os.Exit(0)
		}
		if name == "version" {
			fmt.Println("sessiond", commands.Version)
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
			return nil, fmt.Errorf("--%s: %w", name, err)
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
	if !rep.OK && !rep.Repaired {
		return 1
	}
	return 0
}
