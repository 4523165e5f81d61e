package commands

import (
	"fmt"
	"math"

	"github.com/sessiond/sessiond/acl"
	"github.com/sessiond/sessiond/engine"
)

func init() {
	k1 := func(s *Spec) *Spec { s.FirstKey, s.LastKey, s.Step, s.Group = 1, 1, 1, "string"; return s }
	register(
		k1(&Spec{Name: "get", Arity: 2, Flags: FlagReadonly | FlagFast | FlagBatch, Since: "1.0.0", Syntax: "key", Summary: "Returns the string value of a key.", Example: "> GET sess:a\n\"{\\\"user\\\":7}\"", Run: cmdGet}),
		k1(&Spec{Name: "set", KeyRefs: setKeys, Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagBatch, Since: "1.0.0", Syntax: "key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]",
			Summary: "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", Example: "> SET sess:a data EX 1800\nOK", Run: cmdSet}),
		k1(&Spec{Name: "setex", KeyAccess: acl.KeyWrite, Arity: 4, Flags: FlagWrite | FlagDenyOOM | FlagBatch, Since: "2.0.0", Syntax: "key seconds value", Summary: "Sets the string value and expiration time of a key.", Example: "> SETEX sess:a 1800 data\nOK", Run: cmdSetex(1000)}),
		k1(&Spec{Name: "psetex", KeyAccess: acl.KeyWrite, Arity: 4, Flags: FlagWrite | FlagDenyOOM | FlagBatch, Since: "2.6.0", Syntax: "key milliseconds value", Summary: "Sets the string value and expiration time in milliseconds of a key.", Example: "> PSETEX sess:a 1500 data\nOK", Run: cmdSetex(1)}),
		k1(&Spec{Name: "setnx", KeyAccess: acl.KeyWrite, Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast | FlagBatch, Since: "1.0.0", Syntax: "key value", Summary: "Set the string value of a key only when the key doesn't exist.", Example: "> SETNX lock 1\n(integer) 1", Run: cmdSetnx}),
		k1(&Spec{Name: "getset", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast | FlagBatch, Since: "1.0.0", Syntax: "key value", Summary: "Returns the previous string value of a key after setting it to a new value.", Example: "> GETSET k new\n\"old\"", Run: cmdGetset}),
		k1(&Spec{Name: "getdel", Arity: 2, Flags: FlagWrite | FlagFast | FlagBatch, Since: "6.2.0", Syntax: "key", Summary: "Returns the string value of a key after deleting the key.", Example: "> GETDEL k\n\"v\"", Run: cmdGetdel}),
		k1(&Spec{Name: "getex", Arity: -2, Flags: FlagWrite | FlagFast | FlagBatch, Since: "6.2.0", Syntax: "key [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|PERSIST]", Summary: "Returns the string value of a key after setting its expiration time.", Example: "> GETEX sess:a EX 1800\n\"data\"", Run: cmdGetex}),
		&Spec{Name: "mget", Arity: -2, Flags: FlagReadonly | FlagFast | FlagBatch, FirstKey: 1, LastKey: -1, Step: 1, Group: "string", Since: "1.0.0", Syntax: "key [key ...]", Summary: "Atomically returns the string values of one or more keys.", Example: "> MGET a nope\n1) \"1\"\n2) (nil)", Run: cmdMget},
		&Spec{Name: "mset", KeyAccess: acl.KeyWrite, Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagBatch, FirstKey: 1, LastKey: -1, Step: 2, Group: "string", Since: "1.0.1", Syntax: "key value [key value ...]", Summary: "Atomically creates or modifies the string values of one or more keys.", Example: "> MSET a 1 b 2\nOK", Run: cmdMset},
		&Spec{Name: "msetnx", KeyAccess: acl.KeyWrite, Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagBatch, FirstKey: 1, LastKey: -1, Step: 2, Group: "string", Since: "1.0.1", Syntax: "key value [key value ...]", Summary: "Atomically modifies the string values of one or more keys only when all keys don't exist.", Example: "> MSETNX a 1 b 2\n(integer) 1", Run: cmdMset},
		k1(&Spec{Name: "append", KeyAccess: acl.KeyWrite, Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast | FlagBatch, Since: "2.0.0", Syntax: "key value", Summary: "Appends a string to the value of a key. Creates the key if it doesn't exist.", Example: "> APPEND k more\n(integer) 8", Run: cmdAppend}),
		k1(&Spec{Name: "strlen", KeyAccess: acl.KeyNone, Arity: 2, Flags: FlagReadonly | FlagFast | FlagBatch, Since: "2.2.0", Syntax: "key", Summary: "Returns the length of a string value.", Example: "> STRLEN k\n(integer) 8", Run: cmdStrlen}),
		k1(&Spec{Name: "incr", Arity: 2, Flags: FlagWrite | FlagDenyOOM | FlagFast | FlagBatch, Since: "1.0.0", Syntax: "key", Summary: "Increments the integer value of a key by one.", Example: "> INCR hits\n(integer) 1", Run: incrCmd(1, false)}),
		k1(&Spec{Name: "decr", Arity: 2, Flags: FlagWrite | FlagDenyOOM | FlagFast | FlagBatch, Since: "1.0.0", Syntax: "key", Summary: "Decrements the integer value of a key by one.", Example: "> DECR hits\n(integer) 0", Run: incrCmd(-1, false)}),
		k1(&Spec{Name: "incrby", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast | FlagBatch, Since: "1.0.0", Syntax: "key increment", Summary: "Increments the integer value of a key by a number.", Example: "> INCRBY hits 5\n(integer) 5", Run: incrCmd(1, true)}),
		k1(&Spec{Name: "decrby", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast | FlagBatch, Since: "1.0.0", Syntax: "key decrement", Summary: "Decrements a number from the integer value of a key.", Example: "> DECRBY hits 5\n(integer) 0", Run: incrCmd(-1, true)}),
		k1(&Spec{Name: "incrbyfloat", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast | FlagBatch, Since: "2.6.0", Syntax: "key increment", Summary: "Increment the floating point value of a key by a number.", Example: "> INCRBYFLOAT f 1.5\n\"1.5\"", Run: cmdIncrbyfloat}),
		k1(&Spec{Name: "getrange", Arity: 4, Flags: FlagReadonly | FlagBatch, Since: "2.4.0", Syntax: "key start end", Summary: "Returns a substring of the string stored at a key.", Example: "> GETRANGE k 0 3\n\"data\"", Run: cmdGetrange}),
		k1(&Spec{Name: "substr", Arity: 4, Flags: FlagReadonly | FlagBatch, Since: "1.0.0", Syntax: "key start end", Summary: "Returns a substring from a string value.", Example: "> SUBSTR k 0 3\n\"data\"", Run: cmdGetrange}),
		&Spec{Name: "lcs", Arity: -3, Flags: FlagReadonly, FirstKey: 1, LastKey: 2, Step: 1, Group: "string", Since: "7.0.0", Syntax: "key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]",
			Summary: "Finds the longest common substring.", Example: "> MSET a ohmytext b mynewtext\nOK\n> LCS a b\n\"mytext\"", Run: cmdLcs},
		k1(&Spec{Name: "setrange", KeyAccess: acl.KeyWrite, Arity: 4, Flags: FlagWrite | FlagDenyOOM | FlagBatch, Since: "2.2.0", Syntax: "key offset value", Summary: "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.", Example: "> SETRANGE k 0 X\n(integer) 8", Run: cmdSetrange}),
	)
}

