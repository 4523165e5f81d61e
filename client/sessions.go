package client

import (
	"context"
	"time"
)

// NewOptions are the options of SESS.NEW. Zero values leave the server's
// defaults (session-idle-timeout, session-absolute-timeout); NoExpiry for
// Idle or Absolute means none.
type NewOptions struct {
	Owner      string
	Data       string
	Idle       time.Duration // whole seconds, rounded up
	Absolute   time.Duration
	Prefix     string
	Detachable bool
	// Token is the application's own token (at least 22 characters), such
	// as a session id its framework made; empty for a random one.
	Token string
	Meta  map[string]string
}

// NewSession is what SESS.NEW returns: the token (shown only here), the
// session's stable handle, nonce 1, its deadline and timeouts (0: none).
type NewSession struct {
	Token    string
	Handle   string
	Nonce    int64
	Expires  time.Time
	Idle     time.Duration
	Absolute time.Duration
}

// Issued is a token issued for an existing session (SESS.VALIDATE,
// SESS.REGENERATE, SESS.ATTACH) with its nonce and deadline.
type Issued struct {
	Token   string
	Nonce   int64
	Expires time.Time
}

// SessionInfo is SESS.INFO: never a token.
type SessionInfo struct {
	Handle     string
	Owner      string
	Nonce      int64
	Created    time.Time
	LastSeen   time.Time
	Expires    time.Time // zero: never
	Idle       time.Duration
	Absolute   time.Duration
	Detachable bool
	Detached   bool
	Tokens     int64 // transition tokens the session holds
	Meta       map[string]string
}

func timeoutArg(d time.Duration) string {
	if d < 0 {
		return "0"
	}
	return seconds(d)
}

// NewSession creates a session (SESS.NEW). With opts.Token already a live
// session it returns ErrInvalid.
func (c *Client) NewSession(ctx context.Context, opts NewOptions) (NewSession, error) {
	args := []any{"SESS.NEW"}
	if opts.Owner != "" {
		args = append(args, "OWNER", opts.Owner)
	}
	if opts.Data != "" {
		args = append(args, "DATA", opts.Data)
	}
	if opts.Idle != 0 {
		args = append(args, "IDLE", timeoutArg(opts.Idle))
	}
	if opts.Absolute != 0 {
		args = append(args, "ABSOLUTE", timeoutArg(opts.Absolute))
	}
	if opts.Prefix != "" {
		args = append(args, "PREFIX", opts.Prefix)
	}
	if opts.Detachable {
		args = append(args, "DETACHABLE")
	}
	if opts.Token != "" {
		args = append(args, "TOKEN", opts.Token)
	}
	if len(opts.Meta) > 0 {
		args = append(args, "META") // META takes every remaining argument: last
		for k, v := range opts.Meta {
			args = append(args, k, v)
		}
	}
	f, err := c.doFields(ctx, args...)
	if err != nil {
		return NewSession{}, err
	}
	return NewSession{Token: f.str("token"), Handle: f.str("handle"), Nonce: f.int("nonce"),
		Expires: f.at("expires"), Idle: f.ms("idle"), Absolute: f.ms("absolute")}, nil
}

// Get returns the session's data ("" when none) and touches the session
// unless the server's session-auto-touch is no (SESS.GET). ErrInvalid when
// the token is not valid.
func (c *Client) Get(ctx context.Context, token string) (string, error) {
	return c.get(ctx, "SESS.GET", token)
}

// GetNoTouch is Get without touching the session (SESS.GET token NOTOUCH).
func (c *Client) GetNoTouch(ctx context.Context, token string) (string, error) {
	return c.get(ctx, "SESS.GET", token, "NOTOUCH")
}

func (c *Client) get(ctx context.Context, args ...any) (string, error) {
	v, err := c.do(ctx, args...)
	if err != nil {
		return "", err
	}
	if v == nil {
		return "", ErrInvalid
	}
	s, _ := v.(string)
	return s, nil
}

// Info returns the session's fields (SESS.INFO token); ErrInvalid when the
// token is not valid.
func (c *Client) Info(ctx context.Context, token string) (SessionInfo, error) {
	return c.info(ctx, "SESS.INFO", token)
}

