package commands

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/sessiond/sessiond/acl"
	"github.com/sessiond/sessiond/engine"
)

func init() {
	register(
		&Spec{Name: "del", KeyAccess: acl.KeyWrite, Arity: -2, Flags: FlagWrite | FlagBatch, FirstKey: 1, LastKey: -1, Step: 1, Group: "generic", Since: "1.0.0",
			Syntax: "key [key ...]", Summary: "Deletes one or more keys.", Example: "> DEL sess:a sess:b\n(integer) 2", Run: cmdDel},
		&Spec{Name: "unlink", KeyAccess: acl.KeyWrite, Arity: -2, Flags: FlagWrite | FlagFast | FlagBatch, FirstKey: 1, LastKey: -1, Step: 1, Group: "generic", Since: "4.0.0",
			Syntax: "key [key ...]", Summary: "Deletes one or more keys.", Example: "> UNLINK sess:a\n(integer) 1", Run: cmdDel},
		&Spec{Name: "exists", KeyAccess: acl.KeyNone, Arity: -2, Flags: FlagReadonly | FlagFast | FlagBatch, FirstKey: 1, LastKey: -1, Step: 1, Group: "generic", Since: "1.0.0",
			Syntax: "key [key ...]", Summary: "Counts how many of the given keys exist.", Example: "> EXISTS sess:a sess:a nope\n(integer) 2", Run: cmdExists},
		&Spec{Name: "touch", KeyAccess: acl.KeyNone, Arity: -2, Flags: FlagReadonly | FlagFast | FlagBatch, FirstKey: 1, LastKey: -1, Step: 1, Group: "generic", Since: "3.2.1",
			Syntax: "key [key ...]", Summary: "Counts how many of the given keys exist (and marks them accessed).", Example: "> TOUCH sess:a\n(integer) 1", Run: cmdExists},
		&Spec{Name: "type", KeyAccess: acl.KeyNone, Arity: 2, Flags: FlagReadonly | FlagFast | FlagBatch, FirstKey: 1, LastKey: 1, Step: 1, Group: "generic", Since: "1.0.0",
			Syntax: "key", Summary: "Determines the type of value stored at a key.", Example: "> TYPE sess:a\nstring", Run: cmdType},
		&Spec{Name: "rename", Arity: 3, Flags: FlagWrite, FirstKey: 1, LastKey: 2, Step: 1, Group: "generic", Since: "1.0.0",
			Syntax: "key newkey", Summary: "Renames a key and overwrites the destination.", Example: "> RENAME a b\nOK", Run: cmdRename},
		&Spec{Name: "renamenx", Arity: 3, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 2, Step: 1, Group: "generic", Since: "1.0.0",
			Syntax: "key newkey", Summary: "Renames a key only when the target key name doesn't exist.", Example: "> RENAMENX a b\n(integer) 1", Run: cmdRename},
		&Spec{Name: "copy", KeyRefs: copyKeys, Arity: -3, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: 2, Step: 1, Group: "generic", Since: "6.2.0",
			Syntax: "source destination [DB destination-db] [REPLACE]", Summary: "Copies the value of a key to a new key.", Example: "> COPY a b\n(integer) 1", Run: cmdCopy},
		&Spec{Name: "move", Arity: 3, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: "generic", Since: "1.0.0",
			Syntax: "key db", Summary: "Moves a key to another database.", Example: "> MOVE a 1\n(integer) 1", Run: cmdMove},
		&Spec{Name: "randomkey", Arity: 1, Flags: FlagReadonly, Group: "generic", Since: "1.0.0",
			Summary: "Returns a random key name from the database.", Example: "> RANDOMKEY\n\"sess:a\"", Run: cmdRandomKey},
		&Spec{Name: "keys", ACL: "@dangerous", Arity: 2, Flags: FlagReadonly | FlagLong, Group: "generic", Since: "1.0.0",
			Syntax: "pattern", Summary: "Returns all key names that match a pattern.", Example: "> KEYS sess:*\n1) \"sess:a\"", Run: cmdKeys},
		&Spec{Name: "scan", Arity: -2, Flags: FlagReadonly, Group: "generic", Since: "2.8.0",
			Syntax: "cursor [MATCH pattern] [COUNT count] [TYPE type]", Summary: "Iterates over the key names in the database.", Example: "> SCAN 0 MATCH sess:* COUNT 100\n1) \"0\"\n2) 1) \"sess:a\"", Run: cmdScan},
		&Spec{Name: "expire", KeyAccess: acl.KeyWrite, Arity: -3, Flags: FlagWrite | FlagFast | FlagBatch, FirstKey: 1, LastKey: 1, Step: 1, Group: "generic", Since: "1.0.0",
			Syntax: "key seconds [NX|XX|GT|LT]", Summary: "Sets the expiration time of a key in seconds.", Example: "> EXPIRE sess:a 1800\n(integer) 1", Run: expireCmd(1000, false)},
		&Spec{Name: "pexpire", KeyAccess: acl.KeyWrite, Arity: -3, Flags: FlagWrite | FlagFast | FlagBatch, FirstKey: 1, LastKey: 1, Step: 1, Group: "generic", Since: "2.6.0",
			Syntax: "key milliseconds [NX|XX|GT|LT]", Summary: "Sets the expiration time of a key in milliseconds.", Example: "> PEXPIRE sess:a 1500\n(integer) 1", Run: expireCmd(1, false)},
		&Spec{Name: "expireat", KeyAccess: acl.KeyWrite, Arity: -3, Flags: FlagWrite | FlagFast | FlagBatch, FirstKey: 1, LastKey: 1, Step: 1, Group: "generic", Since: "1.2.0",
			Syntax: "key unix-time-seconds [NX|XX|GT|LT]", Summary: "Sets the expiration time of a key to a Unix timestamp.", Example: "> EXPIREAT sess:a 1893456000\n(integer) 1", Run: expireCmd(1000, true)},
		&Spec{Name: "pexpireat", KeyAccess: acl.KeyWrite, Arity: -3, Flags: FlagWrite | FlagFast | FlagBatch, FirstKey: 1, LastKey: 1, Step: 1, Group: "generic", Since: "2.6.0",
			Syntax: "key unix-time-milliseconds [NX|XX|GT|LT]", Summary: "Sets the expiration time of a key to a Unix milliseconds timestamp.", Example: "> PEXPIREAT sess:a 1893456000000\n(integer) 1", Run: expireCmd(1, true)},
		&Spec{Name: "ttl", Arity: 2, Flags: FlagReadonly | FlagFast | FlagBatch, FirstKey: 1, LastKey: 1, Step: 1, Group: "generic", Since: "1.0.0",
			Syntax: "key", Summary: "Returns the expiration time in seconds of a key.", Example: "> TTL sess:a\n(integer) 1799", Run: ttlCmd(false, false)},
		&Spec{Name: "pttl", Arity: 2, Flags: FlagReadonly | FlagFast | FlagBatch, FirstKey: 1, LastKey: 1, Step: 1, Group: "generic", Since: "2.6.0",
			Syntax: "key", Summary: "Returns the expiration time in milliseconds of a key.", Example: "> PTTL sess:a\n(integer) 1799512", Run: ttlCmd(true, false)},
		&Spec{Name: "expiretime", Arity: 2, Flags: FlagReadonly | FlagFast | FlagBatch, FirstKey: 1, LastKey: 1, Step: 1, Group: "generic", Since: "7.0.0",
			Syntax: "key", Summary: "Returns the expiration time of a key as a Unix timestamp.", Example: "> EXPIRETIME sess:a\n(integer) 1893456000", Run: ttlCmd(false, true)},
		&Spec{Name: "pexpiretime", Arity: 2, Flags: FlagReadonly | FlagFast | FlagBatch, FirstKey: 1, LastKey: 1, Step: 1, Group: "generic", Since: "7.0.0",
			Syntax: "key", Summary: "Returns the expiration time of a key as a Unix milliseconds timestamp.", Example: "> PEXPIRETIME sess:a\n(integer) 1893456000000", Run: ttlCmd(true, true)},
		&Spec{Name: "persist", KeyAccess: acl.KeyWrite, Arity: 2, Flags: FlagWrite | FlagFast | FlagBatch, FirstKey: 1, LastKey: 1, Step: 1, Group: "generic", Since: "2.2.0",
			Syntax: "key", Summary: "Removes the expiration time of a key.", Example: "> PERSIST sess:a\n(integer) 1", Run: cmdPersist},
		&Spec{Name: "object", Arity: -2, Group: "generic", Since: "2.2.3", Summary: "A container for object introspection commands.",
			Subcommands: []*Spec{
				{Name: "encoding", Arity: 3, Flags: FlagReadonly, FirstKey: 2, LastKey: 2, Step: 1, Syntax: "key", Summary: "Returns the internal encoding of an object.", Example: "> OBJECT ENCODING counter\n\"int\"", Run: cmdObjectEncoding},
				{Name: "refcount", Arity: 3, Flags: FlagReadonly, FirstKey: 2, LastKey: 2, Step: 1, Syntax: "key", Summary: "Returns the reference count of a value of a key (1; small integers report Redis' shared-object count).", Example: "> OBJECT REFCOUNT k\n(integer) 1", Run: objectInt("refcount")},
				{Name: "idletime", Arity: 3, Flags: FlagReadonly, FirstKey: 2, LastKey: 2, Step: 1, Syntax: "key", Summary: "Returns the time since the last access to a key, in seconds (an error with an LFU policy).", Example: "> OBJECT IDLETIME k\n(integer) 12", Run: objectInt("idletime")},
				{Name: "freq", Arity: 3, Flags: FlagReadonly, FirstKey: 2, LastKey: 2, Step: 1, Syntax: "key", Summary: "Returns the logarithmic access frequency counter of a key (an error unless the policy is LFU).", Example: "> OBJECT FREQ k\n(integer) 5", Run: objectInt("freq")},
				{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Summary: "Returns helpful text about the different subcommands.", Run: helpFor("OBJECT")},
			}},
	)
}

