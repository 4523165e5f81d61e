package commands

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sessiond/sessiond/acl"
	"github.com/sessiond/sessiond/engine"
)

// Streams: XADD, XLEN, XRANGE, XREVRANGE, XDEL, XTRIM, XSETID, XREAD,
// XREADGROUP, XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM and XINFO, with
// Redis 7.0's replies, errors and keyspace events. XREAD/XREADGROUP with
// BLOCK block on the shared blocked-client mechanism (c.d.block) and are
// woken by writes to their keys; inside MULTI they answer a null array at
// once, as Redis does for a client that may not block. Approximate trimming
// ("~") is not node-based: sessiond has no radix-tree nodes, so it trims
// exactly (within LIMIT), and stream-node-max-entries does not exist.

func init() {
	x := func(s *Spec) *Spec {
		switch s.FirstKey {
		case 0:
			s.FirstKey, s.LastKey, s.Step = 1, 1, 1
		case -1: // keys follow STREAMS: movable, as in Redis' table
			s.FirstKey = 0
		}
		s.Group = "stream"
		return s
	}
	register(
		x(&Spec{Name: "xadd", KeyAccess: acl.KeyWrite, Arity: -5, Flags: FlagWrite | FlagDenyOOM | FlagFast, Since: "5.0.0",
			Syntax:  "key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]",
			Summary: "Appends a new message to a stream. Creates the key if it doesn't exist.", Example: "> XADD audit * user 7 action login\n\"1763900000000-0\"", Run: cmdXadd}),
		x(&Spec{Name: "xlen", KeyAccess: acl.KeyNone, Arity: 2, Flags: FlagReadonly | FlagFast, Since: "5.0.0", Syntax: "key",
			Summary: "Return the number of messages in a stream.", Example: "> XLEN audit\n(integer) 1", Run: cmdXlen}),
		x(&Spec{Name: "xrange", Arity: -4, Flags: FlagReadonly, Since: "5.0.0", Syntax: "key start end [COUNT count]",
			Summary: "Returns the messages from a stream within a range of IDs.", Example: "> XRANGE audit - + COUNT 1\n1) 1) \"1763900000000-0\"\n   2) 1) \"user\"\n      2) \"7\" ...", Run: xrangeCmd(false)}),
		x(&Spec{Name: "xrevrange", Arity: -4, Flags: FlagReadonly, Since: "5.0.0", Syntax: "key end start [COUNT count]",
			Summary: "Returns the messages from a stream within a range of IDs in reverse order.", Example: "> XREVRANGE audit + - COUNT 1\n1) 1) \"1763900000000-0\" ...", Run: xrangeCmd(true)}),
		x(&Spec{Name: "xdel", KeyAccess: acl.KeyWrite, Arity: -3, Flags: FlagWrite | FlagFast, Since: "5.0.0", Syntax: "key id [id ...]",
			Summary: "Returns the number of messages after removing them from a stream.", Example: "> XDEL audit 1763900000000-0\n(integer) 1", Run: cmdXdel}),
		x(&Spec{Name: "xtrim", KeyAccess: acl.KeyWrite, Arity: -4, Flags: FlagWrite, Since: "5.0.0", Syntax: "key MAXLEN|MINID [=|~] threshold [LIMIT count]",
			Summary: "Deletes messages from the beginning of a stream.", Example: "> XTRIM audit MAXLEN 1000\n(integer) 0", Run: cmdXtrim}),
		x(&Spec{Name: "xread", Arity: -4, Flags: FlagReadonly | FlagBlocking, FirstKey: -1, KeySpecs: []KeySpec{streamsSpec("RO access")}, Since: "5.0.0", Syntax: "[COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]",
			Summary: "Returns messages from multiple streams with IDs greater than the ones requested.", Example: "> XREAD COUNT 1 STREAMS audit 0\n1) 1) \"audit\" ...", Run: xreadCmd(false)}),
		x(&Spec{Name: "xreadgroup", Arity: -7, Flags: FlagWrite | FlagBlocking, FirstKey: -1, KeySpecs: []KeySpec{streamsSpec("RW access update")}, Since: "5.0.0", Syntax: "GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key [key ...] id [id ...]",
			Summary: "Returns new or historical messages from a stream for a consumer in a group.", Example: "> XREADGROUP GROUP g alice COUNT 1 STREAMS audit >\n1) 1) \"audit\" ...", Run: xreadCmd(true)}),
		x(&Spec{Name: "xack", Arity: -4, Flags: FlagWrite | FlagFast, Since: "5.0.0", Syntax: "key group id [id ...]",
			Summary: "Returns the number of messages that were successfully acknowledged by the consumer group member of a stream.", Example: "> XACK audit g 1763900000000-0\n(integer) 1", Run: cmdXack}),
		x(&Spec{Name: "xpending", Arity: -3, Flags: FlagReadonly, Since: "5.0.0", Syntax: "key group [[IDLE min-idle-time] start end count [consumer]]",
			Summary: "Returns the information and entries from a stream consumer group's pending entries list.", Example: "> XPENDING audit g\n1) (integer) 0\n2) (nil)\n3) (nil)\n4) (nil)", Run: cmdXpending}),
		x(&Spec{Name: "xclaim", Arity: -6, Flags: FlagWrite | FlagFast, Since: "5.0.0",
			Syntax:  "key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]",
			Summary: "Changes, or acquires, ownership of a message in a consumer group, as if the message was delivered a consumer group member.",
			Example: "> XCLAIM audit g bob 60000 1763900000000-0\n1) 1) \"1763900000000-0\"\n   2) 1) \"user\"\n      2) \"7\" ...", Run: cmdXclaim}),
		x(&Spec{Name: "xautoclaim", Arity: -6, Flags: FlagWrite | FlagFast, Since: "6.2.0",
			Syntax:  "key group consumer min-idle-time start [COUNT count] [JUSTID]",
			Summary: "Changes, or acquires, ownership of messages in a consumer group, as if the messages were delivered to as consumer group member.",
			Example: "> XAUTOCLAIM audit g bob 60000 0-0 COUNT 10 JUSTID\n1) \"0-0\"\n2) 1) \"1763900000000-0\"\n3) (empty array)", Run: cmdXautoclaim}),
		x(&Spec{Name: "xsetid", Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagFast, Since: "5.0.0",
			Syntax:  "key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]",
			Summary: "An internal command for replicating stream values.", Example: "> XSETID audit 1763900000000-5\nOK", Run: cmdXsetid}),
		&Spec{Name: "xgroup", Arity: -2, Group: "stream", Since: "5.0.0", Summary: "A container for consumer groups commands.",
			Subcommands: []*Spec{
				{Name: "create", Arity: -5, Flags: FlagWrite | FlagDenyOOM, FirstKey: 2, LastKey: 2, Step: 1, Syntax: "key group id|$ [MKSTREAM] [ENTRIESREAD entries-read]", Summary: "Creates a consumer group.", Example: "> XGROUP CREATE audit g $ MKSTREAM\nOK", Run: cmdXgroupCreate},
				{Name: "setid", Arity: -5, Flags: FlagWrite, FirstKey: 2, LastKey: 2, Step: 1, Syntax: "key group id|$ [ENTRIESREAD entries-read]", Summary: "Sets the last-delivered ID of a consumer group.", Example: "> XGROUP SETID audit g 0\nOK", Run: cmdXgroupSetid},
				{Name: "destroy", Arity: 4, Flags: FlagWrite, FirstKey: 2, LastKey: 2, Step: 1, Syntax: "key group", Summary: "Destroys a consumer group.", Example: "> XGROUP DESTROY audit g\n(integer) 1", Run: cmdXgroupDestroy},
				{Name: "createconsumer", Arity: 5, Flags: FlagWrite | FlagDenyOOM, FirstKey: 2, LastKey: 2, Step: 1, Syntax: "key group consumer", Summary: "Creates a consumer in a consumer group.", Example: "> XGROUP CREATECONSUMER audit g bob\n(integer) 1", Run: cmdXgroupCreateConsumer},
				{Name: "delconsumer", Arity: 5, Flags: FlagWrite, FirstKey: 2, LastKey: 2, Step: 1, Syntax: "key group consumer", Summary: "Deletes a consumer from a consumer group.", Example: "> XGROUP DELCONSUMER audit g bob\n(integer) 0", Run: cmdXgroupDelConsumer},
				{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Summary: "Returns helpful text about the different subcommands.", Run: helpFor("XGROUP")},
			}},
		&Spec{Name: "xinfo", Arity: -2, Group: "stream", Since: "5.0.0", Summary: "A container for stream introspection commands.",
			Subcommands: []*Spec{
				{Name: "stream", Arity: -3, Flags: FlagReadonly, FirstKey: 2, LastKey: 2, Step: 1, Syntax: "key [FULL [COUNT count]]", Summary: "Returns information about a stream.", Example: "> XINFO STREAM audit\n1) \"length\"\n2) (integer) 1 ...", Run: cmdXinfoStream},
				{Name: "groups", Arity: 3, Flags: FlagReadonly, FirstKey: 2, LastKey: 2, Step: 1, Syntax: "key", Summary: "Returns a list of the consumer groups of a stream.", Example: "> XINFO GROUPS audit\n1) 1) \"name\"\n   2) \"g\" ...", Run: cmdXinfoGroups},
				{Name: "consumers", Arity: 4, Flags: FlagReadonly, FirstKey: 2, LastKey: 2, Step: 1, Syntax: "key group", Summary: "Returns a list of the consumers in a consumer group.", Example: "> XINFO CONSUMERS audit g\n1) 1) \"name\"\n   2) \"alice\" ...", Run: cmdXinfoConsumers},
				{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Summary: "Returns helpful text about the different subcommands.", Run: helpFor("XINFO")},
			}},
	)
}