// InfoByHandle is Info by handle (SESS.INFO HANDLE h), detached sessions too.
func (c *Client) InfoByHandle(ctx context.Context, handle string) (SessionInfo, error) {
	return c.info(ctx, "SESS.INFO", "HANDLE", handle)
}

func (c *Client) info(ctx context.Context, args ...any) (SessionInfo, error) {
	f, err := c.doFields(ctx, args...)
	if err != nil {
		return SessionInfo{}, err
	}
	return sessionInfo(f)
}

func sessionInfo(f fields) (SessionInfo, error) {
	meta, err := stringMap(f["meta"])
	if err != nil {
		return SessionInfo{}, err
	}
	return SessionInfo{Handle: f.str("handle"), Owner: f.str("owner"), Nonce: f.int("nonce"),
		Created: f.at("created"), LastSeen: f.at("last_seen"), Expires: f.at("expires"),
		Idle: f.ms("idle"), Absolute: f.ms("absolute"), Detachable: f.bool("detachable"),
		Detached: f.bool("detached"), Tokens: f.int("tokens"), Meta: meta}, nil
}

// SetOptions change a session's timeouts with its data (SESS.SET); zero
// leaves them, NoExpiry means none.
type SetOptions struct {
	Idle     time.Duration
	Absolute time.Duration
}

// Set replaces the session's data and touches it (SESS.SET). ErrInvalid when
// the token is not valid.
func (c *Client) Set(ctx context.Context, token, data string, opts SetOptions) error {
	args := []any{"SESS.SET", token, data}
	if opts.Idle != 0 {
		args = append(args, "IDLE", timeoutArg(opts.Idle))
	}
	if opts.Absolute != 0 {
		args = append(args, "ABSOLUTE", timeoutArg(opts.Absolute))
	}
	return c.doOK(ctx, args...)
}

// Touch moves the idle deadline to now + idle and returns the time left
// (NoExpiry when none); idle > 0 also sets a new idle timeout (SESS.TOUCH).
func (c *Client) Touch(ctx context.Context, token string, idle time.Duration) (time.Duration, error) {
	if idle != 0 {
		return c.remaining(ctx, "SESS.TOUCH", token, "IDLE", timeoutArg(idle))
	}
	return c.remaining(ctx, "SESS.TOUCH", token)
}

// Active reports whether the token is valid and, when owner is not empty,
// its session belongs to owner (SESS.ACTIVE). It does not touch.
func (c *Client) Active(ctx context.Context, token, owner string) (bool, error) {
	if owner != "" {
		return c.doBool(ctx, "SESS.ACTIVE", token, "OWNER", owner)
	}
	return c.doBool(ctx, "SESS.ACTIVE", token)
}

// Validate checks a token and its nonce and rotates it (SESS.VALIDATE): the
// successor token and nonce+1. A refusal is a *Failure with the reason
// (unknown, expired, nonce, replayed, detached, revoked).
func (c *Client) Validate(ctx context.Context, token string, nonce int64) (Issued, error) {
	return c.validate(ctx, "SESS.VALIDATE", token, nonce)
}

// ValidateNoRotate is Validate keeping the token (NOROTATE); the nonce still
// moves on.
func (c *Client) ValidateNoRotate(ctx context.Context, token string, nonce int64) (Issued, error) {
	return c.validate(ctx, "SESS.VALIDATE", token, nonce, "NOROTATE")
}

func (c *Client) validate(ctx context.Context, args ...any) (Issued, error) {
	f, err := c.doChecked(ctx, args...)
	if err != nil {
		return Issued{}, err
	}
	return issued(f), nil
}

func issued(f fields) Issued {
	return Issued{Token: f.str("token"), Nonce: f.int("nonce"), Expires: f.at("expires")}
}

// Regenerate gives the session a new token, the old one stopping at once
// (SESS.REGENERATE); use it after login against fixation.
func (c *Client) Regenerate(ctx context.Context, token string) (Issued, error) {
	f, err := c.doFields(ctx, "SESS.REGENERATE", token)
	if err != nil {
		return Issued{}, err
	}
	return issued(f), nil
}

