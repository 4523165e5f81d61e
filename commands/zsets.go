package commands

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sessiond/sessiond/acl"
	"github.com/sessiond/sessiond/engine"
)

func init() {
	const w, r, f, d = FlagWrite, FlagReadonly, FlagFast, FlagDenyOOM
	k1 := func(s *Spec) *Spec { s.FirstKey, s.LastKey, s.Step = 1, 1, 1; return s }
	register(
		k1(&Spec{Name: "zadd", KeyAccess: acl.KeyWrite, Arity: -4, Flags: w | d | f | FlagBatch, Group: "sortedset", Since: "1.2.0",
			Syntax: "key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]", Summary: "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.",
			Example: "> ZADD expirations 1.754E12 sess:a\n(integer) 1", Run: cmdZadd}),
		k1(&Spec{Name: "zincrby", Arity: 4, Flags: w | d | f | FlagBatch, Group: "sortedset", Since: "1.2.0",
			Syntax: "key increment member", Summary: "Increments the score of a member in a sorted set.",
			Example: "> ZINCRBY scores 2.5 alice\n\"2.5\"", Run: cmdZadd}),
		k1(&Spec{Name: "zrem", KeyAccess: acl.KeyWrite, Arity: -3, Flags: w | f | FlagBatch, Group: "sortedset", Since: "1.2.0",
			Syntax: "key member [member ...]", Summary: "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.",
			Example: "> ZREM expirations sess:a\n(integer) 1", Run: cmdZrem}),
		k1(&Spec{Name: "zscore", Arity: 3, Flags: r | f | FlagBatch, Group: "sortedset", Since: "1.2.0",
			Syntax: "key member", Summary: "Returns the score of a member in a sorted set.",
			Example: "> ZSCORE expirations sess:a\n\"1754000000000\"", Run: cmdZscore}),
		k1(&Spec{Name: "zmscore", Arity: -3, Flags: r | f | FlagBatch, Group: "sortedset", Since: "6.2.0",
			Syntax: "key member [member ...]", Summary: "Returns the score of one or more members in a sorted set.",
			Example: "> ZMSCORE expirations sess:a nope\n1) \"1754000000000\"\n2) (nil)", Run: cmdZmscore}),
		k1(&Spec{Name: "zcard", KeyAccess: acl.KeyNone, Arity: 2, Flags: r | f | FlagBatch, Group: "sortedset", Since: "1.2.0",
			Syntax: "key", Summary: "Returns the number of members in a sorted set.",
			Example: "> ZCARD expirations\n(integer) 1", Run: cmdZcard}),
		k1(&Spec{Name: "zcount", Arity: 4, Flags: r | f | FlagBatch, Group: "sortedset", Since: "2.0.0",
			Syntax: "key min max", Summary: "Returns the count of members in a sorted set that have scores within a range.",
			Example: "> ZCOUNT expirations -inf (1754000000000\n(integer) 0", Run: cmdZcount}),
		k1(&Spec{Name: "zlexcount", Arity: 4, Flags: r | f | FlagBatch, Group: "sortedset", Since: "2.8.9",
			Syntax: "key min max", Summary: "Returns the number of members in a sorted set within a lexicographical range.",
			Example: "> ZLEXCOUNT names [a (c\n(integer) 2", Run: cmdZlexcount}),
		k1(&Spec{Name: "zrank", Arity: 3, Flags: r | f | FlagBatch, Group: "sortedset", Since: "2.0.0",
			Syntax: "key member", Summary: "Returns the index of a member in a sorted set ordered by ascending scores.",
			Example: "> ZRANK expirations sess:a\n(integer) 0", Run: zrankCmd(false)}),
		k1(&Spec{Name: "zrevrank", Arity: 3, Flags: r | f | FlagBatch, Group: "sortedset", Since: "2.0.0",
			Syntax: "key member", Summary: "Returns the index of a member in a sorted set ordered by descending scores.",
			Example: "> ZREVRANK expirations sess:a\n(integer) 0", Run: zrankCmd(true)}),
		k1(&Spec{Name: "zrange", Arity: -4, Flags: r | FlagBatch, Group: "sortedset", Since: "1.2.0",
			Syntax: "key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]", Summary: "Returns members in a sorted set within a range of indexes, scores or names.",
			Example: "> ZRANGE expirations 0 -1 WITHSCORES\n1) \"sess:a\"\n2) \"1754000000000\"", Run: zrangeCmd(engine.ByRank, false, false, true)}),
		&Spec{Name: "zrangestore", KeyRefs: storeKeys(false, 2), Arity: -5, Flags: w | d, FirstKey: 1, LastKey: 2, Step: 1, Group: "sortedset", Since: "6.2.0",
			Syntax: "dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]", Summary: "Stores a range of members from sorted set in a key.",
			Example: "> ZRANGESTORE top expirations 0 9\n(integer) 1", Run: zrangeCmd(engine.ByRank, false, true, true)},
		k1(&Spec{Name: "zrevrange", Arity: -4, Flags: r | FlagBatch, Group: "sortedset", Since: "1.2.0",
			Syntax: "key start stop [WITHSCORES]", Summary: "Returns members in a sorted set within a range of indexes in reverse order.",
			Example: "> ZREVRANGE expirations 0 0\n1) \"sess:a\"", Run: zrangeCmd(engine.ByRank, true, false, false)}),
		k1(&Spec{Name: "zrangebyscore", Arity: -4, Flags: r | FlagBatch, Group: "sortedset", Since: "1.0.5",
			Syntax: "key min max [WITHSCORES] [LIMIT offset count]", Summary: "Returns members in a sorted set within a range of scores.",
			Example: "> ZRANGEBYSCORE expirations -inf 1754000000000\n1) \"sess:a\"", Run: zrangeCmd(engine.ByScore, false, false, false)}),
		k1(&Spec{Name: "zrevrangebyscore", Arity: -4, Flags: r | FlagBatch, Group: "sortedset", Since: "2.2.0",
			Syntax: "key max min [WITHSCORES] [LIMIT offset count]", Summary: "Returns members in a sorted set within a range of scores in reverse order.",
			Example: "> ZREVRANGEBYSCORE expirations 1.754E12 -inf\n1) \"sess:a\"", Run: zrangeCmd(engine.ByScore, true, false, false)}),
		k1(&Spec{Name: "zrangebylex", Arity: -4, Flags: r | FlagBatch, Group: "sortedset", Since: "2.8.9",
			Syntax: "key min max [LIMIT offset count]", Summary: "Returns members in a sorted set within a lexicographical range.",
			Example: "> ZRANGEBYLEX names [a (c\n1) \"alice\"\n2) \"bob\"", Run: zrangeCmd(engine.ByLex, false, false, false)}),
		k1(&Spec{Name: "zrevrangebylex", Arity: -4, Flags: r | FlagBatch, Group: "sortedset", Since: "2.8.9",
			Syntax: "key max min [LIMIT offset count]", Summary: "Returns members in a sorted set within a lexicographical range in reverse order.",
			Example: "> ZREVRANGEBYLEX names (c [a\n1) \"bob\"\n2) \"alice\"", Run: zrangeCmd(engine.ByLex, true, false, false)}),
		k1(&Spec{Name: "zremrangebyscore", KeyAccess: acl.KeyWrite, Arity: 4, Flags: w | FlagBatch, Group: "sortedset", Since: "1.2.0",
			Syntax: "key min max", Summary: "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.",
			Example: "> ZREMRANGEBYSCORE expirations -inf 1754000000000\n(integer) 1", Run: zremrangeCmd(engine.ByScore)}),
		k1(&Spec{Name: "zremrangebyrank", KeyAccess: acl.KeyWrite, Arity: 4, Flags: w | FlagBatch, Group: "sortedset", Since: "2.0.0",
			Syntax: "key start stop", Summary: "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.",
			Example: "> ZREMRANGEBYRANK expirations 0 0\n(integer) 1", Run: zremrangeCmd(engine.ByRank)}),
		k1(&Spec{Name: "zremrangebylex", KeyAccess: acl.KeyWrite, Arity: 4, Flags: w | FlagBatch, Group: "sortedset", Since: "2.8.9",
			Syntax: "key min max", Summary: "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed.",
			Example: "> ZREMRANGEBYLEX names [a (c\n(integer) 2", Run: zremrangeCmd(engine.ByLex)}),
		k1(&Spec{Name: "zpopmin", Arity: -2, Flags: w | f, Group: "sortedset", Since: "5.0.0",
			Syntax: "key [count]", Summary: "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.",
			Example: "> ZPOPMIN expirations\n1) \"sess:a\"\n2) \"1754000000000\"", Run: zpopCmd(false)}),
		k1(&Spec{Name: "zpopmax", Arity: -2, Flags: w | f, Group: "sortedset", Since: "5.0.0",
			Syntax: "key [count]", Summary: "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.",
			Example: "> ZPOPMAX expirations\n1) \"sess:a\"\n2) \"1754000000000\"", Run: zpopCmd(true)}),
		&Spec{Name: "zmpop", KeyRefs: numKeys(1, keyRW), Arity: -4, Flags: w, KeySpecs: []KeySpec{keynumSpec(1, "RW access delete")}, Group: "sortedset", Since: "7.0.0",
			Syntax: "numkeys key [key ...] MIN|MAX [COUNT count]", Summary: "Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped.",
			Example: "> ZMPOP 1 expirations MIN\n1) \"expirations\"\n2) 1) 1) \"sess:a\"\n      2) \"1754000000000\"", Run: cmdZmpop},
		k1(&Spec{Name: "zrandmember", Arity: -2, Flags: r, Group: "sortedset", Since: "6.2.0",
			Syntax: "key [count [WITHSCORES]]", Summary: "Returns one or more random members from a sorted set.",
			Example: "> ZRANDMEMBER expirations\n\"sess:a\"", Run: cmdZrandmember}),
		k1(&Spec{Name: "zscan", Arity: -3, Flags: r, Group: "sortedset", Since: "2.8.0",
			Syntax: "key cursor [MATCH pattern] [COUNT count]", Summary: "Iterates over members and scores of a sorted set.",
			Example: "> ZSCAN expirations 0\n1) \"0\"\n2) 1) \"sess:a\"\n   2) \"1754000000000\"", Run: cmdZscan}),
		&Spec{Name: "zunion", Arity: -3, Flags: r, KeySpecs: []KeySpec{keynumSpec(1, "RO access")}, Group: "sortedset", Since: "6.2.0",
			Syntax: "numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]", Summary: "Returns the union of multiple sorted sets.",
			Example: "> ZUNION 2 a b WITHSCORES\n1) \"x\"\n2) \"3\"", Run: zcombineCmd(engine.ZUnion, false)},
		&Spec{Name: "zinter", Arity: -3, Flags: r, KeySpecs: []KeySpec{keynumSpec(1, "RO access")}, Group: "sortedset", Since: "6.2.0",
			Syntax: "numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]", Summary: "Returns the intersect of multiple sorted sets.",
			Example: "> ZINTER 2 a b\n1) \"x\"", Run: zcombineCmd(engine.ZInter, false)},
		&Spec{Name: "zdiff", Arity: -3, Flags: r, KeySpecs: []KeySpec{keynumSpec(1, "RO access")}, Group: "sortedset", Since: "6.2.0",
			Syntax: "numkeys key [key ...] [WITHSCORES]", Summary: "Returns the difference between multiple sorted sets.",
			Example: "> ZDIFF 2 a b\n1) \"y\"", Run: zcombineCmd(engine.ZDiff, false)},
		&Spec{Name: "zunionstore", KeyRefs: storeKeys(true, 2), Arity: -4, Flags: w | d, FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: storeSpecs, Group: "sortedset", Since: "2.0.0",
			Syntax: "destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX]", Summary: "Stores the union of multiple sorted sets in a key.",
			Example: "> ZUNIONSTORE c 2 a b\n(integer) 2", Run: zcombineCmd(engine.ZUnion, true)},
		&Spec{Name: "zinterstore", KeyRefs: storeKeys(true, 2), Arity: -4, Flags: w | d, FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: storeSpecs, Group: "sortedset", Since: "2.0.0",
			Syntax: "destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX]", Summary: "Stores the intersect of multiple sorted sets in a key.",
			Example: "> ZINTERSTORE c 2 a b\n(integer) 1", Run: zcombineCmd(engine.ZInter, true)},
		&Spec{Name: "zdiffstore", KeyRefs: storeKeys(true, 2), Arity: -4, Flags: w | d, FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: storeSpecs, Group: "sortedset", Since: "6.2.0",
			Syntax: "destination numkeys key [key ...]", Summary: "Stores the difference of multiple sorted sets in a key.",
			Example: "> ZDIFFSTORE c 2 a b\n(integer) 1", Run: zcombineCmd(engine.ZDiff, true)},
		&Spec{Name: "bzpopmin", Arity: -3, Flags: w | f | FlagBlocking | FlagNoScript, FirstKey: 1, LastKey: -2, Step: 1, Group: "sortedset", Since: "5.0.0",
			Syntax: "key [key ...] timeout", Summary: "Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.",
			Example: "> BZPOPMIN jobs 5\n1) \"jobs\"\n2) \"j1\"\n3) \"1\"", Run: bzpopCmd(false)},
		&Spec{Name: "bzpopmax", Arity: -3, Flags: w | f | FlagBlocking | FlagNoScript, FirstKey: 1, LastKey: -2, Step: 1, Group: "sortedset", Since: "5.0.0",
			Syntax: "key [key ...] timeout", Summary: "Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member available otherwise.  Deletes the sorted set if the last element was popped.",
			Example: "> BZPOPMAX jobs 5\n1) \"jobs\"\n2) \"j9\"\n3) \"9\"", Run: bzpopCmd(true)},
		&Spec{Name: "bzmpop", Arity: -5, Flags: w | FlagBlocking, KeySpecs: []KeySpec{keynumSpec(2, "RW access delete")}, Group: "sortedset", Since: "7.0.0",
			Syntax: "timeout numkeys key [key ...] MIN|MAX [COUNT count]", Summary: "Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.",
			Example: "> BZMPOP 5 1 jobs MIN\n1) \"jobs\"\n2) 1) 1) \"j1\"\n      2) \"1\"", Run: cmdBzmpop},
		&Spec{Name: "zintercard", KeyRefs: numKeys(1, keyR), Arity: -3, Flags: r, KeySpecs: []KeySpec{keynumSpec(1, "RO access")}, Group: "sortedset", Since: "7.0.0",
			Syntax: "numkeys key [key ...] [LIMIT limit]", Summary: "Returns the number of members of the intersect of multiple sorted sets.",
			Example: "> ZINTERCARD 2 a b LIMIT 10\n(integer) 1", Run: cmdZintercard},
	)
}

