package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/tidwall/redcon"
)

// chunkReader hands out its data a few bytes at a time, as a socket may.
type chunkReader struct {
	data  []byte
	sizes []byte // chunk sizes, cycled (0 means 1)
	i     int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := 1
	if len(r.sizes) > 0 {
		n = int(r.sizes[r.i%len(r.sizes)])*61 + 1
		r.i++
	}
	n = min(n, len(p), len(r.data))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

const fuzzMaxBulk = 1000

// runGuard feeds input through the guard in chunks and returns the bytes it
// delivered and its final error. It checks, after every Read, that the guard
// holds no more than a header line plus one read buffer of its own.
func runGuard(t *testing.T, input, sizes []byte) ([]byte, error) {
	g := newGuard(&chunkReader{data: input, sizes: sizes}, fuzzMaxBulk)
	bufLen := guardBufSize
	var out []byte
	p := make([]byte, 4096)
	for {
		n, err := g.Read(p)
		out = append(out, p[:n]...)
		if g.buf != nil && (len(g.buf) != bufLen || cap(g.buf) != bufLen) {
			t.Fatalf("the read buffer grew to %d", cap(g.buf))
		}
		if held := len(g.carry) + len(g.pending); held > maxHeaderLine+maxInlineLine+2*bufLen {
			t.Fatalf("the guard holds %d bytes of its own", held)
		}
		if cap(g.carry) > maxInlineLine+2*bufLen {
			t.Fatalf("carry grew to %d", cap(g.carry))
		}
		if err != nil {
			return out, err
		}
		if n == 0 {
			t.Fatal("Read returned 0, nil")
		}
	}
}

// parseAll runs redcon's reader over b, failing the test if it panics, and
// returns the commands it parsed.
func parseAll(t *testing.T, b []byte) (cmds []redcon.Command) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("redcon panicked on the guard's output %q: %v", trunc(b), r)
		}
	}()
	rd := redcon.NewReader(bytes.NewReader(b))
	for {
		got, err := rd.ReadCommands()
		cmds = append(cmds, got...)
		if err != nil {
			return cmds
		}
	}
}

func trunc(b []byte) []byte {
	if len(b) > 200 {
		return b[:200]
	}
	return b
}

// FuzzGuard: whatever arrives, the guard never panics, delivers only a
// subsequence of its input (it may drop empty multibulks), never lets
// through a header redcon would mis-parse (redcon never panics on what it
// delivers, and every argument and argument count is within the limits), and
// keeps no more than a header line plus one read buffer of its own.
//
//	go test ./server -run '^$' -fuzz FuzzGuard -fuzztime 3m
func FuzzGuard(f *testing.F) {
	for _, s := range []string{
		"*1\r\n$9223372036854775807\r\n",
		"*1\r\n$4\r\nPING\r\n",
		"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*0\r\n*-1\r\nPING\r\n",
		"*1048577\r\n",
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1001\r\n",
		"*1\r\n$-1\r\n",
		"*1\r\n$00004\r\nPING\r\n",
		"*1\r\n$4\r\nPINGxx",
		"*2\r\n$1\r\na\r\n+b\r\n",
		"SET a \"b c\"\r\nGET a\n",
		"*\r\n", "$4\r\nPING\r\n", "*1\r\n$\r\n", "*1\r\n$4\rPING\r\n", "*1\n$4\nPING\n",
		"*99999999999999999999\r\n", "*-99999999999999999\r\n",
	} {
		f.Add([]byte(s), []byte{0})
		f.Add([]byte(s), []byte{3, 1, 200})
	}
	f.Fuzz(func(t *testing.T, input, sizes []byte) {
		out, err := runGuard(t, input, sizes)
		var pe *ProtocolError
		if err != io.EOF && !errors.As(err, &pe) {
			t.Fatalf("unexpected error %v", err)
		}
		if !isSubsequence(out, input) {
			t.Fatalf("delivered bytes are not a subsequence of the input")
		}
		parseAll(t, out) // the server's reader must not panic
		checkLimits(t, out)
	})
}

// checkLimits parses the delivered bytes command by command and checks that
// multibulk commands respect the argument count and bulk size limits (inline
// commands are bounded by the line limit).
func checkLimits(t *testing.T, b []byte) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("redcon panicked on the guard's output %q: %v", trunc(b), r)
		}
	}()
	for len(b) > 0 {
		complete, args, kind, left, err := redcon.ReadNextCommand(b, nil)
		if err != nil || !complete {
			return
		}
		if len(args) > maxMultibulk {
			t.Fatalf("a command of %d arguments got through", len(args))
		}
		limit := fuzzMaxBulk
		if kind != redcon.Redis {
			limit = maxInlineLine
		}
		for _, a := range args {
			if len(a) > limit {
				t.Fatalf("an argument of %d bytes got through (kind %v)", len(a), kind)
			}
		}
		b = left
	}
}

func isSubsequence(sub, s []byte) bool {
	i := 0
	for j := 0; j < len(s) && i < len(sub); j++ {
		if s[j] == sub[i] {
			i++
		}
	}
	return i == len(sub)
}