func keyArgs(c *Call, from int) []string {
	keys := make([]string, 0, len(c.Args)-from)
	for _, a := range c.Args[from:] {
		keys = append(keys, string(a))
	}
	return keys
}

func cmdDel(c *Call) {
	db, keys := c.DB(), keyArgs(c, 1)
	n := 0
	_ = c.Write(func(tx *engine.Tx) error {
		for _, k := range keys {
			if tx.Delete(db, k) {
				n++
			}
		}
		return nil
	})
	c.W.Int(int64(n))
}

func cmdExists(c *Call) {
	db, keys := c.DB(), keyArgs(c, 1)
	n := 0
	count := func(tx *engine.Tx) error {
		for _, k := range keys {
			if tx.Exists(db, k) {
				n++
			}
		}
		return nil
	}
	// EXISTS, TYPE and the TTL family look a key up without counting as an
	// access (Redis' LOOKUP_NOTOUCH): OBJECT IDLETIME and eviction see the
	// key as idle as before. TOUCH (the same count) is the access.
	_ = c.Read(func(tx *engine.Tx) error {
		if c.Spec.Name == "touch" {
			return count(tx)
		}
		return tx.NoTouch(func() error { return count(tx) })
	})
	c.W.Int(int64(n))
}

func cmdType(c *Call) {
	var t string
	_ = c.Read(func(tx *engine.Tx) error {
		return tx.NoTouch(func() error { t = tx.Type(c.DB(), c.Arg(1)); return nil })
	})
	c.W.Simple(t)
}

