package engine

import (
	"encoding/binary"
	"encoding/hex"
	"reflect"
	"testing"

	"github.com/sessiond/sessiond/rdb"
)

// A Redis DUMP payload restores as the value Redis had; a damaged one
// changes nothing, even with REPLACE.
func TestRestoreRedisPayload(t *testing.T) {
	e := openTest(t, ":memory:")
	hs, _ := hex.DecodeString("1011110000000400817a0201018161020201ff0a003c0e53f64897a4ad") // HSET hs z 1 a 2, from redis-server 7.0
	cut := []byte("\x00\x05hel\x0a\x00")
	cut = binary.LittleEndian.AppendUint64(cut, rdb.Checksum(cut))
	update(t, e, t0, func(tx *Tx) error {
		if err := tx.Restore(0, "h", string(hs), t0+1000, false); err != nil {
			return err
		}
		if err := tx.Restore(0, "h", string(cut), 0, true); err != ErrBadDumpFormat {
			t.Errorf("cut payload: %v", err)
		}
		return nil
	})
	_ = e.View(t0, func(tx *Tx) error {
		f, v, _ := tx.HGetAll(0, "h")
		if !reflect.DeepEqual(f, []string{"z", "a"}) || !reflect.DeepEqual(v, []string{"1", "2"}) {
			t.Errorf("restored hash %v %v", f, v)
		}
		if dl, _ := tx.Deadline(0, "h"); dl != t0+1000 {
			t.Errorf("deadline %d", dl)
		}
		return nil
	})
}
