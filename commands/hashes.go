package commands

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/sessiond/sessiond/acl"
	"github.com/sessiond/sessiond/engine"
	"github.com/sessiond/sessiond/glob"
)

func init() {
	const w, r, f, d = FlagWrite, FlagReadonly, FlagFast, FlagDenyOOM
	register(
		&Spec{Name: "hset", KeyAccess: acl.KeyWrite, Arity: -4, Flags: w | d | f | FlagBatch, FirstKey: 1, LastKey: 1, Group: "hash", Since: "2.0.0",
			Syntax: "key field value [field value ...]", Summary: "Creates or modifies the value of a field in a hash.",
			Example: "> HSET sess:a user alice role admin\n(integer) 2", Run: cmdHset},
		&Spec{Name: "hmset", KeyAccess: acl.KeyWrite, Arity: -4, Flags: w | d | f | FlagBatch, FirstKey: 1, LastKey: 1, Group: "hash", Since: "2.0.0",
			Syntax: "key field value [field value ...]", Summary: "Sets the values of multiple fields.",
			Example: "> HMSET sess:a creationTime 1754000000000 maxInactiveInterval 1800\nOK", Run: cmdHset},
		&Spec{Name: "hsetnx", KeyAccess: acl.KeyWrite, Arity: 4, Flags: w | d | f | FlagBatch, FirstKey: 1, LastKey: 1, Group: "hash", Since: "2.0.0",
			Syntax: "key field value", Summary: "Sets the value of a field in a hash only when the field doesn't exist.",
			Example: "> HSETNX sess:a user bob\n(integer) 0", Run: cmdHsetnx},
		&Spec{Name: "hget", Arity: 3, Flags: r | f | FlagBatch, FirstKey: 1, LastKey: 1, Group: "hash", Since: "2.0.0",
			Syntax: "key field", Summary: "Returns the value of a field in a hash.",
			Example: "> HGET sess:a user\n\"alice\"", Run: cmdHget},
		&Spec{Name: "hmget", Arity: -3, Flags: r | f | FlagBatch, FirstKey: 1, LastKey: 1, Group: "hash", Since: "2.0.0",
			Syntax: "key field [field ...]", Summary: "Returns the values of all fields in a hash.",
			Example: "> HMGET sess:a user nope\n1) \"alice\"\n2) (nil)", Run: cmdHmget},
		&Spec{Name: "hgetall", Arity: 2, Flags: r | FlagBatch, FirstKey: 1, LastKey: 1, Group: "hash", Since: "2.0.0",
			Syntax: "key", Summary: "Returns all fields and values in a hash.",
			Example: "> HGETALL sess:a\n1) \"role\"\n2) \"admin\"\n3) \"user\"\n4) \"alice\"", Run: cmdHgetall},
		&Spec{Name: "hkeys", Arity: 2, Flags: r | FlagBatch, FirstKey: 1, LastKey: 1, Group: "hash", Since: "2.0.0",
			Syntax: "key", Summary: "Returns all fields in a hash.",
			Example: "> HKEYS sess:a\n1) \"role\"\n2) \"user\"", Run: cmdHkeys},
		&Spec{Name: "hvals", Arity: 2, Flags: r | FlagBatch, FirstKey: 1, LastKey: 1, Group: "hash", Since: "2.0.0",
			Syntax: "key", Summary: "Returns all values in a hash.",
			Example: "> HVALS sess:a\n1) \"admin\"\n2) \"alice\"", Run: cmdHvals},
		&Spec{Name: "hdel", KeyAccess: acl.KeyWrite, Arity: -3, Flags: w | f | FlagBatch, FirstKey: 1, LastKey: 1, Group: "hash", Since: "2.0.0",
			Syntax: "key field [field ...]", Summary: "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.",
			Example: "> HDEL sess:a role nope\n(integer) 1", Run: cmdHdel},
		&Spec{Name: "hexists", KeyAccess: acl.KeyNone, Arity: 3, Flags: r | f | FlagBatch, FirstKey: 1, LastKey: 1, Group: "hash", Since: "2.0.0",
			Syntax: "key field", Summary: "Determines whether a field exists in a hash.",
			Example: "> HEXISTS sess:a user\n(integer) 1", Run: cmdHexists},
		&Spec{Name: "hlen", KeyAccess: acl.KeyNone, Arity: 2, Flags: r | f | FlagBatch, FirstKey: 1, LastKey: 1, Group: "hash", Since: "2.0.0",
			Syntax: "key", Summary: "Returns the number of fields in a hash.",
			Example: "> HLEN sess:a\n(integer) 2", Run: cmdHlen},
		&Spec{Name: "hstrlen", KeyAccess: acl.KeyNone, Arity: 3, Flags: r | f | FlagBatch, FirstKey: 1, LastKey: 1, Group: "hash", Since: "3.2.0",
			Syntax: "key field", Summary: "Returns the length of the value of a field.",
			Example: "> HSTRLEN sess:a user\n(integer) 5", Run: cmdHstrlen},
		&Spec{Name: "hincrby", Arity: 4, Flags: w | d | f | FlagBatch, FirstKey: 1, LastKey: 1, Group: "hash", Since: "2.0.0",
			Syntax: "key field increment", Summary: "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.",
			Example: "> HINCRBY sess:a hits 1\n(integer) 1", Run: cmdHincrby},
		&Spec{Name: "hincrbyfloat", Arity: 4, Flags: w | d | f | FlagBatch, FirstKey: 1, LastKey: 1, Group: "hash", Since: "2.6.0",
			Syntax: "key field increment", Summary: "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.",
			Example: "> HINCRBYFLOAT sess:a score 1.5\n\"1.5\"", Run: cmdHincrbyfloat},
		&Spec{Name: "hrandfield", Arity: -2, Flags: r, FirstKey: 1, LastKey: 1, Group: "hash", Since: "6.2.0",
			Syntax: "key [count [WITHVALUES]]", Summary: "Returns one or more random fields from a hash.",
			Example: "> HRANDFIELD sess:a -2 WITHVALUES\n1) \"user\"\n2) \"alice\"\n3) \"user\"\n4) \"alice\"", Run: cmdHrandfield},
		&Spec{Name: "memory", Arity: -2, Group: "server", Since: "4.0.0", Summary: "A container for memory diagnostics commands.",
			Subcommands: []*Spec{
				{Name: "usage", Arity: -3, Flags: r, KeyAccess: acl.KeyNone, FirstKey: 2, LastKey: 2, Step: 1, Syntax: "key [SAMPLES count]", Summary: "Estimates the memory usage of a key.",
					Example: "> MEMORY USAGE sess:a\n(integer) 212", Run: cmdMemoryUsage},
				{Name: "stats", Arity: 2, Summary: "Returns details about memory usage: used_memory's parts (sessiond's estimate, README \"Memory\"), keys, eviction candidates, the Go heap.",
					Example: "> MEMORY STATS\n 1) \"peak.allocated\"\n 2) (integer) 1349040\n...", Run: cmdMemoryStats},
				{Name: "doctor", Arity: 2, Summary: "Outputs a memory problems report.", Example: "> MEMORY DOCTOR\n\"Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\"", Run: cmdMemoryDoctor},
				{Name: "malloc-stats", Arity: 2, Summary: "Returns the allocator's statistics (the Go runtime's heap figures).", Example: "> MEMORY MALLOC-STATS\n\"___ Begin Go runtime allocator statistics ___\\nheap_alloc_bytes: 4183928\\n...\"", Run: cmdMemoryMallocStats},
				{Name: "purge", Arity: 2, Summary: "Returns freed memory to the operating system (runs Go's collector and releases its free pages).", Example: "> MEMORY PURGE\nOK", Run: cmdMemoryPurge},
				{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Summary: "Returns helpful text about the different subcommands.", Run: helpFor("MEMORY")},
			}},
		&Spec{Name: "dump", Arity: 2, Flags: r, FirstKey: 1, LastKey: 1, Step: 1, Group: "generic", Since: "2.6.0",
			Syntax: "key", Summary: "Returns a serialized representation of the value stored at a key (in Redis' DUMP format, which Redis' RESTORE reads).",
			Example: "> DUMP greeting\n\"\\x00\\x05hello\\t\\x00...\"", Run: cmdDump},
		&Spec{Name: "restore", ACL: "@dangerous", Arity: -4, Flags: w | d, FirstKey: 1, LastKey: 1, Step: 1, Group: "generic", Since: "2.6.0",
			Syntax: "key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]", Summary: "Creates a key from the serialized representation of a value.",
			Example: "> RESTORE greeting2 0 \"\\x00\\x05hello\\t\\x00...\"\nOK", Run: cmdRestore},
		&Spec{Name: "hscan", Arity: -3, Flags: r, FirstKey: 1, LastKey: 1, Group: "hash", Since: "2.8.0",
			Syntax: "key cursor [MATCH pattern] [COUNT count]", Summary: "Iterates over fields and values of a hash.",
			Example: "> HSCAN sess:a 0 MATCH u*\n1) \"0\"\n2) 1) \"user\"\n   2) \"alice\"", Run: cmdHscan},
	)
}