const (
	msgMinMaxFloat = "ERR min or max is not a float"
	msgMinMaxLex   = "ERR min or max not valid string range item"
)

// parseStrtod parses a number as C's strtod does for score ranges: leading
// white space allowed, inf/infinity in any case, an empty string is 0; NaN
// is refused.
func parseStrtod(s string) (float64, bool) {
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	if t == "" {
		return 0, s == ""
	}
	body := t
	sign := 1.0
	if body[0] == '+' || body[0] == '-' {
		if body[0] == '-' {
			sign = -1
		}
		body = body[1:]
	}
	if strings.EqualFold(body, "inf") || strings.EqualFold(body, "infinity") {
		return math.Inf(int(sign)), true
	}
	if strings.ContainsAny(body, "_nN") || body == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return 0, false
		}
	}
	return f, !math.IsNaN(f)
}

func parseScoreBound(arg []byte) (float64, bool, bool) {
	s := string(arg)
	ex := false
	if len(s) > 0 && s[0] == '(' {
		ex, s = true, s[1:]
	}
	f, ok := parseStrtod(s)
	return f, ex, ok
}

func parseScoreRange(min, max []byte) (engine.ScoreRange, bool) {
	var r engine.ScoreRange
	var ok1, ok2 bool
	r.Min, r.MinEx, ok1 = parseScoreBound(min)
	r.Max, r.MaxEx, ok2 = parseScoreBound(max)
	return r, ok1 && ok2
}

