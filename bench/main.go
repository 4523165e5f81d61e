// Command bench measures sessiond side by side with redis-server (issue 7).
//
//	go run ./bench compare [flags]
//
// starts both servers on loopback ports with matched persistence, runs every scenario round by
// round alternating the servers, and prints a table of throughput, latency percentiles and the
// ratio sessiond/Redis. See bench/README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/sessiond/sessiond/bench/proc"
)

func usage() {
	fmt.Fprintf(os.Stderr, `usage: go run ./bench compare [flags]
       go run ./bench raft [-scenarios throughput,failover] [flags]

Runs sessiond and redis-server side by side and prints a comparison table.
Run "go run ./bench compare -h" for the flags; bench/README.md explains the scenarios.
`)
}

func main() {
	os.Exit(run())
}

func run() (code int) {
	// Whatever happens below, no server started here outlives the bench.
	defer proc.KillAll()
	defer func() {
		if r := recover(); r != nil {
			proc.KillAll()
			panic(r)
		}
	}()
	if len(os.Args) < 2 || (os.Args[1] != "compare" && os.Args[1] != "raft") {
		usage()
		return 2
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ContinueOnError)
	cfg := defaultConfig()
	cfg.register(fs)
	raftScenarios := "all"
	if os.Args[1] == "raft" {
		// go run ./bench raft [-scenarios throughput,failover] [compare's flags]
		fs.Lookup("scenarios").DefValue = "all"
	}
	if err := fs.Parse(os.Args[2:]); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "compare: unexpected arguments %q\n", fs.Args())
		return 2
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if err := cfg.finish(set); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if os.Args[1] == "raft" {
		if set["scenarios"] {
			raftScenarios = cfg.scenarios
		}
		ok, err := raftBench(ctx, cfg, raftScenarios)
		if err != nil {
			fmt.Fprintln(os.Stderr, "raft:", err)
			return 1
		}
		if !ok {
			fmt.Println("FAILED: acknowledged writes were lost")
			return 1
		}
		return 0
	}
	ok, err := compare(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		return 1
	}
	if !ok {
		return 1
	}
	return 0
}
