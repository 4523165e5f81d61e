package commands

import (
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/sessiond/sessiond/engine"
)

// SORT and SORT_RO, as Redis 7.0's sort.c does them: numeric (strtod) or
// ALPHA (byte order) sorting of a list, set or sorted set, by the elements
// themselves or by weights looked up with a BY pattern (`weight_*`,
// `obj_*->field`), with LIMIT, any number of GET patterns (`#` is the
// element) and STORE into a list.

func init() {
	register(
		&Spec{Name: "sort", ACL: "@set @sortedset @list @dangerous", KeyRefs: sortKeys, Arity: -2, Flags: FlagWrite | FlagDenyOOM | FlagLong, FirstKey: 1, LastKey: 1, Step: 1,
			KeySpecs: []KeySpec{{Flags: "RO access", Index: 1}, sortPatternSpec, sortStoreSpec}, Group: "generic", Since: "1.0.0",
			Syntax:  "key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC] [ALPHA] [STORE destination]",
			Summary: "Sorts the elements in a list, a set, or a sorted set, optionally storing the result.",
			Example: "> RPUSH ids 3 1 2\n(integer) 3\n> SORT ids DESC LIMIT 0 2\n1) \"3\"\n2) \"2\"", Run: sortCmd(false), MovableKeys: sortStoreKey},
		&Spec{Name: "sort_ro", Arity: -2, Flags: FlagReadonly | FlagLong, FirstKey: 1, LastKey: 1, Step: 1, KeySpecs: []KeySpec{{Flags: "RO access", Index: 1}, sortPatternSpec}, Group: "generic", Since: "7.0.0",
			Syntax:  "key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC] [ALPHA]",
			Summary: "Returns the sorted elements of a list, a set, or a sorted set.",
			Example: "> SORT_RO ids BY nosort GET #\n1) \"3\"\n2) \"1\"\n3) \"2\"", Run: sortCmd(true)},
	)
}

// sortStoreKey finds SORT's STORE destination for COMMAND GETKEYS as
// Redis' sortGetKeys does: LIMIT, GET and BY skip their arguments, and the
// last STORE wins.
func sortStoreKey(args [][]byte) []int {
	pos := 0
	for i := 2; i < len(args); i++ {
		switch {
		case keyword(args[i], "limit"):
			i += 2
		case keyword(args[i], "get"), keyword(args[i], "by"):
			i++
		case keyword(args[i], "store") && i+1 < len(args):
			pos = i + 1
		}
	}
	if pos == 0 {
		return nil
	}
	return []int{pos}
}

// sortArgs is a parsed SORT command.
type sortArgs struct {
	desc, alpha bool
	offset      int64 // LIMIT offset
	count       int64 // LIMIT count; < 0 for all
	by          string
	hasBy       bool
	dontSort    bool // BY a pattern without '*': keep the native order
	gets        []string
	store       string
	hasStore    bool
}

// parseSort parses SORT's options; it returns Redis' error text on failure.
// STORE is only an option of SORT, not of SORT_RO.
func parseSort(args [][]byte, readonly bool) (sortArgs, string) {
	a := sortArgs{count: -1}
	for j := 2; j < len(args); j++ {
		left := len(args) - j - 1
		switch {
		case keyword(args[j], "asc"):
			a.desc = false
		case keyword(args[j], "desc"):
			a.desc = true
		case keyword(args[j], "alpha"):
			a.alpha = true
		case keyword(args[j], "limit") && left >= 2:
			off, ok1 := parseInt(args[j+1])
			cnt, ok2 := parseInt(args[j+2])
			if !ok1 || !ok2 {
				return a, msgNotInt
			}
			a.offset, a.count = off, cnt
			j += 2
		case !readonly && keyword(args[j], "store") && left >= 1:
			a.store, a.hasStore = string(args[j+1]), true
			j++
		case keyword(args[j], "by") && left >= 1:
			a.by, a.hasBy = string(args[j+1]), true
			a.dontSort = !strings.Contains(a.by, "*")
			j++
		case keyword(args[j], "get") && left >= 1:
			a.gets = append(a.gets, string(args[j+1]))
			j++
		default:
			return a, msgSyntax
		}
	}
	return a, ""
}