func parseLexBound(arg []byte) (engine.LexBound, bool) {
	if len(arg) == 0 {
		return engine.LexBound{}, false
	}
	switch arg[0] {
	case '+':
		return engine.LexBound{Inf: 1}, len(arg) == 1
	case '-':
		return engine.LexBound{Inf: -1}, len(arg) == 1
	case '(':
		return engine.LexBound{Value: string(arg[1:]), Ex: true}, true
	case '[':
		return engine.LexBound{Value: string(arg[1:])}, true
	}
	return engine.LexBound{}, false
}

func parseLexRange(min, max []byte) (engine.LexRange, bool) {
	a, ok1 := parseLexBound(min)
	b, ok2 := parseLexBound(max)
	return engine.LexRange{Min: a, Max: b}, ok1 && ok2
}

// parseScore parses a ZADD score (getDoubleFromObject: no spaces, no NaN).
func parseScore(arg []byte) (float64, bool) {
	f, ok := parseFloat(arg)
	return f, ok && !math.IsNaN(f)
}

// writeScored writes elements with or without their scores.
func writeScored(c *Call, items []engine.ScoreMember, withScores bool) {
	names := make([]string, len(items))
	for i, it := range items {
		names[i] = it.Member
	}
	writePairs(c, names, withScores, func(i int) { c.W.Double(items[i].Score) })
}

