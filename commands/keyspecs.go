package commands

// COMMAND GETKEYSANDFLAGS: each key of a command with its Redis 7 key-spec
// flags (RO/RW/OW/RM and access/update/insert/delete). The flags of the
// commands whose keys are not all alike are listed here, per key in order
// (the last entry stands for the remaining keys); the others follow from
// the command's own flags: a read-only command's keys are "RO access", a
// write command's "RW access update".

var keySpecFlags = map[string][][]string{
	"set":               {{"OW", "update"}},
	"mset":              {{"OW", "update"}},
	"msetnx":            {{"OW", "insert"}},
	"setex":             {{"OW", "update"}},
	"psetex":            {{"OW", "update"}},
	"setnx":             {{"OW", "insert"}},
	"getset":            {{"RW", "access", "update"}},
	"getdel":            {{"RW", "access", "delete"}},
	"del":               {{"RM", "delete"}},
	"unlink":            {{"RM", "delete"}},
	"rename":            {{"RW", "access", "delete"}, {"OW", "update"}},
	"renamenx":          {{"RW", "access", "delete"}, {"OW", "insert"}},
	"copy":              {{"RO", "access"}, {"OW", "update"}},
	"lmove":             {{"RW", "access", "delete"}, {"RW", "insert"}},
	"blmove":            {{"RW", "access", "delete"}, {"RW", "insert"}},
	"rpoplpush":         {{"RW", "access", "delete"}, {"RW", "insert"}},
	"brpoplpush":        {{"RW", "access", "delete"}, {"RW", "insert"}},
	"smove":             {{"RW", "access", "delete"}, {"RW", "insert"}},
	"lpush":             {{"RW", "insert"}},
	"rpush":             {{"RW", "insert"}},
	"sadd":              {{"RW", "insert"}},
	"sort":              {{"RO", "access"}, {"OW", "update"}},
	"sinterstore":       {{"OW", "update"}, {"RO", "access"}},
	"sunionstore":       {{"OW", "update"}, {"RO", "access"}},
	"sdiffstore":        {{"OW", "update"}, {"RO", "access"}},
	"zunionstore":       {{"OW", "update"}, {"RO", "access"}},
	"zinterstore":       {{"OW", "update"}, {"RO", "access"}},
	"zdiffstore":        {{"OW", "update"}, {"RO", "access"}},
	"zrangestore":       {{"OW", "update"}, {"RO", "access"}},
	"bitop":             {{"OW", "update"}, {"RO", "access"}},
	"geosearchstore":    {{"OW", "update"}, {"RO", "access"}},
	"georadius":         {{"RO", "access"}, {"OW", "update"}},
	"georadiusbymember": {{"RO", "access"}, {"OW", "update"}},
	"pfmerge":           {{"RW", "access", "insert"}, {"RO", "access"}},
	"xadd":              {{"RW", "update"}},
	"expire":            {{"RW", "update"}},
	"pexpire":           {{"RW", "update"}},
	"persist":           {{"RW", "update"}},
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
	s, args, pos, ok := commandKeys(c)
	if !ok {
		return
	}
	specs := keySpecFlags[s.FullName()]
	c.W.Array(len(pos))
	for i, p := range pos {
		var flags []string
		switch {
		case len(specs) > 0:
			flags = specs[min(i, len(specs)-1)]
		case s.Flags&FlagWrite != 0:
			flags = []string{"RW", "access", "update"}
		default:
			flags = []string{"RO", "access"}
		}
		c.W.Array(2)
		c.W.Bulk(args[p])
		c.W.Set(len(flags))
		for _, f := range flags {
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