// newRand returns a random source for one command.

// argStrings converts args[from:] to strings.
func argStrings(c *Call, from int) []string {
	out := make([]string, 0, len(c.Args)-from)
	for _, a := range c.Args[from:] {
		out = append(out, string(a))
	}
	return out
}

// parseRangeLong parses an integer within [min, max] with Redis' words
// for each failure (getRangeLongFromObjectOrReply): msg, when not empty,
// replaces them all.
func parseRangeLong(c *Call, arg []byte, min, max int64, msg string) (int64, bool) {
	n, ok := parseInt(arg)
	if !ok || n < min || n > max {
		switch {
		case msg != "":
			c.W.Error(msg)
		case !ok:
			c.W.Error(msgNotInt)
		default:
			c.W.Error(fmt.Sprintf("ERR value is out of range, value must between %d and %d", min, max))
		}
		return 0, false
	}
	return n, true
}

// parsePositive is getPositiveLongFromObjectOrReply.
func parsePositive(c *Call, arg []byte, msg string) (int64, bool) {
	if msg == "" {
		msg = "ERR value is out of range, must be positive"
	}
	return parseRangeLong(c, arg, 0, math.MaxInt64, msg)
}

func cmdHset(c *Call) {
	if len(c.Args)%2 != 0 {
		c.W.Error(errWrongArgs(c.Spec.Name))
		return
	}
	pairs := argStrings(c, 2)
	var added int
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		added, err = tx.HSet(c.DB(), c.Arg(1), pairs, false)
		return err
	})
	switch {
	case err != nil:
		writeErr(c, err)
	case c.Spec.Name == "hmset":
		c.W.OK()
	default:
		c.W.Int(int64(added))
	}
}