func cmdZadd(c *Call) {
	var o engine.ZAddOptions
	i := 2
	if c.Spec.Name == "zincrby" {
		o.Incr = true
	} else {
	opts:
		for ; i < len(c.Args); i++ {
			switch upper(c.Args[i]) {
			case "NX":
				o.NX = true
			case "XX":
				o.XX = true
			case "GT":
				o.GT = true
			case "LT":
				o.LT = true
			case "CH":
				o.CH = true
			case "INCR":
				o.Incr = true
			default:
				break opts
			}
		}
	}
	n := len(c.Args) - i
	if n == 0 || n%2 != 0 {
		c.W.Error(msgSyntax)
		return
	}
	if o.NX && o.XX {
		c.W.Error("ERR XX and NX options at the same time are not compatible")
		return
	}
	if (o.GT && o.NX) || (o.LT && o.NX) || (o.GT && o.LT) {
		c.W.Error("ERR GT, LT, and/or NX options at the same time are not compatible")
		return
	}
	if o.Incr && n > 2 {
		c.W.Error("ERR INCR option supports a single increment-element pair")
		return
	}
	items := make([]engine.ScoreMember, 0, n/2)
	for ; i < len(c.Args); i += 2 {
		s, ok := parseScore(c.Args[i])
		if !ok {
			c.W.Error(msgNotFloat)
			return
		}
		items = append(items, engine.ScoreMember{Member: string(c.Args[i+1]), Score: s})
	}
	var res engine.ZAddResult
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		res, err = tx.ZAdd(c.DB(), c.Arg(1), o, items)
		return err
	})
	switch {
	case err != nil:
		writeErr(c, err)
	case o.Incr && !res.Done:
		c.W.Null()
	case o.Incr:
		c.W.Double(res.Score)
	case o.CH:
		c.W.Int(int64(res.Added + res.Updated))
	default:
		c.W.Int(int64(res.Added))
	}
}

func cmdZrem(c *Call) {
	var n int
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		n, err = tx.ZRem(c.DB(), c.Arg(1), argStrings(c, 2))
		return err
	})
	if err != nil {
		writeErr(c, err)
		return
	}
	c.W.Int(int64(n))
}

