package commands

import (
	"math"

	"github.com/sessiond/sessiond/acl"
	"github.com/sessiond/sessiond/engine"
)

func init() {
	const w, r, f, d = FlagWrite, FlagReadonly, FlagFast, FlagDenyOOM
	register(
		&Spec{Name: "sadd", KeyAccess: acl.KeyWrite, Arity: -3, Flags: w | d | f | FlagBatch, FirstKey: 1, LastKey: 1, Group: "set", Since: "1.0.0",
			Syntax: "key member [member ...]", Summary: "Adds one or more members to a set. Creates the key if it doesn't exist.",
			Example: "> SADD user:alice:sessions s1 s2\n(integer) 2", Run: cmdSadd},
		&Spec{Name: "srem", KeyAccess: acl.KeyWrite, Arity: -3, Flags: w | f | FlagBatch, FirstKey: 1, LastKey: 1, Group: "set", Since: "1.0.0",
			Syntax: "key member [member ...]", Summary: "Removes one or more members from a set. Deletes the set if the last member was removed.",
			Example: "> SREM user:alice:sessions s1\n(integer) 1", Run: cmdSrem},
		&Spec{Name: "smembers", Arity: 2, Flags: r | FlagBatch, FirstKey: 1, LastKey: 1, Group: "set", Since: "1.0.0",
			Syntax: "key", Summary: "Returns all members of a set.",
			Example: "> SMEMBERS user:alice:sessions\n1) \"s2\"", Run: cmdSmembers},
		&Spec{Name: "sismember", KeyAccess: acl.KeyNone, Arity: 3, Flags: r | f | FlagBatch, FirstKey: 1, LastKey: 1, Group: "set", Since: "1.0.0",
			Syntax: "key member", Summary: "Determines whether a member belongs to a set.",
			Example: "> SISMEMBER user:alice:sessions s2\n(integer) 1", Run: cmdSismember},
		&Spec{Name: "smismember", KeyAccess: acl.KeyNone, Arity: -3, Flags: r | f | FlagBatch, FirstKey: 1, LastKey: 1, Group: "set", Since: "6.2.0",
			Syntax: "key member [member ...]", Summary: "Determines whether multiple members belong to a set.",
			Example: "> SMISMEMBER user:alice:sessions s1 s2\n1) (integer) 0\n2) (integer) 1", Run: cmdSmismember},
		&Spec{Name: "scard", KeyAccess: acl.KeyNone, Arity: 2, Flags: r | f | FlagBatch, FirstKey: 1, LastKey: 1, Group: "set", Since: "1.0.0",
			Syntax: "key", Summary: "Returns the number of members in a set.",
			Example: "> SCARD user:alice:sessions\n(integer) 1", Run: cmdScard},
		&Spec{Name: "spop", Arity: -2, Flags: w | f, FirstKey: 1, LastKey: 1, Group: "set", Since: "1.0.0",
			Syntax: "key [count]", Summary: "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.",
			Example: "> SPOP jobs\n\"j7\"", Run: cmdSpop},
		&Spec{Name: "srandmember", Arity: -2, Flags: r, FirstKey: 1, LastKey: 1, Group: "set", Since: "1.0.0",
			Syntax: "key [count]", Summary: "Get one or multiple random members from a set.",
			Example: "> SRANDMEMBER jobs 2\n1) \"j1\"\n2) \"j3\"", Run: cmdSrandmember},
		&Spec{Name: "smove", KeyRefs: srcDestKeys, Arity: 4, Flags: w | f, FirstKey: 1, LastKey: 2, Group: "set", Since: "1.0.0",
			Syntax: "source destination member", Summary: "Moves a member from one set to another.",
			Example: "> SMOVE pending done j1\n(integer) 1", Run: cmdSmove},
		&Spec{Name: "sinter", Arity: -2, Flags: r, FirstKey: 1, LastKey: -1, Group: "set", Since: "1.0.0",
			Syntax: "key [key ...]", Summary: "Returns the intersect of multiple sets.",
			Example: "> SINTER a b\n1) \"x\"", Run: setOp(opInter, false)},
		&Spec{Name: "sintercard", KeyRefs: numKeys(1, keyR), Arity: -3, Flags: r, KeySpecs: []KeySpec{keynumSpec(1, "RO access")}, Group: "set", Since: "7.0.0",
			Syntax: "numkeys key [key ...] [LIMIT limit]", Summary: "Returns the number of members of the intersect of multiple sets.",
			Example: "> SINTERCARD 2 a b LIMIT 10\n(integer) 1", Run: cmdSintercard},
		&Spec{Name: "sinterstore", KeyRefs: storeKeys(false, 2), Arity: -3, Flags: w | d, FirstKey: 1, LastKey: -1, Group: "set", Since: "1.0.0",
			Syntax: "destination key [key ...]", Summary: "Stores the intersect of multiple sets in a key.",
			Example: "> SINTERSTORE c a b\n(integer) 1", Run: setOp(opInter, true)},
		&Spec{Name: "sunion", Arity: -2, Flags: r, FirstKey: 1, LastKey: -1, Group: "set", Since: "1.0.0",
			Syntax: "key [key ...]", Summary: "Returns the union of multiple sets.",
			Example: "> SUNION a b\n1) \"x\"\n2) \"y\"", Run: setOp(opUnion, false)},
		&Spec{Name: "sunionstore", KeyRefs: storeKeys(false, 2), Arity: -3, Flags: w | d, FirstKey: 1, LastKey: -1, Group: "set", Since: "1.0.0",
			Syntax: "destination key [key ...]", Summary: "Stores the union of multiple sets in a key.",
			Example: "> SUNIONSTORE c a b\n(integer) 2", Run: setOp(opUnion, true)},
		&Spec{Name: "sdiff", Arity: -2, Flags: r, FirstKey: 1, LastKey: -1, Group: "set", Since: "1.0.0",
			Syntax: "key [key ...]", Summary: "Returns the difference of multiple sets.",
			Example: "> SDIFF a b\n1) \"y\"", Run: setOp(opDiff, false)},
		&Spec{Name: "sdiffstore", KeyRefs: storeKeys(false, 2), Arity: -3, Flags: w | d, FirstKey: 1, LastKey: -1, Group: "set", Since: "1.0.0",
			Syntax: "destination key [key ...]", Summary: "Stores the difference of multiple sets in a key.",
			Example: "> SDIFFSTORE c a b\n(integer) 1", Run: setOp(opDiff, true)},
		&Spec{Name: "sscan", Arity: -3, Flags: r, FirstKey: 1, LastKey: 1, Group: "set", Since: "2.8.0",
			Syntax: "key cursor [MATCH pattern] [COUNT count]", Summary: "Iterates over members of a set.",
			Example: "> SSCAN user:alice:sessions 0\n1) \"0\"\n2) 1) \"s2\"", Run: cmdSscan},
	)
}

