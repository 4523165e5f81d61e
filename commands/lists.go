package commands

import (
	"math"
	"time"

	"github.com/sessiond/sessiond/acl"
	"github.com/sessiond/sessiond/engine"
)

// Lists: every list command of Redis 7.0, with its replies, error words and
// keyspace events. Pushes and pops at either end are O(1) in the engine;
// LINSERT, LREM and LTRIM edit the middle in O(n), as Redis' do. The
// blocking forms (BLPOP, BRPOP, BLMPOP, BRPOPLPUSH, BLMOVE) really block
// (Dispatcher.block): a push by another client serves the blocked clients
// in the order they blocked. Inside MULTI they never block and answer null,
// as Redis does for clients that may not block.

func init() {
	l := func(s *Spec) *Spec { s.FirstKey, s.LastKey, s.Step, s.Group = 1, 1, 1, "list"; return s }
	register(
		l(&Spec{Name: "lpush", KeyAccess: acl.KeyWrite, Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagFast, Since: "1.0.0", Syntax: "key element [element ...]",
			Summary: "Prepends one or more elements to a list. Creates the key if it doesn't exist.", Example: "> LPUSH q a b\n(integer) 2", Run: pushCmd(true, false)}),
		l(&Spec{Name: "rpush", KeyAccess: acl.KeyWrite, Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagFast, Since: "1.0.0", Syntax: "key element [element ...]",
			Summary: "Appends one or more elements to a list. Creates the key if it doesn't exist.", Example: "> RPUSH q a b\n(integer) 2", Run: pushCmd(false, false)}),
		l(&Spec{Name: "lpushx", KeyAccess: acl.KeyWrite, Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagFast, Since: "2.2.0", Syntax: "key element [element ...]",
			Summary: "Prepends one or more elements to a list only when the list exists.", Example: "> LPUSHX nope a\n(integer) 0", Run: pushCmd(true, true)}),
		l(&Spec{Name: "rpushx", KeyAccess: acl.KeyWrite, Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagFast, Since: "2.2.0", Syntax: "key element [element ...]",
			Summary: "Appends one or more elements to a list only when the list exists.", Example: "> RPUSHX q c\n(integer) 3", Run: pushCmd(false, true)}),
		l(&Spec{Name: "lpop", Arity: -2, Flags: FlagWrite | FlagFast, Since: "1.0.0", Syntax: "key [count]",
			Summary: "Returns the first elements in a list after removing it. Deletes the list if the last element was popped.", Example: "> LPOP q\n\"b\"", Run: popCmd(true)}),
		l(&Spec{Name: "rpop", Arity: -2, Flags: FlagWrite | FlagFast, Since: "1.0.0", Syntax: "key [count]",
			Summary: "Returns and removes the last elements of a list. Deletes the list if the last element was popped.", Example: "> RPOP q\n\"c\"", Run: popCmd(false)}),
		l(&Spec{Name: "llen", KeyAccess: acl.KeyNone, Arity: 2, Flags: FlagReadonly | FlagFast, Since: "1.0.0", Syntax: "key",
			Summary: "Returns the length of a list.", Example: "> LLEN q\n(integer) 1", Run: cmdLlen}),
		l(&Spec{Name: "lindex", Arity: 3, Flags: FlagReadonly, Since: "1.0.0", Syntax: "key index",
			Summary: "Returns an element from a list by its index.", Example: "> LINDEX q -1\n\"a\"", Run: cmdLindex}),
		l(&Spec{Name: "lset", KeyAccess: acl.KeyWrite, Arity: 4, Flags: FlagWrite | FlagDenyOOM, Since: "1.0.0", Syntax: "key index element",
			Summary: "Sets the value of an element in a list by its index.", Example: "> LSET q 0 z\nOK", Run: cmdLset}),
		l(&Spec{Name: "lrange", Arity: 4, Flags: FlagReadonly, Since: "1.0.0", Syntax: "key start stop",
			Summary: "Returns a range of elements from a list.", Example: "> LRANGE q 0 -1\n1) \"z\"", Run: cmdLrange}),
		l(&Spec{Name: "linsert", KeyAccess: acl.KeyWrite, Arity: 5, Flags: FlagWrite | FlagDenyOOM, Since: "2.2.0", Syntax: "key BEFORE|AFTER pivot element",
			Summary: "Inserts an element before or after another element in a list.", Example: "> LINSERT q BEFORE z y\n(integer) 2", Run: cmdLinsert}),
		l(&Spec{Name: "lrem", KeyAccess: acl.KeyWrite, Arity: 4, Flags: FlagWrite, Since: "1.0.0", Syntax: "key count element",
			Summary: "Removes elements from a list. Deletes the list if the last element was removed.", Example: "> LREM q 0 y\n(integer) 1", Run: cmdLrem}),
		l(&Spec{Name: "ltrim", KeyAccess: acl.KeyWrite, Arity: 4, Flags: FlagWrite, Since: "1.0.0", Syntax: "key start stop",
			Summary: "Removes elements from both ends a list. Deletes the list if all elements were trimmed.", Example: "> LTRIM q 0 99\nOK", Run: cmdLtrim}),
		l(&Spec{Name: "lpos", Arity: -3, Flags: FlagReadonly, Since: "6.0.6", Syntax: "key element [RANK rank] [COUNT num-matches] [MAXLEN len]",
			Summary: "Returns the index of matching elements in a list.", Example: "> LPOS q z\n(integer) 0", Run: cmdLpos}),
		&Spec{Name: "lmove", KeyRefs: srcDestKeys, Arity: 5, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: 2, Step: 1, Group: "list", Since: "6.2.0", Syntax: "source destination LEFT|RIGHT LEFT|RIGHT",
			Summary: "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved.",
			Example: "> LMOVE q done LEFT RIGHT\n\"z\"", Run: cmdLmove},
		&Spec{Name: "rpoplpush", KeyRefs: srcDestKeys, Arity: 3, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: 2, Step: 1, Group: "list", Since: "1.2.0", Syntax: "source destination",
			Summary: "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped.",
			Example: "> RPOPLPUSH q done\n\"z\"", Run: cmdRpoplpush},
		&Spec{Name: "lmpop", KeyRefs: numKeys(1, keyRW), Arity: -4, Flags: FlagWrite, KeySpecs: []KeySpec{keynumSpec(1, "RW access delete")}, Group: "list", Since: "7.0.0", Syntax: "numkeys key [key ...] LEFT|RIGHT [COUNT count]",
			Summary: "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped.",
			Example: "> LMPOP 2 q1 q2 LEFT COUNT 2\n1) \"q2\"\n2) 1) \"a\"\n   2) \"b\"", Run: cmdLmpop},
		&Spec{Name: "blpop", Arity: -3, Flags: FlagWrite | FlagBlocking | FlagNoScript, FirstKey: 1, LastKey: -2, Step: 1, Group: "list", Since: "2.0.0", Syntax: "key [key ...] timeout",
			Summary: "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
			Example: "> BLPOP jobs 5\n1) \"jobs\"\n2) \"j1\"", Run: bpopCmd(true)},
		&Spec{Name: "brpop", Arity: -3, Flags: FlagWrite | FlagBlocking | FlagNoScript, FirstKey: 1, LastKey: -2, Step: 1, Group: "list", Since: "2.0.0", Syntax: "key [key ...] timeout",
			Summary: "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
			Example: "> BRPOP jobs 5\n1) \"jobs\"\n2) \"j9\"", Run: bpopCmd(false)},
		&Spec{Name: "blmpop", Arity: -5, Flags: FlagWrite | FlagBlocking, KeySpecs: []KeySpec{keynumSpec(2, "RW access delete")}, Group: "list", Since: "7.0.0", Syntax: "timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]",
			Summary: "Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
			Example: "> BLMPOP 5 1 jobs LEFT\n1) \"jobs\"\n2) 1) \"j1\"", Run: cmdBlmpop},
		&Spec{Name: "brpoplpush", KeyRefs: srcDestKeys, Arity: 4, Flags: FlagWrite | FlagDenyOOM | FlagBlocking | FlagNoScript, FirstKey: 1, LastKey: 2, Step: 1, Group: "list", Since: "2.2.0", Syntax: "source destination timeout",
			Summary: "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
			Example: "> BRPOPLPUSH jobs working 5\n\"j9\"", Run: cmdBrpoplpush},
		&Spec{Name: "blmove", KeyRefs: srcDestKeys, Arity: 6, Flags: FlagWrite | FlagDenyOOM | FlagBlocking | FlagNoScript, FirstKey: 1, LastKey: 2, Step: 1, Group: "list", Since: "6.2.0", Syntax: "source destination LEFT|RIGHT LEFT|RIGHT timeout",
			Summary: "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved.",
			Example: "> BLMOVE jobs working LEFT RIGHT 5\n\"j1\"", Run: cmdBlmove},
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
			c.W.Error(errWrongArgs(c.Spec.Name))
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
	replyInt(c, n, err)
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

func cmdLinsert(c *Call) {
	var before bool
	switch {
	case keyword(c.Args[2], "BEFORE"):
		before = true
	case keyword(c.Args[2], "AFTER"):
	default:
		c.W.Error(msgSyntax)
		return
	}
	var n int64
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		n, err = tx.ListInsert(c.DB(), c.Arg(1), before, c.Arg(3), c.Arg(4))
		return err
	})
	replyInt(c, n, err)
}