func zscores(c *Call) ([]float64, []bool, bool) {
	var scores []float64
	var oks []bool
	err := c.Read(func(tx *engine.Tx) error {
		var err error
		scores, oks, err = tx.ZScores(c.DB(), c.Arg(1), argStrings(c, 2))
		return err
	})
	if err != nil {
		writeErr(c, err)
		return nil, nil, false
	}
	return scores, oks, true
}

func cmdZscore(c *Call) {
	scores, oks, ok := zscores(c)
	switch {
	case !ok:
	case !oks[0]:
		c.W.Null()
	default:
		c.W.Double(scores[0])
	}
}

func cmdZmscore(c *Call) {
	scores, oks, ok := zscores(c)
	if !ok {
		return
	}
	c.W.Array(len(scores))
	for i := range scores {
		if oks[i] {
			c.W.Double(scores[i])
		} else {
			c.W.Null()
		}
	}
}

func cmdZcard(c *Call) {
	var n int64
	err := c.Read(func(tx *engine.Tx) error {
		var err error
		n, err = tx.ZCard(c.DB(), c.Arg(1))
		return err
	})
	replyInt(c, n, err)
}

func zcountSpec(c *Call, spec engine.ZRangeSpec) {
	var n int64
	err := c.Read(func(tx *engine.Tx) error {
		var err error
		n, err = tx.ZCount(c.DB(), c.Arg(1), spec)
		return err
	})
	replyInt(c, n, err)
}

func cmdZcount(c *Call) {
	r, ok := parseScoreRange(c.Args[2], c.Args[3])
	if !ok {
		c.W.Error(msgMinMaxFloat)
		return
	}
	zcountSpec(c, engine.ZRangeSpec{By: engine.ByScore, Score: r})
}

func cmdZlexcount(c *Call) {
	r, ok := parseLexRange(c.Args[2], c.Args[3])
	if !ok {
		c.W.Error(msgMinMaxLex)
		return
	}
	zcountSpec(c, engine.ZRangeSpec{By: engine.ByLex, Lex: r})
}

func zrankCmd(rev bool) func(c *Call) {
	return func(c *Call) {
		var rank int64
		var found bool
		err := c.Read(func(tx *engine.Tx) error {
			var err error
			rank, _, found, err = tx.ZRank(c.DB(), c.Arg(1), c.Arg(2), rev)
			return err
		})
		switch {
		case err != nil:
			writeErr(c, err)
		case !found:
			c.W.Null()
		default:
			c.W.Int(rank)
		}
	}
}

