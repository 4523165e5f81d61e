package persistence

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
)

// Report is the result of Check.
type Report struct {
	Path     string
	Records  int   // complete, well-formed records
	GoodSize int64 // bytes up to the end of the last good record
	Size     int64
	OK       bool // the whole file is well-formed
	Torn     bool // only the tail is incomplete (Open drops it by itself)
	// HalfWritten: the file ends in a transaction whose commit marker is
	// missing (a crash tore its write); Open drops its TxRecords records,
	// from offset GoodSize.
	HalfWritten bool
	TxRecords   int
	Problem     string
	Repaired    bool
}

func (r Report) String() string {
	switch {
	case r.Repaired:
		return fmt.Sprintf("%s: repaired: kept %d records (%d bytes), dropped %d bytes from offset %d (%s)", r.Path, r.Records, r.GoodSize, r.Size-r.GoodSize, r.GoodSize, r.Problem)
	case r.OK:
		return fmt.Sprintf("%s: ok: %d records, %d bytes", r.Path, r.Records, r.Size)
	case r.HalfWritten:
		return fmt.Sprintf("%s: half-written transaction at offset %d (%s): %d records before it load; it is dropped whole on open", r.Path, r.GoodSize, r.Problem, r.Records)
	case r.Torn:
		return fmt.Sprintf("%s: torn tail at offset %d (%s): %d records before it load; the tail is dropped on open", r.Path, r.GoodSize, r.Problem, r.Records)
	}
	return fmt.Sprintf("%s: damaged at offset %d (%s): %d records before it; run with --repair to keep them and drop the rest", r.Path, r.GoodSize, r.Problem, r.Records)
}

// Check reads a data file record by record (buntdb's log is RESP arrays of
// bulk strings: set, del and flushdb records) and reports where it stops
// being well-formed, or whether it ends in a half-written transaction (see
// CommitMarkerKey). With repair it truncates the file after the last good
// record (or before the half-written transaction), keeping a copy of the
// original as path.damaged. The file must not be open by a server.
func Check(path string, repair bool) (Report, error) {
	rep := Report{Path: path}
	st, err := os.Stat(path)
	if err != nil {
		return rep, fmt.Errorf("open %s: %w", path, err)
	}
	rep.Size = st.Size()
	t := scanTail(path)
	rep.Records, rep.GoodSize = t.records, t.good
	switch {
	case t.err != nil && !errors.Is(t.err, errTorn):
		if os.IsNotExist(t.err) || errors.Is(t.err, os.ErrPermission) {
			return rep, t.err
		}
		rep.Problem = t.err.Error()
	case t.halfWritten():
		rep.HalfWritten = true
		rep.TxRecords = t.afterCount
		rep.Records -= t.afterCount
		rep.GoodSize = t.markerEnd
		rep.Problem = fmt.Sprintf("%d records after the last commit marker", t.afterCount)
		if t.err != nil {
			rep.Problem += ", then a torn record"
		}
	case t.err != nil:
		rep.Torn = true
		rep.Problem = "the file ends inside a record"
	default:
		rep.OK = true
	}
	if rep.OK || !repair {
		return rep, nil
	}
	if err := copyFile(path, path+".damaged"); err != nil {
		return rep, err
	}
	if err := os.Truncate(path, rep.GoodSize); err != nil {
		return rep, fmt.Errorf("truncate %s: %w", path, err)
	}
	rep.Repaired = true
	return rep, nil
}

func readRecord(br *bufio.Reader) (int64, error) {
	var n int64
	line, err := br.ReadString('\n')
	n += int64(len(line))
	if err != nil {
		if err == io.EOF && len(line) == 0 {
			return 0, io.EOF
		}
		return n, io.ErrUnexpectedEOF
	}
	if len(line) < 4 || line[0] != '*' || line[len(line)-2] != '\r' {
		return n, fmt.Errorf("expected an array header, got %q", trunc(line))
	}
	count, err := strconv.Atoi(line[1 : len(line)-2])
	if err != nil || count < 1 || count > 16 {
		return n, fmt.Errorf("bad array length %q", trunc(line))
	}
	for i := 0; i < count; i++ {
		line, err := br.ReadString('\n')
		n += int64(len(line))
		if err != nil {
			return n, io.ErrUnexpectedEOF
		}
		if len(line) < 4 || line[0] != '$' || line[len(line)-2] != '\r' {
			return n, fmt.Errorf("expected a bulk header, got %q", trunc(line))
		}
		size, err := strconv.Atoi(line[1 : len(line)-2])
		if err != nil || size < 0 {
			return n, fmt.Errorf("bad bulk length %q", trunc(line))
		}
		if _, err := br.Discard(size); err != nil {
			return n, io.ErrUnexpectedEOF
		}
		n += int64(size)
		crlf := make([]byte, 2)
		if _, err := io.ReadFull(br, crlf); err != nil {
			return n, io.ErrUnexpectedEOF
		}
		n += 2
		if crlf[0] != '\r' || crlf[1] != '\n' {
			return n, fmt.Errorf("bulk string not terminated by CRLF")
		}
	}
	return n, nil
}

func trunc(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("backup %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("backup %s: %w", dst, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("backup %s: %w", dst, err)
	}
	return out.Close()
}