func cmdLrem(c *Call) {
	count, ok := parseInt(c.Args[2])
	if !ok {
		c.W.Error(msgNotInt)
		return
	}
	var n int64
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		n, err = tx.ListRem(c.DB(), c.Arg(1), count, c.Arg(3))
		return err
	})
	replyInt(c, n, err)
}

func cmdLtrim(c *Call) {
	start, ok1 := parseInt(c.Args[2])
	stop, ok2 := parseInt(c.Args[3])
	if !ok1 || !ok2 {
		c.W.Error(msgNotInt)
		return
	}
	err := c.Write(func(tx *engine.Tx) error { return tx.ListTrim(c.DB(), c.Arg(1), start, stop) })
	if err != nil {
		writeErr(c, err)
		return
	}
	c.W.OK()
}

func cmdLpos(c *Call) {
	rank, count, maxlen := int64(1), int64(-1), int64(0) // count -1: no COUNT
	for j := 3; j < len(c.Args); j++ {
		more := j+1 < len(c.Args)
		var ok bool
		switch {
		case more && keyword(c.Args[j], "RANK"):
			j++
			if rank, ok = parseInt(c.Args[j]); !ok {
				c.W.Error(msgNotInt)
				return
			}
			if rank == math.MinInt64 {
				// Redis 7.0 negates it into itself: still from the tail,
				// and every match is past the rank.
				rank = -1
			}
			if rank == 0 {
				c.W.Error("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
				return
			}
		case more && keyword(c.Args[j], "COUNT"):
			j++
			if count, ok = parsePositive(c, c.Args[j], "ERR COUNT can't be negative"); !ok {
				return
			}
		case more && keyword(c.Args[j], "MAXLEN"):
			j++
			if maxlen, ok = parsePositive(c, c.Args[j], "ERR MAXLEN can't be negative"); !ok {
				return
			}
		default:
			c.W.Error(msgSyntax)
			return
		}
	}
	var idx []int64
	limit := count
	if limit < 0 {
		limit = 1
	}
	err := c.Read(func(tx *engine.Tx) error {
		var err error
		idx, _, err = tx.ListPos(c.DB(), c.Arg(1), c.Arg(2), rank, limit, maxlen)
		return err
	})
	switch {
	case err != nil:
		writeErr(c, err)
	case count >= 0:
		c.W.Array(len(idx))
		for _, i := range idx {
			c.W.Int(i)
		}
	case len(idx) == 0:
		c.W.Null()
	default:
		c.W.Int(idx[0])
	}
}

// parseWhere parses LEFT|RIGHT (getListPositionFromObjectOrReply).
func parseWhere(c *Call, arg []byte) (left, ok bool) {
	switch {
	case keyword(arg, "LEFT"):
		return true, true
	case keyword(arg, "RIGHT"):
		return false, true
	}
	c.W.Error(msgSyntax)
	return false, false
}

// move runs one LMOVE in tx; ok is false when the source is missing.
func move(c *Call, tx *engine.Tx, fromLeft, toLeft bool) (v string, ok bool, err error) {
	return tx.ListMove(c.DB(), c.Arg(1), c.Arg(2), fromLeft, toLeft)
}

func lmove(c *Call, fromLeft, toLeft bool) {
	var v string
	var ok bool
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		v, ok, err = move(c, tx, fromLeft, toLeft)
		return err
	})
	replyBulkOrNull(c, v, ok, err)
}