// parseRangeSpec parses the range arguments of ZRANGE and its older forms
// (zrangeGenericCommand): args[at] is the source key, args[at+1] and
// args[at+2] the bounds. auto is true for ZRANGE/ZRANGESTORE, which take
// BYSCORE, BYLEX and REV as options.
func parseRangeSpec(c *Call, at int, by int, rev, store, auto bool) (engine.ZRangeSpec, bool, bool) {
	spec := engine.ZRangeSpec{By: by, Rev: rev, Count: -1}
	withScores := false
	limit := false
	for j := at + 3; j < len(c.Args); j++ {
		left := len(c.Args) - j - 1
		a := c.Args[j]
		switch {
		case !store && keyword(a, "WITHSCORES"):
			withScores = true
		case keyword(a, "LIMIT") && left >= 2:
			off, ok1 := parseInt(c.Args[j+1])
			cnt, ok2 := parseInt(c.Args[j+2])
			if !ok1 || !ok2 {
				c.W.Error(msgNotInt)
				return spec, false, false
			}
			spec.Offset, spec.Count, limit = off, cnt, true
			j += 2
		case auto && !spec.Rev && keyword(a, "REV"):
			spec.Rev = true
		case auto && spec.By == engine.ByRank && keyword(a, "BYLEX"):
			spec.By = engine.ByLex
		case auto && spec.By == engine.ByRank && keyword(a, "BYSCORE"):
			spec.By = engine.ByScore
		default:
			c.W.Error(msgSyntax)
			return spec, false, false
		}
	}
	if limit && spec.Count != -1 && spec.By == engine.ByRank {
		c.W.Error("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
		return spec, false, false
	}
	if withScores && spec.By == engine.ByLex {
		c.W.Error("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
		return spec, false, false
	}
	if spec.Count < 0 {
		spec.Count = -1
	}
	minArg, maxArg := c.Args[at+1], c.Args[at+2]
	if spec.Rev && spec.By != engine.ByRank {
		minArg, maxArg = maxArg, minArg
	}
	switch spec.By {
	case engine.ByRank:
		s, ok1 := parseInt(minArg)
		e, ok2 := parseInt(maxArg)
		if !ok1 || !ok2 {
			c.W.Error(msgNotInt)
			return spec, false, false
		}
		spec.Start, spec.Stop = s, e
	case engine.ByScore:
		r, ok := parseScoreRange(minArg, maxArg)
		if !ok {
			c.W.Error(msgMinMaxFloat)
			return spec, false, false
		}
		spec.Score = r
	case engine.ByLex:
		r, ok := parseLexRange(minArg, maxArg)
		if !ok {
			c.W.Error(msgMinMaxLex)
			return spec, false, false
		}
		spec.Lex = r
	}
	if spec.Offset < 0 {
		spec.Count = 0 // a negative offset selects nothing, as in Redis
	}
	return spec, withScores, true
}

// zrangeCmd builds ZRANGE, ZRANGESTORE and the older range commands.
func zrangeCmd(by int, rev, store, auto bool) func(c *Call) {
	return func(c *Call) {
		at := 1
		if store {
			at = 2
		}
		spec, withScores, ok := parseRangeSpec(c, at, by, rev, store, auto)
		if !ok {
			return
		}
		db := c.DB()
		var items []engine.ScoreMember
		if store {
			var n int
			err := c.Write(func(tx *engine.Tx) error {
				var err error
				items, err = tx.ZRange(db, c.Arg(2), spec)
				if err != nil {
					return err
				}
				n = tx.ZStore(db, c.Arg(1), items, "zrangestore")
				return nil
			})
			if err != nil {
				writeErr(c, err)
				return
			}
			c.W.Int(int64(n))
			return
		}
		err := c.Read(func(tx *engine.Tx) error {
			var err error
			items, err = tx.ZRange(db, c.Arg(1), spec)
			return err
		})
		if err != nil {
			writeErr(c, err)
			return
		}
		writeScored(c, items, withScores)
	}
}

var zremEvents = [...]string{engine.ByRank: "zremrangebyrank", engine.ByScore: "zremrangebyscore", engine.ByLex: "zremrangebylex"}

func zremrangeCmd(by int) func(c *Call) {
	return func(c *Call) {
		spec := engine.ZRangeSpec{By: by, Count: -1}
		switch by {
		case engine.ByRank:
			s, ok1 := parseInt(c.Args[2])
			e, ok2 := parseInt(c.Args[3])
			if !ok1 || !ok2 {
				c.W.Error(msgNotInt)
				return
			}
			spec.Start, spec.Stop = s, e
		case engine.ByScore:
			r, ok := parseScoreRange(c.Args[2], c.Args[3])
			if !ok {
				c.W.Error(msgMinMaxFloat)
				return
			}
			spec.Score = r
		case engine.ByLex:
			r, ok := parseLexRange(c.Args[2], c.Args[3])
			if !ok {
				c.W.Error(msgMinMaxLex)
				return
			}
			spec.Lex = r
		}
		var n int
		err := c.Write(func(tx *engine.Tx) error {
			var err error
			n, err = tx.ZRemRange(c.DB(), c.Arg(1), spec, zremEvents[by])
			return err
		})
		if err != nil {
			writeErr(c, err)
			return
		}
		c.W.Int(int64(n))
	}
}

// zpopKeys pops from the first non-empty sorted set among keys (ZPOP*,
// ZMPOP, and the blocking forms). It returns the key popped from.
func zpopKeys(c *Call, tx *engine.Tx, keys []string, max bool, count int64) (string, []engine.ScoreMember, error) {
	for _, k := range keys {
		items, err := tx.ZPop(c.DB(), k, max, count)
		if err != nil || len(items) > 0 {
			return k, items, err
		}
	}
	return "", nil, nil
}

func zpopCmd(max bool) func(c *Call) {
	return func(c *Call) {
		if len(c.Args) > 3 {
			c.W.Error(msgSyntax)
			return
		}
		count := int64(1)
		withCount := len(c.Args) == 3
		if withCount {
			var ok bool
			if count, ok = parsePositive(c, c.Args[2], ""); !ok {
				return
			}
		}
		var items []engine.ScoreMember
		err := c.Write(func(tx *engine.Tx) error {
			if count == 0 {
				_, err := tx.ZCard(c.DB(), c.Arg(1))
				return err
			}
			var err error
			_, items, err = zpopKeys(c, tx, []string{c.Arg(1)}, max, count)
			return err
		})
		if err != nil {
			writeErr(c, err)
			return
		}
		if withCount && c.W.Proto() == 3 {
			writeScored(c, items, true)
			return
		}
		c.W.Array(2 * len(items))
		for _, it := range items {
			c.W.BulkString(it.Member)
			c.W.Double(it.Score)
		}
	}
}

// parseMpop parses "numkeys key [key ...] one|other [COUNT count]" starting
// at index at: MIN|MAX for ZMPOP and BZMPOP, RIGHT|LEFT for LMPOP and
// BLMPOP. isOther reports which end was named.
func parseMpop(c *Call, at int, one, other string) (keys []string, isOther bool, count int64, ok bool) {
	n, ok := parseRangeLong(c, c.Args[at], 1, math.MaxInt64, "ERR numkeys should be greater than 0")
	if !ok {
		return nil, false, 0, false
	}
	where := int64(at) + n + 1
	if where >= int64(len(c.Args)) {
		c.W.Error(msgSyntax)
		return nil, false, 0, false
	}
	switch {
	case keyword(c.Args[where], one):
	case keyword(c.Args[where], other):
		isOther = true
	default:
		c.W.Error(msgSyntax)
		return nil, false, 0, false
	}
	count = -1
	for j := int(where) + 1; j < len(c.Args); j++ {
		if count == -1 && keyword(c.Args[j], "COUNT") && j+1 < len(c.Args) {
			j++
			if count, ok = parseRangeLong(c, c.Args[j], 1, math.MaxInt64, "ERR count should be greater than 0"); !ok {
				return nil, false, 0, false
			}
			continue
		}
		c.W.Error(msgSyntax)
		return nil, false, 0, false
	}
	if count == -1 {
		count = 1
	}
	return argStrings(c, at+1)[:n], isOther, count, true
}

// writeMpop writes a ZMPOP reply: the key and its popped elements as pairs.
func writeMpop(c *Call, key string, items []engine.ScoreMember) {
	if len(items) == 0 {
		c.W.NullArray()
		return
	}
	c.W.Array(2)
	c.W.BulkString(key)
	c.W.Array(len(items))
	for _, it := range items {
		c.W.Array(2)
		c.W.BulkString(it.Member)
		c.W.Double(it.Score)
	}
}

func cmdZmpop(c *Call) {
	keys, max, count, ok := parseMpop(c, 1, "MIN", "MAX")
	if !ok {
		return
	}
	var key string
	var items []engine.ScoreMember
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		key, items, err = zpopKeys(c, tx, keys, max, count)
		return err
	})
	if err != nil {
		writeErr(c, err)
		return
	}
	writeMpop(c, key, items)
}

