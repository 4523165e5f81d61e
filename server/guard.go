package server

import (
	"bytes"
	"fmt"
	"io"
)

// Limits of the framing guard (Redis' own limits and words).
const (
	maxMultibulk  = 1024 * 1024 // arguments in one command
	maxInlineLine = 64 * 1024   // PROTO_INLINE_MAX_SIZE
	maxHeaderLine = 64 * 1024   // a *N or $N line without its CRLF
)

// guardBufSize is the buffer a streaming guard reads into (Read).
const guardBufSize = 16 * 1024

// ProtocolError is a framing violation. Its text is the error reply, without
// the leading '-'; the connection is closed after it is sent.
type ProtocolError struct{ Msg string }

func (e *ProtocolError) Error() string { return e.Msg }

func protoErr(format string, args ...any) *ProtocolError {
	return &ProtocolError{Msg: "ERR Protocol error: " + fmt.Sprintf(format, args...)}
}

type guardState int

const (
	stCommand    guardState = iota // at the start of a command
	stBulkHeader                   // expecting $N
	stPayload                      // inside a bulk payload
	stTerminator                   // the CRLF after a payload
)

// guard sits between the socket and redcon's parser. It follows the RESP
// framing of the byte stream without buffering payloads, and stops the stream
// at the first header that redcon must never see: a bulk length over the
// limit, negative or not a number (redcon overflows an index on lengths near
// 2^63 and panics), too many arguments, or an over-long inline or header line.
// Bytes up to the violation are delivered; the next Read returns the
// *ProtocolError. Empty multibulks (*0, *-1), which Redis skips and redcon
// rejects, are dropped from the stream.
type guard struct {
	r       io.Reader
	maxBulk int64

	state     guardState
	argsLeft  int64
	payload   int64 // payload bytes left in the current bulk
	termLeft  int   // terminator bytes left (2, 1)
	carry     []byte
	pending   []byte // validated bytes not yet handed to the reader
	buf       []byte
	err       error
	readBytes int64
	// complete counts the commands whose last byte has gone through, so a
	// reader parsing in place knows when another attempt can succeed.
	complete int64

	// The command in progress, for CLIENT LIST's qbuf and argv-mem (Redis
	// moves the complete arguments of a command it has not all of into
	// argv, so its qbuf is the unparsed rest): partial is the bytes of it
	// delivered so far, elem those of its current argument's payload, and
	// argBytes the payload bytes of its complete arguments.
	partial, elem, argBytes int64

	// unauth applies Redis' limits for clients that have not authenticated
	// (at most 10 arguments, bulks of at most 16 KB), so an unauthenticated
	// client cannot make the server hold large input. It is set by the
	// owner before feed.
	unauth bool
	// authHeld is a header over those limits: it stands only if the client
	// is still unauthenticated once the commands before it have run (an
	// AUTH pipelined before it lifts the limits). Input after it is kept
	// in carry until resolveAuth.
	authHeld *ProtocolError
	// authed reports whether the client has authenticated, for Read (a
	// streaming reader decides on a held header when it asks for more).
	authed func() bool
}

// Limits for unauthenticated clients, as Redis 7 has them.
const (
	maxUnauthMultibulk = 10
	maxUnauthBulk      = 16384
	// maxHeldInput bounds what an unauthenticated client may send past a
	// held header before its fate is known.
	maxHeldInput = 1 << 20
)

func newGuard(r io.Reader, maxBulk int64) *guard {
	// buf is only for Read (the streaming path): an event loop's
	// connections feed the guard and never need it.
	return &guard{r: r, maxBulk: maxBulk}
}

// Read implements io.Reader.
func (g *guard) Read(p []byte) (int, error) {
	for {
		if len(g.pending) > 0 {
			n := copy(p, g.pending)
			g.pending = g.pending[n:]
			return n, nil
		}
		if g.err != nil {
			return 0, g.err
		}
		if g.authHeld != nil && g.authed != nil {
			// The reader asks for more only once the commands delivered
			// so far have run: decide on the held header now.
			g.pending = g.resolveAuth(g.authed())
			continue
		}
		// A large payload passes straight through, without a copy.
		if g.state == stPayload && len(g.carry) == 0 && g.payload >= int64(len(p)) {
			n, err := g.r.Read(p)
			g.readBytes += int64(n)
			g.payload -= int64(n)
			g.partial += int64(n)
			g.elem += int64(n)
			if g.payload == 0 {
				g.state, g.termLeft = stTerminator, 2
			}
			return n, err
		}
		if g.buf == nil {
			g.buf = make([]byte, guardBufSize)
		}
		n, err := g.r.Read(g.buf)
		if n > 0 {
			g.pending = g.feed(g.buf[:n])
		}
		if err != nil {
			if len(g.pending) > 0 {
				g.err = err
				continue
			}
			return 0, err
		}
	}
}

// feed validates the next bytes of the stream and returns those that may be
// parsed (data itself, or a prefix of it, when nothing had to be carried or
// dropped). After a violation, g.err is set and nothing more is delivered.
func (g *guard) feed(data []byte) []byte {
	g.readBytes += int64(len(data))
	if g.err != nil {
		return nil
	}
	if g.authHeld != nil {
		g.carry = append(g.carry, data...)
		if len(g.carry) > maxHeldInput {
			g.err, g.authHeld, g.carry = g.authHeld, nil, nil
		}
		return nil
	}
	if len(g.carry) > 0 {
		data = append(g.carry, data...)
		g.carry = nil
	}
	return g.scan(data)
}