func cmdHsetnx(c *Call) {
	var added int
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		added, err = tx.HSet(c.DB(), c.Arg(1), []string{c.Arg(2), c.Arg(3)}, true)
		return err
	})
	if err != nil {
		writeErr(c, err)
		return
	}
	c.W.Int(int64(added))
}

func cmdHget(c *Call) {
	var v string
	var ok bool
	err := c.Read(func(tx *engine.Tx) error {
		var err error
		v, ok, err = tx.HGet(c.DB(), c.Arg(1), c.Arg(2))
		return err
	})
	replyBulkOrNull(c, v, ok, err)
}

func cmdHmget(c *Call) {
	var vals []string
	var oks []bool
	err := c.Read(func(tx *engine.Tx) error {
		var err error
		vals, oks, err = tx.HMGet(c.DB(), c.Arg(1), argStrings(c, 2))
		return err
	})
	if err != nil {
		writeErr(c, err)
		return
	}
	c.W.Array(len(vals))
	for i, v := range vals {
		if oks[i] {
			c.W.BulkString(v)
		} else {
			c.W.Null()
		}
	}
}

// hashAll reads a whole hash for HGETALL, HKEYS and HVALS.
func hashAll(c *Call) (fields, vals []string, ok bool) {
	err := c.Read(func(tx *engine.Tx) error {
		var err error
		fields, vals, err = tx.HGetAll(c.DB(), c.Arg(1))
		return err
	})
	if err != nil {
		writeErr(c, err)
		return nil, nil, false
	}
	return fields, vals, true
}