func cmdLmove(c *Call) {
	from, ok := parseWhere(c, c.Args[3])
	if !ok {
		return
	}
	to, ok := parseWhere(c, c.Args[4])
	if !ok {
		return
	}
	lmove(c, from, to)
}

func cmdRpoplpush(c *Call) { lmove(c, false, true) }

// popFirst pops up to count elements from the first non-empty list among
// keys. Once blocked (skipWrongType), keys of another type are passed over
// rather than failing: the client waits for a list, as in Redis.
func popFirst(c *Call, tx *engine.Tx, keys []string, left bool, count int64, skipWrongType bool) (string, []string, error) {
	for _, k := range keys {
		vals, _, err := tx.ListPop(c.DB(), k, left, count)
		if err == engine.ErrWrongType && skipWrongType {
			continue
		}
		if err != nil || len(vals) > 0 {
			return k, vals, err
		}
	}
	return "", nil, nil
}

// writeLmpop writes an LMPOP reply: the key and its popped elements.
func writeLmpop(c *Call, key string, vals []string) {
	if len(vals) == 0 {
		c.W.NullArray()
		return
	}
	c.W.Array(2)
	c.W.BulkString(key)
	c.W.BulkStrings(vals)
}

func cmdLmpop(c *Call) {
	keys, left, count, ok := parseMpop(c, 1, "RIGHT", "LEFT")
	if !ok {
		return
	}
	var key string
	var vals []string
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		key, vals, err = popFirst(c, tx, keys, left, count, false)
		return err
	})
	if err != nil {
		writeErr(c, err)
		return
	}
	writeLmpop(c, key, vals)
}

