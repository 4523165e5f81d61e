package commands_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

// Seed 003, session-jwt: newSession(data, owner) returns {jwt, refreshToken};
// ensureAuth is a middleware that lets a request through only with a valid
// jwt in the "jwt" header and puts its claims in req.session; refresh(token)
// gives a new jwt, or fails and the user must log in again. Here the library
// is a few lines over SESS.JWT / SESS.VERIFY / SESS.REFRESH, and an HTTP app
// uses it the way the seed's README does. Unlike the seed, a jwt dies with
// its session (logout is SESS.DESTROY), and refresh tokens rotate.

// sessionJWT is the seed's API, one command per call.
type sessionJWT struct{ rdb *redis.Client }

type jwtPair struct{ JWT, RefreshToken string }

var errMustLogin = errors.New("refresh token invalid: log in again")

// newSession(data, owner): a server session for the owner, and a jwt whose
// claims carry data.
func (s sessionJWT) newSession(data map[string]any, owner string) (jwtPair, string, error) {
	created, err := s.rdb.Do(jctx, "sess.new", "OWNER", owner).Result()
	if err != nil {
		return jwtPair{}, "", err
	}
	token := replyField(created, "token")
	claims, _ := json.Marshal(data)
	issued, err := s.rdb.Do(jctx, "sess.jwt", token, "CLAIMS", string(claims)).Result()
	if err != nil {
		return jwtPair{}, "", err
	}
	return jwtPair{replyField(issued, "jwt"), replyField(issued, "refresh")}, token, nil
}

// verify is what ensureAuth runs: the claims, or why not.
func (s sessionJWT) verify(jwt string) (map[string]any, string, error) {
	v, err := s.rdb.Do(jctx, "sess.verify", jwt).Result()
	if err != nil {
		return nil, "", err
	}
	if replyField(v, "ok") != "1" {
		return nil, replyField(v, "reason"), nil
	}
	var claims map[string]any
	err = json.Unmarshal([]byte(replyField(v, "claims")), &claims)
	return claims, "", err
}

// refresh(refreshToken): a new pair, or errMustLogin.
func (s sessionJWT) refresh(refreshToken string) (jwtPair, error) {
	v, err := s.rdb.Do(jctx, "sess.refresh", refreshToken).Result()
	if err != nil {
		return jwtPair{}, err
	}
	if replyField(v, "ok") == "0" {
		return jwtPair{}, fmt.Errorf("%w (%s)", errMustLogin, replyField(v, "reason"))
	}
	return jwtPair{replyField(v, "jwt"), replyField(v, "refresh")}, nil
}

// replyField reads one field of a map reply (RESP3 map or RESP2 flat array).
func replyField(v any, name string) string {
	switch x := v.(type) {
	case map[any]any:
		if f, ok := x[name]; ok {
			return fmt.Sprint(f)
		}
	case []any:
		for i := 0; i+1 < len(x); i += 2 {
			if fmt.Sprint(x[i]) == name {
				return fmt.Sprint(x[i+1])
			}
		}
	}
	return ""
}

type ctxKey struct{}

// ensureAuth is the seed's middleware: no valid jwt in the header, no entry.
func (s sessionJWT) ensureAuth(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		claims, reason, err := s.verify(r.Header.Get("jwt"))
		switch {
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		case claims == nil:
			http.Error(w, "unauthorized: "+reason, http.StatusUnauthorized)
		default:
			next(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, claims)))
		}
	}
}