func cmdHgetall(c *Call) {
	fields, vals, ok := hashAll(c)
	if !ok {
		return
	}
	c.W.Map(len(fields))
	for i := range fields {
		c.W.BulkString(fields[i])
		c.W.BulkString(vals[i])
	}
}

func cmdHkeys(c *Call) {
	if fields, _, ok := hashAll(c); ok {
		c.W.BulkStrings(fields)
	}
}

func cmdHvals(c *Call) {
	if _, vals, ok := hashAll(c); ok {
		c.W.BulkStrings(vals)
	}
}

func cmdHdel(c *Call) {
	var n int
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		n, err = tx.HDel(c.DB(), c.Arg(1), argStrings(c, 2))
		return err
	})
	if err != nil {
		writeErr(c, err)
		return
	}
	c.W.Int(int64(n))
}

func cmdHexists(c *Call) {
	var ok bool
	err := c.Read(func(tx *engine.Tx) error {
		var err error
		_, ok, err = tx.HGet(c.DB(), c.Arg(1), c.Arg(2))
		return err
	})
	if err != nil {
		writeErr(c, err)
		return
	}
	c.W.Int(int64(b2i(ok)))
}

func cmdHlen(c *Call) {
	var n int64
	err := c.Read(func(tx *engine.Tx) error {
		var err error
		n, err = tx.HLen(c.DB(), c.Arg(1))
		return err
	})
	replyInt(c, n, err)
}

func cmdHstrlen(c *Call) {
	var v string
	err := c.Read(func(tx *engine.Tx) error {
		var err error
		v, _, err = tx.HGet(c.DB(), c.Arg(1), c.Arg(2))
		return err
	})
	if err != nil {
		writeErr(c, err)
		return
	}
	c.W.Int(int64(len(v)))
}

func cmdHincrby(c *Call) {
	delta, ok := parseInt(c.Args[3])
	if !ok {
		c.W.Error(msgNotInt)
		return
	}
	var n int64
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		n, err = tx.HIncrBy(c.DB(), c.Arg(1), c.Arg(2), delta)
		return err
	})
	replyInt(c, n, err)
}

func cmdHincrbyfloat(c *Call) {
	delta, ok := parseFloat(c.Args[3])
	if !ok {
		c.W.Error(msgNotFloat)
		return
	}
	if math.IsInf(delta, 0) {
		c.W.Error("ERR value is NaN or Infinity")
		return
	}
	var s string
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		s, err = tx.HIncrByFloat(c.DB(), c.Arg(1), c.Arg(2), delta)
		return err
	})
	if err != nil {
		writeErr(c, err)
		return
	}
	c.W.BulkString(s)
}

// maxRandRepeats bounds a negative count of SRANDMEMBER, HRANDFIELD and
// ZRANDMEMBER (members may repeat, so the reply has -count elements
// whatever the key holds). Redis builds any such reply until memory runs
// out; sessiond refuses one over 2^24 elements rather than let one client
// exhaust the process's memory.
const maxRandRepeats = 1 << 24