func cmdRename(c *Call) {
	nx := c.Spec.Name == "renamenx"
	var done bool
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		done, err = tx.Rename(c.DB(), c.Arg(1), c.Arg(2), nx)
		return err
	})
	switch {
	case err != nil:
		writeErr(c, err)
	case nx:
		c.W.Int(int64(b2i(done)))
	default:
		c.W.OK()
	}
}

func cmdCopy(c *Call) {
	dstDB := c.DB()
	replace := false
	for i := 3; i < len(c.Args); i++ {
		switch {
		case keyword(c.Args[i], "REPLACE"):
			replace = true
		case keyword(c.Args[i], "DB") && i+1 < len(c.Args):
			n, ok := parseInt(c.Args[i+1])
			if !ok {
				c.W.Error(msgNotInt)
				return
			}
			if n < 0 || n >= c.d.Config.Int("databases") {
				c.W.Error(msgDBIndex)
				return
			}
			dstDB = int(n)
			i++
		default:
			c.W.Error(msgSyntax)
			return
		}
	}
	if dstDB == c.DB() && c.Arg(1) == c.Arg(2) {
		c.W.Error(msgSameObject)
		return
	}
	var ok bool
	_ = c.Write(func(tx *engine.Tx) error { ok = tx.Copy(c.DB(), c.Arg(1), dstDB, c.Arg(2), replace); return nil })
	c.W.Int(int64(b2i(ok)))
}

