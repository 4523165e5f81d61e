// Package wire is the bench's own minimal RESP client: a command writer and a reply reader over a
// net.Conn, written by hand so the load generator measures the servers and not a client library.
//
// It speaks RESP2 (the bench never sends HELLO) and also parses the RESP3 types a server might
// send anyway (maps, nulls, booleans, doubles), so a reply is never misread.
package wire

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// Kind is the RESP type of a reply.
type Kind byte

// Reply kinds, named by their RESP prefix.
const (
	Simple  Kind = '+'
	Error   Kind = '-'
	Integer Kind = ':'
	Bulk    Kind = '$'
	Array   Kind = '*'
	Null    Kind = '_' // RESP2 null bulk and null array are reported as Null too
	Map     Kind = '%'
	Set     Kind = '~'
	Bool    Kind = '#'
	Double  Kind = ','
	BigNum  Kind = '('
	Verbat  Kind = '='
	Push    Kind = '>'
)

// Value is one parsed reply. Str holds the payload of Simple, Error, Bulk, Double, BigNum and
// Verbat; Int holds Integer and Bool (0/1); Elems holds Array, Set, Push and Map (Map flattened as
// key, value, key, value).
//
// Str aliases the reader's buffer and Elems is reused: a Value is valid only until the next Read on
// the same Reader. Copy what must be kept (string(v.Str)).
type Value struct {
	Kind  Kind
	Str   []byte
	Int   int64
	Elems []Value
}

// IsError reports whether v is an error reply.
func (v *Value) IsError() bool { return v.Kind == Error }

// Text returns a short printable form of v for error messages.
func (v *Value) Text() string {
	switch v.Kind {
	case Simple, Error, Bulk, Double, BigNum, Verbat:
		s := string(v.Str)
		if len(s) > 120 {
			s = s[:120] + "..."
		}
		return string(v.Kind) + s
	case Integer, Bool:
		return string(v.Kind) + strconv.FormatInt(v.Int, 10)
	case Null:
		return "(nil)"
	default:
		s := string(v.Kind) + "["
		for i := range v.Elems {
			if i > 0 {
				s += " "
			}
			if i == 8 {
				s += "..."
				break
			}
			s += v.Elems[i].Text()
		}
		return s + "]"
	}
}

// Field returns the value of field name in a structured reply: a RESP3 map or a RESP2 flat
// `field value ...` array. ok is false when v is neither or lacks the field.
func (v *Value) Field(name string) (*Value, bool) {
	if v.Kind != Map && v.Kind != Array {
		return nil, false
	}
	for i := 0; i+1 < len(v.Elems); i += 2 {
		k := &v.Elems[i]
		if (k.Kind == Bulk || k.Kind == Simple) && string(k.Str) == name {
			return &v.Elems[i+1], true
		}
	}
	return nil, false
}

// AsInt returns v as an integer: an Integer or Bool, or a Bulk/Simple holding a decimal.
func (v *Value) AsInt() (int64, bool) {
	switch v.Kind {
	case Integer, Bool:
		return v.Int, true
	case Bulk, Simple:
		n, err := strconv.ParseInt(string(v.Str), 10, 64)
		return n, err == nil
	}
	return 0, false
}

// Writer encodes commands as RESP arrays of bulk strings into a buffered writer.
type Writer struct {
	bw  *bufio.Writer
	num [24]byte
}

// NewWriter returns a Writer on w with a buffer of size bytes.
func NewWriter(w io.Writer, size int) *Writer {
	return &Writer{bw: bufio.NewWriterSize(w, size)}
}

// Begin starts a command of n arguments (the name counts as one).
func (w *Writer) Begin(n int) {
	w.bw.WriteByte('*')
	w.bw.Write(strconv.AppendInt(w.num[:0], int64(n), 10))
	w.bw.WriteString("\r\n")
}

// Str writes one argument.
func (w *Writer) Str(s string) {
	w.bw.WriteByte('$')
	w.bw.Write(strconv.AppendInt(w.num[:0], int64(len(s)), 10))
	w.bw.WriteString("\r\n")
	w.bw.WriteString(s)
	w.bw.WriteString("\r\n")
}

// Bytes writes one argument.
func (w *Writer) Bytes(b []byte) {
	w.bw.WriteByte('$')
	w.bw.Write(strconv.AppendInt(w.num[:0], int64(len(b)), 10))
	w.bw.WriteString("\r\n")
	w.bw.Write(b)
	w.bw.WriteString("\r\n")
}

// Int writes one decimal argument.
func (w *Writer) Int(n int64) {
	d := strconv.AppendInt(w.num[:0], n, 10)
	w.bw.WriteByte('$')
	w.bw.WriteString(strconv.Itoa(len(d)))
	w.bw.WriteString("\r\n")
	w.bw.Write(d)
	w.bw.WriteString("\r\n")
}

// Cmd writes a whole command of string arguments.
func (w *Writer) Cmd(args ...string) {
	w.Begin(len(args))
	for _, a := range args {
		w.Str(a)
	}
}

// Flush sends everything buffered.
func (w *Writer) Flush() error { return w.bw.Flush() }