// seedApp is the README's express app: /login, /user (behind ensureAuth),
// /refresh, and /logout.
func seedApp(t *testing.T, lib sessionJWT) *httptest.Server {
	mux := http.NewServeMux()
	var mu sync.Mutex
	sessionOf := map[string]string{} // sid -> session token: the app's own bookkeeping for logout
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		pair, token, err := lib.newSession(map[string]any{"user": r.URL.Query().Get("user")}, r.URL.Query().Get("user"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		claims, _, _ := lib.verify(pair.JWT)
		mu.Lock()
		sessionOf[fmt.Sprint(claims["sid"])] = token
		mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]string{"jwt": pair.JWT, "refreshToken": pair.RefreshToken})
	})
	mux.HandleFunc("/user", lib.ensureAuth(func(w http.ResponseWriter, r *http.Request) {
		session := r.Context().Value(ctxKey{}).(map[string]any) // req.session
		fmt.Fprintf(w, "hello %v", session["user"])
	}))
	mux.HandleFunc("/refresh", func(w http.ResponseWriter, r *http.Request) {
		pair, err := lib.refresh(r.URL.Query().Get("refreshToken"))
		if err != nil {
			http.Redirect(w, r, "/login", http.StatusMovedPermanently)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"jwt": pair.JWT, "refreshToken": pair.RefreshToken})
	})
	mux.HandleFunc("/logout", lib.ensureAuth(func(w http.ResponseWriter, r *http.Request) {
		session := r.Context().Value(ctxKey{}).(map[string]any)
		mu.Lock()
		token := sessionOf[fmt.Sprint(session["sid"])]
		mu.Unlock()
		if err := lib.rdb.Do(jctx, "sess.destroy", token).Err(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, "bye")
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestSeed003SessionJWT(t *testing.T) {
	for _, alg := range []struct{ name, secret string }{{"eddsa", ""}, {"hs256", testSecret}} {
		t.Run(alg.name, func(t *testing.T) {
			t.Parallel()
			// session.settings(secret): the algorithm and secret are server config.
			// A short access TTL, yet long enough that a loaded machine never
			// lets a fresh token lapse before the first checks.
			params := []string{"jwt-algorithm", alg.name, "jwt-access-ttl", "5"}
			if alg.secret != "" {
				params = append(params, "jwt-secret", alg.secret)
			}
			s := testserver.Start(t, params...)
			s.Protocols(t, func(t *testing.T, c *redis.Client) {
				app := seedApp(t, sessionJWT{c})
				client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
				get := func(path, jwt string) (int, string) {
					t.Helper()
					req, _ := http.NewRequest("GET", app.URL+path, nil)
					if jwt != "" {
						req.Header.Set("jwt", jwt)
					}
					resp, err := client.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					defer resp.Body.Close()
					b, _ := io.ReadAll(resp.Body)
					return resp.StatusCode, strings.TrimSpace(string(b))
				}
				pairOf := func(body string) jwtPair {
					t.Helper()
					var m map[string]string
					if err := json.Unmarshal([]byte(body), &m); err != nil || m["jwt"] == "" || m["refreshToken"] == "" {
						t.Fatalf("not a pair: %q", body)
					}
					return jwtPair{m["jwt"], m["refreshToken"]}
				}

				// newSession via /login.
				code, body := get("/login?user=ale", "")
				if code != 200 {
					t.Fatalf("login: %d %s", code, body)
				}
				p := pairOf(body)
				// ensureAuth lets a valid jwt through, with req.session from its claims.
				if code, body := get("/user", p.JWT); code != 200 || body != "hello ale" {
					t.Fatalf("/user: %d %q", code, body)
				}
				// ... and blocks requests without one, or with a forged one.
				if code, _ := get("/user", ""); code != http.StatusUnauthorized {
					t.Fatalf("no jwt: %d", code)
				}
				if code, _ := get("/user", p.JWT[:len(p.JWT)-4]+"AAAA"); code != http.StatusUnauthorized {
					t.Fatalf("forged jwt: %d", code)
				}
				// Wait until the jwt's own exp has passed.
				time.Sleep(time.Until(time.Unix(expOf(t, p.JWT)+1, 100e6)))
				if code, body := get("/user", p.JWT); code != http.StatusUnauthorized || !strings.Contains(body, "expired") {
					t.Fatalf("expired jwt: %d %q", code, body)
				}
				// refresh: a new jwt (and, here, a new single-use refresh token).
				code, body = get("/refresh?refreshToken="+p.RefreshToken, "")
				if code != 200 {
					t.Fatalf("refresh: %d %s", code, body)
				}
				p2 := pairOf(body)
				if code, body := get("/user", p2.JWT); code != 200 || body != "hello ale" {
					t.Fatalf("/user after refresh: %d %q", code, body)
				}
				// An invalid refresh token: the user must log in.
				if code, _ := get("/refresh?refreshToken=nope", ""); code != http.StatusMovedPermanently {
					t.Fatalf("invalid refresh: %d", code)
				}
				// Logout ends the session: its jwt and refresh token stop at once.
				if code, body := get("/logout", p2.JWT); code != 200 || body != "bye" {
					t.Fatalf("logout: %d %q", code, body)
				}
				if code, body := get("/user", p2.JWT); code != http.StatusUnauthorized || !strings.Contains(body, "unknown") {
					t.Fatalf("jwt after logout: %d %q", code, body)
				}
				if code, _ := get("/refresh?refreshToken="+p2.RefreshToken, ""); code != http.StatusMovedPermanently {
					t.Fatalf("refresh after logout: %d", code)
				}
			})
		})
	}
}

// expOf reads the exp claim of a JWT without verifying it.
func expOf(t *testing.T, jwt string) int64 {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Exp int64 `json:"exp"`
	}
	if err := json.Unmarshal(raw, &claims); err != nil || claims.Exp == 0 {
		t.Fatalf("no exp in %s (%v)", raw, err)
	}
	return claims.Exp
}
