package commands

import (
	"slices"
	"strings"

	"github.com/sessiond/sessiond/acl"
)

// COMMAND GETKEYSANDFLAGS: each key of a command with its Redis 7 key-spec
// flags (RO/RW/OW/RM and access/update/insert/delete). The flags of the
// commands whose keys are not all alike are listed here, per key in order
// (the last entry stands for the remaining keys); the others follow from
// the command's own flags: a read-only command's keys are "RO access", a
// write command's "RW access update".

var keySpecFlags = map[string][][]string{
	"set":            {{"OW", "update"}},
	"mset":           {{"OW", "update"}},
	"msetnx":         {{"OW", "insert"}},
	"setex":          {{"OW", "update"}},
	"psetex":         {{"OW", "update"}},
	"setnx":          {{"OW", "insert"}},
	"getset":         {{"RW", "access", "update"}},
	"getdel":         {{"RW", "access", "delete"}},
	"del":            {{"RM", "delete"}},
	"unlink":         {{"RM", "delete"}},
	"rename":         {{"RW", "access", "delete"}, {"OW", "update"}},
	"renamenx":       {{"RW", "access", "delete"}, {"OW", "insert"}},
	"copy":           {{"RO", "access"}, {"OW", "update"}},
	"lmove":          {{"RW", "access", "delete"}, {"RW", "insert"}},
	"blmove":         {{"RW", "access", "delete"}, {"RW", "insert"}},
	"rpoplpush":      {{"RW", "access", "delete"}, {"RW", "insert"}},
	"brpoplpush":     {{"RW", "access", "delete"}, {"RW", "insert"}},
	"smove":          {{"RW", "access", "delete"}, {"RW", "insert"}},
	"lpush":          {{"RW", "insert"}},
	"rpush":          {{"RW", "insert"}},
	"sadd":           {{"RW", "insert"}},
	"sort":           {{"RO", "access"}, {"OW", "update"}},
	"sinterstore":    {{"OW", "update"}, {"RO", "access"}},
	"sunionstore":    {{"OW", "update"}, {"RO", "access"}},
	"sdiffstore":     {{"OW", "update"}, {"RO", "access"}},
	"zunionstore":    {{"OW", "update"}, {"RO", "access"}},
	"zinterstore":    {{"OW", "update"}, {"RO", "access"}},
	"zdiffstore":     {{"OW", "update"}, {"RO", "access"}},
	"zrangestore":    {{"OW", "update"}, {"RO", "access"}},
	"bitop":          {{"OW", "update"}, {"RO", "access"}},
	"geosearchstore": {{"OW", "update"}, {"RO", "access"}},
	"pfmerge":        {{"RW", "access", "insert"}, {"RO", "access"}},
	"xadd":           {{"RW", "update"}},
	"expire":         {{"RW", "update"}},
	"pexpire":        {{"RW", "update"}},
	"persist":        {{"RW", "update"}},
}

// noMandatoryKeys reports whether a command may name no key at all (Redis'
// no-mandatory-keys: scripts and functions with numkeys 0), so that
// COMMAND GETKEYS answers an empty list instead of an error.
func noMandatoryKeys(s *Spec) bool {
	switch s.FullName() {
	case "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro":
		return true
	}
	return false
}

func cmdCommandGetkeysandflags(c *Call) {
	s, args, _, ok := commandKeys(c)
	if !ok {
		return
	}
	type flagged struct {
		pos   int
		flags []string
	}
	var keys []flagged
	if s.MovableKeys != nil && s.incompleteSpecs() {
		// The command finds its keys itself (MIGRATE); each takes the
		// flags of the spec that would find it, else the last spec's.
		specs := s.keySpecs()
		for _, p := range s.MovableKeys(args) {
			k := specs[len(specs)-1]
			for _, sp := range specs {
				if slices.Contains(sp.positions(args, nil), p) {
					k = sp
					break
				}
			}
			keys = append(keys, flagged{p, s.flagsOf(k)})
		}
	} else {
		for _, k := range s.keySpecs() {
			for _, p := range k.positions(args, nil) {
				keys = append(keys, flagged{p, s.flagsOf(k)})
			}
		}
		if s.MovableKeys != nil {
			// Keys found by option (SORT ... STORE): the last flags
			// listed for the command, else those of its own flags.
			f := s.flagsOf(KeySpec{})
			if fl := keySpecFlags[s.FullName()]; len(fl) > 0 {
				f = fl[len(fl)-1]
			}
			for _, p := range s.MovableKeys(args) {
				keys = append(keys, flagged{p, f})
			}
		}
	}
	c.W.Array(len(keys))
	for _, k := range keys {
		c.W.Array(2)
		c.W.Bulk(args[k.pos])
		c.W.Set(len(k.flags))
		for _, f := range k.flags {
			c.W.Simple(f)
		}
	}
}

func init() {
	registerSubcommands("command",
		&Spec{Name: "getkeysandflags", Arity: -3, Flags: FlagLoading | FlagStale, Syntax: "command [arg [arg ...]]",
			Summary: "Extracts the key names and access flags for an arbitrary command.",
			Example: "> COMMAND GETKEYSANDFLAGS LMOVE a b LEFT RIGHT\n1) 1) \"a\"\n   2) 1) RW\n      2) access\n      3) delete\n2) 1) \"b\"\n   2) 1) RW\n      2) insert", Run: cmdCommandGetkeysandflags})
}

