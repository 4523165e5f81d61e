package persistence

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
)

// Record is one record of the data file, as Scan yields it.
type Record struct {
	Offset int64 // where the record starts
	End    int64 // where the next one starts
	// Op is "set", "del" or "flushdb" (lower case). Key and Value are the
	// record's arguments (Value only for set); they are valid until the next
	// record is read.
	Op         string
	Key, Value []byte
	// Expire is the record's "ex"/"ae" option and its argument, if any.
	Expire, ExpireArg []byte
}

// IsMarker reports whether r is a commit marker (see CommitMarkerKey).
func (r *Record) IsMarker() bool {
	return r.Op == "del" && string(r.Key) == CommitMarkerKey
}

// errTorn says the file ends inside a record.
var errTorn = io.ErrUnexpectedEOF

// scanner reads the records of a data file the way buntdb's loader does (NUL
// bytes between records are skipped), reusing its buffers.
type scanner struct {
	br    *bufio.Reader
	off   int64
	buf   []byte
	parts [][]byte
}

func newScanner(r io.Reader) *scanner {
	return &scanner{br: bufio.NewReaderSize(r, 1<<20), buf: make([]byte, 4096)}
}

// next reads one record. It returns io.EOF at a clean end, errTorn when the
// file ends inside a record, and another error (naming what is wrong) when
// the bytes are not a record buntdb would load.
func (sc *scanner) next(rec *Record) error {
	for {
		c, err := sc.br.ReadByte()
		if err != nil {
			return io.EOF
		}
		if c != 0 {
			_ = sc.br.UnreadByte()
			break
		}
		sc.off++
	}
	start := sc.off
	n, err := sc.header('*')
	if err != nil {
		return err
	}
	if n < 1 || n > 5 {
		return fmt.Errorf("bad array length %d", n)
	}
	// Parts are read into one buffer; the slices are taken once it no
	// longer grows.
	used := 0
	var ends [5]int
	for i := 0; i < n; i++ {
		size, err := sc.header('$')
		if err != nil {
			return err
		}
		if size < 0 || size > 1<<32 {
			return fmt.Errorf("bad bulk length %d", size)
		}
		if need := used + size + 2; need > len(sc.buf) {
			nb := make([]byte, max(need, 2*len(sc.buf)))
			copy(nb, sc.buf[:used])
			sc.buf = nb
		}
		if _, err := io.ReadFull(sc.br, sc.buf[used:used+size+2]); err != nil {
			return errTorn
		}
		sc.off += int64(size + 2)
		if sc.buf[used+size] != '\r' || sc.buf[used+size+1] != '\n' {
			return errors.New("bulk string not terminated by CRLF")
		}
		used += size
		ends[i] = used
		used += 2
	}
	sc.parts = sc.parts[:0]
	from := 0
	for i := 0; i < n; i++ {
		sc.parts = append(sc.parts, sc.buf[from:ends[i]])
		from = ends[i] + 2
	}
	*rec = Record{Offset: start, End: sc.off}
	p := sc.parts
	switch op := string(bytes.ToLower(p[0])); {
	case op == "set" && (n == 3 || n == 5):
		rec.Op, rec.Key, rec.Value = "set", p[1], p[2]
		if n == 5 {
			opt := string(bytes.ToLower(p[3]))
			if opt != "ex" && opt != "ae" {
				return fmt.Errorf("set with unknown option %q", trunc(string(p[3])))
			}
			if _, err := strconv.ParseInt(string(p[4]), 10, 64); err != nil {
				return fmt.Errorf("set with bad expiry %q", trunc(string(p[4])))
			}
			rec.Expire, rec.ExpireArg = p[3], p[4]
		}
	case op == "del" && n == 2:
		rec.Op, rec.Key = "del", p[1]
	case op == "flushdb" && n == 1:
		rec.Op = "flushdb"
	default:
		return fmt.Errorf("not a set, del or flushdb record (%q with %d arguments)", trunc(string(p[0])), n-1)
	}
	return nil
}

