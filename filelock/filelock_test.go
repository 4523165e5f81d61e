package filelock

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// A held lock refuses a second Acquire, naming the holder's pid; once
// released it can be taken again.
func TestAcquireRelease(t *testing.T) {
	path := filepath.Join(t.TempDir(), "LOCK")
	first, err := Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Acquire(path)
	var held *HeldError
	if !errors.As(err, &held) || held.PID != strconv.Itoa(os.Getpid()) || held.Path != path {
		t.Fatalf("second Acquire: %v", err)
	}
	first.Release()
	first.Release() // twice is harmless
	again, err := Acquire(path)
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	again.Release()
}