const msgInvalidStreamID = "ERR Invalid stream ID specified as stream command argument"

// parseStreamID parses <ms>[-<seq>] ("-" and "+" unless strict). With
// allowSeqStar, "<ms>-*" is accepted and seqGiven reports whether the
// sequence was given.
func parseStreamID(s string, missingSeq uint64, strict, allowSeqStar bool) (id engine.StreamID, seqGiven, ok bool) {
	if len(s) > 127 {
		return id, false, false
	}
	if s == "-" || s == "+" {
		if strict {
			return id, false, false
		}
		if s == "+" {
			return engine.MaxStreamID, true, true
		}
		return id, true, true
	}
	msPart, seqPart, hasSeq := strings.Cut(s, "-")
	ms, err := parseULL(msPart)
	if err != nil {
		return id, false, false
	}
	seq := missingSeq
	seqGiven = true
	if hasSeq {
		if allowSeqStar && seqPart == "*" {
			seq, seqGiven = 0, false
		} else if seq, err = parseULL(seqPart); err != nil {
			return id, false, false
		}
	}
	return engine.StreamID{Ms: ms, Seq: seq}, seqGiven, true
}

// parseULL parses an unsigned 64-bit decimal as Redis' string2ull does.
func parseULL(s string) (uint64, error) {
	if len(s) == 0 || s[0] == '+' || s[0] == '-' || s[0] == ' ' {
		return 0, strconv.ErrSyntax
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseUint(s, 10, 64)
}

// parseIntervalID parses a range bound, with "(" for an exclusive one.
func parseIntervalID(c *Call, arg string, missingSeq uint64, isStart bool) (engine.StreamID, bool) {
	if len(arg) > 1 && arg[0] == '(' {
		id, _, ok := parseStreamID(arg[1:], missingSeq, true, false)
		if !ok {
			c.W.Error(msgInvalidStreamID)
			return id, false
		}
		if isStart {
			if id, ok = id.Incr(); !ok {
				c.W.Error("ERR invalid start ID for the interval")
				return id, false
			}
		} else if id, ok = id.Decr(); !ok {
			c.W.Error("ERR invalid end ID for the interval")
			return id, false
		}
		return id, true
	}
	id, _, ok := parseStreamID(arg, missingSeq, false, false)
	if !ok {
		c.W.Error(msgInvalidStreamID)
	}
	return id, ok
}

// parseTrim parses MAXLEN/MINID/LIMIT at args[i]; it returns the next index,
// whether args[i] was a trim option, and false after writing an error.
func parseTrim(c *Call, i int, t *engine.XTrimArgs, approx, limitGiven *bool) (int, bool, bool) {
	more := len(c.Args) - 1 - i
	switch {
	case (keyword(c.Args[i], "MAXLEN") || keyword(c.Args[i], "MINID")) && more > 0:
		isMax := keyword(c.Args[i], "MAXLEN")
		if next := c.Arg(i + 1); (next == "~" || next == "=") && more >= 2 {
			*approx = next == "~"
			i++
		}
		i++
		if isMax {
			n, ok := parseInt(c.Args[i])
			if !ok {
				c.W.Error(msgNotInt)
				return 0, true, false
			}
			if n < 0 {
				c.W.Error("ERR The MAXLEN argument must be >= 0.")
				return 0, true, false
			}
			t.Strategy, t.MaxLen = 'M', n
		} else {
			id, _, ok := parseStreamID(c.Arg(i), 0, false, false)
			if !ok {
				c.W.Error(msgInvalidStreamID)
				return 0, true, false
			}
			t.Strategy, t.MinID = 'I', id
		}
		return i + 1, true, true
	case keyword(c.Args[i], "LIMIT") && more > 0:
		n, ok := parseInt(c.Args[i+1])
		if !ok {
			c.W.Error(msgNotInt)
			return 0, true, false
		}
		if n < 0 {
			c.W.Error("ERR The LIMIT argument must be >= 0.")
			return 0, true, false
		}
		t.Limit, *limitGiven = n, true
		return i + 2, true, true
	}
	return i, false, true
}

// finishTrim applies Redis' rules on LIMIT and "~": LIMIT needs "~", and an
// approximate trim removes whole nodes, at most 100 nodes' worth unless
// LIMIT says.
func finishTrim(c *Call, t *engine.XTrimArgs, approx, limitGiven bool) bool {
	if limitGiven && t.Strategy == 0 {
		c.W.Error("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
		return false
	}
	if limitGiven && !approx {
		c.W.Error("ERR syntax error, LIMIT cannot be used without the special ~ option")
		return false
	}
	if approx {
		// Redis' nodes hold stream-node-max-entries entries (0: no
		// count limit, where its byte limit decides; 100 stands for it).
		t.Node = c.d.Config.Int("stream-node-max-entries")
		if t.Node <= 0 {
			t.Node = 100
		}
		if !limitGiven {
			t.Limit = 100 * t.Node
		}
	} else {
		t.Limit = 0
	}
	return true
}

func cmdXadd(c *Call) {
	var a engine.XAddArgs
	var approx, limitGiven bool
	i := 2
	for ; i < len(c.Args); i++ {
		if c.Arg(i) == "*" {
			break
		}
		if keyword(c.Args[i], "NOMKSTREAM") {
			a.NoMkStream = true
			continue
		}
		next, isTrim, ok := parseTrim(c, i, &a.Trim, &approx, &limitGiven)
		if !ok {
			return
		}
		if isTrim {
			i = next - 1
			continue
		}
		id, seqGiven, ok := parseStreamID(c.Arg(i), 0, true, true)
		if !ok {
			c.W.Error(msgInvalidStreamID)
			return
		}
		a.ID, a.IDGiven, a.SeqGiven = id, true, seqGiven
		break
	}
	if !finishTrim(c, &a.Trim, approx, limitGiven) {
		return
	}
	fieldPos := i + 1
	if n := len(c.Args) - fieldPos; n < 2 || n%2 == 1 {
		c.W.Error(errWrongArgs("xadd"))
		return
	}
	var id engine.StreamID
	var added bool
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		id, added, err = tx.XAdd(c.DB(), c.Arg(1), a, keyArgs(c, fieldPos))
		return err
	})
	switch {
	case err != nil:
		streamErr(c, err)
	case !added:
		c.W.Null()
	default:
		c.W.BulkString(id.String())
	}
}