func cmdGet(c *Call) {
	var v string
	var ok bool
	err := c.Read(func(tx *engine.Tx) error {
		var err error
		v, ok, err = tx.GetString(c.DB(), c.Arg(1))
		return err
	})
	switch {
	case err != nil:
		writeErr(c, err)
	case !ok:
		c.d.Engine.Stats().KeyspaceMisses.Add(1)
		c.W.Null()
	default:
		c.d.Engine.Stats().KeyspaceHits.Add(1)
		c.W.BulkString(v)
	}
}

// expiryOption parses one of EX/PX/EXAT/PXAT at args[i] into an absolute
// deadline in ms. It reports false (after writing the error) on bad input.
func expiryOption(c *Call, i int) (int64, bool) {
	n, ok := parseInt(c.Args[i+1])
	if !ok {
		c.W.Error(msgNotInt)
		return 0, false
	}
	kw := upper(c.Args[i])
	if n <= 0 {
		c.W.Error(fmt.Sprintf(msgInvalidExpire, c.Spec.Name))
		return 0, false
	}
	unit := int64(1)
	if kw == "EX" || kw == "EXAT" {
		unit = 1000
	}
	if n > math.MaxInt64/unit {
		c.W.Error(fmt.Sprintf(msgInvalidExpire, c.Spec.Name))
		return 0, false
	}
	ms := n * unit
	if kw == "EX" || kw == "PX" {
		if ms > math.MaxInt64-c.NowMS() {
			c.W.Error(fmt.Sprintf(msgInvalidExpire, c.Spec.Name))
			return 0, false
		}
		ms += c.NowMS()
	}
	return ms, true
}

