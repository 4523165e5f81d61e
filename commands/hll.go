package commands

import (
	"errors"
	"math/rand"
	"strings"
	"time"

	"github.com/sessiond/sessiond/acl"
	"github.com/sessiond/sessiond/engine"
)

// HyperLogLog: PFADD, PFCOUNT, PFMERGE and the debugging PFSELFTEST and
// PFDEBUG. The value is a plain string in Redis' own HLL format
// (engine/hll.go), so GET/SET/APPEND see the same bytes Redis would.

func init() {
	register(
		&Spec{Name: "pfadd", Arity: -2, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: "hyperloglog", Since: "2.8.9",
			Syntax:  "key [element [element ...]]",
			Summary: "Adds the specified elements to the specified HyperLogLog.",
			Example: "> PFADD visitors alice bob\n(integer) 1", Run: cmdPfadd},
		&Spec{Name: "pfcount", Arity: -2, Flags: FlagReadonly | flagMayReplicate, FirstKey: 1, LastKey: -1, Step: 1, Group: "hyperloglog", Since: "2.8.9",
			Syntax:  "key [key ...]",
			Summary: "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).",
			Example: "> PFCOUNT visitors\n(integer) 2", Run: cmdPfcount},
		&Spec{Name: "pfmerge", KeyRefs: pfmergeKeys, Arity: -2, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: -1, Step: 1, Group: "hyperloglog", Since: "2.8.9",
			Syntax:  "destkey [sourcekey [sourcekey ...]]",
			Summary: "Merge N different HyperLogLogs into a single one.",
			Example: "> PFMERGE all visitors:mon visitors:tue\nOK", Run: cmdPfmerge},
		&Spec{Name: "pfselftest", Arity: 1, Flags: FlagAdmin | FlagLong, Group: "hyperloglog", Since: "2.8.9",
			Summary: "An internal command for testing HyperLogLog values",
			Example: "> PFSELFTEST\nOK", Run: cmdPfselftest},
		&Spec{Name: "pfdebug", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagAdmin, FirstKey: 2, LastKey: 2, Step: 1, Group: "hyperloglog", Since: "2.8.9",
			Syntax:  "GETREG|DECODE|ENCODING|TODENSE key",
			Summary: "Internal commands for debugging HyperLogLog values",
			Example: "> PFDEBUG ENCODING visitors\nsparse", Run: cmdPfdebug},
	)
}

// pfmergeKeys: PFMERGE reads and writes its destination and reads its
// sources (Redis' key specs); PFCOUNT is read-write as in Redis, since it
// may store the cached count.
func pfmergeKeys(args [][]byte) []acl.KeyRef {
	refs := keysAt(args, acl.KeyRef{Pos: 1, Access: keyRW})
	for i := 2; i < len(args); i++ {
		refs = append(refs, acl.KeyRef{Pos: i, Access: keyR})
	}
	return refs
}

// hllReply answers an error of an HLL command: Redis' HLL errors as they
// are (WRONGTYPE ..., INVALIDOBJ ...), others as usual.
func hllReply(c *Call, err error) {
	if errors.Is(err, engine.ErrHLLNotHLL) || errors.Is(err, engine.ErrHLLCorrupt) {
		c.W.Error(err.Error())
		return
	}
	writeErr(c, err)
}

func (c *Call) hllSparseMax() int { return int(c.d.Config.Int("hll-sparse-max-bytes")) }

// loadHLL reads key as a HyperLogLog (nil, nil when missing).
func loadHLL(tx *engine.Tx, db int, key string) (*engine.HLL, error) {
	s, ok, err := tx.GetString(db, key)
	if err != nil || !ok {
		return nil, err
	}
	return engine.ParseHLL(s)
}

func cmdPfadd(c *Call) {
	key, sparseMax := c.Arg(1), c.hllSparseMax()
	updated := false
	err := c.Write(func(tx *engine.Tx) error {
		h, err := loadHLL(tx, c.DB(), key)
		if err != nil {
			return err
		}
		if h == nil {
			h, updated = engine.NewHLL(), true
		}
		for _, ele := range c.Args[2:] {
			changed, err := h.Add(ele, sparseMax)
			if err != nil {
				return err
			}
			updated = updated || changed
		}
		if updated {
			h.InvalidateCache()
			tx.PutString(c.DB(), key, string(h.Bytes()), engine.KeepTTL)
			tx.Notify('$', "pfadd", c.DB(), key)
		}
		return nil
	})
	if err != nil {
		hllReply(c, err)
		return
	}
	if updated {
		c.W.Int(1)
	} else {
		c.W.Int(0)
	}
}