func cmdXlen(c *Call) {
	var n int64
	err := c.Read(func(tx *engine.Tx) error {
		var err error
		n, err = tx.XLen(c.DB(), c.Arg(1))
		return err
	})
	if err != nil {
		streamErr(c, err)
		return
	}
	c.W.Int(n)
}

func writeEntries(c *Call, entries []engine.StreamEntry) {
	c.W.Array(len(entries))
	for _, e := range entries {
		c.W.Array(2)
		c.W.BulkString(e.ID.String())
		if e.Fields == nil {
			c.W.NullArray()
			continue
		}
		c.W.BulkStrings(e.Fields)
	}
}

func xrangeCmd(rev bool) func(c *Call) {
	return func(c *Call) {
		startArg, endArg := c.Arg(2), c.Arg(3)
		if rev {
			startArg, endArg = endArg, startArg
		}
		start, ok := parseIntervalID(c, startArg, 0, true)
		if !ok {
			return
		}
		end, ok := parseIntervalID(c, endArg, ^uint64(0), false)
		if !ok {
			return
		}
		count := int64(-1)
		for j := 4; j < len(c.Args); j++ {
			if keyword(c.Args[j], "COUNT") && j+1 < len(c.Args) {
				n, ok := parseInt(c.Args[j+1])
				if !ok {
					c.W.Error(msgNotInt)
					return
				}
				count = max(n, 0)
				j++
				continue
			}
			c.W.Error(msgSyntax)
			return
		}
		if count == 0 {
			c.W.NullArray() // as Redis: COUNT 0 answers a null array
			return
		}
		var entries []engine.StreamEntry
		err := c.Read(func(tx *engine.Tx) error {
			var err error
			entries, _, err = tx.XRange(c.DB(), c.Arg(1), start, end, max(count, 0), rev)
			return err
		})
		if err != nil {
			streamErr(c, err)
			return
		}
		writeEntries(c, entries)
	}
}

func parseIDList(c *Call, from int) ([]engine.StreamID, bool) {
	ids := make([]engine.StreamID, 0, len(c.Args)-from)
	for _, a := range c.Args[from:] {
		id, _, ok := parseStreamID(string(a), 0, true, false)
		if !ok {
			c.W.Error(msgInvalidStreamID)
			return nil, false
		}
		ids = append(ids, id)
	}
	return ids, true
}

