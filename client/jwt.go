package client

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// JWTOptions are the options of SESS.JWT; zero values leave the server's
// defaults.
type JWTOptions struct {
	// Claims are added to the token: a value encoded as a JSON object, or a
	// json.RawMessage. Reserved claims (iss sub sid jti iat exp aud) are an
	// error.
	Claims   any
	TTL      time.Duration
	Audience string
}

// JWTPair is an access token with its refresh token; Expires is the access
// token's exp.
type JWTPair struct {
	JWT     string
	Refresh string
	Expires time.Time
}

// Claims is a verified token's payload: the registered claims sessiond sets,
// and Raw, the whole payload, for claims of the application (Decode).
type Claims struct {
	Issuer    string          `json:"iss"`
	Subject   string          `json:"sub"` // the session's owner
	Session   string          `json:"sid"` // the session's handle
	ID        string          `json:"jti"`
	IssuedAt  int64           `json:"iat"`
	ExpiresAt int64           `json:"exp"`
	Raw       json.RawMessage `json:"-"`
}

// Decode unmarshals the whole payload into v.
func (c Claims) Decode(v any) error { return json.Unmarshal(c.Raw, v) }

// JWT issues a signed access token and a refresh token for the session
// (SESS.JWT); a *Failure when the session token is not valid.
func (c *Client) JWT(ctx context.Context, token string, opts JWTOptions) (JWTPair, error) {
	args := []any{"SESS.JWT", token}
	if opts.Claims != nil {
		var claims []byte
		switch x := opts.Claims.(type) {
		case json.RawMessage:
			claims = x
		default:
			b, err := json.Marshal(x)
			if err != nil {
				return JWTPair{}, fmt.Errorf("sessiond: SESS.JWT claims: %w", err)
			}
			claims = b
		}
		args = append(args, "CLAIMS", string(claims))
	}
	if opts.TTL != 0 {
		args = append(args, "TTL", seconds(opts.TTL))
	}
	if opts.Audience != "" {
		args = append(args, "AUDIENCE", opts.Audience)
	}
	return c.jwtPair(ctx, args...)
}

// Refresh redeems a refresh token for a new pair (SESS.REFRESH), single use;
// a *Failure when refused (replayed: the session has been revoked).
func (c *Client) Refresh(ctx context.Context, refresh string) (JWTPair, error) {
	return c.jwtPair(ctx, "SESS.REFRESH", refresh)
}

func (c *Client) jwtPair(ctx context.Context, args ...any) (JWTPair, error) {
	f, err := c.doChecked(ctx, args...)
	if err != nil {
		return JWTPair{}, err
	}
	return JWTPair{JWT: f.str("jwt"), Refresh: f.str("refresh"), Expires: f.at("expires")}, nil
}

// Verify checks an access token's signature, exp, iss, aud (when audience is
// not empty) and that its session is alive (SESS.VERIFY); a *Failure when not.
func (c *Client) Verify(ctx context.Context, jwt, audience string) (Claims, error) {
	args := []any{"SESS.VERIFY", jwt}
	if audience != "" {
		args = append(args, "AUDIENCE", audience)
	}
	f, err := c.doChecked(ctx, args...)
	if err != nil {
		return Claims{}, err
	}
	raw := json.RawMessage(f.str("claims"))
	var cl Claims
	if err := json.Unmarshal(raw, &cl); err != nil {
		return Claims{}, fmt.Errorf("sessiond: SESS.VERIFY claims: %w", err)
	}
	cl.Raw = raw
	return cl, nil
}

// JWKS returns the public keys as a JWKS JSON document (SESS.JWKS).
func (c *Client) JWKS(ctx context.Context) (string, error) {
	v, err := c.do(ctx, "SESS.JWKS")
	if err != nil {
		return "", err
	}
	s, _ := v.(string)
	return s, nil
}

// RotateKey makes a new signing key and returns its key id (SESS.ROTATEKEY).
func (c *Client) RotateKey(ctx context.Context) (string, error) {
	v, err := c.do(ctx, "SESS.ROTATEKEY")
	if err != nil {
		return "", err
	}
	s, _ := v.(string)
	return s, nil
}
