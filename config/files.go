package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"
)

// plainFileName returns the Check of a parameter that names a file inside
// dir (dbfilename, appendfilename): a file name, never a path, so that
// nothing the server writes under that name lands outside dir. Redis refuses
// the same names ("dbfilename can't be a path, just a filename") at startup
// and at run time.
func plainFileName(param string) func(v string) error {
	return func(v string) error {
		if err := PlainFileName(v); err != nil {
			return fmt.Errorf("%s %s", param, err)
		}
		return nil
	}
}

// PlainFileName reports whether name is a plain file name: not empty, not
// "." or "..", with no '/' (nor '\\', which Redis refuses too, nor NUL). The
// error completes a sentence that starts with the parameter's name.
func PlainFileName(name string) error {
	switch {
	case name == "":
		return errors.New("can't be empty")
	case name == "." || name == ".." || strings.ContainsAny(name, "/\\\x00"):
		return errors.New("can't be a path, just a filename")
	}
	return nil
}

// checkDirLive is dir's run-time check: Redis chdir()s to the new dir and
// answers with strerror when it cannot; at startup the data file's opening
// creates a missing dir instead.
func checkDirLive(v string) error {
	st, err := os.Stat(v)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return errors.New(strerror(err))
	}
	if !st.IsDir() {
		return errors.New(strerror(syscall.ENOTDIR))
	}
	return nil
}

// strerror spells an errno as C's strerror does ("No such file or directory").
func strerror(err error) string {
	s := err.Error()
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