// FuzzGuardValid: any well-formed stream of commands passes the guard
// unchanged, in any chunking, and redcon reads back exactly the commands.
//
//	go test ./server -run '^$' -fuzz FuzzGuardValid -fuzztime 3m
func FuzzGuardValid(f *testing.F) {
	f.Add([]byte("PING\x00GET\x01k\x00SET\x01k\x01v"), []byte{0})
	f.Add([]byte("\x00\x00a\r\nb\x01\x01"), []byte{5, 9})
	f.Fuzz(func(t *testing.T, spec, sizes []byte) {
		// spec: commands separated by 0x00, arguments by 0x01.
		var want [][][]byte
		var stream bytes.Buffer
		for _, cmd := range bytes.Split(spec, []byte{0}) {
			args := bytes.Split(cmd, []byte{1})
			if len(args) == 1 && len(args[0]) == 0 {
				stream.WriteString("*0\r\n") // skipped by the guard
				continue
			}
			fmt.Fprintf(&stream, "*%d\r\n", len(args))
			for i, a := range args {
				if len(a) > fuzzMaxBulk {
					args[i] = a[:fuzzMaxBulk]
				}
				fmt.Fprintf(&stream, "$%d\r\n%s\r\n", len(args[i]), args[i])
			}
			want = append(want, args)
		}
		out, err := runGuard(t, stream.Bytes(), sizes)
		if err != io.EOF {
			t.Fatalf("well-formed stream rejected: %v", err)
		}
		got := parseAll(t, out)
		if len(got) != len(want) {
			t.Fatalf("parsed %d commands, want %d", len(got), len(want))
		}
		for i := range want {
			if fmt.Sprintf("%q", got[i].Args) != fmt.Sprintf("%q", want[i]) {
				t.Fatalf("command %d: got %q, want %q", i, got[i].Args, want[i])
			}
		}
	})
}

// FuzzGuardFeed drives the guard the way an event loop does (feed, chunk by
// chunk, with the unauthenticated limits on or off) and checks what the loop
// relies on: the guard's count of complete commands is exactly the number of
// commands redcon's ReadNextCommand finds in the bytes delivered so far, so
// a loop that found none need not parse again until the count moves; and an
// unauthenticated client's oversized header is held, never delivered.
func FuzzGuardFeed(f *testing.F) {
	for _, s := range []string{
		"*1\r\n$4\r\nPING\r\n",
		"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*0\r\nPING\r\n\r\n",
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$20000\r\n",
		"*11\r\n$4\r\nPING\r\n",
		"AUTH x\r\n*2\r\n$4\r\nECHO\r\n$17000\r\n",
		"SET a \"b c\"\r\nGET a\n",
	} {
		f.Add([]byte(s), []byte{0}, false)
		f.Add([]byte(s), []byte{3, 1, 200}, true)
	}
	f.Fuzz(func(t *testing.T, input, sizes []byte, unauth bool) {
		g := newGuard(nil, fuzzMaxBulk)
		g.unauth = unauth
		var out []byte
		rest := input
		for i := 0; len(rest) > 0; i++ {
			n := len(rest)
			if len(sizes) > 0 {
				n = int(sizes[i%len(sizes)]) + 1
			}
			n = min(n, len(rest))
			out = append(out, g.feed(rest[:n])...)
			rest = rest[n:]
			got, perr := countCommands(t, out)
			if perr {
				break // the loop answers the parser's protocol error and closes
			}
			if int64(got) != g.complete {
				t.Fatalf("guard counted %d complete commands, the parser finds %d in %q", g.complete, got, trunc(out))
			}
		}
		if unauth {
			if g.authHeld != nil && g.err != nil {
				t.Fatal("a held header and an error at once")
			}
			for _, cmd := range parseAll(t, out) {
				if len(cmd.Args) > maxUnauthMultibulk {
					t.Fatalf("an unauthenticated client's command of %d arguments was delivered", len(cmd.Args))
				}
				for _, a := range cmd.Args {
					if len(a) > maxUnauthBulk {
						t.Fatalf("an unauthenticated client's bulk of %d bytes was delivered", len(a))
					}
				}
			}
		}
	})
}

// countCommands counts the complete commands (empty lines included) that
// ReadNextCommand finds in b, as the event loop parses, and reports whether
// it met a protocol error (an inline line with unbalanced quotes).
func countCommands(t *testing.T, b []byte) (n int, protoErr bool) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("ReadNextCommand panicked on the guard's output %q: %v", trunc(b), r)
		}
	}()
	for len(b) > 0 {
		if b[0] == '$' { // an inline line, as the loop parses it (loopConn.parse)
			nl := bytes.IndexByte(b, '\n')
			if nl < 0 {
				return n, false
			}
			n++
			b = b[nl+1:]
			continue
		}
		complete, _, _, left, err := redcon.ReadNextCommand(b, nil)
		if err != nil {
			return n, true
		}
		if !complete {
			return n, false
		}
		n++
		b = left
	}
	return n, false
}