func cmdSet(c *Call) {
	var o engine.SetOptions
	expirySet := false
	for i := 3; i < len(c.Args); i++ {
		kw := upper(c.Args[i])
		switch kw {
		case "NX":
			if o.XX {
				c.W.Error(msgSyntax)
				return
			}
			o.NX = true
		case "XX":
			if o.NX {
				c.W.Error(msgSyntax)
				return
			}
			o.XX = true
		case "GET":
			o.Get = true
		case "KEEPTTL":
			if expirySet {
				c.W.Error(msgSyntax)
				return
			}
			expirySet = true
			o.Deadline = engine.KeepTTL
		case "EX", "PX", "EXAT", "PXAT":
			if expirySet || i+1 >= len(c.Args) {
				c.W.Error(msgSyntax)
				return
			}
			ms, ok := expiryOption(c, i)
			if !ok {
				return
			}
			expirySet = true
			o.Deadline = ms
			i++
		default:
			c.W.Error(msgSyntax)
			return
		}
	}
	if !o.NX && !o.XX && !o.Get && o.Deadline != engine.KeepTTL {
		// The common SET: key and value are encoded before the transaction,
		// outside the write lock.
		p := engine.PrepareSet(c.DB(), c.Args[1], c.Args[2], o.Deadline)
		if err := c.Write(func(tx *engine.Tx) error { tx.SetPrepared(p); return nil }); err != nil {
			writeErr(c, err)
			return
		}
		c.W.OK()
		return
	}
	var res engine.SetResult
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		res, err = tx.Set(c.DB(), c.Arg(1), c.Arg(2), o)
		return err
	})
	switch {
	case err != nil:
		writeErr(c, err)
	case o.Get:
		if res.HadOld {
			c.W.BulkString(res.Old)
		} else {
			c.W.Null()
		}
	case res.Done:
		c.W.OK()
	default:
		c.W.Null()
	}
}

func cmdSetex(unit int64) func(c *Call) {
	return func(c *Call) {
		n, ok := parseInt(c.Args[2])
		if !ok {
			c.W.Error(msgNotInt)
			return
		}
		if n <= 0 || n > math.MaxInt64/unit || n*unit > math.MaxInt64-c.NowMS() {
			c.W.Error(fmt.Sprintf(msgInvalidExpire, c.Spec.Name))
			return
		}
		dl := c.NowMS() + n*unit
		_ = c.Write(func(tx *engine.Tx) error {
			_, err := tx.Set(c.DB(), c.Arg(1), c.Arg(3), engine.SetOptions{Deadline: dl})
			return err
		})
		c.W.OK()
	}
}

func cmdSetnx(c *Call) {
	var res engine.SetResult
	_ = c.Write(func(tx *engine.Tx) error {
		var err error
		res, err = tx.Set(c.DB(), c.Arg(1), c.Arg(2), engine.SetOptions{NX: true})
		return err
	})
	c.W.Int(int64(b2i(res.Done)))
}

func cmdGetset(c *Call) {
	var res engine.SetResult
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		res, err = tx.Set(c.DB(), c.Arg(1), c.Arg(2), engine.SetOptions{Get: true})
		return err
	})
	switch {
	case err != nil:
		writeErr(c, err)
	case res.HadOld:
		c.W.BulkString(res.Old)
	default:
		c.W.Null()
	}
}