func cmdZrandmember(c *Call) {
	if len(c.Args) == 2 {
		var items []engine.ScoreMember
		err := c.Read(func(tx *engine.Tx) error {
			var err error
			items, err = tx.ZRandMember(c.DB(), c.Arg(1), 1, newRand(c))
			return err
		})
		switch {
		case err != nil:
			writeErr(c, err)
		case len(items) == 0:
			c.W.Null()
		default:
			c.W.BulkString(items[0].Member)
		}
		return
	}
	count, with, ok := parseRandCount(c, "WITHSCORES")
	if !ok {
		return
	}
	var items []engine.ScoreMember
	err := c.Read(func(tx *engine.Tx) error {
		var err error
		items, err = tx.ZRandMember(c.DB(), c.Arg(1), count, newRand(c))
		return err
	})
	if err != nil {
		writeErr(c, err)
		return
	}
	writeScored(c, items, with)
}

func cmdZscan(c *Call) {
	compositeScan(c, func(tx *engine.Tx, cursor uint64, count int, emit func(...string)) (uint64, error) {
		return tx.ZScan(c.DB(), c.Arg(1), cursor, count, func(sm engine.ScoreMember) {
			emit(sm.Member, formatScore(sm.Score))
		})
	})
}

// formatScore formats a score as Redis writes it inside arrays of strings.
func formatScore(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', 17, 64)
}

var zstoreEvents = [...]string{engine.ZUnion: "zunionstore", engine.ZInter: "zinterstore", engine.ZDiff: "zdiffstore"}

// zcombineCmd builds ZUNION, ZINTER, ZDIFF and their STORE forms.
func zcombineCmd(op int, store bool) func(c *Call) {
	return func(c *Call) {
		at := 1
		if store {
			at = 2
		}
		n, ok := parseInt(c.Args[at])
		if !ok {
			c.W.Error(msgNotInt)
			return
		}
		if n < 1 {
			c.W.Error(fmt.Sprintf("ERR at least 1 input key is needed for '%s' command", c.Spec.Name))
			return
		}
		if n > int64(len(c.Args)-at-1) {
			c.W.Error(msgSyntax)
			return
		}
		keys := argStrings(c, at+1)[:n]
		var weights []float64
		agg := engine.AggSum
		withScores := false
		for j := at + 1 + int(n); j < len(c.Args); j++ {
			left := len(c.Args) - j
			switch {
			case op != engine.ZDiff && left >= int(n)+1 && keyword(c.Args[j], "WEIGHTS"):
				weights = make([]float64, n)
				for i := range weights {
					j++
					w, ok := parseScore(c.Args[j])
					if !ok {
						c.W.Error("ERR weight value is not a float")
						return
					}
					weights[i] = w
				}
			case op != engine.ZDiff && left >= 2 && keyword(c.Args[j], "AGGREGATE"):
				j++
				switch upper(c.Args[j]) {
				case "SUM":
					agg = engine.AggSum
				case "MIN":
					agg = engine.AggMin
				case "MAX":
					agg = engine.AggMax
				default:
					c.W.Error(msgSyntax)
					return
				}
			case !store && keyword(c.Args[j], "WITHSCORES"):
				withScores = true
			default:
				c.W.Error(msgSyntax)
				return
			}
		}
		db := c.DB()
		var items []engine.ScoreMember
		if store {
			var stored int
			err := c.Write(func(tx *engine.Tx) error {
				var err error
				items, err = tx.ZCombine(db, keys, weights, agg, op, 0)
				if err != nil {
					return err
				}
				stored = tx.ZStore(db, c.Arg(1), items, zstoreEvents[op])
				return nil
			})
			if err != nil {
				writeErr(c, err)
				return
			}
			c.W.Int(int64(stored))
			return
		}
		err := c.Read(func(tx *engine.Tx) error {
			var err error
			items, err = tx.ZCombine(db, keys, weights, agg, op, 0)
			return err
		})
		if err != nil {
			writeErr(c, err)
			return
		}
		writeScored(c, items, withScores)
	}
}

