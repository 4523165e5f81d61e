package rdb

// crc64 is Redis' CRC-64 (Jones polynomial, reflected, initial value 0, no
// final xor), which DUMP payloads and RDB files end with.
func crc64(crc uint64, b []byte) uint64 {
	for _, c := range b {
		crc = crcTable[byte(crc)^c] ^ (crc >> 8)
	}
	return crc
}

var crcTable = func() (t [256]uint64) {
	const poly = 0x95ac9329ac4bc9b5 // 0xad93d23594c935a9, reflected
	for i := range t {
		c := uint64(i)
		for j := 0; j < 8; j++ {
			if c&1 == 1 {
				c = c>>1 ^ poly
			} else {
				c >>= 1
			}
		}
		t[i] = c
	}
	return t
}()

// Checksum is the CRC-64 a DUMP payload ends with (little-endian), over
// the value and its RDB version.
func Checksum(b []byte) uint64 { return crc64(0, b) }