func cmdXdel(c *Call) {
	ids, ok := parseIDList(c, 2)
	if !ok {
		return
	}
	var n int64
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		n, err = tx.XDel(c.DB(), c.Arg(1), ids)
		return err
	})
	if err != nil {
		streamErr(c, err)
		return
	}
	c.W.Int(n)
}

func cmdXtrim(c *Call) {
	var t engine.XTrimArgs
	var approx, limitGiven bool
	for i := 2; i < len(c.Args); {
		next, isTrim, ok := parseTrim(c, i, &t, &approx, &limitGiven)
		if !ok {
			return
		}
		if !isTrim {
			c.W.Error(msgSyntax)
			return
		}
		i = next
	}
	if t.Strategy == 0 {
		c.W.Error("ERR syntax error, XTRIM must be called with a trimming strategy")
		return
	}
	if !finishTrim(c, &t, approx, limitGiven) {
		return
	}
	var n int64
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		n, err = tx.XTrim(c.DB(), c.Arg(1), t)
		return err
	})
	if err != nil {
		streamErr(c, err)
		return
	}
	c.W.Int(n)
}

type xreadStream struct {
	key     string
	id      engine.StreamID
	dollar  bool
	greater bool // ">"
}

// xreadBlockedCount is Redis' XREAD_BLOCKED_DEFAULT_COUNT: a client that
// blocked without COUNT is served at most this many entries per stream.
const xreadBlockedCount = 1000

// parseBlockTimeout parses BLOCK's milliseconds as Redis'
// getTimeoutFromObjectOrReply does with UNIT_MILLISECONDS (0: forever).
// Redis 7.0 has no upper bound (7.2 answers "timeout is out of range").
func parseBlockTimeout(c *Call, arg []byte) (time.Duration, bool) {
	n, ok := parseInt(arg)
	if !ok {
		c.W.Error("ERR timeout is not an integer or out of range")
		return 0, false
	}
	if n < 0 {
		c.W.Error("ERR timeout is negative")
		return 0, false
	}
	if n > math.MaxInt64/int64(time.Millisecond) {
		return math.MaxInt64, true // centuries: as good as forever
	}
	return time.Duration(n) * time.Millisecond, true
}

type xreadResult struct {
	key     string
	entries []engine.StreamEntry
}

func writeXreadResults(c *Call, results []xreadResult) {
	if c.W.Proto() == 3 {
		c.W.Map(len(results))
	} else {
		c.W.Array(len(results))
	}
	for _, r := range results {
		if c.W.Proto() == 2 {
			c.W.Array(2)
		}
		c.W.BulkString(r.key)
		writeEntries(c, r.entries)
	}
}

// xreadCmd is XREAD and XREADGROUP. With BLOCK and nothing to serve at once,
// the client blocks (inside MULTI it answers a null array at once, as a
// Redis client that may not block does) until an entry arrives on one of the
// streams, and is then served from that stream alone; a client blocked in a
// group is answered with an error when the key stops holding a stream or
// the group is destroyed.
func xreadCmd(group bool) func(c *Call) {
	return func(c *Call) {
		var count int64
		timeout := time.Duration(-1)
		noack := false
		var groupName, consumer string
		streamsAt := 0
		for i := 1; i < len(c.Args); i++ {
			more := len(c.Args) - i - 1
			switch {
			case keyword(c.Args[i], "BLOCK") && more > 0:
				if c.Client.scriptCaller {
					// Redis keeps this refusal for scripts, where BLOCK
					// could never wait, rather than ignoring the option.
					c.W.Error("ERR " + strings.ToLower(c.Arg(0)) + " command is not allowed with BLOCK option from scripts")
					return
				}
				t, ok := parseBlockTimeout(c, c.Args[i+1])
				if !ok {
					return
				}
				timeout = t
				i++
			case keyword(c.Args[i], "COUNT") && more > 0:
				n, ok := parseInt(c.Args[i+1])
				if !ok {
					c.W.Error(msgNotInt)
					return
				}
				count = max(n, 0)
				i++
			case keyword(c.Args[i], "STREAMS") && more > 0:
				streamsAt = i + 1
				if (len(c.Args)-streamsAt)%2 != 0 {
					c.W.Error("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.")
					return
				}
				i = len(c.Args)
			case keyword(c.Args[i], "GROUP") && more >= 2:
				if !group {
					c.W.Error("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.")
					return
				}
				groupName, consumer = c.Arg(i+1), c.Arg(i+2)
				i += 2
			case keyword(c.Args[i], "NOACK"):
				if !group {
					c.W.Error("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.")
					return
				}
				noack = true
			default:
				c.W.Error(msgSyntax)
				return
			}
		}
		if streamsAt == 0 {
			c.W.Error(msgSyntax)
			return
		}
		if group && groupName == "" {
			c.W.Error("ERR Missing GROUP option for XREADGROUP")
			return
		}
		n := (len(c.Args) - streamsAt) / 2
		streams := make([]xreadStream, n)
		keys := make([]string, n)
		for i := range streams {
			s := &streams[i]
			s.key = c.Arg(streamsAt + i)
			keys[i] = s.key
			switch arg := c.Arg(streamsAt + n + i); arg {
			case "$":
				if group {
					c.W.Error("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.")
					return
				}
				s.dollar = true
			case ">":
				if !group {
					c.W.Error("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.")
					return
				}
				s.greater = true
			default:
				id, _, ok := parseStreamID(arg, 0, true, false)
				if !ok {
					c.W.Error(msgInvalidStreamID)
					return
				}
				s.id = id
			}
		}
		var results []xreadResult
		run := func(tx *engine.Tx) error {
			results = results[:0]
			if group {
				for _, s := range streams {
					if err := tx.XReadGroupCheck(c.DB(), s.key, groupName); err != nil {
						return err
					}
				}
			}
			for i := range streams {
				s := &streams[i]
				if group {
					entries, served, err := tx.XReadGroup(c.DB(), s.key, engine.XReadGroupArgs{Group: groupName, Consumer: consumer, After: s.id, New: s.greater, Count: count, NoAck: noack})
					if err != nil {
						return err
					}
					if served {
						results = append(results, xreadResult{s.key, entries})
					}
					continue
				}
				if s.dollar {
					// "$" is the last ID when the command was called: a
					// blocked client waits for entries after it.
					last, err := tx.StreamLastID(c.DB(), s.key)
					if err != nil {
						return err
					}
					s.id, s.dollar = last, false
				}
				start, ok := s.id.Incr()
				if !ok {
					continue
				}
				entries, _, err := tx.XRange(c.DB(), s.key, start, engine.MaxStreamID, count, false)
				if err != nil {
					return err
				}
				if len(entries) > 0 {
					results = append(results, xreadResult{s.key, entries})
				}
			}
			return nil
		}
		var err error
		if group {
			err = c.Write(run)
		} else {
			err = c.Read(run)
		}
		if err != nil {
			streamErr(c, err)
			return
		}
		if len(results) > 0 {
			writeXreadResults(c, results)
			return
		}
		if timeout < 0 || c.tx != nil {
			c.W.NullArray()
			return
		}
		bcount := count
		if bcount == 0 {
			bcount = xreadBlockedCount
		}
		var errMsg string
		// Once blocked, XREAD skips a key of another type (or a missing
		// one) and keeps waiting; XREADGROUP gives up with Redis' errors.
		try := func() bool {
			results, errMsg = results[:0], ""
			read := func(tx *engine.Tx) error {
				if group {
					for _, s := range streams {
						isStream, hasGroup := tx.XReadBlockedState(c.DB(), s.key, groupName)
						switch {
						case !isStream:
							errMsg = "UNBLOCKED the stream key no longer exists"
							return nil
						case !hasGroup:
							errMsg = "NOGROUP the consumer group this client was blocked on no longer exists"
							return nil
						}
					}
				}
				for _, s := range streams {
					var entries []engine.StreamEntry
					if group {
						got, served, err := tx.XReadGroup(c.DB(), s.key, engine.XReadGroupArgs{Group: groupName, Consumer: consumer, New: true, Count: bcount, NoAck: noack})
						if err != nil || !served {
							continue
						}
						entries = got
					} else {
						start, ok := s.id.Incr()
						if !ok {
							continue
						}
						got, _, err := tx.XRange(c.DB(), s.key, start, engine.MaxStreamID, bcount, false)
						if err != nil {
							continue
						}
						entries = got
					}
					if len(entries) > 0 {
						results = append(results, xreadResult{s.key, entries})
						return nil
					}
				}
				return nil
			}
			if group {
				_ = c.Write(read)
			} else {
				_ = c.Read(read)
			}
			return errMsg != "" || len(results) > 0
		}
		c.d.block(c, keys, timeout, try)
		switch {
		case errMsg != "":
			c.W.Error(errMsg)
		case len(results) > 0:
			writeXreadResults(c, results)
		default:
			c.W.NullArray()
		}
	}
}