func cmdPfcount(c *Call) {
	if len(c.Args) > 2 {
		// The count of the union, leaving every key as it is.
		max := make([]uint8, engine.HLLRegisters)
		err := c.Read(func(tx *engine.Tx) error {
			for _, k := range c.Args[1:] {
				h, err := loadHLL(tx, c.DB(), string(k))
				if err != nil {
					return err
				}
				if h != nil {
					if err := h.MergeInto(max); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			hllReply(c, err)
			return
		}
		c.W.Int(int64(engine.CountRegisters(max)))
		return
	}
	key := c.Arg(1)
	var card uint64
	var store string // the value with a fresh cached count, to write back
	err := c.Read(func(tx *engine.Tx) error {
		s, ok, err := tx.GetString(c.DB(), key)
		if err != nil || !ok {
			return err
		}
		var valid bool
		if card, valid, err = engine.CachedHLLCount(s); err != nil || valid {
			return err // the cached count: no copy of the value
		}
		h, err := engine.ParseHLL(s)
		if err != nil {
			return err
		}
		var fresh bool
		card, fresh, err = h.Count()
		if err != nil || !fresh {
			return err
		}
		if tx.Writable() { // inside EXEC: store it in the same transaction
			tx.PutString(c.DB(), key, string(h.Bytes()), engine.KeepTTL)
			return nil
		}
		store = string(h.Bytes())
		return nil
	})
	if err != nil {
		hllReply(c, err)
		return
	}
	if store != "" && !c.d.writeOutsideLog() {
		// Redis caches the count in the value (a write it propagates); done
		// only if the value is still the one counted. The cache only saves
		// work, so a failed write-back leaves the answer as it is (and on a
		// replicated node, where a read may not write outside the log, the
		// count is simply not cached).
		_ = c.Write(func(tx *engine.Tx) error {
			cur, ok, err := tx.GetString(c.DB(), key)
			if err == nil && ok && len(cur) == len(store) && cur[:8] == store[:8] && cur[16:] == store[16:] {
				tx.PutString(c.DB(), key, store, engine.KeepTTL)
			}
			return err
		})
	}
	c.W.Int(int64(card))
}

func cmdPfmerge(c *Call) {
	dest, sparseMax := c.Arg(1), c.hllSparseMax()
	err := c.Write(func(tx *engine.Tx) error {
		max := make([]uint8, engine.HLLRegisters)
		useDense := false
		for _, k := range c.Args[1:] {
			h, err := loadHLL(tx, c.DB(), string(k))
			if err != nil {
				return err
			}
			if h == nil {
				continue
			}
			useDense = useDense || !h.Sparse()
			if err := h.MergeInto(max); err != nil {
				return err
			}
		}
		h, err := loadHLL(tx, c.DB(), dest)
		if err != nil {
			return err
		}
		if h == nil {
			h = engine.NewHLL()
		}
		if useDense {
			if _, err := h.ToDense(); err != nil {
				return err
			}
		}
		if err := h.SetRegisters(max, sparseMax); err != nil {
			return err
		}
		tx.PutString(c.DB(), dest, string(h.Bytes()), engine.KeepTTL)
		tx.Notify('$', "pfadd", c.DB(), dest)
		return nil
	})
	if err != nil {
		hllReply(c, err)
		return
	}
	c.W.OK()
}

func cmdPfselftest(c *Call) {
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	if err := engine.HLLSelfTest(rng, c.hllSparseMax()); err != nil {
		c.W.Error(err.Error())
		return
	}
	c.W.OK()
}

func cmdPfdebug(c *Call) {
	sub, key := strings.ToLower(c.Arg(1)), c.Arg(2)
	var regs []uint8
	var decoded, encoding string
	var converted bool
	var errMsg string
	err := c.Write(func(tx *engine.Tx) error {
		h, err := loadHLL(tx, c.DB(), key)
		if err != nil {
			return err
		}
		if h == nil {
			errMsg = "ERR The specified key does not exist"
			return nil
		}
		switch sub {
		case "getreg", "todense":
			if converted, err = h.ToDense(); err != nil {
				return err
			}
			if converted { // Redis stores the new encoding (and propagates it)
				tx.PutString(c.DB(), key, string(h.Bytes()), engine.KeepTTL)
			}
			if sub == "getreg" {
				regs, err = h.Registers()
			}
			return err
		case "decode":
			decoded, err = h.Decode()
			if err != nil {
				errMsg, err = err.Error(), nil
			}
			return nil
		case "encoding":
			encoding = "dense"
			if h.Sparse() {
				encoding = "sparse"
			}
			return nil
		}
		errMsg = "ERR Unknown PFDEBUG subcommand '" + c.Arg(1) + "'"
		return nil
	})
	switch {
	case err != nil:
		hllReply(c, err)
	case errMsg != "":
		c.W.Error(errMsg)
	case sub == "getreg":
		c.W.Array(len(regs))
		for _, v := range regs {
			c.W.Int(int64(v))
		}
	case sub == "decode":
		c.W.Bulk([]byte(decoded))
	case sub == "encoding":
		c.W.Simple(encoding)
	case converted:
		c.W.Int(1)
	default:
		c.W.Int(0)
	}
}
