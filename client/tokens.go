package client

import (
	"context"
	"time"
)

// TokenOptions are the options of TOK.ADD.
type TokenOptions struct {
	Session      string // a session token: the token is held by that session and its owner
	Owner        string
	Transferable bool          // outlives its session (then unassigned)
	TTL          time.Duration // zero: token-default-ttl; NoExpiry: none
}

// TokenInfo is TOK.INFO. Owner, Session (a handle) and Price are empty when
// none; Price is the amount exactly as given to TOK.SELLABLE.
type TokenInfo struct {
	Owner         string
	Session       string
	Transferable  bool
	Sellable      bool
	Price         string
	Expires       time.Time // zero: never
	Unassigned    bool
	Timeout       time.Duration
	DisownTimeout time.Duration
}

// NewToken returns a fresh random token with the prefix; nothing is stored
// (TOK.NEW).
func (c *Client) NewToken(ctx context.Context, prefix string) (string, error) {
	args := []any{"TOK.NEW"}
	if prefix != "" {
		args = append(args, "PREFIX", prefix)
	}
	v, err := c.do(ctx, args...)
	if err != nil {
		return "", err
	}
	s, _ := v.(string)
	return s, nil
}

// AddToken adds a token with a value (TOK.ADD); false when the token exists,
// the session token is not valid, or Owner is not the session's owner.
func (c *Client) AddToken(ctx context.Context, token, value string, opts TokenOptions) (bool, error) {
	args := []any{"TOK.ADD", token, value}
	if opts.Session != "" {
		args = append(args, "SESSION", opts.Session)
	}
	if opts.Owner != "" {
		args = append(args, "OWNER", opts.Owner)
	}
	if opts.Transferable {
		args = append(args, "TRANSFERABLE")
	}
	if opts.TTL != 0 {
		args = append(args, "TTL", timeoutArg(opts.TTL))
	}
	return c.doBool(ctx, args...)
}

// GetToken returns the token's value; ErrInvalid when it does not exist.
func (c *Client) GetToken(ctx context.Context, token string) (string, error) {
	return c.get(ctx, "TOK.GET", token)
}

// TokenInfo returns the token's state (TOK.INFO); ErrInvalid when none.
func (c *Client) TokenInfo(ctx context.Context, token string) (TokenInfo, error) {
	f, err := c.doFields(ctx, "TOK.INFO", token)
	if err != nil {
		return TokenInfo{}, err
	}
	return TokenInfo{Owner: f.str("owner"), Session: f.str("session"), Transferable: f.bool("transferable"),
		Sellable: f.bool("sellable"), Price: f.str("price"), Expires: f.at("expires"),
		Unassigned: f.bool("unassigned"), Timeout: f.ms("timeout"), DisownTimeout: f.ms("disown_timeout")}, nil
}

// TokenOwner returns the token's owner; ErrInvalid when it has none or does
// not exist (TOK.OWNER).
func (c *Client) TokenOwner(ctx context.Context, token string) (string, error) {
	return c.get(ctx, "TOK.OWNER", token)
}

// TokenSession returns the handle of the session holding the token;
// ErrInvalid when none (TOK.SESSION).
func (c *Client) TokenSession(ctx context.Context, token string) (string, error) {
	return c.get(ctx, "TOK.SESSION", token)
}

// AcquireToken binds an unassigned or sellable transferable token to the
// session and its owner (TOK.ACQUIRE); false when it cannot.
func (c *Client) AcquireToken(ctx context.Context, token, sessionToken string) (bool, error) {
	return c.doBool(ctx, "TOK.ACQUIRE", token, sessionToken)
}

// TransferToken gives a transferable token of from to to (TOK.TRANSFER).
func (c *Client) TransferToken(ctx context.Context, token, from, to string) (bool, error) {
	return c.doBool(ctx, "TOK.TRANSFER", token, from, to)
}

// DestroyToken deletes the token (TOK.DESTROY); false when there was none.
func (c *Client) DestroyToken(ctx context.Context, token string) (bool, error) {
	return c.doBool(ctx, "TOK.DESTROY", token)
}

// TokenTTL is the token's remaining time (NoExpiry when none); ErrInvalid when
// it does not exist (TOK.TTL).
func (c *Client) TokenTTL(ctx context.Context, token string) (time.Duration, error) {
	return c.remaining(ctx, "TOK.TTL", token)
}

// ExpireToken sets the token's own timeout from now (NoExpiry: none).
func (c *Client) ExpireToken(ctx context.Context, token string, ttl time.Duration) error {
	return c.doOK(ctx, "TOK.EXPIRE", token, timeoutArg(ttl))
}

// DisownTimeout sets how long the transferable token waits unassigned
// (TOK.DISOWNTIMEOUT; NoExpiry: no limit).
func (c *Client) DisownTimeout(ctx context.Context, token string, wait time.Duration) error {
	return c.doOK(ctx, "TOK.DISOWNTIMEOUT", token, timeoutArg(wait))
}

// SellToken marks a transferable token sellable for amount, a decimal kept as
// given ("" for none) (TOK.SELLABLE).
func (c *Client) SellToken(ctx context.Context, token, amount string) error {
	if amount != "" {
		return c.doOK(ctx, "TOK.SELLABLE", token, amount)
	}
	return c.doOK(ctx, "TOK.SELLABLE", token)
}

// UnsellToken clears the sellable mark (TOK.UNSELLABLE).
func (c *Client) UnsellToken(ctx context.Context, token string) error {
	return c.doOK(ctx, "TOK.UNSELLABLE", token)
}

// TokensOfSession lists the tokens a session holds (TOK.LIST SESSION).
func (c *Client) TokensOfSession(ctx context.Context, sessionToken string) ([]string, error) {
	return c.strings(ctx, "TOK.LIST", "SESSION", sessionToken)
}

// TokensOfOwner lists the tokens an owner owns (TOK.LIST OWNER).
func (c *Client) TokensOfOwner(ctx context.Context, owner string) ([]string, error) {
	return c.strings(ctx, "TOK.LIST", "OWNER", owner)
}

// TransferableTokens lists the transferable tokens a session holds.
func (c *Client) TransferableTokens(ctx context.Context, sessionToken string) ([]string, error) {
	return c.strings(ctx, "TOK.LIST", "TRANSFERABLE", sessionToken)
}

// SellableTokens lists every sellable token.
func (c *Client) SellableTokens(ctx context.Context) ([]string, error) {
	return c.strings(ctx, "TOK.LIST", "SELLABLE")
}

// UnassignedTokens lists every unassigned token.
func (c *Client) UnassignedTokens(ctx context.Context) ([]string, error) {
	return c.strings(ctx, "TOK.LIST", "UNASSIGNED")
}

func (c *Client) strings(ctx context.Context, args ...any) ([]string, error) {
	v, err := c.do(ctx, args...)
	if err != nil {
		return nil, err
	}
	return asStrings(v)
}