func cmdSadd(c *Call) {
	var n int
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		n, err = tx.SAdd(c.DB(), c.Arg(1), argStrings(c, 2))
		return err
	})
	if err != nil {
		writeErr(c, err)
		return
	}
	c.W.Int(int64(n))
}

func cmdSrem(c *Call) {
	var n int
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		n, err = tx.SRem(c.DB(), c.Arg(1), argStrings(c, 2))
		return err
	})
	if err != nil {
		writeErr(c, err)
		return
	}
	c.W.Int(int64(n))
}

// writeSet writes members as a set reply (~ in RESP3).
func writeSet(c *Call, members []string) {
	c.W.Set(len(members))
	for _, m := range members {
		c.W.BulkString(m)
	}
}

func cmdSmembers(c *Call) {
	var ms []string
	err := c.Read(func(tx *engine.Tx) error {
		var err error
		ms, err = tx.SMembers(c.DB(), c.Arg(1))
		return err
	})
	if err != nil {
		writeErr(c, err)
		return
	}
	writeSet(c, ms)
}

func sismember(c *Call) ([]bool, bool) {
	var out []bool
	err := c.Read(func(tx *engine.Tx) error {
		var err error
		out, err = tx.SIsMember(c.DB(), c.Arg(1), argStrings(c, 2))
		return err
	})
	if err != nil {
		writeErr(c, err)
		return nil, false
	}
	return out, true
}

func cmdSismember(c *Call) {
	if out, ok := sismember(c); ok {
		c.W.Int(int64(b2i(out[0])))
	}
}

func cmdSmismember(c *Call) {
	out, ok := sismember(c)
	if !ok {
		return
	}
	c.W.Array(len(out))
	for _, b := range out {
		c.W.Int(int64(b2i(b)))
	}
}

func cmdScard(c *Call) {
	var n int64
	err := c.Read(func(tx *engine.Tx) error {
		var err error
		n, err = tx.SCard(c.DB(), c.Arg(1))
		return err
	})
	replyInt(c, n, err)
}

func cmdSpop(c *Call) {
	count := int64(1)
	if len(c.Args) > 3 {
		c.W.Error(msgSyntax)
		return
	}
	withCount := len(c.Args) == 3
	if withCount {
		var ok bool
		if count, ok = parsePositive(c, c.Args[2], ""); !ok {
			return
		}
	}
	var ms []string
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		ms, err = tx.SPop(c.DB(), c.Arg(1), count, newRand(c))
		return err
	})
	switch {
	case err != nil:
		writeErr(c, err)
	case withCount:
		writeSet(c, ms)
	case len(ms) == 0:
		c.W.Null()
	default:
		c.W.BulkString(ms[0])
	}
}