func cmdXack(c *Call) {
	ids, ok := parseIDList(c, 3)
	if !ok {
		return
	}
	var n int64
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		n, err = tx.XAck(c.DB(), c.Arg(1), c.Arg(2), ids)
		return err
	})
	if err != nil {
		streamErr(c, err)
		return
	}
	c.W.Int(n)
}

func cmdXpending(c *Call) {
	argc := len(c.Args)
	if argc != 3 && (argc < 6 || argc > 9) {
		c.W.Error(msgSyntax)
		return
	}
	var start, end engine.StreamID
	var count, minIdle int64
	consumer := ""
	if argc >= 6 {
		si := 3
		if keyword(c.Args[3], "IDLE") {
			n, ok := parseInt(c.Args[4])
			if !ok {
				c.W.Error(msgNotInt)
				return
			}
			if argc < 8 {
				c.W.Error(msgSyntax)
				return
			}
			minIdle = n
			si += 2
		}
		n, ok := parseInt(c.Args[si+2])
		if !ok {
			c.W.Error(msgNotInt)
			return
		}
		count = max(n, 0)
		if start, ok = parseIntervalID(c, c.Arg(si), 0, true); !ok {
			return
		}
		if end, ok = parseIntervalID(c, c.Arg(si+1), ^uint64(0), false); !ok {
			return
		}
		if si+3 < argc {
			consumer = c.Arg(si + 3)
		}
	}
	var g *engine.StreamGroup
	err := c.Read(func(tx *engine.Tx) error {
		var err error
		g, err = tx.XGroup(c.DB(), c.Arg(1), c.Arg(2))
		return err
	})
	if err != nil {
		streamErr(c, err)
		return
	}
	if argc == 3 {
		c.W.Array(4)
		c.W.Int(int64(len(g.PEL)))
		if len(g.PEL) == 0 {
			c.W.Null()
			c.W.Null()
			c.W.NullArray()
			return
		}
		c.W.BulkString(g.PEL[0].ID.String())
		c.W.BulkString(g.PEL[len(g.PEL)-1].ID.String())
		pending := map[string]int64{}
		for _, nk := range g.PEL {
			pending[nk.Consumer]++
		}
		var names []string
		for _, cs := range g.Consumers {
			if pending[cs.Name] > 0 {
				names = append(names, cs.Name)
			}
		}
		c.W.Array(len(names))
		for _, name := range names {
			c.W.Array(2)
			c.W.BulkString(name)
			c.W.BulkString(strconv.FormatInt(pending[name], 10))
		}
		return
	}
	if consumer != "" {
		found := false
		for _, cs := range g.Consumers {
			found = found || cs.Name == consumer
		}
		if !found {
			c.W.Array(0)
			return
		}
	}
	now := c.NowMS()
	var out []engine.StreamNACK
	for _, nk := range g.PEL {
		if int64(len(out)) >= count {
			break
		}
		if nk.ID.Less(start) || end.Less(nk.ID) || consumer != "" && nk.Consumer != consumer {
			continue
		}
		if minIdle > 0 && now-nk.Time < minIdle {
			continue
		}
		out = append(out, nk)
	}
	c.W.Array(len(out))
	for _, nk := range out {
		c.W.Array(4)
		c.W.BulkString(nk.ID.String())
		c.W.BulkString(nk.Consumer)
		c.W.Int(max(now-nk.Time, 0))
		c.W.Int(nk.Count)
	}
}