// KeySpec is one of Redis 7's key specifications: where a command's keys
// begin (begin_search) and how many follow (find_keys), with what the
// command does to them. A command declares KeySpecs only when its keys are
// not one range (FirstKey/LastKey/Step): a count argument (numkeys), a
// keyword (STREAMS, KEYS), or both a fixed destination and counted sources.
// COMMAND GETKEYS, COMMAND INFO's key specs and legacy range, the
// movablekeys flag, ACL key checks and client tracking all read them.
type KeySpec struct {
	// Flags in Redis' words, space-separated ("RW access delete"); ""
	// derives them from the command's flags (read-only: "RO access",
	// write: "RW access update").
	Flags string
	// begin_search: the key (or count) is at argument Index; or the
	// keys follow the argument equal to Keyword, searched from StartFrom
	// forwards (StartFrom > 0) or from len+StartFrom backwards (< 0).
	Index     int
	Keyword   string
	StartFrom int
	// find_keys, range: the last key is LastKey arguments after the first
	// (-1: the last argument; with Limit > 1, the keys are 1/Limit of the
	// arguments from the first key on), every Step.
	LastKey, Step, Limit int
	// find_keys, keynum: the argument KeyNumIdx after the begin is the key
	// count; the keys start FirstKey after the begin, every Step.
	KeyNum              bool
	KeyNumIdx, FirstKey int
	// Unknown: keys no spec can find (SORT's BY/GET patterns name keys
	// from the sorted values); the command finds them itself.
	Unknown bool
	Notes   string
}

var (
	// storeSpecs: a destination, then numkeys sources (ZUNIONSTORE).
	storeSpecs = []KeySpec{{Flags: "OW update", Index: 1}, keynumSpec(2, "RO access")}
	// sortPatternSpec: SORT's BY and GET patterns.
	sortPatternSpec = KeySpec{Flags: "RO access", Unknown: true,
		Notes: "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort"}
	// sortStoreSpec: SORT's STORE destination (found by Spec.MovableKeys).
	sortStoreSpec = KeySpec{Flags: "OW update", Unknown: true,
		Notes: "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array"}
)

// streamsSpec: the keys after STREAMS, half of the remaining arguments
// (XREAD, XREADGROUP).
func streamsSpec(flags string) KeySpec {
	return KeySpec{Flags: flags, Keyword: "STREAMS", StartFrom: 1, LastKey: -1, Step: 1, Limit: 2}
}

// keynumSpec is the key spec of "numkeys key [key ...]" at index (EVAL,
// ZUNION, LMPOP, ...).
func keynumSpec(index int, flags string) KeySpec {
	return KeySpec{Flags: flags, Index: index, KeyNum: true, KeyNumIdx: 0, FirstKey: 1, Step: 1}
}

// movable reports whether the spec's keys depend on the arguments (a
// keyword or a count), which COMMAND INFO shows as movablekeys.
func (k KeySpec) movable() bool { return k.KeyNum || k.Keyword != "" || k.Unknown }

// positions appends to out the argument indexes of the spec's keys in args
// (the command name at 0). Arguments that do not fit the spec (a missing
// keyword, a count that is not a number or too big) give no keys.
func (k KeySpec) positions(args [][]byte, out []int) []int {
	if k.Unknown {
		return out
	}
	argc := len(args)
	first := k.Index
	if k.Keyword != "" {
		first = 0
		start, end, dir := k.StartFrom, argc-1, 1
		if k.StartFrom < 0 {
			start, end, dir = argc+k.StartFrom, 1, -1
		}
		for i := start; i >= 1 && i < argc && (dir > 0 && i <= end || dir < 0 && i >= end); i += dir {
			if keyword(args[i], k.Keyword) {
				first = i + 1
				break
			}
		}
	}
	if first <= 0 || first >= argc {
		return out
	}
	step := max(k.Step, 1)
	if k.KeyNum {
		at := first + k.KeyNumIdx
		if at >= argc {
			return out
		}
		n, ok := parseInt(args[at])
		start := first + k.FirstKey
		if !ok || n < 0 || start+int(n-1)*step >= argc && n > 0 {
			return out
		}
		for i := 0; i < int(n); i++ {
			out = append(out, start+i*step)
		}
		return out
	}
	var last int
	switch {
	case k.LastKey >= 0:
		last = first + k.LastKey
	case k.Limit <= 1:
		last = argc + k.LastKey
	default:
		last = first + (argc-first)/k.Limit + k.LastKey
	}
	if last >= argc {
		return out
	}
	for i := first; i <= last; i += step {
		out = append(out, i)
	}
	return out
}

