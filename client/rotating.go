package client

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Action is what the rotating-session middleware does with a request whose
// cookie was refused.
type Action int

const (
	// Visitor clears the cookie and serves the request without a session;
	// FailureFrom(r.Context()) tells the handler why.
	Visitor Action = iota
	// Reject clears the cookie and answers 401 with {"error": reason}.
	Reject
)

// DefaultOnFailure is what each reason does unless RotatingOptions says
// otherwise: the ordinary ends of a session (unknown, expired, revoked,
// detached) make a visitor; a wrong nonce (a copied or forged cookie) and a
// replay (a stolen token; the server has revoked the session) are rejected.
var DefaultOnFailure = map[Reason]Action{
	ReasonUnknown:  Visitor,
	ReasonExpired:  Visitor,
	ReasonRevoked:  Visitor,
	ReasonDetached: Visitor,
	ReasonNonce:    Reject,
	ReasonReplayed: Reject,
}

// RotatingOptions configure Client.Rotating.
type RotatingOptions struct {
	// CookieName defaults to "sessiond".
	CookieName string
	// Cookie is the template of the cookie (Path "/" and SameSite Lax
	// unless set, HttpOnly always: scripts never see the token); Name, Value
	// and Expires are filled in.
	Cookie http.Cookie
	// NoRotate validates with NOROTATE: the token stays, the nonce moves.
	NoRotate bool
	// OnFailure overrides DefaultOnFailure per reason.
	OnFailure map[Reason]Action
	// ErrorHandler answers a request when the server cannot be reached
	// (default: 503).
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
}

// RotatingSession is the session of a request under Rotating.
type RotatingSession struct {
	Token   string // the current token ("" for a visitor)
	Nonce   int64
	Expires time.Time
	Handle  string
	Owner   string

	c    *Client
	w    http.ResponseWriter
	o    *RotatingOptions
	name string
}

type ctxKey int

const (
	sessionKey ctxKey = iota
	failureKey
)

// SessionFrom returns the request's rotating session (Token "" for a
// visitor), or nil outside the middleware.
func SessionFrom(ctx context.Context) *RotatingSession {
	s, _ := ctx.Value(sessionKey).(*RotatingSession)
	return s
}

// FailureFrom returns why the request's cookie was refused, "" when it was
// not (or there was none).
func FailureFrom(ctx context.Context) Reason {
	r, _ := ctx.Value(failureKey).(Reason)
	return r
}

// Start creates a session (SESS.NEW) for this request and sets its cookie,
// destroying the request's former session if any.
func (s *RotatingSession) Start(ctx context.Context, opts NewOptions) error {
	if s.Token != "" {
		if _, err := s.c.Destroy(ctx, s.Token); err != nil {
			return err
		}
	}
	n, err := s.c.NewSession(ctx, opts)
	if err != nil {
		return err
	}
	s.Token, s.Nonce, s.Expires, s.Handle, s.Owner = n.Token, n.Nonce, n.Expires, n.Handle, opts.Owner
	s.setCookie(n.Token, n.Nonce, n.Expires)
	return nil
}

// End destroys the session and clears the cookie.
func (s *RotatingSession) End(ctx context.Context) error {
	if s.Token != "" {
		if _, err := s.c.Destroy(ctx, s.Token); err != nil {
			return err
		}
	}
	*s = RotatingSession{c: s.c, w: s.w, o: s.o, name: s.name}
	s.clearCookie()
	return nil
}

// Data returns the session's data without touching it (validation did).
func (s *RotatingSession) Data(ctx context.Context) (string, error) {
	if s.Token == "" {
		return "", ErrInvalid
	}
	return s.c.GetNoTouch(ctx, s.Token)
}

// Save replaces the session's data.
func (s *RotatingSession) Save(ctx context.Context, data string) error {
	if s.Token == "" {
		return ErrInvalid
	}
	return s.c.Set(ctx, s.Token, data, SetOptions{})
}

func (s *RotatingSession) setCookie(token string, nonce int64, expires time.Time) {
	ck := s.o.Cookie
	ck.Name, ck.Value, ck.Expires = s.name, token+"."+strconv.FormatInt(nonce, 10), expires
	http.SetCookie(s.w, &ck)
}

func (s *RotatingSession) clearCookie() {
	ck := s.o.Cookie
	ck.Name, ck.Value, ck.Expires, ck.MaxAge = s.name, "", time.Unix(0, 0), -1
	http.SetCookie(s.w, &ck)
}

