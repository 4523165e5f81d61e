package engine

// Long work and the event loops.
//
// The server's event loops run commands on their own goroutines; a loop
// that waited on the database lock while something held it for long (a Lua
// script holds it for its whole run, a snapshot while it copies the data
// set) would stall every client of the loop, and could not even answer
// BUSY or run SCRIPT KILL. So long work announces itself: it takes the gate
// exclusively (BeginLong) before the database lock, and a loop runs
// commands only while it holds the gate shared (TryShort); when it cannot,
// it hands the commands to a goroutine, which may wait as long as needed.

// BeginLong marks the start of work that may hold the database lock for
// long. It waits for the loops' commands in progress to finish; from then
// on TryShort fails until EndLong. It must not be called while holding the
// gate shared (a command run by a loop never calls it).
func (e *Engine) BeginLong() { e.long.Lock() }

// EndLong ends what BeginLong started.
func (e *Engine) EndLong() { e.long.Unlock() }

// TryShort takes the gate shared if no long work runs or waits; the caller
// may then take the database lock without waiting long, and must call
// EndShort when done.
func (e *Engine) TryShort() bool { return e.long.TryRLock() }

// EndShort releases what TryShort took.
func (e *Engine) EndShort() { e.long.RUnlock() }