func cmdSrandmember(c *Call) {
	if len(c.Args) > 3 {
		c.W.Error(msgSyntax)
		return
	}
	count := int64(1)
	withCount := len(c.Args) == 3
	if withCount {
		var ok bool
		if count, ok = parseRangeLong(c, c.Args[2], -math.MaxInt64, math.MaxInt64, ""); !ok || !randRepeatsOK(c, count) {
			return
		}
	}
	var ms []string
	err := c.Read(func(tx *engine.Tx) error {
		var err error
		ms, err = tx.SRandMember(c.DB(), c.Arg(1), count, newRand(c))
		return err
	})
	switch {
	case err != nil:
		writeErr(c, err)
	case withCount:
		c.W.BulkStrings(ms)
	case len(ms) == 0:
		c.W.Null()
	default:
		c.W.BulkString(ms[0])
	}
}

func cmdSmove(c *Call) {
	var moved bool
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		moved, err = tx.SMove(c.DB(), c.Arg(1), c.Arg(2), c.Arg(3))
		return err
	})
	if err != nil {
		writeErr(c, err)
		return
	}
	c.W.Int(int64(b2i(moved)))
}

const (
	opInter = iota
	opUnion
	opDiff
)

var setStoreEvents = [...]string{opInter: "sinterstore", opUnion: "sunionstore", opDiff: "sdiffstore"}

func setCombine(tx *engine.Tx, db int, op int, keys []string) ([]string, error) {
	switch op {
	case opInter:
		return tx.SInter(db, keys, 0)
	case opUnion:
		return tx.SUnion(db, keys)
	}
	return tx.SDiff(db, keys)
}

// setOp builds SINTER, SUNION, SDIFF and their STORE forms.
func setOp(op int, store bool) func(c *Call) {
	return func(c *Call) {
		db := c.DB()
		if !store {
			var ms []string
			err := c.Read(func(tx *engine.Tx) error {
				var err error
				ms, err = setCombine(tx, db, op, argStrings(c, 1))
				return err
			})
			if err != nil {
				writeErr(c, err)
				return
			}
			writeSet(c, ms)
			return
		}
		var n int
		err := c.Write(func(tx *engine.Tx) error {
			ms, err := setCombine(tx, db, op, argStrings(c, 2))
			if err != nil {
				return err
			}
			n = tx.SStore(db, c.Arg(1), ms, setStoreEvents[op])
			return nil
		})
		if err != nil {
			writeErr(c, err)
			return
		}
		c.W.Int(int64(n))
	}
}

// parseNumKeys reads the numkeys argument at index i of SINTERCARD,
// ZINTERCARD and friends and checks it against the arguments that follow.
func parseNumKeys(c *Call, i int, msg string) (int, bool) {
	n, ok := parseRangeLong(c, c.Args[i], 1, math.MaxInt64, msg)
	if !ok {
		return 0, false
	}
	if n > int64(len(c.Args)-i-1) {
		c.W.Error("ERR Number of keys can't be greater than number of args")
		return 0, false
	}
	return int(n), true
}

// parseCardLimit reads the optional [LIMIT limit] after the keys of
// SINTERCARD and ZINTERCARD.
func parseCardLimit(c *Call, from int) (int, bool) {
	limit := int64(0)
	for j := from; j < len(c.Args); j++ {
		if keyword(c.Args[j], "LIMIT") && j+1 < len(c.Args) {
			j++
			var ok bool
			if limit, ok = parsePositive(c, c.Args[j], "ERR LIMIT can't be negative"); !ok {
				return 0, false
			}
			continue
		}
		c.W.Error(msgSyntax)
		return 0, false
	}
	return int(min(limit, math.MaxInt32)), true
}

func cmdSintercard(c *Call) {
	numkeys, ok := parseNumKeys(c, 1, "ERR numkeys should be greater than 0")
	if !ok {
		return
	}
	limit, ok := parseCardLimit(c, 2+numkeys)
	if !ok {
		return
	}
	var ms []string
	err := c.Read(func(tx *engine.Tx) error {
		var err error
		ms, err = tx.SInter(c.DB(), argStrings(c, 2)[:numkeys], limit)
		return err
	})
	if err != nil {
		writeErr(c, err)
		return
	}
	c.W.Int(int64(len(ms)))
}

func cmdSscan(c *Call) {
	compositeScan(c, func(tx *engine.Tx, cursor uint64, count int, emit func(...string)) (uint64, error) {
		return tx.SScan(c.DB(), c.Arg(1), cursor, count, func(m string) { emit(m) })
	})
}