// randRepeatsOK writes Redis' out-of-range error for a negative count over
// maxRandRepeats.
func randRepeatsOK(c *Call, count int64) bool {
	if count < -maxRandRepeats {
		c.W.Error("ERR value is out of range")
		return false
	}
	return true
}

// parseRandCount parses the count of HRANDFIELD, ZRANDMEMBER (with
// WITHVALUES/WITHSCORES as option word) and reports whether the option was given.
func parseRandCount(c *Call, option string) (count int64, with bool, ok bool) {
	count, ok = parseRangeLong(c, c.Args[2], -math.MaxInt64, math.MaxInt64, "")
	if !ok || !randRepeatsOK(c, count) {
		return 0, false, false
	}
	if len(c.Args) > 4 || (len(c.Args) == 4 && !keyword(c.Args[3], option)) {
		c.W.Error(msgSyntax)
		return 0, false, false
	}
	with = len(c.Args) == 4
	if with && (count < -math.MaxInt64/2 || count > math.MaxInt64/2) {
		c.W.Error("ERR value is out of range")
		return 0, false, false
	}
	return count, with, true
}

func cmdHrandfield(c *Call) {
	if len(c.Args) == 2 {
		var fields []string
		err := c.Read(func(tx *engine.Tx) error {
			var err error
			fields, _, err = tx.HRandField(c.DB(), c.Arg(1), 1, newRand(c))
			return err
		})
		switch {
		case err != nil:
			writeErr(c, err)
		case len(fields) == 0:
			c.W.Null()
		default:
			c.W.BulkString(fields[0])
		}
		return
	}
	count, with, ok := parseRandCount(c, "WITHVALUES")
	if !ok {
		return
	}
	var fields, vals []string
	err := c.Read(func(tx *engine.Tx) error {
		var err error
		fields, vals, err = tx.HRandField(c.DB(), c.Arg(1), count, newRand(c))
		return err
	})
	if err != nil {
		writeErr(c, err)
		return
	}
	writePairs(c, fields, with, func(i int) { c.W.BulkString(vals[i]) })
}

// writePairs writes names alone, or with their values: pairs in RESP3, a
// flat array in RESP2 (HRANDFIELD WITHVALUES, ZRANGE WITHSCORES, ...).
func writePairs(c *Call, names []string, with bool, value func(i int)) {
	if !with {
		c.W.BulkStrings(names)
		return
	}
	if c.W.Proto() == 3 {
		c.W.Array(len(names))
		for i, n := range names {
			c.W.Array(2)
			c.W.BulkString(n)
			value(i)
		}
		return
	}
	c.W.Array(2 * len(names))
	for i, n := range names {
		c.W.BulkString(n)
		value(i)
	}
}

// compositeScan runs HSCAN, SSCAN or ZSCAN: step calls the engine with the
// cursor and count and reports each element as its reply strings (the first
// being the name MATCH filters).
func compositeScan(c *Call, step func(tx *engine.Tx, cursor uint64, count int, emit func(items ...string)) (uint64, error)) {
	cursor, ok := parseCursor(c, c.Args[2])
	if !ok {
		return
	}
	opt, ok := parseScanOptions(c, 3, false)
	if !ok {
		return
	}
	var out []string
	var next uint64
	err := c.Read(func(tx *engine.Tx) error {
		var err error
		next, err = step(tx, cursor, opt.Count, func(items ...string) {
			if opt.Match != "" && opt.Match != "*" && !glob.Match(opt.Match, items[0]) {
				return
			}
			out = append(out, items...)
		})
		return err
	})
	if err != nil {
		writeErr(c, err)
		return
	}
	c.W.Array(2)
	c.W.BulkString(strconv.FormatUint(next, 10))
	c.W.BulkStrings(out)
}

