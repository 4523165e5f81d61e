// Package logging sets up sessiond's log on log/slog with Redis' levels:
// debug, verbose, notice (slog's Info), warning (slog's Warn) and nothing,
// written as text or JSON lines to logfile or standard output. The level
// follows CONFIG SET loglevel at run time. Messages logged through the
// standard library's log package land at notice.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/sessiond/sessiond/config"
)

// Redis' log levels on slog's scale.
const (
	LevelDebug   = slog.LevelDebug
	LevelVerbose = slog.Level(-2)
	LevelNotice  = slog.LevelInfo
	LevelWarning = slog.LevelWarn
	// levelNothing is above every level used: nothing is logged.
	levelNothing = slog.Level(100)
)

// ParseLevel maps a loglevel value to its slog level.
func ParseLevel(v string) (slog.Level, error) {
	switch strings.ToLower(v) {
	case "debug":
		return LevelDebug, nil
	case "verbose":
		return LevelVerbose, nil
	case "notice":
		return LevelNotice, nil
	case "warning":
		return LevelWarning, nil
	case "nothing":
		return levelNothing, nil
	}
	return 0, fmt.Errorf("unknown loglevel %q", v)
}

func levelName(l slog.Level) string {
	switch {
	case l <= LevelDebug:
		return "debug"
	case l <= LevelVerbose:
		return "verbose"
	case l <= LevelNotice:
		return "notice"
	}
	return "warning"
}

// Options are what New needs: where and how to write, from what level.
type Options struct {
	Level  *slog.LevelVar
	Format string // "text" or "json"
	Out    io.Writer
}

// New returns a logger writing lines with Redis' level names.
func New(o Options) *slog.Logger {
	ho := &slog.HandlerOptions{
		Level: o.Level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.LevelKey {
				if l, ok := a.Value.Any().(slog.Level); ok {
					a.Value = slog.StringValue(levelName(l))
				}
			}
			return a
		},
	}
	if o.Format == "json" {
		return slog.New(slog.NewJSONHandler(o.Out, ho))
	}
	return slog.New(slog.NewTextHandler(o.Out, ho))
}

// Setup makes the process's default logger follow cfg (loglevel, logfile,
// log-format) and returns a function that closes the log file. logfile
// names a file opened for appending (created if missing); relative names
// are taken from the working directory at startup.
func Setup(cfg *config.Config) (closeLog func() error, err error) {
	lv := new(slog.LevelVar)
	l, err := ParseLevel(cfg.Get("loglevel"))
	if err != nil {
		return nil, err
	}
	lv.Set(l)
	var out io.Writer = os.Stdout
	closeLog = func() error { return nil }
	if name := cfg.Get("logfile"); name != "" {
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("logfile: %w", err)
		}
		out, closeLog = f, f.Close
	}
	slog.SetDefault(New(Options{Level: lv, Format: cfg.Get("log-format"), Out: out}))
	cfg.Follow(func() {
		if l, err := ParseLevel(cfg.Get("loglevel")); err == nil {
			lv.Set(l)
		}
	}, "loglevel")
	return closeLog, nil
}

// Verbose logs at Redis' verbose level on the default logger.
func Verbose(msg string, args ...any) {
	slog.Default().Log(context.Background(), LevelVerbose, msg, args...)
}
