package commands

// LOLWUT [VERSION v]: Redis draws a piece of computer art for some versions
// and ends with its version line. sessiond draws none: it answers the
// version line alone, as Redis does for the versions without art.
func cmdLolwut(c *Call) {
	// Redis reads VERSION and leaves the rest to the drawing (its size).
	if len(c.Args) >= 3 && keyword(c.Args[1], "version") {
		if _, ok := parseInt(c.Args[2]); !ok {
			c.W.Error(msgNotInt)
			return
		}
	}
	c.W.Verbatim("Redis ver. " + RedisVersion + "\n")
}

func init() {
	register(&Spec{Name: "lolwut", Arity: -1, Flags: FlagReadonly | FlagFast, Group: "server", Since: "5.0.0",
		Syntax: "[VERSION version]", Summary: "Displays the server's version (Redis adds computer art; sessiond does not).",
		Example: "> LOLWUT\n\"Redis ver. " + RedisVersion + "\\n\"", Run: cmdLolwut})
}