func cmdZintercard(c *Call) {
	n, ok := parseInt(c.Args[1])
	if !ok {
		c.W.Error(msgNotInt)
		return
	}
	if n < 1 {
		c.W.Error("ERR at least 1 input key is needed for 'zintercard' command")
		return
	}
	if n > int64(len(c.Args)-2) {
		c.W.Error(msgSyntax)
		return
	}
	limit, ok := parseCardLimit(c, 2+int(n))
	if !ok {
		return
	}
	var items []engine.ScoreMember
	err := c.Read(func(tx *engine.Tx) error {
		var err error
		items, err = tx.ZCombine(c.DB(), argStrings(c, 2)[:n], nil, engine.AggSum, engine.ZInter, limit)
		return err
	})
	if err != nil {
		writeErr(c, err)
		return
	}
	c.W.Int(int64(len(items)))
}

// parseTimeout parses a blocking timeout in seconds as Redis'
// getTimeoutFromObjectOrReply does: the value times 1000, truncated to whole
// milliseconds as C's cast does (so 0.0001 means 0: wait forever, and a value
// past the range of a long long turns into a negative one, as on x86), must
// not be negative and must not overflow when added to the current time. 0
// means no timeout.
func parseTimeout(c *Call, arg []byte) (time.Duration, bool) {
	f, ok := parseFloat(arg)
	if !ok {
		c.W.Error("ERR timeout is not a float or out of range")
		return 0, false
	}
	ms := f * 1000
	var tval int64
	if ms >= 9.223372036854775807e18 || ms < -9.223372036854775808e18 || math.IsNaN(ms) {
		tval = math.MinInt64
	} else {
		tval = int64(ms)
	}
	if tval < 0 {
		c.W.Error("ERR timeout is negative")
		return 0, false
	}
	if tval > math.MaxInt64-c.NowMS() {
		c.W.Error("ERR timeout is out of range")
		return 0, false
	}
	if tval > math.MaxInt64/int64(time.Millisecond) {
		return time.Duration(math.MaxInt64), true // longer than any process lives
	}
	return time.Duration(tval) * time.Millisecond, true
}

// blockingZpop pops as ZMPOP does, or blocks until it can (BZPOPMIN,
// BZPOPMAX, BZMPOP). reply writes the result; it is called with no
// elements on timeout.
func blockingZpop(c *Call, keys []string, max bool, count int64, timeout time.Duration, reply func(key string, items []engine.ScoreMember)) {
	var key string
	var items []engine.ScoreMember
	_, err := blockingOp(c, keys, timeout, func(tx *engine.Tx, woken bool) (bool, error) {
		if !woken {
			var err error
			key, items, err = zpopKeys(c, tx, keys, max, count)
			return len(items) > 0, err
		}
		// Once blocked, a key of another type is skipped rather than an
		// error: the client stays blocked until a sorted set shows up.
		for _, k := range keys {
			got, err := tx.ZPop(c.DB(), k, max, count)
			if err == nil && len(got) > 0 {
				key, items = k, got
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		writeErr(c, err)
		return
	}
	reply(key, items)
}

func bzpopCmd(max bool) func(c *Call) {
	return func(c *Call) {
		timeout, ok := parseTimeout(c, c.Args[len(c.Args)-1])
		if !ok {
			return
		}
		keys := argStrings(c, 1)
		keys = keys[:len(keys)-1]
		blockingZpop(c, keys, max, 1, timeout, func(key string, items []engine.ScoreMember) {
			if len(items) == 0 {
				c.W.NullArray()
				return
			}
			c.W.Array(3)
			c.W.BulkString(key)
			c.W.BulkString(items[0].Member)
			c.W.Double(items[0].Score)
		})
	}
}

func cmdBzmpop(c *Call) {
	keys, max, count, ok := parseMpop(c, 2, "MIN", "MAX")
	if !ok {
		return
	}
	timeout, ok := parseTimeout(c, c.Args[1])
	if !ok {
		return
	}
	blockingZpop(c, keys, max, count, timeout, func(key string, items []engine.ScoreMember) {
		writeMpop(c, key, items)
	})
}