// header reads a "*N\r\n" or "$N\r\n" line.
func (sc *scanner) header(kind byte) (int, error) {
	line, err := sc.br.ReadSlice('\n')
	sc.off += int64(len(line))
	if err != nil {
		if err == bufio.ErrBufferFull {
			return 0, fmt.Errorf("expected a %s header, got a line over 1 MB", headerName(kind))
		}
		return 0, errTorn
	}
	if len(line) < 4 || line[0] != kind || line[len(line)-2] != '\r' {
		return 0, fmt.Errorf("expected a %s header, got %q", headerName(kind), trunc(string(line)))
	}
	n := 0
	for _, d := range line[1 : len(line)-2] {
		if d < '0' || d > '9' || n > 1<<40 {
			return 0, fmt.Errorf("bad %s length %q", headerName(kind), trunc(string(line)))
		}
		n = n*10 + int(d-'0')
	}
	return n, nil
}

func headerName(kind byte) string {
	if kind == '*' {
		return "array"
	}
	return "bulk"
}

// Scan reads the data file at path record by record, calling fn with each
// (fn may stop the scan by returning false). It returns the offset where
// well-formed records end and why the scan stopped there: nil at the end of
// the file, io.ErrUnexpectedEOF when the file ends inside a record (a torn
// tail), or an error describing the damage.
func Scan(path string, fn func(rec *Record) bool) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	sc := newScanner(f)
	var rec Record
	good := int64(0)
	for {
		err := sc.next(&rec)
		if err == io.EOF {
			return good, nil
		}
		if err != nil {
			return good, err
		}
		good = rec.End
		if !fn(&rec) {
			return good, nil
		}
	}
}

// tail is what a scan learned about the end of a data file.
type tail struct {
	records    int   // well-formed records
	good       int64 // where they end
	err        error // why the scan stopped (nil at a clean end)
	markerEnd  int64 // the end of the last commit marker, 0 if none
	afterCount int   // well-formed records after the last commit marker
}

// halfWritten reports whether records follow the last commit marker: a
// transaction whose write a crash tore (its marker never reached the file).
func (t tail) halfWritten() bool { return t.markerEnd > 0 && t.afterCount > 0 }

func scanTail(path string) tail {
	var t tail
	t.good, t.err = Scan(path, func(rec *Record) bool {
		t.records++
		if rec.IsMarker() {
			t.markerEnd, t.afterCount = rec.End, 0
		} else {
			t.afterCount++
		}
		return true
	})
	return t
}

// dropHalfWritten cuts a half-written transaction off the end of the data
// file before it is loaded, so that none of its records load (see
// CommitMarkerKey). A file damaged elsewhere is left for the loader to
// refuse.
func dropHalfWritten(path string) error {
	st, err := os.Stat(path)
	if err != nil || st.Size() == 0 {
		return nil
	}
	if endsWithMarker(path, st.Size()) {
		return nil // the last transaction is whole: no need to read the file twice
	}
	t := scanTail(path)
	if t.err != nil && !errors.Is(t.err, errTorn) {
		return nil
	}
	if !t.halfWritten() {
		return nil
	}
	if err := os.Truncate(path, t.markerEnd); err != nil {
		return fmt.Errorf("drop the half-written transaction at the end of %s: %w", path, err)
	}
	slog.Warn("the data file ended in a half-written transaction (written before a crash); dropped it", "file", path, "records", t.afterCount, "offset", t.markerEnd)
	return nil
}

// markerRecord is a commit marker as buntdb writes it.
var markerRecord = "*2\r\n$3\r\ndel\r\n$" + strconv.Itoa(len(CommitMarkerKey)) + "\r\n" + CommitMarkerKey + "\r\n"

// endsWithMarker reports whether the file's last bytes are a commit marker,
// as they are after every whole transaction: then nothing is half-written
// and Open skips the scan. (A set record whose value ends with those bytes
// and is the last whole record of a torn transaction would pass too; the
// transaction then loads partly, as before markers existed.)
func endsWithMarker(path string, size int64) bool {
	if size < int64(len(markerRecord)) {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	b := make([]byte, len(markerRecord))
	if _, err := f.ReadAt(b, size-int64(len(b))); err != nil {
		return false
	}
	return string(b) == markerRecord
}