// keySpecs returns the command's key specs: those it declares, or else the
// one range FirstKey/LastKey/Step describes, split where keySpecFlags
// gives its keys different flags (RENAME's source and destination).
func (s *Spec) keySpecs() []KeySpec {
	if len(s.KeySpecs) > 0 || s.FirstKey <= 0 {
		return s.KeySpecs
	}
	flags := keySpecFlags[s.FullName()]
	last := s.LastKey // relative to FirstKey; negative: from the end
	if last > 0 {
		last -= s.FirstKey
	}
	step := max(s.Step, 1)
	// Keys with flags of their own (RENAME's source, then destination)
	// get a spec each; the last flags stand for the rest of the range.
	var out []KeySpec
	index := s.FirstKey
	for i := 0; i+1 < len(flags); i++ {
		if last >= 0 && index > s.FirstKey+last {
			return out
		}
		out = append(out, KeySpec{Flags: strings.Join(flags[i], " "), Index: index, Step: 1})
		index += step
		if last > 0 {
			last -= step
		}
	}
	if last >= 0 && index > s.FirstKey+max(s.LastKey-s.FirstKey, 0) {
		return out
	}
	f := ""
	if len(flags) > 0 {
		f = strings.Join(flags[len(flags)-1], " ")
	}
	return append(out, KeySpec{Flags: f, Index: index, LastKey: last, Step: step})
}

// flagsOf is a key spec's flags as COMMAND shows them ("RW", "access", ...).
func (s *Spec) flagsOf(k KeySpec) []string {
	if k.Flags != "" {
		return strings.Fields(k.Flags)
	}
	if s.Flags&FlagWrite != 0 {
		return []string{"RW", "access", "update"}
	}
	return []string{"RO", "access"}
}

// incompleteSpecs reports whether a declared spec is flagged incomplete.
func (s *Spec) incompleteSpecs() bool {
	for _, k := range s.KeySpecs {
		if strings.Contains(" "+k.Flags+" ", " incomplete ") {
			return true
		}
	}
	return false
}

// aclAccess is what a key spec's flags ask of a user's key permissions,
// as Redis' ACL check: read for access, write for insert, delete or
// update; neither (EXISTS' keys) needs no particular one.
func (s *Spec) aclAccess(k KeySpec) acl.KeyAccess {
	var a acl.KeyAccess
	for _, f := range s.flagsOf(k) {
		switch f {
		case "access":
			a |= acl.KeyRead
		case "insert", "delete", "update":
			a |= acl.KeyWrite
		}
	}
	if a == 0 {
		return acl.KeyNone
	}
	return a
}

// keySpecRefs finds the keys of a command that declares key specs, each
// with the access its spec asks for (then those MovableKeys finds, with the
// command's own access).
func (s *Spec) keySpecRefs(args [][]byte) []acl.KeyRef {
	var out []acl.KeyRef
	for _, k := range s.KeySpecs {
		access := s.aclAccess(k)
		for _, p := range k.positions(args, nil) {
			out = append(out, acl.KeyRef{Pos: p, Access: access})
		}
	}
	if s.MovableKeys != nil {
		for _, p := range s.MovableKeys(args) {
			out = append(out, acl.KeyRef{Pos: p, Access: s.keyAccess()})
		}
	}
	return out
}

// hasKeys reports whether the command names keys at all.
func (s *Spec) hasKeys() bool {
	return s.FirstKey > 0 || s.MovableKeys != nil || len(s.KeySpecs) > 0
}

// writeKeySpecs writes COMMAND INFO's key-specs element.
func writeKeySpecs(c *Call, s *Spec) {
	specs := s.keySpecs()
	c.W.Array(len(specs))
	for _, k := range specs {
		if k.Notes != "" {
			c.W.Map(4)
			c.W.BulkString("notes")
			c.W.BulkString(k.Notes)
		} else {
			c.W.Map(3)
		}
		c.W.BulkString("flags")
		flags := s.flagsOf(k)
		c.W.Set(len(flags))
		for _, f := range flags {
			c.W.Simple(f)
		}
		c.W.BulkString("begin_search")
		switch {
		case k.Unknown:
			writeSearch(c, "unknown")
		case k.Keyword != "":
			writeSearch(c, "keyword", "keyword", k.Keyword, "startfrom", k.StartFrom)
		default:
			writeSearch(c, "index", "index", k.Index)
		}
		c.W.BulkString("find_keys")
		switch {
		case k.Unknown:
			writeSearch(c, "unknown")
		case k.KeyNum:
			writeSearch(c, "keynum", "keynumidx", k.KeyNumIdx, "firstkey", k.FirstKey, "keystep", max(k.Step, 1))
		default:
			writeSearch(c, "range", "lastkey", k.LastKey, "keystep", max(k.Step, 1), "limit", k.Limit)
		}
	}
}

// writeSearch writes {type: typ, spec: {name: value, ...}}, values being
// strings or ints.
func writeSearch(c *Call, typ string, spec ...any) {
	c.W.Map(2)
	c.W.BulkString("type")
	c.W.BulkString(typ)
	c.W.BulkString("spec")
	c.W.Map(len(spec) / 2)
	for i := 0; i+1 < len(spec); i += 2 {
		c.W.BulkString(spec[i].(string))
		switch v := spec[i+1].(type) {
		case string:
			c.W.BulkString(v)
		case int:
			c.W.Int(int64(v))
		}
	}
}
