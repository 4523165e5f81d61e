package server

import (
	"log/slog"
	"net"

	"github.com/sessiond/sessiond/commands"
	"github.com/sessiond/sessiond/config"
)

// msgProtectedMode is the reply to a client from another machine while
// protected mode holds (Redis' -DENIED, in sessiond's words).
const msgProtectedMode = "-DENIED sessiond is running in protected mode because protected mode is enabled and no password is set for the default user. " +
	"In this mode connections are only accepted from the loopback interface. " +
	"If you want to connect from external computers you may adopt one of the following solutions: " +
	"1) Set a password for the default user (requirepass). " +
	"2) Disable protected mode by sending 'CONFIG SET protected-mode no' from the loopback interface, " +
	"however MAKE SURE the server is not publicly accessible from the internet if you do so; use CONFIG REWRITE to make the change permanent. " +
	"3) Start the server with '--protected-mode no'. " +
	"NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n"

// protectedModeDenies reports whether protected mode refuses conn: it is on,
// the default user is on with no password (neither requirepass nor ACL
// rules protect it, as Redis), and the client is not on this machine.
// d may be nil (then requirepass alone decides).
func protectedModeDenies(cfg *config.Config, d *commands.Dispatcher, conn commands.Conn) bool {
	if !cfg.Bool("protected-mode") || commands.IsLocalClient(conn) {
		return false
	}
	if d != nil {
		return !d.DefaultUserProtected()
	}
	return cfg.Get("requirepass") == ""
}

// warnExposure says at start when the listening address reaches beyond this
// machine while no password protects the default user.
func warnExposure(cfg *config.Config) {
	if cfg.Get("requirepass") != "" {
		return
	}
	bind := cfg.Get("bind")
	if ip := net.ParseIP(bind); ip != nil && ip.IsLoopback() || bind == "localhost" {
		return
	}
	if cfg.Bool("protected-mode") {
		slog.Warn("listening with no password: protected mode serves clients on this machine only (set requirepass to serve others)", "bind", bind)
		return
	}
	slog.Warn("listening with no password and protected-mode no: anyone who can reach this port can run every command", "bind", bind)
}
