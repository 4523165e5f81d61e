package commands

import "github.com/sessiond/sessiond/acl"

// Key access of the commands whose keys differ in what the command does
// with them (a read source and a written destination) or whose options
// decide it (SET ... GET): declarations point their Spec.KeyRefs here.
// What a command does with a key follows Redis 7's key specs: read means
// the value is returned or used (ACCESS), write means it is inserted,
// updated or deleted.

const (
	keyR  = acl.KeyRead
	keyW  = acl.KeyWrite
	keyRW = acl.KeyRead | acl.KeyWrite
)

// keysAt: the key at each position with the access given for it.
func keysAt(args [][]byte, refs ...acl.KeyRef) []acl.KeyRef {
	out := refs[:0:0]
	for _, r := range refs {
		if r.Pos > 0 && r.Pos < len(args) {
			out = append(out, r)
		}
	}
	return out
}

// srcDestKeys: args[1] is a source the command reads and changes (LMOVE,
// RPOPLPUSH, SMOVE), args[2] a destination it writes.
func srcDestKeys(args [][]byte) []acl.KeyRef {
	return keysAt(args, acl.KeyRef{Pos: 1, Access: keyRW}, acl.KeyRef{Pos: 2, Access: keyW})
}

// copyKeys: COPY source destination.
func copyKeys(args [][]byte) []acl.KeyRef {
	return keysAt(args, acl.KeyRef{Pos: 1, Access: keyR}, acl.KeyRef{Pos: 2, Access: keyW})
}

// storeKeys: args[1] is a destination written, the other keys (from first
// to the end, or numkeys-counted when counted) are sources read.
func storeKeys(counted bool, first int) func(args [][]byte) []acl.KeyRef {
	return func(args [][]byte) []acl.KeyRef {
		refs := keysAt(args, acl.KeyRef{Pos: 1, Access: keyW})
		if counted {
			return append(refs, numKeys(first, keyR)(args)...)
		}
		for i := first; i < len(args); i++ {
			refs = append(refs, acl.KeyRef{Pos: i, Access: keyR})
		}
		return refs
	}
}

// numKeys: args[at] is a count of the keys that follow it (EVAL,
// SINTERCARD, LMPOP); a count that is not a number or too big names no
// keys (the command then fails on its own).
func numKeys(at int, access acl.KeyAccess) func(args [][]byte) []acl.KeyRef {
	return func(args [][]byte) []acl.KeyRef {
		if at >= len(args) {
			return nil
		}
		n, ok := parseInt(args[at])
		if !ok || n <= 0 || n > int64(len(args)-at-1) {
			return nil
		}
		out := make([]acl.KeyRef, 0, n)
		for i := 1; i <= int(n); i++ {
			out = append(out, acl.KeyRef{Pos: at + i, Access: access})
		}
		return out
	}
}

// setKeys: SET writes its key, and reads it too with GET.
func setKeys(args [][]byte) []acl.KeyRef {
	access := keyW
	for _, a := range args[3:] {
		if keyword(a, "GET") {
			access = keyRW
		}
	}
	return keysAt(args, acl.KeyRef{Pos: 1, Access: access})
}

// bitfieldKeys: BITFIELD reads its key, and writes it with SET or INCRBY.
func bitfieldKeys(args [][]byte) []acl.KeyRef {
	access := keyR
	for _, a := range args[2:] {
		if keyword(a, "SET") || keyword(a, "INCRBY") {
			access = keyRW
		}
	}
	return keysAt(args, acl.KeyRef{Pos: 1, Access: access})
}

// sortKeys: SORT reads its key and writes a STORE destination.
func sortKeys(args [][]byte) []acl.KeyRef {
	refs := keysAt(args, acl.KeyRef{Pos: 1, Access: keyR})
	for i := 2; i+1 < len(args); i++ {
		if keyword(args[i], "STORE") {
			refs = append(refs, acl.KeyRef{Pos: i + 1, Access: keyW})
			i++
		}
	}
	return refs
}
