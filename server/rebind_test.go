package server_test

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

// CONFIG SET port moves the listener: new clients connect on the new port,
// connections already open stay; a port in use or an address that cannot
// be bound is refused in Redis' words and the server keeps listening where
// it was.
func TestConfigSetPortAndBind(t *testing.T) {
	s := testserver.Start(t)
	for _, proto := range []int{2, 3} {
		ctx := context.Background()
		c := s.Client(proto)
		conn := c.Conn()
		if err := conn.Ping(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		newPort := freePort(t)
		if err := conn.ConfigSet(ctx, "port", strconv.Itoa(newPort)).Err(); err != nil {
			t.Fatalf("RESP%d: CONFIG SET port: %v", proto, err)
		}
		if err := conn.Ping(ctx).Err(); err != nil {
			t.Fatalf("RESP%d: the open connection was dropped: %v", proto, err)
		}
		moved := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(newPort), Protocol: proto, MaxRetries: -1})
		if err := moved.Ping(ctx).Err(); err != nil {
			t.Fatalf("RESP%d: no server on the new port: %v", proto, err)
		}
		if got := moved.ConfigGet(ctx, "port").Val()["port"]; got != strconv.Itoa(newPort) {
			t.Errorf("RESP%d: CONFIG GET port = %q", proto, got)
		}
		if nc, err := net.DialTimeout("tcp", s.Addr, time.Second); err == nil {
			nc.Close()
			t.Errorf("RESP%d: the old port still accepts connections", proto)
		}
		// A port in use: refused, the server stays where it is.
		busy, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		busyPort := busy.Addr().(*net.TCPAddr).Port
		err = moved.ConfigSet(ctx, "port", strconv.Itoa(busyPort)).Err()
		busy.Close()
		want := "ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port: Address already in use"
		if err == nil || err.Error() != want {
			t.Errorf("RESP%d: CONFIG SET port in use: %v, want %q", proto, err, want)
		}
		err = moved.ConfigSet(ctx, "bind", "999.999.999.999").Err()
		want = "ERR CONFIG SET failed (possibly related to argument 'bind') - Failed to bind to specified addresses."
		if err == nil || err.Error() != want {
			t.Errorf("RESP%d: CONFIG SET bind to a bad address: %v, want %q", proto, err, want)
		}
		again := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(newPort), Protocol: proto, MaxRetries: -1})
		if err := again.Ping(ctx).Err(); err != nil {
			t.Errorf("RESP%d: not listening on the port after the refusals: %v", proto, err)
		}
		// Back to the first port for the next round.
		oldPort := s.Addr[len("127.0.0.1:"):]
		if err := again.ConfigSet(ctx, "port", oldPort).Err(); err != nil {
			t.Fatalf("RESP%d: back to the first port: %v", proto, err)
		}
		again.Close()
		moved.Close()
		conn.Close()
	}
}