// Destroy destroys the session with its data and tokens (SESS.DESTROY);
// false when there was none.
func (c *Client) Destroy(ctx context.Context, token string) (bool, error) {
	return c.doBool(ctx, "SESS.DESTROY", token)
}

// DestroyHandle is Destroy by handle.
func (c *Client) DestroyHandle(ctx context.Context, handle string) (bool, error) {
	return c.doBool(ctx, "SESS.DESTROY", "HANDLE", handle)
}

// TTL is the session's remaining time (NoExpiry when none); ErrInvalid when
// the token is not valid (SESS.TTL).
func (c *Client) TTL(ctx context.Context, token string) (time.Duration, error) {
	return c.remaining(ctx, "SESS.TTL", token)
}

// ExpireIdle sets the session's own idle timeout (NoExpiry: none) without
// touching it (SESS.EXPIRE token IDLE s).
func (c *Client) ExpireIdle(ctx context.Context, token string, idle time.Duration) error {
	return c.doOK(ctx, "SESS.EXPIRE", token, "IDLE", timeoutArg(idle))
}

// ExpireAbsolute sets the session's absolute timeout, counted from its
// creation (SESS.EXPIRE token ABSOLUTE s); one already past ends it.
func (c *Client) ExpireAbsolute(ctx context.Context, token string, absolute time.Duration) error {
	return c.doOK(ctx, "SESS.EXPIRE", token, "ABSOLUTE", timeoutArg(absolute))
}

// AllowDetach marks the session detachable (SESS.ALLOWDETACH).
func (c *Client) AllowDetach(ctx context.Context, token string) error {
	return c.doOK(ctx, "SESS.ALLOWDETACH", token)
}

// Detach logs a detachable session out but keeps it (SESS.DETACH).
// ErrInvalid when not valid or not detachable.
func (c *Client) Detach(ctx context.Context, token string) error {
	return c.doOK(ctx, "SESS.DETACH", token)
}

// Attach gives a detached session of owner a fresh token (SESS.ATTACH).
func (c *Client) Attach(ctx context.Context, handle, owner string) (Issued, error) {
	f, err := c.doFields(ctx, "SESS.ATTACH", "HANDLE", handle, "OWNER", owner)
	if err != nil {
		return Issued{}, err
	}
	return issued(f), nil
}

// Detached lists the handles of detached sessions, of owner or of everyone
// when owner is empty (SESS.DETACHED).
func (c *Client) Detached(ctx context.Context, owner string) ([]string, error) {
	args := []any{"SESS.DETACHED"}
	if owner != "" {
		args = append(args, "OWNER", owner)
	}
	v, err := c.do(ctx, args...)
	if err != nil {
		return nil, err
	}
	return asStrings(v)
}

// List returns the owner's sessions, newest first (SESS.LIST OWNER id).
func (c *Client) List(ctx context.Context, owner string) ([]SessionInfo, error) {
	v, err := c.do(ctx, "SESS.LIST", "OWNER", owner)
	if err != nil {
		return nil, err
	}
	items, _ := v.([]any)
	out := make([]SessionInfo, 0, len(items))
	for _, it := range items {
		f, err := toFields(it)
		if err != nil {
			return nil, err
		}
		info, err := sessionInfo(f)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

// RevokeOwner revokes every session of owner except the one except names
// (when not empty) and returns how many: "log out everywhere (else)".
func (c *Client) RevokeOwner(ctx context.Context, owner, except string) (int64, error) {
	if except != "" {
		return c.doInt(ctx, "SESS.REVOKE", "OWNER", owner, "EXCEPT", except)
	}
	return c.doInt(ctx, "SESS.REVOKE", "OWNER", owner)
}

// RevokeHandle revokes one session; false when there was none.
func (c *Client) RevokeHandle(ctx context.Context, handle string) (bool, error) {
	return c.doBool(ctx, "SESS.REVOKE", "HANDLE", handle)
}

// Count is the number of live sessions of owner, or of everyone when owner is
// empty (SESS.COUNT).
func (c *Client) Count(ctx context.Context, owner string) (int64, error) {
	if owner != "" {
		return c.doInt(ctx, "SESS.COUNT", "OWNER", owner)
	}
	return c.doInt(ctx, "SESS.COUNT")
}
