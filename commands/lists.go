package commands

import (
	"github.com/sessiond/sessiond/engine"
)

// Lists: the commands that push, pop, index and range over a list. Blocking
// pops and in-the-middle edits (LINSERT, LREM, LTRIM, LPOS, LMOVE) are not
// implemented.

func init() {
	l := func(s *Spec) *Spec { s.FirstKey, s.LastKey, s.Step, s.Group = 1, 1, 1, "list"; return s }
	register(
		l(&Spec{Name: "lpush", Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagFast, Since: "1.0.0", Syntax: "key element [element ...]",
			Summary: "Prepends one or more elements to a list. Creates the key if it doesn't exist.", Example: "> LPUSH q a b\n(integer) 2", Run: pushCmd(true, false)}),
		l(&Spec{Name: "rpush", Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagFast, Since: "1.0.0", Syntax: "key element [element ...]",
			Summary: "Appends one or more elements to a list. Creates the key if it doesn't exist.", Example: "> RPUSH q a b\n(integer) 2", Run: pushCmd(false, false)}),
		l(&Spec{Name: "lpushx", Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagFast, Since: "2.2.0", Syntax: "key element [element ...]",
			Summary: "Prepends one or more elements to a list only when the list exists.", Example: "> LPUSHX nope a\n(integer) 0", Run: pushCmd(true, true)}),
		l(&Spec{Name: "rpushx", Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagFast, Since: "2.2.0", Syntax: "key element [element ...]",
			Summary: "Appends one or more elements to a list only when the list exists.", Example: "> RPUSHX q c\n(integer) 3", Run: pushCmd(false, true)}),
		l(&Spec{Name: "lpop", Arity: -2, Flags: FlagWrite | FlagFast, Since: "1.0.0", Syntax: "key [count]",
			Summary: "Returns the first elements in a list after removing it. Deletes the list if the last element was popped.", Example: "> LPOP q\n\"b\"", Run: popCmd(true)}),
		l(&Spec{Name: "rpop", Arity: -2, Flags: FlagWrite | FlagFast, Since: "1.0.0", Syntax: "key [count]",
			Summary: "Returns and removes the last elements of a list. Deletes the list if the last element was popped.", Example: "> RPOP q\n\"c\"", Run: popCmd(false)}),
		l(&Spec{Name: "llen", Arity: 2, Flags: FlagReadonly | FlagFast, Since: "1.0.0", Syntax: "key",
			Summary: "Returns the length of a list.", Example: "> LLEN q\n(integer) 1", Run: cmdLlen}),
		l(&Spec{Name: "lindex", Arity: 3, Flags: FlagReadonly, Since: "1.0.0", Syntax: "key index",
			Summary: "Returns an element from a list by its index.", Example: "> LINDEX q -1\n\"a\"", Run: cmdLindex}),
		l(&Spec{Name: "lset", Arity: 4, Flags: FlagWrite | FlagDenyOOM, Since: "1.0.0", Syntax: "key index element",
			Summary: "Sets the value of an element in a list by its index.", Example: "> LSET q 0 z\nOK", Run: cmdLset}),
		l(&Spec{Name: "lrange", Arity: 4, Flags: FlagReadonly, Since: "1.0.0", Syntax: "key start stop",
			Summary: "Returns a range of elements from a list.", Example: "> LRANGE q 0 -1\n1) \"z\"", Run: cmdLrange}),
	)
}

func pushCmd(left, onlyExisting bool) func(c *Call) {
	return func(c *Call) {
		var n int64
		err := c.Write(func(tx *engine.Tx) error {
			var err error
			n, err = tx.ListPush(c.DB(), c.Arg(1), keyArgs(c, 2), left, onlyExisting)
			return err
		})
		if err != nil {
			writeErr(c, err)
			return
		}
		c.W.Int(n)
	}
}

func popCmd(left bool) func(c *Call) {
	return func(c *Call) {
		if len(c.Args) > 3 {
			c.W.Error(msgSyntax)
			return
		}
		count, withCount := int64(1), len(c.Args) == 3
		if withCount {
			n, ok := parseInt(c.Args[2])
			if !ok || n < 0 {
				c.W.Error("ERR value is out of range, must be positive")
				return
			}
			count = n
		}
		var vals []string
		var exists bool
		err := c.Write(func(tx *engine.Tx) error {
			var err error
			vals, exists, err = tx.ListPop(c.DB(), c.Arg(1), left, count)
			return err
		})
		switch {
		case err != nil:
			writeErr(c, err)
		case !exists && withCount:
			c.W.NullArray()
		case !exists:
			c.W.Null()
		case withCount:
			c.W.BulkStrings(vals)
		case len(vals) == 0:
			c.W.Null()
		default:
			c.W.BulkString(vals[0])
		}
	}
}

func cmdLlen(c *Call) {
	var n int64
	err := c.Read(func(tx *engine.Tx) error {
		var err error
		n, err = tx.ListLen(c.DB(), c.Arg(1))
		return err
	})
	if err != nil {
		writeErr(c, err)
		return
	}
	c.W.Int(n)
}

func cmdLindex(c *Call) {
	idx, ok := parseInt(c.Args[2])
	if !ok {
		c.W.Error(msgNotInt)
		return
	}
	var v string
	var found bool
	err := c.Read(func(tx *engine.Tx) error {
		var err error
		v, found, err = tx.ListIndex(c.DB(), c.Arg(1), idx)
		return err
	})
	switch {
	case err != nil:
		writeErr(c, err)
	case !found:
		c.W.Null()
	default:
		c.W.BulkString(v)
	}
}

func cmdLset(c *Call) {
	idx, ok := parseInt(c.Args[2])
	if !ok {
		c.W.Error(msgNotInt)
		return
	}
	err := c.Write(func(tx *engine.Tx) error { return tx.ListSet(c.DB(), c.Arg(1), idx, c.Arg(3)) })
	switch err {
	case nil:
		c.W.OK()
	case engine.ErrIndexRange:
		c.W.Error("ERR index out of range")
	default:
		writeErr(c, err)
	}
}

func cmdLrange(c *Call) {
	start, ok1 := parseInt(c.Args[2])
	stop, ok2 := parseInt(c.Args[3])
	if !ok1 || !ok2 {
		c.W.Error(msgNotInt)
		return
	}
	var vals []string
	err := c.Read(func(tx *engine.Tx) error {
		var err error
		vals, err = tx.ListRange(c.DB(), c.Arg(1), start, stop)
		return err
	})
	if err != nil {
		writeErr(c, err)
		return
	}
	c.W.BulkStrings(vals)
}