// parseRotating splits "<token>.<nonce>".
func parseRotating(v string) (string, int64, bool) {
	dot := strings.LastIndexByte(v, '.')
	if dot <= 0 {
		return "", 0, false
	}
	n, err := strconv.ParseInt(v[dot+1:], 10, 64)
	if err != nil || n < 0 {
		return "", 0, false
	}
	return v[:dot], n, true
}

// validateWithInfo sends SESS.VALIDATE and SESS.INFO of the presented token
// in one pipeline (one round trip): within the grace the presented token
// still answers SESS.INFO with the session's current nonce, which tells a
// late twin from the newest request. The info is nil when the server did
// not answer it (the grace had passed, or validation failed).
func (c *Client) validateWithInfo(ctx context.Context, token string, nonce int64, noRotate bool) (Issued, *SessionInfo, error) {
	args := []any{"SESS.VALIDATE", token, nonce}
	if noRotate {
		args = append(args, "NOROTATE")
	}
	var vcmd, icmd *redis.Cmd
	_, _ = c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		vcmd = p.Do(ctx, args...)
		icmd = p.Do(ctx, "SESS.INFO", token)
		return nil
	})
	f, err := checkedReply(mapReply(result(vcmd)))
	if err != nil {
		return Issued{}, nil, err
	}
	var current *SessionInfo
	if fi, ierr := mapReply(result(icmd)); ierr == nil {
		if info, ierr := sessionInfo(fi); ierr == nil {
			current = &info
		}
	}
	return issued(f), current, nil
}

// Rotating returns net/http middleware for sessions whose token rotates on
// every request. The cookie holds "<token>.<nonce>"; each request is checked
// with SESS.VALIDATE and the response carries the successor. Handlers find
// the session with SessionFrom(r.Context()).
//
// Requests sent with the same cookie (a second tab, a page and its XHRs) get
// the same successor within session-rotate-grace, so none forks the session.
// A response whose successor the browser has already moved past (the
// session's nonce is ahead of it) sets no cookie, so a late response never
// puts the browser back on a rotated-out token, which after the grace would
// read as a replay and revoke the session. Each request costs one round trip
// (SESS.VALIDATE and SESS.INFO pipelined).
func (c *Client) Rotating(opts RotatingOptions) func(http.Handler) http.Handler {
	o := opts
	if o.CookieName == "" {
		o.CookieName = "sessiond"
	}
	if o.Cookie.Path == "" {
		o.Cookie.Path = "/"
	}
	if o.Cookie.SameSite == 0 {
		o.Cookie.SameSite = http.SameSiteLaxMode
	}
	o.Cookie.HttpOnly = true
	if o.ErrorHandler == nil {
		o.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) {
			http.Error(w, "session store unavailable", http.StatusServiceUnavailable)
		}
	}
	action := func(r Reason) Action {
		if a, ok := o.OnFailure[r]; ok {
			return a
		}
		return DefaultOnFailure[r]
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			s := &RotatingSession{c: c, w: w, o: &o, name: o.CookieName}
			ck, err := r.Cookie(o.CookieName)
			if err != nil || ck.Value == "" {
				next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, sessionKey, s)))
				return
			}
			var v Issued
			var current *SessionInfo
			token, nonce, ok := parseRotating(ck.Value)
			if ok {
				v, current, err = c.validateWithInfo(ctx, token, nonce, o.NoRotate)
			} else {
				err = &Failure{Reason: ReasonUnknown}
			}
			if err == nil {
				s.Token, s.Nonce, s.Expires = v.Token, v.Nonce, v.Expires
				if current != nil {
					s.Handle, s.Owner = current.Handle, current.Owner
				}
				// A late twin (the session has rotated past its successor) must
				// not move the browser back; otherwise set the successor.
				if current == nil || current.Nonce <= v.Nonce {
					s.setCookie(v.Token, v.Nonce, v.Expires)
				}
				next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, sessionKey, s)))
				return
			}
			reason := ReasonOf(err)
			if reason == "" {
				o.ErrorHandler(w, r, err)
				return
			}
			s.clearCookie()
			if action(reason) == Reject {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				_ = json.NewEncoder(w).Encode(map[string]string{"error": string(reason)})
				return
			}
			ctx = context.WithValue(context.WithValue(ctx, sessionKey, s), failureKey, reason)
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}
