// Package resp encodes replies in the Redis serialization protocol, version 2 or 3.
//
// A Writer appends to an in-memory buffer; it never touches a socket. The same
// call sequence produces the RESP3 type where one exists (map, set, null,
// double, boolean, push) and the RESP2 shape that Redis itself uses for it
// (flat arrays, bulk strings, integers) otherwise.
package resp

import (
	"math"
	"strconv"
	"strings"
)

// Writer accumulates encoded replies. The zero value speaks RESP2.
type Writer struct {
	buf   []byte
	proto int
}

// NewWriter returns a Writer for protocol version proto (2 or 3).
func NewWriter(proto int) *Writer { return &Writer{proto: proto} }

// SetProto switches the protocol version used by later replies.
func (w *Writer) SetProto(proto int) { w.proto = proto }

// Proto reports the protocol version in use (2 or 3).
func (w *Writer) Proto() int {
	if w.proto == 3 {
		return 3
	}
	return 2
}

// Bytes returns the encoded replies; the slice is valid until the next write or Reset.
func (w *Writer) Bytes() []byte { return w.buf }

// Len reports how many encoded bytes are pending.
func (w *Writer) Len() int { return len(w.buf) }

// Reset discards pending bytes, keeping the buffer's capacity.
func (w *Writer) Reset() { w.buf = w.buf[:0] }

// Release drops the buffer, so the room a big reply took is given back;
// the next reply starts a new one.
func (w *Writer) Release() { w.buf = nil }

// Truncate drops everything written after the first n bytes.
func (w *Writer) Truncate(n int) { w.buf = w.buf[:n] }

// Raw appends bytes that are already encoded.
func (w *Writer) Raw(b []byte) { w.buf = append(w.buf, b...) }

// Simple writes a simple string (+OK). Newlines are replaced by spaces, as Redis does.
func (w *Writer) Simple(s string) {
	w.buf = append(w.buf, '+')
	w.buf = appendLine(w.buf, s)
}

// OK writes +OK.
func (w *Writer) OK() { w.buf = append(w.buf, "+OK\r\n"...) }

// Error writes an error reply. msg must start with its code ("ERR ...",
// "WRONGTYPE ..."); newlines are replaced by spaces so the frame stays valid.
func (w *Writer) Error(msg string) {
	w.buf = append(w.buf, '-')
	w.buf = appendLine(w.buf, msg)
}

func appendLine(b []byte, s string) []byte {
	if strings.ContainsAny(s, "\r\n") {
		s = strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
	}
	b = append(b, s...)
	return append(b, '\r', '\n')
}

// Int writes an integer.
func (w *Writer) Int(n int64) {
	w.buf = append(w.buf, ':')
	w.buf = strconv.AppendInt(w.buf, n, 10)
	w.buf = append(w.buf, '\r', '\n')
}

// Bulk writes a binary-safe bulk string.
func (w *Writer) Bulk(b []byte) {
	w.buf = append(w.buf, '$')
	w.buf = strconv.AppendInt(w.buf, int64(len(b)), 10)
	w.buf = append(w.buf, '\r', '\n')
	w.buf = append(w.buf, b...)
	w.buf = append(w.buf, '\r', '\n')
}

// BulkString writes a binary-safe bulk string.
func (w *Writer) BulkString(s string) {
	w.buf = append(w.buf, '$')
	w.buf = strconv.AppendInt(w.buf, int64(len(s)), 10)
	w.buf = append(w.buf, '\r', '\n')
	w.buf = append(w.buf, s...)
	w.buf = append(w.buf, '\r', '\n')
}

// BulkStrings writes an array of bulk strings.
func (w *Writer) BulkStrings(items []string) {
	w.Array(len(items))
	for _, s := range items {
		w.BulkString(s)
	}
}

// BulkInt writes an integer as a bulk string, as INCRBYFLOAT-style replies do.
func (w *Writer) BulkInt(n int64) {
	var tmp [24]byte
	w.Bulk(strconv.AppendInt(tmp[:0], n, 10))
}

// Null writes the null bulk string: $-1 in RESP2, _ in RESP3.
func (w *Writer) Null() {
	if w.proto == 3 {
		w.buf = append(w.buf, "_\r\n"...)
		return
	}
	w.buf = append(w.buf, "$-1\r\n"...)
}

// NullArray writes the null array: *-1 in RESP2, _ in RESP3.
func (w *Writer) NullArray() {
	if w.proto == 3 {
		w.buf = append(w.buf, "_\r\n"...)
		return
	}
	w.buf = append(w.buf, "*-1\r\n"...)
}

func (w *Writer) header(c byte, n int) {
	w.buf = append(w.buf, c)
	w.buf = strconv.AppendInt(w.buf, int64(n), 10)
	w.buf = append(w.buf, '\r', '\n')
}

// Array writes the header of an array of n elements.
func (w *Writer) Array(n int) { w.header('*', n) }

// Map writes the header of a map of n pairs: %n in RESP3, an array of 2n in RESP2.
func (w *Writer) Map(n int) {
	if w.proto == 3 {
		w.header('%', n)
		return
	}
	w.header('*', 2*n)
}

// Set writes the header of a set of n members: ~n in RESP3, an array in RESP2.
func (w *Writer) Set(n int) {
	if w.proto == 3 {
		w.header('~', n)
		return
	}
	w.header('*', n)
}

// Push writes the header of an out-of-band push of n elements: >n in RESP3,
// an array in RESP2 (where pub/sub messages are plain arrays).
func (w *Writer) Push(n int) {
	if w.proto == 3 {
		w.header('>', n)
		return
	}
	w.header('*', n)
}

// Double writes a floating point reply: ,f in RESP3, a bulk string in RESP2,
// formatted as Redis formats doubles (17 significant digits, inf, -inf).
func (w *Writer) Double(f float64) {
	if w.proto == 3 {
		w.buf = append(w.buf, ',')
		w.buf = append(w.buf, FormatDouble(f)...)
		w.buf = append(w.buf, '\r', '\n')
		return
	}
	w.BulkString(FormatDouble(f))
}

// Bool writes a boolean: #t/#f in RESP3, :1/:0 in RESP2.
func (w *Writer) Bool(b bool) {
	if w.proto == 3 {
		if b {
			w.buf = append(w.buf, "#t\r\n"...)
		} else {
			w.buf = append(w.buf, "#f\r\n"...)
		}
		return
	}
	if b {
		w.Int(1)
	} else {
		w.Int(0)
	}
}

// Verbatim writes a verbatim text reply (=len txt:...) in RESP3, a bulk string in RESP2.
func (w *Writer) Verbatim(s string) {
	if w.proto == 3 {
		w.buf = append(w.buf, '=')
		w.buf = strconv.AppendInt(w.buf, int64(len(s)+4), 10)
		w.buf = append(w.buf, "\r\ntxt:"...)
		w.buf = append(w.buf, s...)
		w.buf = append(w.buf, '\r', '\n')
		return
	}
	w.BulkString(s)
}

// FormatDouble formats f the way Redis replies with doubles ("%.17g", inf, -inf, nan).
func FormatDouble(f float64) string { return FormatG(f, 17) }

// FormatG formats f as C's "%.<digits>g", with inf, -inf and nan spelled
// as Redis and Lua spell them.
func FormatG(f float64, digits int) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	return strconv.FormatFloat(f, 'g', digits, 64)
}

// FormatHumanDouble formats f the way INCRBYFLOAT and HINCRBYFLOAT do: the
// shortest decimal that round-trips, never with an exponent.
func FormatHumanDouble(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if s == "-0" {
		return "0"
	}
	return s
}