func cmdGetdel(c *Call) {
	var v string
	var ok bool
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		v, ok, err = tx.GetDel(c.DB(), c.Arg(1))
		return err
	})
	replyBulkOrNull(c, v, ok, err)
}

func cmdGetex(c *Call) {
	dl := int64(-1) // -1: leave the deadline alone
	for i := 2; i < len(c.Args); i++ {
		switch kw := upper(c.Args[i]); kw {
		case "PERSIST":
			if dl != -1 {
				c.W.Error(msgSyntax)
				return
			}
			dl = 0
		case "EX", "PX", "EXAT", "PXAT":
			if dl != -1 || i+1 >= len(c.Args) {
				c.W.Error(msgSyntax)
				return
			}
			ms, ok := expiryOption(c, i)
			if !ok {
				return
			}
			dl = ms
			i++
		default:
			c.W.Error(msgSyntax)
			return
		}
	}
	var v string
	var ok bool
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		v, ok, err = tx.GetString(c.DB(), c.Arg(1))
		if err != nil || !ok || dl == -1 {
			return err
		}
		cur, _ := tx.Deadline(c.DB(), c.Arg(1))
		if dl == 0 && cur == 0 {
			return nil
		}
		tx.SetDeadline(c.DB(), c.Arg(1), dl)
		return nil
	})
	replyBulkOrNull(c, v, ok, err)
}

func cmdMget(c *Call) {
	keys := keyArgs(c, 1)
	vals := make([]string, len(keys))
	found := make([]bool, len(keys))
	_ = c.Read(func(tx *engine.Tx) error {
		for i, k := range keys {
			v, ok, err := tx.GetString(c.DB(), k)
			vals[i], found[i] = v, ok && err == nil
		}
		return nil
	})
	c.W.Array(len(keys))
	for i := range keys {
		if found[i] {
			c.W.BulkString(vals[i])
		} else {
			c.W.Null()
		}
	}
}

func cmdMset(c *Call) {
	if len(c.Args)%2 != 1 {
		c.W.Error(errWrongArgs(c.Spec.Name))
		return
	}
	nx := c.Spec.Name == "msetnx"
	done := true
	_ = c.Write(func(tx *engine.Tx) error {
		if nx {
			for i := 1; i < len(c.Args); i += 2 {
				if tx.Exists(c.DB(), c.Arg(i)) {
					done = false
					return nil
				}
			}
		}
		for i := 1; i < len(c.Args); i += 2 {
			if _, err := tx.Set(c.DB(), c.Arg(i), c.Arg(i+1), engine.SetOptions{}); err != nil {
				return err
			}
		}
		return nil
	})
	if nx {
		c.W.Int(int64(b2i(done)))
		return
	}
	c.W.OK()
}

func cmdAppend(c *Call) {
	var n int
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		n, err = tx.Append(c.DB(), c.Arg(1), c.Arg(2))
		return err
	})
	if err != nil {
		writeErr(c, err)
		return
	}
	c.W.Int(int64(n))
}

func cmdStrlen(c *Call) {
	var v string
	err := c.Read(func(tx *engine.Tx) error {
		var err error
		v, _, err = tx.GetString(c.DB(), c.Arg(1))
		return err
	})
	if err != nil {
		writeErr(c, err)
		return
	}
	c.W.Int(int64(len(v)))
}

func incrCmd(sign int64, withArg bool) func(c *Call) {
	return func(c *Call) {
		delta := int64(1)
		if withArg {
			n, ok := parseInt(c.Args[2])
			if !ok {
				c.W.Error(msgNotInt)
				return
			}
			if sign < 0 && n == math.MinInt64 {
				c.W.Error("ERR decrement would overflow")
				return
			}
			delta = n
		}
		delta *= sign
		var v int64
		err := c.Write(func(tx *engine.Tx) error {
			var err error
			v, err = tx.IncrBy(c.DB(), c.Arg(1), delta)
			return err
		})
		if err != nil {
			writeErr(c, err)
			return
		}
		c.W.Int(v)
	}
}