// xgroupOptions parses MKSTREAM / ENTRIESREAD after the ID.
func xgroupOptions(c *Call, create bool) (mkstream bool, entriesRead int64, ok bool) {
	entriesRead = -1
	for i := 5; i < len(c.Args); i++ {
		switch {
		case create && keyword(c.Args[i], "MKSTREAM"):
			mkstream = true
		case keyword(c.Args[i], "ENTRIESREAD") && i+1 < len(c.Args):
			n, ok := parseInt(c.Args[i+1])
			if !ok {
				c.W.Error(msgNotInt)
				return false, 0, false
			}
			if n < 0 && n != -1 {
				c.W.Error("ERR value for ENTRIESREAD must be positive or -1")
				return false, 0, false
			}
			entriesRead = n
			i++
		default:
			c.W.Error(fmt.Sprintf("ERR unknown subcommand or wrong number of arguments for '%s'. Try XGROUP HELP.", c.Args[1]))
			return false, 0, false
		}
	}
	return mkstream, entriesRead, true
}

func cmdXgroupCreate(c *Call) {
	mkstream, entriesRead, ok := xgroupOptions(c, true)
	if !ok {
		return
	}
	var id engine.StreamID
	useLast := c.Arg(4) == "$"
	if !useLast {
		if id, _, ok = parseStreamID(c.Arg(4), 0, true, false); !ok {
			c.W.Error(msgInvalidStreamID)
			return
		}
	}
	err := c.Write(func(tx *engine.Tx) error {
		return tx.XGroupCreate(c.DB(), c.Arg(2), c.Arg(3), id, useLast, mkstream, entriesRead)
	})
	if err != nil {
		streamErr(c, err)
		return
	}
	c.W.OK()
}

func cmdXgroupSetid(c *Call) {
	if len(c.Args) != 5 && len(c.Args) != 7 {
		c.W.Error("ERR unknown subcommand or wrong number of arguments for 'SETID'. Try XGROUP HELP.")
		return
	}
	_, entriesRead, ok := xgroupOptions(c, false)
	if !ok {
		return
	}
	var id engine.StreamID
	useLast := c.Arg(4) == "$"
	if !useLast {
		if id, _, ok = parseStreamID(c.Arg(4), 0, false, false); !ok {
			c.W.Error(msgInvalidStreamID)
			return
		}
	}
	err := c.Write(func(tx *engine.Tx) error {
		return tx.XGroupSetID(c.DB(), c.Arg(2), c.Arg(3), id, useLast, entriesRead)
	})
	if err != nil {
		streamErr(c, err)
		return
	}
	c.W.OK()
}

func cmdXgroupDestroy(c *Call) {
	var done bool
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		done, err = tx.XGroupDestroy(c.DB(), c.Arg(2), c.Arg(3))
		return err
	})
	if err != nil {
		streamErr(c, err)
		return
	}
	c.W.Int(int64(b2i(done)))
}

func cmdXgroupCreateConsumer(c *Call) {
	var done bool
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		done, err = tx.XGroupCreateConsumer(c.DB(), c.Arg(2), c.Arg(3), c.Arg(4))
		return err
	})
	if err != nil {
		streamErr(c, err)
		return
	}
	c.W.Int(int64(b2i(done)))
}

func cmdXgroupDelConsumer(c *Call) {
	var n int64
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		n, err = tx.XGroupDelConsumer(c.DB(), c.Arg(2), c.Arg(3), c.Arg(4))
		return err
	})
	if err != nil {
		streamErr(c, err)
		return
	}
	c.W.Int(n)
}

func readStreamInfo(c *Call, withEntries int64) (engine.StreamMeta, []engine.StreamGroup, []engine.StreamEntry, engine.StreamEntry, engine.StreamEntry, bool) {
	var meta engine.StreamMeta
	var groups []engine.StreamGroup
	var entries []engine.StreamEntry
	var first, last engine.StreamEntry
	var exists bool
	err := c.Read(func(tx *engine.Tx) error {
		var err error
		meta, groups, exists, err = tx.StreamInfo(c.DB(), c.Arg(2))
		if err != nil || !exists {
			return err
		}
		if withEntries >= 0 {
			entries = tx.StreamEntries(c.DB(), c.Arg(2), withEntries, false)
		}
		if f := tx.StreamEntries(c.DB(), c.Arg(2), 1, false); len(f) > 0 {
			first = f[0]
		}
		if l := tx.StreamEntries(c.DB(), c.Arg(2), 1, true); len(l) > 0 {
			last = l[0]
		}
		return nil
	})
	if err != nil {
		streamErr(c, err)
		return meta, nil, nil, first, last, false
	}
	if !exists {
		c.W.Error(msgNoSuchKey)
		return meta, nil, nil, first, last, false
	}
	return meta, groups, entries, first, last, true
}

// radixSizes reports plausible radix-tree figures (sessiond keeps entries in
// a B-tree): one key per 100-entry node.
func radixSizes(length int64) (keys, nodes int64) {
	keys = (length + 99) / 100
	if keys == 0 {
		return 0, 1
	}
	return keys, keys + 1
}

func writeLag(c *Call, meta *engine.StreamMeta, g *engine.StreamGroup) {
	if lag, ok := meta.Lag(g); ok {
		c.W.Int(lag)
	} else {
		c.W.Null()
	}
}

func writeEntriesRead(c *Call, g *engine.StreamGroup) {
	if g.EntriesRead == -1 {
		c.W.Null()
	} else {
		c.W.Int(g.EntriesRead)
	}
}

