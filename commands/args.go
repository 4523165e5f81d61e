package commands

import (
	"strings"
	"unsafe"

	"github.com/sessiond/sessiond/engine"
)

// Argument parsing shared by every family. Numbers parse exactly as Redis
// parses them (string2ll / string2ld), so the same input fails the same way.

func parseInt(b []byte) (int64, bool) {
	n, err := engine.ParseRedisInt(unsafe.String(unsafe.SliceData(b), len(b)))
	return n, err == nil
}

func parseFloat(b []byte) (float64, bool) {
	f, err := engine.ParseRedisFloat(string(b))
	return f, err == nil
}

// keyword reports whether arg equals word, ignoring ASCII case.
func keyword(arg []byte, word string) bool {
	return len(arg) == len(word) && strings.EqualFold(unsafe.String(unsafe.SliceData(arg), len(arg)), word)
}

// upper returns arg upper-cased, for switch statements over keywords.
func upper(arg []byte) string { return strings.ToUpper(string(arg)) }

// writeErr maps an engine error onto its reply.
func writeErr(c *Call, err error) {
	switch err {
	case engine.ErrWrongType:
		c.W.Error(msgWrongType)
	case engine.ErrNoSuchKey:
		c.W.Error(msgNoSuchKey)
	case engine.ErrNotInteger:
		c.W.Error(msgNotInt)
	case engine.ErrNotFloat:
		c.W.Error(msgNotFloat)
	case engine.ErrOverflow:
		c.W.Error(msgOverflow)
	case engine.ErrNaN:
		c.W.Error(msgNaN)
	case engine.ErrTooLarge:
		c.W.Error(msgTooLarge)
	default:
		msg := err.Error()
		if !strings.HasPrefix(msg, "ERR ") && !strings.HasPrefix(msg, "WRONGTYPE") && !strings.HasPrefix(msg, "UNBLOCKED") {
			msg = "ERR " + msg
		}
		c.W.Error(msg)
	}
}

// replyInt answers the result of a command whose reply is an integer: the
// error, or the integer.
func replyInt(c *Call, n int64, err error) {
	if err != nil {
		writeErr(c, err)
		return
	}
	c.W.Int(n)
}

// replyBulkOrNull answers the result of a single-value read: the error, a
// null when the value is missing, or the value.
func replyBulkOrNull(c *Call, v string, ok bool, err error) {
	switch {
	case err != nil:
		writeErr(c, err)
	case !ok:
		c.W.Null()
	default:
		c.W.BulkString(v)
	}
}
