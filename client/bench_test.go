package client_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sessiond/sessiond/client"
	"github.com/sessiond/sessiond/internal/testserver"
)

// BenchmarkValidate compares SESS.VALIDATE through Client.Validate (typed
// result) with the same command through go-redis' Do (a raw reply): the
// package's cost per call on top of the round trip.
func BenchmarkValidate(b *testing.B) {
	srv := testserver.Start(b)
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		rdb := srv.Client(proto)
		c := client.New(rdb)
		s, err := c.NewSession(ctx, client.NewOptions{Owner: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		b.Run("Client.Validate/RESP"+string(rune('0'+proto)), func(b *testing.B) {
			tok, nonce := s.Token, s.Nonce
			for i := 0; i < b.N; i++ {
				v, err := c.ValidateNoRotate(ctx, tok, nonce)
				if err != nil {
					b.Fatal(err)
				}
				nonce = v.Nonce
			}
			s.Nonce = nonce
		})
		b.Run("redis.Do/RESP"+string(rune('0'+proto)), func(b *testing.B) {
			nonce := s.Nonce
			for i := 0; i < b.N; i++ {
				if err := rdb.Do(ctx, "SESS.VALIDATE", s.Token, nonce, "NOROTATE").Err(); err != nil {
					b.Fatal(err)
				}
				nonce++
			}
			s.Nonce = nonce
		})
	}
}

// BenchmarkRotatingRequest is one HTTP request through Client.Rotating (a
// rotation: SESS.VALIDATE + SESS.INFO, and the new cookie) against the same
// handler with no session middleware.
func BenchmarkRotatingRequest(b *testing.B) {
	srv := testserver.Start(b)
	c := client.New(srv.Client(2))
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux := http.NewServeMux()
	mux.Handle("/", ok)
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		if err := client.SessionFrom(r.Context()).Start(r.Context(), client.NewOptions{Owner: "bench"}); err != nil {
			b.Error(err)
		}
	})
	for _, tc := range []struct {
		name string
		h    http.Handler
	}{{"no middleware", ok}, {"Rotating", c.Rotating(client.RotatingOptions{})(mux)}} {
		b.Run(tc.name, func(b *testing.B) {
			web := httptest.NewServer(tc.h)
			defer web.Close()
			cookie := ""
			get := func(path string) {
				req, _ := http.NewRequest("GET", web.URL+path, nil)
				if cookie != "" {
					req.Header.Set("Cookie", cookie)
				}
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				res.Body.Close()
				if sc := res.Header.Get("Set-Cookie"); sc != "" {
					cookie = strings.Split(sc, ";")[0]
				}
			}
			get("/login")
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				get("/")
			}
		})
	}
}
