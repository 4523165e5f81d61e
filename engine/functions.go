package engine

import (
	"encoding/binary"
	"hash/crc32"
	"strings"
)

// Function libraries (FUNCTION LOAD): the code of each library is kept as
// one item "f" + lowercase library name -> code, outside every database, so
// KEYS, SCAN, DBSIZE, FLUSHDB and FLUSHALL never see or remove it, and it
// is written to the data file like any record (a library survives restart).

const funcPrefix = "f"

// FunctionLibraries returns the code of every stored library, ordered by
// lowercase library name.
func (tx *Tx) FunctionLibraries() []string {
	var out []string
	tx.bt.AscendGreaterOrEqual("", funcPrefix, func(k, v string) bool {
		if !strings.HasPrefix(k, funcPrefix) {
			return false
		}
		out = append(out, v)
		return true
	})
	return out
}

// SetFunctionLibrary stores (or replaces) the code of library name.
func (tx *Tx) SetFunctionLibrary(name, code string) {
	tx.setItem(funcPrefix+strings.ToLower(name), code)
	tx.wrote = true
}

// DeleteFunctionLibrary removes library name; it reports whether it existed.
func (tx *Tx) DeleteFunctionLibrary(name string) bool {
	_, err := tx.bt.Delete(funcPrefix + strings.ToLower(name))
	if err == nil {
		tx.wrote = true
	}
	return err == nil
}

// FlushFunctionLibraries removes every library.
func (tx *Tx) FlushFunctionLibraries() {
	tx.deletePrefix(funcPrefix)
	tx.wrote = true
}

// keepFunctions returns the library items, for FlushAll to put back.
func (tx *Tx) keepFunctions() [][2]string {
	var out [][2]string
	tx.bt.AscendGreaterOrEqual("", funcPrefix, func(k, v string) bool {
		if !strings.HasPrefix(k, funcPrefix) {
			return false
		}
		out = append(out, [2]string{k, v})
		return true
	})
	return out
}

// functionDumpMagic starts a FUNCTION DUMP payload (sessiond's own format,
// not Redis' RDB: a payload moves between sessiond servers only).
const functionDumpMagic = "SDF1"

// DumpFunctions serializes library codes for FUNCTION DUMP: the magic, each
// code length-prefixed, and a CRC-32C of all that.
func DumpFunctions(codes []string) string {
	b := []byte(functionDumpMagic)
	for _, c := range codes {
		b = binary.AppendUvarint(b, uint64(len(c)))
		b = append(b, c...)
	}
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
	return string(b)
}

// UndumpFunctions reads a DumpFunctions payload back; a payload that is
// truncated, altered or of another format is ErrBadDump.
func UndumpFunctions(payload string) ([]string, error) {
	if len(payload) < len(functionDumpMagic)+4 || payload[:len(functionDumpMagic)] != functionDumpMagic {
		return nil, ErrBadDump
	}
	body, sum := payload[:len(payload)-4], payload[len(payload)-4:]
	if crc32.Checksum([]byte(body), crcTable) != binary.BigEndian.Uint32([]byte(sum)) {
		return nil, ErrBadDump
	}
	d := decoder{s: body[len(functionDumpMagic):]}
	var out []string
	for len(d.s) > 0 && !d.bad {
		out = append(out, d.str())
	}
	if d.bad {
		return nil, ErrBadDump
	}
	return out, nil
}
