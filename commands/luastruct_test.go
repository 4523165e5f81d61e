package commands_test

import (
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

// The struct library: every expected value here is what redis-server 7.0.15
// answered to the same script.
func TestScriptStructLibrary(t *testing.T) {
	s := testserver.Start(t)
	ev := func(body string) []any { return []any{"eval", body, "0"} }
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		testserver.Run(t, c, []C{
			{Cmd: ev(`local s = struct.pack('>i4', 258) return {#s, string.byte(s,1,-1)}`), Want: []any{int64(4), int64(0), int64(0), int64(1), int64(2)}},
			{Cmd: ev(`local s = struct.pack('<h', -2) return {string.byte(s,1,-1)}`), Want: []any{int64(254), int64(255)}},
			{Cmd: ev(`local s = struct.pack('!4 b i', 1, 2) return {#s, string.byte(s,1,-1)}`), Want: []any{int64(8), int64(1), int64(0), int64(0), int64(0), int64(2), int64(0), int64(0), int64(0)}},
			{Cmd: ev(`local s = struct.pack('>d', 1.5) return {string.byte(s,1,-1)}`), Want: []any{int64(63), int64(248), int64(0), int64(0), int64(0), int64(0), int64(0), int64(0)}},
			{Cmd: ev(`local s = struct.pack('<f', -0.25) return {string.byte(s,1,-1)}`), Want: []any{int64(0), int64(0), int64(128), int64(190)}},
			{Cmd: ev(`return struct.pack('c3 c0', 'abcdef', 'xyz')`), Want: "abcxyz"},
			{Cmd: ev(`return {struct.unpack('>i4 <H b', struct.pack('>i4 <H b', -5, 65535, -1))}`), Want: []any{int64(-5), int64(65535), int64(-1), int64(8)}},
			{Cmd: ev(`return {struct.unpack('B c0', struct.pack('B c0', 3, 'abc'))}`), Want: []any{"abc", int64(5)}},
			{Cmd: ev(`return {struct.unpack('s s', 'ab\0cd\0')}`), Want: []any{"ab", "cd", int64(7)}},
			{Cmd: ev(`return struct.size('!8 b d i2 c5 x')`), Want: int64(24)},
			{Cmd: ev(`return struct.size('>l L T h')`), Want: int64(26)},
			{Cmd: ev(`return {struct.unpack('>i16', struct.pack('>i16', -3))}`), Want: []any{int64(-3), int64(17)}},
			{Cmd: ev(`return {struct.unpack('>I3', struct.pack('>I3', 70000), 1)}`), Want: []any{int64(70000), int64(4)}},
			{Cmd: ev(`return {struct.unpack('<l', struct.pack('<l', 1234567890123))}`), Want: []any{int64(1234567890123), int64(9)}},
			{Cmd: ev(`return struct.pack('q', 1)`), WantErr: "ERR user_script:1: bad argument #1 to 'pack' (invalid format option 'q')"},
			{Cmd: ev(`return struct.unpack('i4', 'ab')`), WantErr: "ERR user_script:1: bad argument #2 to 'unpack' (data string too short)"},
			{Cmd: ev(`return struct.size('s')`), WantErr: "ERR user_script:1: bad argument #1 to 'size' (option 's' has no fixed size)"},
			{Cmd: ev(`return struct.pack('!3 i', 1)`), WantErr: "ERR user_script:1: alignment 3 is not a power of 2"},
			{Cmd: ev(`return struct.pack('c5', 'ab')`), WantErr: "ERR user_script:1: bad argument #3 to 'pack' (string too short)"},
			{Cmd: ev(`return {struct.unpack('c0', 'abc')}`), WantErr: "ERR user_script:1: format 'c0' needs a previous size"},
			{Cmd: ev(`return {struct.unpack('i', struct.pack('i', 7), 0)}`), WantErr: "ERR user_script:1: bad argument #3 to 'unpack' (offset must be 1 or greater)"},
			{Cmd: ev(`return struct.pack('i40', 1)`), WantErr: "ERR user_script:1: integral size 40 is larger than limit of 32"},
			{Cmd: ev(`struct.pack = nil`), WantErr: "ERR user_script:1: Attempt to modify a readonly table"},
		})
	})
}
