// Package client is the Go client of sessiond's native commands: typed
// methods for every SESS.*, TOK.* and JWT command over a go-redis v9
// UniversalClient (a standalone client, or a failover client finding the
// server through Redis Sentinel; RESP2 or RESP3, the result is the same), a
// gorilla/sessions Store on the native sessions, and net/http
// middleware for rotating-token sessions.
//
// A token that is not valid is an ordinary answer, not a fault: methods
// return ErrInvalid for it, or a *Failure (which matches ErrInvalid with
// errors.Is) when the server says why (Reason). Any other error is a
// malformed request (the server's -ERR) or a connection fault.
//
// The package is a user of the server: it talks to it over the network only
// and imports nothing of the server's own packages.
package client

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Reason says why a token was refused, as the server words it.
type Reason string

// The reasons of `ok 0 reason R` replies.
const (
	ReasonUnknown   Reason = "unknown"   // never issued, destroyed, or expired and forgotten
	ReasonExpired   Reason = "expired"   // idle or absolute deadline passed
	ReasonNonce     Reason = "nonce"     // a wrong nonce for a live token
	ReasonReplayed  Reason = "replayed"  // a rotated-out token (or used refresh token) after the grace
	ReasonDetached  Reason = "detached"  // the session is detached (logged out, kept)
	ReasonRevoked   Reason = "revoked"   // revoked by owner or handle
	ReasonSignature Reason = "signature" // a JWT whose signature or form is bad
	ReasonClaims    Reason = "claims"    // a JWT whose iss or aud do not match
)

// ErrInvalid is returned when a token, handle or session is not valid
// (the server answered null, 0 or -2). A *Failure matches it too.
var ErrInvalid = errors.New("sessiond: not valid")

// Failure is a refusal with the server's reason (SESS.VALIDATE, SESS.JWT,
// SESS.REFRESH, SESS.VERIFY). errors.Is(f, ErrInvalid) is true.
type Failure struct{ Reason Reason }

func (f *Failure) Error() string { return "sessiond: not valid: " + string(f.Reason) }

// Is makes a Failure match ErrInvalid.
func (f *Failure) Is(target error) bool { return target == ErrInvalid }

// ReasonOf returns the reason of a *Failure in err's chain, or "" when there
// is none.
func ReasonOf(err error) Reason {
	var f *Failure
	if errors.As(err, &f) {
		return f.Reason
	}
	return ""
}

// NoExpiry is the remaining time reported for a session or token that never
// expires (the server's -1).
const NoExpiry time.Duration = -1

// Client sends sessiond's native commands over a go-redis connection the
// caller owns. It is safe for concurrent use, as the go-redis client is.
type Client struct {
	rdb redis.UniversalClient
}

// New returns a Client over rdb (a *redis.Client, a failover client, ...).
func New(rdb redis.UniversalClient) *Client { return &Client{rdb: rdb} }

// Redis returns the underlying go-redis client.
func (c *Client) Redis() redis.UniversalClient { return c.rdb }

// do sends args and returns the raw reply; a null reply is (nil, nil).
func (c *Client) do(ctx context.Context, args ...any) (any, error) {
	return result(c.rdb.Do(ctx, args...))
}

// result is a command's raw reply; a null reply is (nil, nil).
func result(cmd *redis.Cmd) (any, error) {
	v, err := cmd.Result()
	if err == redis.Nil {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sessiond: %v: %w", cmd.Args()[0], err)
	}
	return v, nil
}

func (c *Client) doInt(ctx context.Context, args ...any) (int64, error) {
	v, err := c.do(ctx, args...)
	if err != nil {
		return 0, err
	}
	return asInt(v)
}

// doOK runs a command answering 1 (done) or 0 (not valid: ErrInvalid).
func (c *Client) doOK(ctx context.Context, args ...any) error {
	n, err := c.doInt(ctx, args...)
	if err != nil {
		return err
	}
	if n != 1 {
		return ErrInvalid
	}
	return nil
}

func (c *Client) doBool(ctx context.Context, args ...any) (bool, error) {
	n, err := c.doInt(ctx, args...)
	return n == 1, err
}

// doFields runs a command answering a map, or null (ErrInvalid).
func (c *Client) doFields(ctx context.Context, args ...any) (fields, error) {
	return mapReply(c.do(ctx, args...))
}

func mapReply(v any, err error) (fields, error) {
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, ErrInvalid
	}
	return toFields(v)
}

// doChecked runs a command answering a map that is `ok 0 reason R` on failure.
func (c *Client) doChecked(ctx context.Context, args ...any) (fields, error) {
	return checkedReply(c.doFields(ctx, args...))
}

func checkedReply(f fields, err error) (fields, error) {
	if err != nil {
		return nil, err
	}
	if _, has := f["ok"]; has && !f.bool("ok") {
		return nil, &Failure{Reason: Reason(f.str("reason"))}
	}
	return f, nil
}

// remaining reads a TTL reply: ErrInvalid for -2, NoExpiry for -1.
func (c *Client) remaining(ctx context.Context, args ...any) (time.Duration, error) {
	n, err := c.doInt(ctx, args...)
	switch {
	case err != nil:
		return 0, err
	case n == -2:
		return 0, ErrInvalid
	case n == -1:
		return NoExpiry, nil
	}
	return time.Duration(n) * time.Millisecond, nil
}

// seconds formats a duration as the whole seconds the commands take,
// rounding up so that a positive duration never becomes "none" (0).
func seconds(d time.Duration) string {
	s := int64(d / time.Second)
	if d%time.Second > 0 {
		s++
	}
	return strconv.FormatInt(s, 10)
}