// Reader parses replies from a buffered reader.
type Reader struct {
	br *bufio.Reader
	// scratch for bulk payloads larger than the bufio buffer.
	big []byte
}

// NewReader returns a Reader on r with a buffer of size bytes.
func NewReader(r io.Reader, size int) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, size)}
}

// ErrProtocol is returned for a malformed reply.
var ErrProtocol = errors.New("wire: protocol error")

// maxElems bounds one aggregate's element count, so a corrupt length cannot allocate without limit.
const maxElems = 1 << 24

// Read parses the next reply into v. See Value for how long its contents stay valid.
func (r *Reader) Read(v *Value) error {
	return r.read(v, 0)
}

func (r *Reader) line() ([]byte, error) {
	b, err := r.br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("%w: line longer than buffer", ErrProtocol)
		}
		return nil, err
	}
	if len(b) < 3 || b[len(b)-2] != '\r' {
		return nil, fmt.Errorf("%w: bad line %q", ErrProtocol, b)
	}
	return b[:len(b)-2], nil
}

func parseInt(b []byte) (int64, error) {
	if len(b) == 0 {
		return 0, ErrProtocol
	}
	neg := false
	if b[0] == '-' {
		neg = true
		b = b[1:]
		if len(b) == 0 {
			return 0, ErrProtocol
		}
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' || n > (1<<62)/10 {
			return 0, fmt.Errorf("%w: bad integer %q", ErrProtocol, b)
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, nil
}

func (r *Reader) read(v *Value, depth int) error {
	if depth > 8 {
		return fmt.Errorf("%w: nesting too deep", ErrProtocol)
	}
	b, err := r.line()
	if err != nil {
		return err
	}
	kind := Kind(b[0])
	body := b[1:]
	v.Kind = kind
	v.Str = nil
	v.Int = 0
	v.Elems = nil
	switch kind {
	case Simple, Error, Double, BigNum:
		// body aliases the bufio buffer until the next read from it; copy into scratch so a
		// nested read cannot overwrite it.
		buf := append(r.scratch(depth), body...)
		r.keepScratch(depth, buf)
		v.Str = buf
		return nil
	case Integer:
		v.Int, err = parseInt(body)
		return err
	case Bool:
		if len(body) != 1 || (body[0] != 't' && body[0] != 'f') {
			return fmt.Errorf("%w: bad boolean %q", ErrProtocol, body)
		}
		if body[0] == 't' {
			v.Int = 1
		}
		return nil
	case Null:
		return nil
	case Bulk, Verbat:
		n, err := parseInt(body)
		if err != nil {
			return err
		}
		if n < 0 {
			v.Kind = Null
			return nil
		}
		if n > 1<<30 {
			return fmt.Errorf("%w: bulk of %d bytes", ErrProtocol, n)
		}
		buf := r.scratch(depth)
		if cap(buf) < int(n)+2 {
			buf = make([]byte, int(n)+2)
		}
		buf = buf[:n+2]
		if _, err := io.ReadFull(r.br, buf); err != nil {
			return err
		}
		if buf[n] != '\r' || buf[n+1] != '\n' {
			return fmt.Errorf("%w: bulk not terminated", ErrProtocol)
		}
		r.keepScratch(depth, buf)
		v.Str = buf[:n]
		return nil
	case Array, Set, Push, Map:
		n, err := parseInt(body)
		if err != nil {
			return err
		}
		if n < 0 {
			v.Kind = Null
			return nil
		}
		if kind == Map {
			n *= 2
		}
		if n > maxElems {
			return fmt.Errorf("%w: aggregate of %d elements", ErrProtocol, n)
		}
		elems := make([]Value, n)
		for i := range elems {
			if err := r.read(&elems[i], depth+1); err != nil {
				return err
			}
		}
		v.Elems = elems
		return nil
	default:
		return fmt.Errorf("%w: unknown type %q", ErrProtocol, b[0])
	}
}

// scratch returns the reusable byte buffer for top-level values (depth 0); nested values get
// fresh storage (aggregates are rare on the hot path: only the session replies use them), so
// reading one element never clobbers another.
func (r *Reader) scratch(depth int) []byte {
	if depth == 0 {
		return r.big[:0]
	}
	return nil
}

func (r *Reader) keepScratch(depth int, b []byte) {
	if depth == 0 && cap(b) <= 1<<20 {
		r.big = b[:0]
	}
}

// Conn is a RESP connection: a net.Conn with a Writer and a Reader.
type Conn struct {
	net.Conn
	W *Writer
	R *Reader
}

// Dial connects to addr (which must be a loopback address; the bench never sends traffic
// elsewhere) with a timeout.
func Dial(addr string, timeout time.Duration) (*Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("wire: refusing non-loopback address %s", addr)
	}
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	return &Conn{Conn: c, W: NewWriter(c, 64<<10), R: NewReader(c, 64<<10)}, nil
}

// Do sends one command and reads its reply, with a deadline of timeout for the round trip.
func (c *Conn) Do(timeout time.Duration, v *Value, args ...string) error {
	c.SetDeadline(time.Now().Add(timeout))
	defer c.SetDeadline(time.Time{})
	c.W.Cmd(args...)
	if err := c.W.Flush(); err != nil {
		return err
	}
	return c.R.Read(v)
}