// resolveAuth decides on a held header once the commands before it have
// run: still unauthenticated, it becomes the stream's error; authenticated,
// the limits are lifted and the held input is validated and returned.
func (g *guard) resolveAuth(authed bool) []byte {
	if g.authHeld == nil {
		return nil
	}
	held := g.carry
	g.carry = nil
	if !authed {
		g.err, g.authHeld = g.authHeld, nil
		return nil
	}
	g.authHeld, g.unauth = nil, false
	return g.scan(held)
}

// hold stops delivery at data[i:], an unauthenticated client's header over
// the limits, until resolveAuth.
func (g *guard) hold(data []byte, i int, what string) {
	g.carry = append([]byte(nil), data[i:]...)
	g.authHeld = protoErr("unauthenticated %s", what)
}

// scan validates data, returns the bytes to deliver, and keeps an incomplete
// header in g.carry. On a violation it sets g.err and returns what preceded it.
func (g *guard) scan(data []byte) []byte {
	// out stays a prefix of data (no copy) until a byte has to be dropped;
	// only then are the delivered runs copied out.
	out := data[:0]
	contiguous := true
	start := 0 // start of the run of bytes to deliver
	flush := func(end int) {
		if end <= start {
			return
		}
		if contiguous && start == len(out) {
			out = data[:end]
			return
		}
		if contiguous {
			out = append([]byte(nil), out...)
			contiguous = false
		}
		out = append(out, data[start:end]...)
	}
	i := 0
	for i < len(data) {
		switch g.state {
		case stCommand:
			if data[i] == '*' {
				j := bytes.IndexByte(data[i:], '\n')
				if j < 0 {
					if len(data)-i > maxHeaderLine {
						flush(i)
						g.err = protoErr("too big mbulk count string")
						return out
					}
					flush(i)
					g.carry = append([]byte(nil), data[i:]...)
					return out
				}
				line := data[i+1 : i+j]
				if len(line) == 0 || line[len(line)-1] != '\r' {
					flush(i)
					g.err = protoErr("invalid multibulk length")
					return out
				}
				count, ok := parseLen(line[:len(line)-1])
				if !ok || count > maxMultibulk {
					flush(i)
					g.err = protoErr("invalid multibulk length")
					return out
				}
				if g.unauth && count > maxUnauthMultibulk {
					flush(i)
					g.hold(data, i, "multibulk length")
					return out
				}
				if count <= 0 {
					// Skipped, as Redis does: drop the line from the stream.
					flush(i)
					i += j + 1
					start = i
					continue
				}
				g.argsLeft = count
				g.state = stBulkHeader
				g.partial, g.elem, g.argBytes = int64(j+1), 0, 0
				i += j + 1
				continue
			}
			j := bytes.IndexByte(data[i:], '\n')
			if j < 0 {
				if len(data)-i > maxInlineLine {
					flush(i)
					g.err = protoErr("too big inline request")
					return out
				}
				flush(i)
				g.carry = append([]byte(nil), data[i:]...)
				return out
			}
			if j > maxInlineLine {
				flush(i)
				g.err = protoErr("too big inline request")
				return out
			}
			i += j + 1
			g.complete++
		case stBulkHeader:
			if data[i] != '$' {
				flush(i)
				g.err = protoErr("expected '$', got '%c'", data[i])
				return out
			}
			j := bytes.IndexByte(data[i:], '\n')
			if j < 0 {
				if len(data)-i > maxHeaderLine {
					flush(i)
					g.err = protoErr("too big bulk count string")
					return out
				}
				flush(i)
				g.carry = append([]byte(nil), data[i:]...)
				return out
			}
			line := data[i+1 : i+j]
			if len(line) == 0 || line[len(line)-1] != '\r' {
				flush(i)
				g.err = protoErr("invalid bulk length")
				return out
			}
			size, ok := parseLen(line[:len(line)-1])
			if !ok || size < 0 || size > g.maxBulk {
				flush(i)
				g.err = protoErr("invalid bulk length")
				return out
			}
			if g.unauth && size > maxUnauthBulk {
				flush(i)
				g.hold(data, i, "bulk length")
				return out
			}
			g.payload = size
			g.state = stPayload
			if size == 0 {
				g.state, g.termLeft = stTerminator, 2
			}
			g.partial += int64(j + 1)
			g.elem = 0
			i += j + 1
		case stPayload:
			k := int64(len(data) - i)
			if k > g.payload {
				k = g.payload
			}
			i += int(k)
			g.payload -= k
			g.partial += k
			g.elem += k
			if g.payload == 0 {
				g.state, g.termLeft = stTerminator, 2
			}
		case stTerminator:
			want := byte('\r')
			if g.termLeft == 1 {
				want = '\n'
			}
			if data[i] != want {
				flush(i)
				g.err = protoErr("invalid bulk length")
				return out
			}
			i++
			g.termLeft--
			g.partial++
			g.elem++
			if g.termLeft == 0 {
				g.argsLeft--
				g.argBytes += g.elem - 2
				g.elem = 0
				if g.argsLeft == 0 {
					g.state = stCommand
					g.complete++
					g.partial, g.argBytes = 0, 0
				} else {
					g.state = stBulkHeader
				}
			}
		}
	}
	flush(len(data))
	return out
}

// parseLen parses a RESP length: an optional '-' and decimal digits, at most
// 18 of them so it can never overflow.
func parseLen(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	neg := false
	if b[0] == '-' {
		neg = true
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// inProgress reports the command the guard is inside of, as Redis would
// hold it: argv is the payload bytes of its complete arguments (Redis'
// argv), parsed the bytes of it that Redis would have consumed from its
// query buffer (headers and complete arguments), and carried the bytes of
// an incomplete header or inline line kept back from delivery.
func (g *guard) inProgress() (argv, parsed, carried int64) {
	if g.state == stCommand {
		return 0, 0, int64(len(g.carry))
	}
	return g.argBytes, g.partial - g.elem, int64(len(g.carry))
}