func cmdMove(c *Call) {
	n, ok := parseInt(c.Args[2])
	if !ok {
		c.W.Error(msgNotInt)
		return
	}
	if n < 0 || n >= c.d.Config.Int("databases") {
		c.W.Error(msgDBIndex)
		return
	}
	if int(n) == c.DB() {
		c.W.Error(msgSameObject)
		return
	}
	var moved bool
	_ = c.Write(func(tx *engine.Tx) error { moved = tx.Move(c.DB(), c.Arg(1), int(n)); return nil })
	c.W.Int(int64(b2i(moved)))
}

func cmdRandomKey(c *Call) {
	var k string
	var ok bool
	_ = c.Read(func(tx *engine.Tx) error {
		k, ok = tx.RandomKey(c.DB(), newRand(c))
		return nil
	})
	if !ok {
		c.W.Null()
		return
	}
	c.W.BulkString(k)
}

func cmdKeys(c *Call) {
	var keys []string
	_ = c.Read(func(tx *engine.Tx) error { keys = tx.Keys(c.DB(), c.Arg(1)); return nil })
	c.W.BulkStrings(keys)
}

// parseScanOptions reads MATCH/COUNT/TYPE from args[from:], shared by SCAN
// and the per-type scans (withType only for SCAN).
func parseScanOptions(c *Call, from int, withType bool) (engine.ScanOptions, bool) {
	var o engine.ScanOptions
	for i := from; i < len(c.Args); i++ {
		if i+1 >= len(c.Args) {
			c.W.Error(msgSyntax)
			return o, false
		}
		switch {
		case keyword(c.Args[i], "MATCH"):
			o.Match = c.Arg(i + 1)
		case keyword(c.Args[i], "COUNT"):
			n, ok := parseInt(c.Args[i+1])
			if !ok {
				c.W.Error(msgNotInt)
				return o, false
			}
			if n < 1 {
				c.W.Error(msgSyntax)
				return o, false
			}
			o.Count = int(min(n, 1<<20))
		case withType && keyword(c.Args[i], "TYPE"):
			// An unknown type matches nothing (Redis 7.0 does not complain).
			o.Type = engine.TypeByName(c.Arg(i + 1))
			if o.Type == 0 {
				o.Type = 0xff
			}
		default:
			c.W.Error(msgSyntax)
			return o, false
		}
		i++
	}
	return o, true
}