// sortItem is one element being sorted, with its weight.
type sortItem struct {
	elem   string
	score  float64 // numeric weight
	cmp    string  // ALPHA weight from a BY pattern
	hasCmp bool
}

// sortOut is one element of the result: a value, or a null for a GET
// pattern that found nothing.
type sortOut struct {
	v  string
	ok bool
}

func sortCmd(readonly bool) func(c *Call) {
	return func(c *Call) {
		a, msg := parseSort(c.Args, readonly)
		if msg == "" {
			msg = c.sortACL(a)
		}
		if msg != "" {
			c.W.Error(msg)
			return
		}
		var out []sortOut
		var stored int
		convErr := false
		run := func(tx *engine.Tx) error {
			var err error
			out, convErr, err = a.run(tx, c.DB(), c.Arg(1), c.Client.scriptCaller)
			if err != nil || convErr || !a.hasStore {
				return err
			}
			vals := make([]string, len(out))
			for i, o := range out {
				vals[i] = o.v // a GET that found nothing stores ""
			}
			stored = tx.ListStore(c.DB(), a.store, vals, "sortstore")
			return nil
		}
		var err error
		if a.hasStore {
			err = c.Write(run)
		} else {
			err = c.Read(run)
		}
		switch {
		case err != nil:
			writeErr(c, err)
		case convErr:
			c.W.Error("ERR One or more scores can't be converted into double")
		case a.hasStore:
			c.W.Int(int64(stored))
		default:
			c.W.Array(len(out))
			for _, o := range out {
				if o.ok {
					c.W.BulkString(o.v)
				} else {
					c.W.Null()
				}
			}
		}
	}
}

// run sorts key's elements and applies LIMIT and GET. convErr reports a
// numeric weight that is not a number (the command then fails).
func (a *sortArgs) run(tx *engine.Tx, db int, key string, fromScript bool) (out []sortOut, convErr bool, err error) {
	elems, kind, err := tx.SortElements(db, key)
	if err != nil {
		return nil, false, err
	}
	dontSort, alpha, hasBy := a.dontSort, a.alpha, a.hasBy
	// A set has no order of its own that replicas or scripts could agree
	// on, so Redis sorts it ALPHA when the result is stored or a script
	// reads it.
	if dontSort && kind == engine.SortSet && (a.hasStore || fromScript) {
		dontSort, alpha, hasBy = false, true, false
	}

	// LIMIT, clamped exactly as sort.c clamps it.
	n := int64(len(elems))
	start := min(max(a.offset, 0), n)
	count := min(max(a.count, -1), n)
	end := n - 1
	if count >= 0 {
		end = start + count - 1
	}
	if start >= n {
		start, end = n-1, n-2
	}
	end = min(end, n-1)

	items := make([]sortItem, len(elems))
	for i, e := range elems {
		items[i].elem = e
	}
	if dontSort {
		// Lists and sorted sets keep their order, reversed by DESC; a set
		// keeps its own order whatever ASC or DESC say.
		if a.desc && kind != engine.SortSet {
			for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
				items[i], items[j] = items[j], items[i]
			}
		}
	} else {
		for i := range items {
			it := &items[i]
			weight, found := it.elem, true
			if hasBy {
				weight, found = sortLookup(tx, db, a.by, it.elem)
				if !found {
					continue
				}
			}
			if alpha {
				if hasBy {
					it.cmp, it.hasCmp = weight, true
				}
				continue
			}
			if it.score, found = strtod(weight); !found {
				convErr = true
			}
		}
		if convErr {
			return nil, true, nil
		}
		sort.SliceStable(items, func(i, j int) bool {
			c := compareSortItems(&items[i], &items[j], alpha, hasBy)
			if a.desc {
				c = -c
			}
			return c < 0
		})
	}

	if end < start {
		return nil, false, nil
	}
	for _, it := range items[start : end+1] {
		if len(a.gets) == 0 {
			out = append(out, sortOut{it.elem, true})
			continue
		}
		for _, pattern := range a.gets {
			v, ok := sortLookup(tx, db, pattern, it.elem)
			out = append(out, sortOut{v, ok})
		}
	}
	return out, false, nil
}

