package commands

import (
	"bytes"
	"time"

	"github.com/sessiond/sessiond/engine"
)

// Blocking pops (and XREADGROUP ... BLOCK) in a group. The log never waits: an entry's blocking pop is
// applied as inside MULTI (it takes what is there, or answers null), the
// same on every node. The waiting happens outside the log, on the node the
// client is connected to: when the pop found nothing, the client sleeps on
// the keys (woken by this node applying a write to one of them, as a
// standalone server wakes it on a push), then sends the pop through the log
// again, until it is served, its timeout passes or CLIENT UNBLOCK ends it.
// Every element is popped by a log entry, so no node loses or duplicates
// one; clients blocked on the same key on different nodes race, where a
// standalone server serves them in the order they blocked.

// blockingPopArgs returns the keys a blocking pop waits on and its timeout
// argument (seconds; milliseconds for XREADGROUP's BLOCK); ok is false for
// any other command.
func blockingPopArgs(spec *Spec, args [][]byte) (keys []string, timeout []byte, ok bool) {
	switch spec.Name {
	case "xreadgroup":
		for i := 4; i < len(args); i++ {
			switch {
			case keyword(args[i], "block") && i+1 < len(args):
				timeout = args[i+1]
				i++
			case keyword(args[i], "count") && i+1 < len(args):
				i++
			case keyword(args[i], "streams"):
				rest := args[i+1:]
				if timeout == nil || len(rest) == 0 || len(rest)%2 != 0 {
					return nil, nil, false
				}
				for _, k := range rest[:len(rest)/2] {
					keys = append(keys, string(k))
				}
				return keys, timeout, true
			}
		}
		return nil, nil, false
	case "blpop", "brpop", "bzpopmin", "bzpopmax":
		for _, k := range args[1 : len(args)-1] {
			keys = append(keys, string(k))
		}
		return keys, args[len(args)-1], true
	case "brpoplpush", "blmove":
		return []string{string(args[1])}, args[len(args)-1], true
	case "blmpop", "bzmpop":
		n, isInt := parseInt(args[2])
		if !isInt || n <= 0 || n > int64(len(args)-3) {
			return nil, nil, false // the log's copy answers the error
		}
		for _, k := range args[3 : 3+n] {
			keys = append(keys, string(k))
		}
		return keys, args[1], true
	}
	return nil, nil, false
}

// isBlockingPop reports whether args is a blocking pop that waits outside
// the log (see above).
func isBlockingPop(args [][]byte) bool {
	spec := lookup(args[0])
	if spec == nil || spec.Flags&FlagBlocking == 0 || spec.Flags&FlagWrite == 0 || !arityOK(spec.Arity, len(args)) {
		return false
	}
	_, _, ok := blockingPopArgs(spec, args)
	return ok
}

// isNullReply reports whether a reply is a null (bulk, array or RESP3):
// what a blocking pop answers when it found nothing.
func isNullReply(b []byte) bool {
	return bytes.Equal(b, []byte("*-1\r\n")) || bytes.Equal(b, []byte("$-1\r\n")) || bytes.Equal(b, []byte("_\r\n"))
}

// blockReplicated runs a blocking pop of cl in a group (see above).
func (d *Dispatcher) blockReplicated(cl *Client, spec *Spec, args [][]byte, keys []string, timeoutArg []byte) {
	var deadline time.Time
	for attempt := 0; ; attempt++ {
		mark := cl.W.Len()
		d.proposeRun(cl, [][][]byte{args})
		if !isNullReply(cl.W.Bytes()[mark:]) {
			return // served, or an error (arguments, type, the group)
		}
		cl.W.Truncate(mark)
		c := &Call{d: d, Spec: spec, Client: cl, Args: args, W: cl.W, Now: time.Now()}
		if attempt == 0 {
			// The log's copy parsed it: it is valid.
			parse := parseTimeout
			if spec.Name == "xreadgroup" {
				parse = parseBlockTimeout
			}
			if t, _ := parse(c, timeoutArg); t > 0 {
				deadline = c.Now.Add(t)
			}
		}
		var wait time.Duration // 0: no timeout
		if !deadline.IsZero() {
			if wait = time.Until(deadline); wait <= 0 {
				cl.W.NullArray()
				return
			}
		}
		if !d.block(c, keys, wait, func() bool { return d.anyKeyExists(cl.DB(), keys) }) {
			if c.unblockedErr {
				cl.W.Error(msgUnblocked)
			} else {
				cl.W.NullArray() // the timeout, as Redis answers it
			}
			return
		}
	}
}

// anyKeyExists reports whether one of keys holds a value on this node.
func (d *Dispatcher) anyKeyExists(db int, keys []string) bool {
	found := false
	_ = d.Engine.View(time.Now().UnixMilli(), func(tx *engine.Tx) error {
		for _, k := range keys {
			if tx.Exists(db, k) {
				found = true
				return nil
			}
		}
		return nil
	})
	return found
}