// parseCursor reads a cursor as Redis does (strtoul on the whole string):
// an optional sign, digits, nothing else; "-1" wraps to 2^64-1.
func parseCursor(c *Call, arg []byte) (uint64, bool) {
	s := string(arg)
	neg := false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg, s = s[0] == '-', s[1:]
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || s[0] == '+' || s[0] == '-' {
		c.W.Error("ERR invalid cursor")
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

func cmdScan(c *Call) {
	cursor, ok := parseCursor(c, c.Args[1])
	if !ok {
		return
	}
	opt, ok := parseScanOptions(c, 2, true)
	if !ok {
		return
	}
	var next uint64
	var keys []string
	_ = c.Read(func(tx *engine.Tx) error { next, keys = tx.Scan(c.DB(), cursor, opt); return nil })
	c.W.Array(2)
	c.W.BulkString(strconv.FormatUint(next, 10))
	c.W.BulkStrings(keys)
}

// expireCmd builds EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT: unit is the
// argument's unit in ms; absolute means the argument is a timestamp.
func expireCmd(unit int64, absolute bool) func(c *Call) {
	return func(c *Call) {
		n, ok := parseInt(c.Args[2])
		if !ok {
			c.W.Error(msgNotInt)
			return
		}
		var nx, xx, gt, lt bool
		for _, a := range c.Args[3:] {
			switch upper(a) {
			case "NX":
				nx = true
			case "XX":
				xx = true
			case "GT":
				gt = true
			case "LT":
				lt = true
			default:
				c.W.Error(fmt.Sprintf("ERR Unsupported option %s", a))
				return
			}
		}
		if nx && (xx || gt || lt) {
			c.W.Error("ERR NX and XX, GT or LT options at the same time are not compatible")
			return
		}
		if gt && lt {
			c.W.Error("ERR GT and LT options at the same time are not compatible")
			return
		}
		if n > math.MaxInt64/unit || n < math.MinInt64/unit {
			c.W.Error(fmt.Sprintf(msgInvalidExpire, c.Spec.Name))
			return
		}
		ms := n * unit
		now := c.NowMS()
		if !absolute {
			if ms > 0 && ms > math.MaxInt64-now || ms < 0 && ms < math.MinInt64+now {
				c.W.Error(fmt.Sprintf(msgInvalidExpire, c.Spec.Name))
				return
			}
			ms += now
		}
		set := false
		_ = c.Write(func(tx *engine.Tx) error {
			cur, exists := tx.Deadline(c.DB(), c.Arg(1))
			if !exists {
				return nil
			}
			switch {
			case nx && cur != 0, xx && cur == 0:
				return nil
			case gt && (cur == 0 || ms <= cur):
				return nil
			case lt && cur != 0 && ms >= cur:
				return nil
			}
			if ms <= 0 {
				ms = now // a non-positive timestamp is already in the past
			}
			set = tx.SetDeadline(c.DB(), c.Arg(1), ms)
			return nil
		})
		c.W.Int(int64(b2i(set)))
	}
}

func ttlCmd(ms, absolute bool) func(c *Call) {
	return func(c *Call) {
		var dl int64
		var ok bool
		_ = c.Read(func(tx *engine.Tx) error {
			return tx.NoTouch(func() error { dl, ok = tx.Deadline(c.DB(), c.Arg(1)); return nil })
		})
		switch {
		case !ok:
			c.W.Int(-2)
		case dl == 0:
			c.W.Int(-1)
		case absolute && ms:
			c.W.Int(dl)
		case absolute:
			c.W.Int((dl + 500) / 1000) // rounded, as Redis does
		default:
			left := max(dl-c.NowMS(), 0)
			if ms {
				c.W.Int(left)
			} else {
				c.W.Int((left + 500) / 1000)
			}
		}
	}
}

func cmdPersist(c *Call) {
	done := false
	_ = c.Write(func(tx *engine.Tx) error {
		dl, ok := tx.Deadline(c.DB(), c.Arg(1))
		if ok && dl != 0 {
			done = tx.SetDeadline(c.DB(), c.Arg(1), 0)
		}
		return nil
	})
	c.W.Int(int64(b2i(done)))
}

func cmdObjectEncoding(c *Call) {
	var enc string
	_ = c.Read(func(tx *engine.Tx) error {
		r, ok := tx.Lookup(c.DB(), c.Arg(2))
		if !ok {
			return nil
		}
		enc = engine.Encoding(r)
		return nil
	})
	if enc == "" {
		c.W.Null()
		return
	}
	c.W.BulkString(enc)
}

// objectInt serves OBJECT REFCOUNT, IDLETIME and FREQ. Reading them is not
// an access (Redis' LOOKUP_NOTOUCH); IDLETIME and FREQ answer the errors of
// Redis when the policy tracks the other one.
func objectInt(what string) func(c *Call) {
	return func(c *Call) {
		var r engine.Record
		var ok bool
		var idle int64
		var freq int
		_ = c.Read(func(tx *engine.Tx) error {
			return tx.NoTouch(func() error {
				if r, ok = tx.Lookup(c.DB(), c.Arg(2)); ok {
					idle, freq, _ = tx.KeyAccess(c.DB(), c.Arg(2))
				}
				return nil
			})
		})
		if !ok {
			c.W.Null()
			return
		}
		lfu := strings.Contains(c.d.Config.Get("maxmemory-policy"), "lfu")
		switch what {
		case "refcount":
			// Redis shares the integers 0..9999 (OBJ_SHARED_REFCOUNT) unless
			// an LRU/LFU policy needs per-key access data.
			if n, err := engine.ParseRedisInt(r.Payload); r.Type == engine.TypeString && err == nil && n >= 0 && n < 10000 && !sharedIntsOff(c) {
				c.W.Int(math.MaxInt32)
				return
			}
			c.W.Int(1)
		case "idletime":
			if lfu {
				c.W.Error("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
				return
			}
			c.W.Int(idle / 1000)
		case "freq":
			if !lfu {
				c.W.Error("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
				return
			}
			c.W.Int(int64(freq))
		}
	}
}

// sharedIntsOff: Redis stops sharing small integers when maxmemory is set
// with an LRU or LFU policy (each key needs its own access data).
func sharedIntsOff(c *Call) bool {
	p := c.d.Config.Get("maxmemory-policy")
	return c.d.Config.Int("maxmemory") != 0 && (strings.HasSuffix(p, "-lru") || strings.HasSuffix(p, "-lfu"))
}