// compareSortItems is sort.c's sortCompare before DESC is applied.
func compareSortItems(x, y *sortItem, alpha, byPattern bool) int {
	if !alpha {
		switch {
		case x.score > y.score:
			return 1
		case x.score < y.score:
			return -1
		}
		// Equal weights order by the elements, so the result is stable.
		return strings.Compare(x.elem, y.elem)
	}
	if !byPattern {
		return strings.Compare(x.elem, y.elem)
	}
	switch {
	case !x.hasCmp && !y.hasCmp:
		return 0
	case !x.hasCmp:
		return -1
	case !y.hasCmp:
		return 1
	}
	return strings.Compare(x.cmp, y.cmp)
}

// sortLookup resolves a BY or GET pattern for one element, as sort.c's
// lookupKeyByPattern: "#" is the element itself; the first '*' is replaced
// by the element; "key->field" reads a hash field. A pattern without '*',
// a missing key or a key of the wrong type finds nothing.
func sortLookup(tx *engine.Tx, db int, pattern, elem string) (string, bool) {
	if pattern == "#" {
		return elem, true
	}
	star := strings.IndexByte(pattern, '*')
	if star < 0 {
		return "", false
	}
	keyEnd, field := len(pattern), ""
	if f := strings.Index(pattern[star+1:], "->"); f >= 0 && star+1+f+2 < len(pattern) {
		keyEnd = star + 1 + f
		field = pattern[keyEnd+2:]
	}
	key := pattern[:star] + elem + pattern[star+1:keyEnd]
	if keyEnd < len(pattern) {
		v, ok, err := tx.HGet(db, key, field)
		return v, ok && err == nil
	}
	v, ok, err := tx.GetString(db, key)
	return v, ok && err == nil
}

// strtod converts a weight as C's strtod does in sort.c: leading white
// space, decimal or hexadecimal, inf and nan are read; trailing characters,
// overflow, underflow and NaN are errors. The empty string is 0.
func strtod(s string) (float64, bool) {
	if s == "" {
		return 0, true
	}
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	body := strings.TrimLeft(t, "+-")
	if len(t)-len(body) > 1 {
		return 0, false
	}
	if len(body) > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X') && !strings.ContainsAny(body, "pP") {
		t += "p0" // C reads a hexadecimal float without an exponent
	}
	if strings.ContainsRune(body, '_') {
		return 0, false // Go's digit separators; strtod stops at them
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(f) {
		return 0, false
	}
	if f != 0 && math.Abs(f) < 0x1p-1022 {
		return 0, false // ERANGE: the result is subnormal
	}
	if f == 0 && strings.ContainsAny(strings.SplitN(strings.ToLower(body), "e", 2)[0], "123456789") && !strings.HasPrefix(strings.ToLower(body), "0x") {
		return 0, false // ERANGE: a non-zero number underflowed
	}
	return f, true
}

// sortACL refuses BY (with a pattern) and GET to a user who may not read
// every key, since they read keys the arguments do not name, as Redis.
func (c *Call) sortACL(a sortArgs) string {
	if !a.hasBy && len(a.gets) == 0 {
		return ""
	}
	u := c.Client.account.Load().User()
	if u.Unrestricted() {
		return ""
	}
	aclCatalog()
	r := aclRequest(c.Spec, c.Args)
	if u.ReadsEveryKey(&r) {
		return ""
	}
	if a.hasBy && strings.Contains(a.by, "*") {
		return "ERR BY option of SORT denied due to insufficient ACL permissions."
	}
	if len(a.gets) > 0 {
		return "ERR GET option of SORT denied due to insufficient ACL permissions."
	}
	return ""
}
