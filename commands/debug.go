package commands

import (
	"fmt"
	"strconv"
	"time"

	"github.com/sessiond/sessiond/engine"
)

// DEBUG, as Redis 7: refused unless enable-debug-command allows it (no by
// default; local: loopback and unix-socket clients only). sessiond answers
// the introspection subcommands it can (OBJECT, SLEEP, HELP); the ones that
// crash, reload or corrupt the server on purpose are not there.

func init() {
	register(&Spec{Name: "debug", Arity: -2, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale | FlagLong, Group: "server", Since: "1.0.0",
		Syntax: "OBJECT key | SLEEP seconds | HELP", Summary: "A container for debugging commands (OBJECT, SLEEP); refused unless enable-debug-command allows it.",
		Example: "> DEBUG OBJECT k\n\"Value at:0x0 refcount:1 encoding:embstr serializedlength:1 lru:0 lru_seconds_idle:0\"", Run: cmdDebug})
}

const msgDebugNotAllowed = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server."

func cmdDebug(c *Call) {
	switch c.d.Config.Get("enable-debug-command") {
	case "yes":
	case "local":
		if !IsLocalClient(c.Client.Conn) {
			c.W.Error(msgDebugNotAllowed)
			return
		}
	default:
		c.W.Error(msgDebugNotAllowed)
		return
	}
	sub := upper(c.Args[1])
	switch {
	case sub == "OBJECT" && len(c.Args) == 3:
		var r engine.Record
		var ok bool
		_ = c.Read(func(tx *engine.Tx) error { r, ok = tx.Lookup(c.DB(), c.Arg(2)); return nil })
		if !ok {
			c.W.Error("ERR no such key")
			return
		}
		c.W.Simple(fmt.Sprintf("Value at:0x0 refcount:1 encoding:%s serializedlength:%d lru:0 lru_seconds_idle:0", engine.Encoding(r), len(r.Payload)))
	case sub == "SLEEP" && len(c.Args) == 3:
		secs, err := strconv.ParseFloat(c.Arg(2), 64)
		if err != nil || secs < 0 || secs > 3600 {
			c.W.Error(msgNotFloat)
			return
		}
		time.Sleep(time.Duration(secs * float64(time.Second)))
		c.W.OK()
	case sub == "HELP" && len(c.Args) == 2:
		lines := []string{
			"DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"OBJECT <key>",
			"    Show low-level info about the key and associated value.",
			"SLEEP <seconds>",
			"    Stop the server for <seconds>. Decimals allowed.",
			"HELP",
			"    Print this help.",
		}
		c.W.Array(len(lines))
		for _, l := range lines {
			c.W.Simple(l)
		}
	default:
		c.W.Error(fmt.Sprintf("ERR unknown subcommand or wrong number of arguments for '%s'. Try DEBUG HELP.", c.Arg(1)))
	}
}
