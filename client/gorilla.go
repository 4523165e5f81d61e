package client

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

// Store is a gorilla/sessions Store on the native sessions: the cookie holds
// the session token (signed and encrypted by Codecs when keys are given), the
// server keeps only its hash, and the session's Values are its data
// (encoding/gob, as other gorilla stores do: gob.Register custom types).
// Options.MaxAge is the idle timeout; Absolute caps a session's life.
type Store struct {
	Client  *Client
	Codecs  []securecookie.Codec
	Options *sessions.Options
	// Absolute is the absolute timeout of new sessions (zero: the server's
	// session-absolute-timeout; NoExpiry: none).
	Absolute time.Duration
	// Owner returns the owner of a session from its values (say the "user"
	// value), "" for none. A session's owner is fixed at creation: when Owner
	// names someone else than the stored session's owner, Save creates a new
	// session (a new token, as after a login) with that owner.
	Owner func(*sessions.Session) string
}

// NewStore returns a Store over c. keyPairs, when given, sign (and encrypt)
// the cookie with securecookie; without them the cookie holds the bare
// token, 256 random bits that the server checks by its hash.
func NewStore(c *Client, keyPairs ...[]byte) *Store {
	s := &Store{
		Client:  c,
		Options: &sessions.Options{Path: "/", MaxAge: 86400 * 30, HttpOnly: true, SameSite: http.SameSiteLaxMode},
	}
	if len(keyPairs) > 0 {
		s.Codecs = securecookie.CodecsFromPairs(keyPairs...)
	}
	return s
}

// Get returns the session of this request, cached in its registry.
func (s *Store) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(s, name)
}

// New returns the session named by the request's cookie, or a new one
// (IsNew) when there is none or its token is not valid.
func (s *Store) New(r *http.Request, name string) (*sessions.Session, error) {
	session := sessions.NewSession(s, name)
	opts := *s.Options
	session.Options = &opts
	session.IsNew = true
	c, err := r.Cookie(name)
	if err != nil {
		return session, nil
	}
	token, err := s.decodeCookie(name, c.Value)
	if err != nil {
		return session, nil // a cookie we did not make: a new session
	}
	data, err := s.Client.GetNoTouch(r.Context(), token)
	if errors.Is(err, ErrInvalid) {
		return session, nil
	}
	if err != nil {
		return session, err
	}
	if data != "" {
		if err := gob.NewDecoder(bytes.NewBufferString(data)).Decode(&session.Values); err != nil {
			return session, fmt.Errorf("sessiond store: decode session: %w", err)
		}
	}
	session.ID = token
	session.IsNew = false
	return session, nil
}

// Save writes the session and sets its cookie; MaxAge < 0 destroys it. A
// session revoked, destroyed or expired while the request ran is not written
// again: its cookie is cleared and Save returns nil.
func (s *Store) Save(r *http.Request, w http.ResponseWriter, session *sessions.Session) error {
	ctx := r.Context()
	if session.Options.MaxAge < 0 {
		if session.ID != "" {
			if _, err := s.Client.Destroy(ctx, session.ID); err != nil {
				return err
			}
		}
		http.SetCookie(w, sessions.NewCookie(session.Name(), "", session.Options))
		return nil
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(session.Values); err != nil {
		return fmt.Errorf("sessiond store: encode session: %w", err)
	}
	idle := time.Duration(session.Options.MaxAge) * time.Second
	if idle == 0 {
		idle = NoExpiry // a browser-session cookie: no idle timeout beyond the absolute one
	}
	owner := ""
	if s.Owner != nil {
		owner = s.Owner(session)
	}
	saved, err := s.write(ctx, session.ID, owner, buf.String(), idle)
	if errors.Is(err, errEnded) {
		// Revoked, destroyed or expired while the request ran: the end stands,
		// the write is dropped and the browser forgets the cookie.
		session.ID = ""
		opts := *session.Options
		opts.MaxAge = -1
		http.SetCookie(w, sessions.NewCookie(session.Name(), "", &opts))
		return nil
	}
	if err != nil {
		return err
	}
	if saved != session.ID {
		if session.ID != "" {
			if _, err := s.Client.Destroy(ctx, session.ID); err != nil {
				return err
			}
		}
		session.ID = saved
	}
	value, err := s.encodeCookie(session.Name(), session.ID)
	if err != nil {
		return err
	}
	http.SetCookie(w, sessions.NewCookie(session.Name(), value, session.Options))
	return nil
}

// errEnded reports that the session a request loaded has ended since.
var errEnded = errors.New("sessiond store: the session ended during the request")

// write updates the session under token, or creates one (returning its new
// token) when there is none yet or the owner changed (an owner is fixed at
// creation). A session that ended since the request loaded it is errEnded:
// a save never brings back a revoked session.
func (s *Store) write(ctx context.Context, token, owner, data string, idle time.Duration) (string, error) {
	if token != "" {
		update := true
		if owner != "" {
			owned, err := s.Client.Active(ctx, token, owner)
			if err != nil {
				return "", err
			}
			if !owned {
				alive, err := s.Client.Active(ctx, token, "")
				if err != nil {
					return "", err
				}
				if !alive {
					return "", errEnded
				}
				update = false // alive, another owner: a new session for this one
			}
		}
		if update {
			err := s.Client.Set(ctx, token, data, SetOptions{Idle: idle})
			if errors.Is(err, ErrInvalid) {
				return "", errEnded
			}
			if err != nil {
				return "", err
			}
			return token, nil
		}
	}
	created, err := s.Client.NewSession(ctx, NewOptions{Owner: owner, Data: data, Idle: idle, Absolute: s.Absolute})
	if err != nil {
		return "", err
	}
	return created.Token, nil
}

func (s *Store) encodeCookie(name, token string) (string, error) {
	if len(s.Codecs) == 0 {
		return token, nil
	}
	return securecookie.EncodeMulti(name, token, s.Codecs...)
}

func (s *Store) decodeCookie(name, value string) (string, error) {
	if len(s.Codecs) == 0 {
		return value, nil
	}
	var token string
	err := securecookie.DecodeMulti(name, value, &token, s.Codecs...)
	return token, err
}

// RevokeOwner logs owner out everywhere and returns how many sessions ended.
func (s *Store) RevokeOwner(ctx context.Context, owner string) (int64, error) {
	return s.Client.RevokeOwner(ctx, owner, "")
}

// ListOwner returns the owner's sessions (handles, never tokens).
func (s *Store) ListOwner(ctx context.Context, owner string) ([]SessionInfo, error) {
	return s.Client.List(ctx, owner)
}

var _ sessions.Store = (*Store)(nil)