func cmdXinfoStream(c *Call) {
	full := false
	count := int64(10)
	if len(c.Args) > 3 {
		if !keyword(c.Args[3], "FULL") {
			c.W.Error(msgSyntax)
			return
		}
		full = true
		switch {
		case len(c.Args) == 4:
		case len(c.Args) == 6 && keyword(c.Args[4], "COUNT"):
			n, ok := parseInt(c.Args[5])
			if !ok {
				c.W.Error(msgNotInt)
				return
			}
			count = max(n, 0)
		default:
			c.W.Error(msgSyntax)
			return
		}
	}
	withEntries := int64(-1)
	if full {
		withEntries = count
	}
	meta, groups, entries, first, last, ok := readStreamInfo(c, withEntries)
	if !ok {
		return
	}
	keys, nodes := radixSizes(meta.Length)
	if full {
		c.W.Map(9)
	} else {
		c.W.Map(10)
	}
	c.W.BulkString("length")
	c.W.Int(meta.Length)
	c.W.BulkString("radix-tree-keys")
	c.W.Int(keys)
	c.W.BulkString("radix-tree-nodes")
	c.W.Int(nodes)
	c.W.BulkString("last-generated-id")
	c.W.BulkString(meta.Last.String())
	c.W.BulkString("max-deleted-entry-id")
	c.W.BulkString(meta.MaxDeleted.String())
	c.W.BulkString("entries-added")
	c.W.Int(meta.EntriesAdded)
	c.W.BulkString("recorded-first-entry-id")
	c.W.BulkString(meta.First.String())
	if !full {
		c.W.BulkString("groups")
		c.W.Int(int64(len(groups)))
		for i, e := range []engine.StreamEntry{first, last} {
			c.W.BulkString([]string{"first-entry", "last-entry"}[i])
			if e.Fields == nil {
				c.W.NullArray()
				continue
			}
			c.W.Array(2)
			c.W.BulkString(e.ID.String())
			c.W.BulkStrings(e.Fields)
		}
		return
	}
	c.W.BulkString("entries")
	writeEntries(c, entries)
	c.W.BulkString("groups")
	c.W.Array(len(groups))
	for i := range groups {
		g := &groups[i]
		c.W.Map(7)
		c.W.BulkString("name")
		c.W.BulkString(g.Name)
		c.W.BulkString("last-delivered-id")
		c.W.BulkString(g.LastID.String())
		c.W.BulkString("entries-read")
		writeEntriesRead(c, g)
		c.W.BulkString("lag")
		writeLag(c, &meta, g)
		c.W.BulkString("pel-count")
		c.W.Int(int64(len(g.PEL)))
		c.W.BulkString("pending")
		pel := g.PEL
		if count > 0 && int64(len(pel)) > count {
			pel = pel[:count]
		}
		c.W.Array(len(pel))
		for _, nk := range pel {
			c.W.Array(4)
			c.W.BulkString(nk.ID.String())
			c.W.BulkString(nk.Consumer)
			c.W.Int(nk.Time)
			c.W.Int(nk.Count)
		}
		c.W.BulkString("consumers")
		c.W.Array(len(g.Consumers))
		for _, cs := range g.Consumers {
			var mine []engine.StreamNACK
			for _, nk := range g.PEL {
				if nk.Consumer == cs.Name {
					mine = append(mine, nk)
				}
			}
			c.W.Map(5)
			c.W.BulkString("name")
			c.W.BulkString(cs.Name)
			c.W.BulkString("seen-time")
			c.W.Int(cs.SeenTime)
			c.W.BulkString("active-time")
			c.W.Int(cs.ActiveTime)
			c.W.BulkString("pel-count")
			c.W.Int(int64(len(mine)))
			c.W.BulkString("pending")
			if count > 0 && int64(len(mine)) > count {
				mine = mine[:count]
			}
			c.W.Array(len(mine))
			for _, nk := range mine {
				c.W.Array(3)
				c.W.BulkString(nk.ID.String())
				c.W.Int(nk.Time)
				c.W.Int(nk.Count)
			}
		}
	}
}

func cmdXinfoGroups(c *Call) {
	meta, groups, _, _, _, ok := readStreamInfo(c, -1)
	if !ok {
		return
	}
	c.W.Array(len(groups))
	for i := range groups {
		g := &groups[i]
		c.W.Map(6)
		c.W.BulkString("name")
		c.W.BulkString(g.Name)
		c.W.BulkString("consumers")
		c.W.Int(int64(len(g.Consumers)))
		c.W.BulkString("pending")
		c.W.Int(int64(len(g.PEL)))
		c.W.BulkString("last-delivered-id")
		c.W.BulkString(g.LastID.String())
		c.W.BulkString("entries-read")
		writeEntriesRead(c, g)
		c.W.BulkString("lag")
		writeLag(c, &meta, g)
	}
}

func cmdXinfoConsumers(c *Call) {
	var g *engine.StreamGroup
	err := c.Read(func(tx *engine.Tx) error {
		var err error
		g, err = tx.XGroup(c.DB(), c.Arg(2), c.Arg(3))
		return err
	})
	if err != nil {
		if strings.HasPrefix(err.Error(), "NOGROUP") {
			c.W.Error(fmt.Sprintf("NOGROUP No such consumer group '%s' for key name '%s'", c.Args[3], c.Args[2]))
			return
		}
		streamErr(c, err)
		return
	}
	now := c.NowMS()
	c.W.Array(len(g.Consumers))
	for _, cs := range g.Consumers {
		var pending int64
		for _, nk := range g.PEL {
			if nk.Consumer == cs.Name {
				pending++
			}
		}
		c.W.Map(4)
		c.W.BulkString("name")
		c.W.BulkString(cs.Name)
		c.W.BulkString("pending")
		c.W.Int(pending)
		c.W.BulkString("idle")
		c.W.Int(max(now-cs.SeenTime, 0))
		c.W.BulkString("inactive")
		if cs.ActiveTime == -1 {
			c.W.Int(-1)
		} else {
			c.W.Int(max(now-cs.ActiveTime, 0))
		}
	}
}

