package wire

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

func TestWriterEncodesArraysOfBulks(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, 16)
	w.Cmd("SET", "k", "")
	w.Begin(2)
	w.Int(-42)
	w.Bytes([]byte("é"))
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n*2\r\n$3\r\n-42\r\n$2\r\né\r\n"
	if got := buf.String(); got != want {
		t.Fatalf("got %q want %q", got, want)
	}
}

func TestReaderParsesEveryKind(t *testing.T) {
	in := "+OK\r\n-ERR bad\r\n:-7\r\n$5\r\nhello\r\n$-1\r\n*-1\r\n_\r\n#t\r\n,1.5\r\n" +
		"*3\r\n$5\r\ntoken\r\n$3\r\nabc\r\n:1\r\n" +
		"%2\r\n+ok\r\n:1\r\n+nonce\r\n:2\r\n" +
		"*2\r\n*1\r\n$1\r\nx\r\n$0\r\n\r\n"
	r := NewReader(strings.NewReader(in), 64)
	var v Value
	read := func() *Value {
		t.Helper()
		if err := r.Read(&v); err != nil {
			t.Fatal(err)
		}
		return &v
	}
	if x := read(); x.Kind != Simple || string(x.Str) != "OK" {
		t.Fatalf("simple: %s", x.Text())
	}
	if x := read(); !x.IsError() || string(x.Str) != "ERR bad" {
		t.Fatalf("error: %s", x.Text())
	}
	if x := read(); x.Kind != Integer || x.Int != -7 {
		t.Fatalf("int: %s", x.Text())
	}
	if x := read(); x.Kind != Bulk || string(x.Str) != "hello" {
		t.Fatalf("bulk: %s", x.Text())
	}
	for i := 0; i < 3; i++ {
		if x := read(); x.Kind != Null {
			t.Fatalf("null %d: %s", i, x.Text())
		}
	}
	if x := read(); x.Kind != Bool || x.Int != 1 {
		t.Fatalf("bool: %s", x.Text())
	}
	if x := read(); x.Kind != Double || string(x.Str) != "1.5" {
		t.Fatalf("double: %s", x.Text())
	}
	x := read()
	if f, ok := x.Field("token"); !ok || string(f.Str) != "abc" {
		t.Fatalf("flat field: %s", x.Text())
	}
	x = read()
	if x.Kind != Map || len(x.Elems) != 4 {
		t.Fatalf("map: %s", x.Text())
	}
	if f, ok := x.Field("nonce"); !ok {
		t.Fatalf("map field: %s", x.Text())
	} else if n, ok := f.AsInt(); !ok || n != 2 {
		t.Fatalf("map nonce: %s", f.Text())
	}
	x = read()
	if x.Kind != Array || len(x.Elems) != 2 || string(x.Elems[0].Elems[0].Str) != "x" || x.Elems[1].Kind != Bulk {
		t.Fatalf("nested: %s", x.Text())
	}
}

func TestReaderRejectsGarbage(t *testing.T) {
	for _, in := range []string{"?x\r\n", "$abc\r\n", ":1\n", "$3\r\nabcd\r\n", "*99999999999\r\n", "#x\r\n"} {
		r := NewReader(bufio.NewReader(strings.NewReader(in)), 64)
		var v Value
		if err := r.Read(&v); err == nil {
			t.Errorf("%q: parsed as %s", in, v.Text())
		}
	}
}

func TestDialRefusesNonLoopback(t *testing.T) {
	if _, err := Dial("192.0.2.1:6379", 0); err == nil || !strings.Contains(err.Error(), "non-loopback") {
		t.Fatalf("got %v", err)
	}
}