func bpopCmd(left bool) func(c *Call) {
	return func(c *Call) {
		timeout, ok := parseTimeout(c, c.Args[len(c.Args)-1])
		if !ok {
			return
		}
		keys := argStrings(c, 1)
		keys = keys[:len(keys)-1]
		var key string
		var vals []string
		_, err := blockingOp(c, keys, timeout, func(tx *engine.Tx, woken bool) (bool, error) {
			var err error
			key, vals, err = popFirst(c, tx, keys, left, 1, woken)
			return len(vals) > 0, err
		})
		switch {
		case err != nil:
			writeErr(c, err)
		case len(vals) == 0:
			c.W.NullArray()
		default:
			c.W.Array(2)
			c.W.BulkString(key)
			c.W.BulkString(vals[0])
		}
	}
}

func cmdBlmpop(c *Call) {
	keys, left, count, ok := parseMpop(c, 2, "RIGHT", "LEFT")
	if !ok {
		return
	}
	timeout, ok := parseTimeout(c, c.Args[1])
	if !ok {
		return
	}
	var key string
	var vals []string
	_, err := blockingOp(c, keys, timeout, func(tx *engine.Tx, woken bool) (bool, error) {
		var err error
		key, vals, err = popFirst(c, tx, keys, left, count, woken)
		return len(vals) > 0, err
	})
	if err != nil {
		writeErr(c, err)
		return
	}
	writeLmpop(c, key, vals)
}

// blmove is BLMOVE and BRPOPLPUSH. A destination of another type fails the
// command even after blocking (the element stays where it was); a source
// of another type fails it only before blocking, as in Redis.
func blmove(c *Call, fromLeft, toLeft bool, timeout time.Duration) {
	var v string
	served, err := blockingOp(c, []string{c.Arg(1)}, timeout, func(tx *engine.Tx, woken bool) (bool, error) {
		if woken {
			if _, err := tx.ListLen(c.DB(), c.Arg(1)); err != nil {
				return false, nil
			}
		}
		var ok bool
		var err error
		v, ok, err = move(c, tx, fromLeft, toLeft)
		return ok, err
	})
	switch {
	case err != nil:
		writeErr(c, err)
	case served:
		c.W.BulkString(v)
	case c.tx != nil:
		c.W.Null() // Redis: a client that may not block gets a null bulk
	default:
		c.W.NullArray() // a timeout
	}
}

func cmdBlmove(c *Call) {
	from, ok := parseWhere(c, c.Args[3])
	if !ok {
		return
	}
	to, ok := parseWhere(c, c.Args[4])
	if !ok {
		return
	}
	timeout, ok := parseTimeout(c, c.Args[5])
	if !ok {
		return
	}
	blmove(c, from, to, timeout)
}

func cmdBrpoplpush(c *Call) {
	timeout, ok := parseTimeout(c, c.Args[3])
	if !ok {
		return
	}
	blmove(c, false, true, timeout)
}