// streamErr writes an engine error; stream errors carry their own code
// (NOGROUP, BUSYGROUP, ERR ...).
func streamErr(c *Call, err error) {
	if err == engine.ErrWrongType {
		writeErr(c, err)
		return
	}
	msg := err.Error()
	if code, _, ok := strings.Cut(msg, " "); ok && code != "" && strings.ToUpper(code) == code && strings.Trim(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == "" {
		c.W.Error(msg)
		return
	}
	writeErr(c, err)
}

// cmdXclaim follows Redis' xclaimCommand: the key and group are checked
// first, then the arguments; the IDs run up to the first argument that is
// not an ID, and what follows are options.
func cmdXclaim(c *Call) {
	a := engine.XClaimArgs{Group: c.Arg(2), Consumer: c.Arg(3), RetryCount: -1}
	now := c.NowMS()
	parseErr := ""
	fail := func(msg string) bool {
		parseErr = msg
		return false
	}
	func() bool {
		minIdle, ok := parseInt(c.Args[4])
		if !ok {
			return fail("ERR Invalid min-idle-time argument for XCLAIM")
		}
		a.MinIdle = max(minIdle, 0)
		j := 5
		for ; j < len(c.Args); j++ {
			id, _, ok := parseStreamID(c.Arg(j), 0, true, false)
			if !ok {
				break
			}
			a.IDs = append(a.IDs, id)
		}
		delivery := int64(-1)
		for ; j < len(c.Args); j++ {
			more := len(c.Args) - 1 - j
			switch {
			case keyword(c.Args[j], "FORCE"):
				a.Force = true
			case keyword(c.Args[j], "JUSTID"):
				a.JustID = true
			case keyword(c.Args[j], "IDLE") && more > 0:
				j++
				n, ok := parseInt(c.Args[j])
				if !ok {
					return fail("ERR Invalid IDLE option argument for XCLAIM")
				}
				delivery = now - n
			case keyword(c.Args[j], "TIME") && more > 0:
				j++
				n, ok := parseInt(c.Args[j])
				if !ok {
					return fail("ERR Invalid TIME option argument for XCLAIM")
				}
				delivery = n
			case keyword(c.Args[j], "RETRYCOUNT") && more > 0:
				j++
				n, ok := parseInt(c.Args[j])
				if !ok {
					return fail("ERR Invalid RETRYCOUNT option argument for XCLAIM")
				}
				a.RetryCount = n
			case keyword(c.Args[j], "LASTID") && more > 0:
				j++
				id, _, ok := parseStreamID(c.Arg(j), 0, true, false)
				if !ok {
					return fail(msgInvalidStreamID)
				}
				a.LastID = id
			default:
				return fail(fmt.Sprintf("ERR Unrecognized XCLAIM option '%s'", c.Args[j]))
			}
		}
		// A bogus delivery time (negative, or in the future) means now:
		// clients compute it from their own clocks.
		if delivery < 0 || delivery > now {
			delivery = now
		}
		a.DeliveryTime = delivery
		return true
	}()
	var claimed []engine.StreamEntry
	err := c.Write(func(tx *engine.Tx) error {
		if _, err := tx.XGroup(c.DB(), c.Arg(1), a.Group); err != nil {
			return err
		}
		if parseErr != "" {
			return errors.New(parseErr)
		}
		var err error
		claimed, err = tx.XClaim(c.DB(), c.Arg(1), a)
		return err
	})
	if err != nil {
		streamErr(c, err)
		return
	}
	if a.JustID {
		writeIDs(c, claimed)
		return
	}
	writeEntries(c, claimed)
}

func writeIDs(c *Call, entries []engine.StreamEntry) {
	c.W.Array(len(entries))
	for _, e := range entries {
		c.W.BulkString(e.ID.String())
	}
}

// cmdXautoclaim follows Redis' xautoclaimCommand: arguments are checked
// before the key and group.
func cmdXautoclaim(c *Call) {
	minIdle, ok := parseInt(c.Args[4])
	if !ok {
		c.W.Error("ERR Invalid min-idle-time argument for XAUTOCLAIM")
		return
	}
	minIdle = max(minIdle, 0)
	start, ok := parseIntervalID(c, c.Arg(5), 0, true)
	if !ok {
		return
	}
	count := int64(100)
	justID := false
	for j := 6; j < len(c.Args); j++ {
		switch {
		case keyword(c.Args[j], "COUNT") && j+1 < len(c.Args):
			n, ok := parseInt(c.Args[j+1])
			if !ok || n < 1 || n > math.MaxInt64/16 {
				c.W.Error(msgCountPositive)
				return
			}
			count = n
			j++
		case keyword(c.Args[j], "JUSTID"):
			justID = true
		default:
			c.W.Error(msgSyntax)
			return
		}
	}
	var next engine.StreamID
	var claimed []engine.StreamEntry
	var deleted []engine.StreamID
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		next, claimed, deleted, err = tx.XAutoClaim(c.DB(), c.Arg(1), c.Arg(2), c.Arg(3), minIdle, start, count, justID)
		return err
	})
	if err != nil {
		streamErr(c, err)
		return
	}
	c.W.Array(3)
	c.W.BulkString(next.String())
	if justID {
		writeIDs(c, claimed)
	} else {
		writeEntries(c, claimed)
	}
	c.W.Array(len(deleted))
	for _, id := range deleted {
		c.W.BulkString(id.String())
	}
}

func cmdXsetid(c *Call) {
	id, _, ok := parseStreamID(c.Arg(2), 0, true, false)
	if !ok {
		c.W.Error(msgInvalidStreamID)
		return
	}
	entriesAdded := int64(-1)
	var maxDeleted engine.StreamID
	for i := 3; i < len(c.Args); i += 2 {
		more := len(c.Args) - 1 - i
		switch {
		case keyword(c.Args[i], "ENTRIESADDED") && more > 0:
			n, ok := parseInt(c.Args[i+1])
			if !ok {
				c.W.Error(msgNotInt)
				return
			}
			if n < 0 {
				c.W.Error("ERR entries_added must be positive")
				return
			}
			entriesAdded = n
		case keyword(c.Args[i], "MAXDELETEDID") && more > 0:
			if maxDeleted, _, ok = parseStreamID(c.Arg(i+1), 0, true, false); !ok {
				c.W.Error(msgInvalidStreamID)
				return
			}
			if id.Less(maxDeleted) {
				c.W.Error("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
				return
			}
		default:
			c.W.Error(msgSyntax)
			return
		}
	}
	err := c.Write(func(tx *engine.Tx) error {
		return tx.XSetID(c.DB(), c.Arg(1), id, entriesAdded, maxDeleted)
	})
	if err != nil {
		streamErr(c, err)
		return
	}
	c.W.OK()
}
