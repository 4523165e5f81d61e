package server_test

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

// CONFIG SET port moves the listener: new clients connect on the new port,
// connected ones stay, the old port is closed. A port in use fails the
// whole CONFIG SET in Redis' words and rolls every parameter of it back.
func TestConfigSetPort(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		c := redis.NewClient(&redis.Options{Addr: s.Addr, Protocol: proto, PoolSize: 1, MaxRetries: -1})
		defer c.Close()
		oldPort := c.ConfigGet(ctx, "port").Val()["port"]
		busy, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		busyPort := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)
		err = c.Do(ctx, "CONFIG", "SET", "maxmemory", "10000001", "port", busyPort, "client-query-buffer-limit", "10mb").Err()
		busy.Close()
		if err == nil || !strings.HasPrefix(err.Error(), "ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port: Address already in use") {
			t.Fatalf("RESP%d: CONFIG SET to a port in use: %v", proto, err)
		}
		got := c.ConfigGet(ctx, "*").Val()
		if got["port"] != oldPort || got["maxmemory"] != "0" || got["client-query-buffer-limit"] != "1073741824" {
			t.Fatalf("RESP%d: not rolled back: port %s maxmemory %s qbuf %s", proto, got["port"], got["maxmemory"], got["client-query-buffer-limit"])
		}
		newPort := strconv.Itoa(freePort(t))
		if err := c.ConfigSet(ctx, "port", newPort).Err(); err != nil {
			t.Fatalf("RESP%d: CONFIG SET port %s: %v", proto, newPort, err)
		}
		if err := c.Ping(ctx).Err(); err != nil {
			t.Fatalf("RESP%d: the connected client was dropped: %v", proto, err)
		}
		fresh := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + newPort, Protocol: proto})
		if v := fresh.ConfigGet(ctx, "port").Val()["port"]; v != newPort {
			t.Errorf("RESP%d: a client on the new port sees port %q", proto, v)
		}
		fresh.Close()
		if nc, err := net.Dial("tcp", "127.0.0.1:"+oldPort); err == nil {
			nc.Close()
			t.Errorf("RESP%d: the old port %s still accepts", proto, oldPort)
		}
		// Back, for the next protocol's client.
		if err := c.ConfigSet(ctx, "port", oldPort).Err(); err != nil {
			t.Fatalf("RESP%d: CONFIG SET port back: %v", proto, err)
		}
	}
}
