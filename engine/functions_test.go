package engine

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/sessiond/sessiond/persistence"
)

func TestFunctionDumpRoundTrip(t *testing.T) {
	codes := []string{"#!lua name=a\nx", "", string(make([]byte, 300))}
	p := DumpFunctions(codes)
	got, err := UndumpFunctions(p)
	if err != nil || !slices.Equal(got, codes) {
		t.Fatalf("round trip: %q %v", got, err)
	}
	for _, bad := range []string{"", "SDF1", p[:len(p)-1], "X" + p[1:], p[:5] + "\xff" + p[6:]} {
		if _, err := UndumpFunctions(bad); err != ErrBadDump {
			t.Errorf("UndumpFunctions(%q) = %v, want ErrBadDump", bad, err)
		}
	}
}

// TestFunctionLibrariesSurvive: libraries outlive FLUSHALL and FLUSHDB,
// are invisible to the keyspace, and are read back after reopening.
func TestFunctionLibrariesSurvive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data.db")
	st, err := persistence.Open(persistence.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	e, err := Open(Options{Store: st, Clock: frozen})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Update(t0, func(tx *Tx) error {
		tx.SetFunctionLibrary("LibB", "code b")
		tx.SetFunctionLibrary("liba", "code a")
		tx.SetFunctionLibrary("LIBA", "code a2") // same library, any case
		if _, err := tx.Set(0, "k", "v", SetOptions{}); err != nil {
			return err
		}
		tx.FlushDB(0)
		tx.FlushAll()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	check := func(e *Engine, want []string) {
		t.Helper()
		_ = e.View(t0, func(tx *Tx) error {
			if got := tx.FunctionLibraries(); !slices.Equal(got, want) {
				t.Fatalf("libraries %q, want %q", got, want)
			}
			if n := tx.DBSize(0); n != 0 {
				t.Fatalf("dbsize %d", n)
			}
			return nil
		})
	}
	check(e, []string{"code a2", "code b"})
	e.Close()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	e2 := openTest(t, path)
	check(e2, []string{"code a2", "code b"})
	if _, err := e2.Update(t0, func(tx *Tx) error {
		if !tx.DeleteFunctionLibrary("libb") || tx.DeleteFunctionLibrary("nosuch") {
			t.Error("DeleteFunctionLibrary result")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	check(e2, []string{"code a2"})
	_, _ = e2.Update(t0, func(tx *Tx) error { tx.FlushFunctionLibraries(); return nil })
	check(e2, nil)
}