func cmdHscan(c *Call) {
	compositeScan(c, func(tx *engine.Tx, cursor uint64, count int, emit func(...string)) (uint64, error) {
		return tx.HScan(c.DB(), c.Arg(1), cursor, count, func(f, v string) { emit(f, v) })
	})
}

// cmdMemoryUsage is MEMORY USAGE key [SAMPLES count]; SAMPLES 0 counts every
// element, the default samples 5 as Redis does.
func cmdMemoryUsage(c *Call) {
	samples := int64(5)
	for i := 3; i < len(c.Args); i++ {
		if keyword(c.Args[i], "SAMPLES") && i+1 < len(c.Args) {
			n, ok := parseInt(c.Args[i+1])
			if !ok {
				c.W.Error(msgNotInt)
				return
			}
			samples = n
			i++
			continue
		}
		c.W.Error(msgSyntax)
		return
	}
	var n int64
	var ok bool
	_ = c.Read(func(tx *engine.Tx) error { n, ok = tx.MemoryUsage(c.DB(), c.Arg(2), int(samples)); return nil })
	if !ok {
		c.W.Null()
		return
	}
	c.W.Int(n)
}

var errInvalidTTL = errors.New("ERR Invalid TTL value, must be >= 0")

func cmdDump(c *Call) {
	var p string
	var ok bool
	_ = c.Read(func(tx *engine.Tx) error { p, ok = tx.Dump(c.DB(), c.Arg(1)); return nil })
	if !ok {
		c.W.Null()
		return
	}
	c.W.BulkString(p)
}

func cmdRestore(c *Call) {
	ttl, ok := parseInt(c.Args[2])
	if !ok {
		c.W.Error(msgNotInt)
		return
	}
	var replace, abs bool
	idle, freq := int64(-1), -1
	for i := 4; i < len(c.Args); i++ {
		switch {
		case keyword(c.Args[i], "REPLACE"):
			replace = true
		case keyword(c.Args[i], "ABSTTL"):
			abs = true
		case (keyword(c.Args[i], "IDLETIME") || keyword(c.Args[i], "FREQ")) && i+1 < len(c.Args):
			n, ok := parseInt(c.Args[i+1])
			if !ok {
				c.W.Error(msgNotInt)
				return
			}
			if keyword(c.Args[i], "IDLETIME") {
				if n < 0 {
					c.W.Error("ERR Invalid IDLETIME value, must be >= 0")
					return
				}
				idle = n
			} else {
				if n < 0 || n > 255 {
					c.W.Error("ERR Invalid FREQ value, must be >= 0 and <= 255")
					return
				}
				freq = int(n)
			}
			i++
		default:
			c.W.Error(msgSyntax)
			return
		}
	}
	deadline := ttl
	if ttl > 0 && !abs {
		deadline = c.NowMS() + ttl
	}
	// Redis' order of checks: an existing key, then the TTL, then the payload.
	err := c.Write(func(tx *engine.Tx) error {
		if !replace && tx.Exists(c.DB(), c.Arg(1)) {
			return engine.ErrBusyKey
		}
		if ttl < 0 {
			return errInvalidTTL
		}
		if err := tx.Restore(c.DB(), c.Arg(1), c.Arg(3), deadline, replace); err != nil {
			return err
		}
		tx.SetKeyAccess(c.DB(), c.Arg(1), idle, freq)
		return nil
	})
	switch {
	case err == engine.ErrBusyKey:
		c.W.Error(err.Error())
		return
	case err != nil:
		writeErr(c, err)
		return
	}
	c.W.OK()
}

func init() {
	onNewDispatcher(func(d *Dispatcher) {
		// The engine reads the listpack thresholds on its hash write path:
		// keep its copy in step with the parameters.
		d.Config.Follow(func() {
			d.Engine.SetHashListpackLimits(d.Config.Int("hash-max-listpack-entries"), d.Config.Int("hash-max-listpack-value"))
		}, "hash-max-listpack-entries", "hash-max-listpack-value")
	})
}