func cmdIncrbyfloat(c *Call) {
	var v string
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		v, err = tx.IncrByFloat(c.DB(), c.Arg(1), c.Arg(2))
		return err
	})
	if err != nil {
		writeErr(c, err)
		return
	}
	c.W.BulkString(v)
}

func cmdGetrange(c *Call) {
	start, ok1 := parseInt(c.Args[2])
	end, ok2 := parseInt(c.Args[3])
	if !ok1 || !ok2 {
		c.W.Error(msgNotInt)
		return
	}
	var v string
	err := c.Read(func(tx *engine.Tx) error {
		var err error
		v, _, err = tx.GetString(c.DB(), c.Arg(1))
		return err
	})
	if err != nil {
		writeErr(c, err)
		return
	}
	c.W.BulkString(substr(v, start, end))
}

// substr applies Redis' GETRANGE index rules (negative from the end, clamped).
func substr(v string, start, end int64) string {
	n := int64(len(v))
	if start < 0 && end < 0 && start > end {
		return ""
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start = max(start, 0)
	end = max(end, 0)
	if end >= n {
		end = n - 1
	}
	if n == 0 || start > end {
		return ""
	}
	return v[start : end+1]
}

func cmdSetrange(c *Call) {
	off, ok := parseInt(c.Args[2])
	if !ok {
		c.W.Error(msgNotInt)
		return
	}
	if off < 0 {
		c.W.Error(msgOffsetRange)
		return
	}
	// An empty value never errors (Redis answers the current length first).
	if n := int64(len(c.Args[3])); n > 0 && off > c.d.Config.Int("proto-max-bulk-len")-n {
		c.W.Error(msgTooLarge)
		return
	}
	var n int
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		n, err = tx.SetRange(c.DB(), c.Arg(1), off, c.Arg(3))
		return err
	})
	if err != nil {
		writeErr(c, err)
		return
	}
	c.W.Int(int64(n))
}

func cmdLcs(c *Call) {
	var a, b string
	err := c.Read(func(tx *engine.Tx) error {
		var err1, err2 error
		a, _, err1 = tx.GetString(c.DB(), c.Arg(1))
		b, _, err2 = tx.GetString(c.DB(), c.Arg(2))
		if err1 != nil || err2 != nil {
			return engine.ErrWrongType
		}
		return nil
	})
	if err != nil {
		c.W.Error("ERR The specified keys must contain string values")
		return
	}
	var getLen, getIdx, withLen bool
	var minLen int64
	for i := 3; i < len(c.Args); i++ {
		switch {
		case keyword(c.Args[i], "IDX"):
			getIdx = true
		case keyword(c.Args[i], "LEN"):
			getLen = true
		case keyword(c.Args[i], "WITHMATCHLEN"):
			withLen = true
		case keyword(c.Args[i], "MINMATCHLEN") && i+1 < len(c.Args):
			n, ok := parseInt(c.Args[i+1])
			if !ok {
				c.W.Error(msgNotInt)
				return
			}
			minLen = max(n, 0)
			i++
		default:
			c.W.Error(msgSyntax)
			return
		}
	}
	if getLen && getIdx {
		c.W.Error("ERR If you want both the length and indexes, please just use IDX.")
		return
	}
	if uint64(len(a)+1)*uint64(len(b)+1)*4 > uint64(c.d.Config.Int("proto-max-bulk-len")) {
		c.W.Error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
		return
	}
	// The table is computed outside any transaction: it only needs the two values.
	res := engine.LCS(a, b, minLen, getIdx || !getLen)
	switch {
	case getIdx:
		c.W.Map(2)
		c.W.BulkString("matches")
		c.W.Array(len(res.Matches))
		for _, m := range res.Matches {
			c.W.Array(2 + b2i(withLen))
			c.W.Array(2)
			c.W.Int(int64(m.AStart))
			c.W.Int(int64(m.AEnd))
			c.W.Array(2)
			c.W.Int(int64(m.BStart))
			c.W.Int(int64(m.BEnd))
			if withLen {
				c.W.Int(int64(m.Len))
			}
		}
		c.W.BulkString("len")
		c.W.Int(int64(res.Len))
	case getLen:
		c.W.Int(int64(res.Len))
	default:
		c.W.BulkString(res.Str)
	}
}
