package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"math/rand"
	"strconv"
	"testing"
)

// Vectors produced by redis-server 7.0.15: PFADD key 0 1 ... n-1 (in
// batches of 1000) with hll-sparse-max-bytes set to max, then PFCOUNT key
// and the SHA-256 of GET key (so the cached count is in the header).
var hllVectors = []struct {
	max, n int
	count  uint64
	sha    string
}{
	{3000, 0, 0, "d9596e4bda3ed9045a2ee58fb6f30fed43bfa8a196669693083a4f265198cf66"},
	{3000, 1, 1, "22bf730fee121a209747e805ac2da15c6254aeccccc9588f2ef06ca51b013b0e"},
	{3000, 3, 3, "18145a405c182241086fe3f6255d4694b082a38d831cfc60b27f4acb8be61db7"},
	{3000, 10, 10, "0ebf84842d7d96ccf6bb1ae86c7459929aac188b10eb8211c7739d737cbd13da"},
	{3000, 100, 100, "2473556c4cfaa6e01dd62571918dbd2270532e03c2f4b564f0a5124a7ed229c0"},
	{3000, 500, 503, "7317e35b59590b5b7ff944a0913c84d5749fcd47e4a014f3cb38f00a29cd7261"},
	{3000, 1000, 1001, "7aba7a1e51e42bb6394317e057e944f80a42330cb58e14380ab40e4ba864bc39"},
	{3000, 5000, 4985, "5631d9dadff95537547841e1e177158b198f937d52348e00da9df68f3d8c0125"},
	{3000, 100000, 99565, "1d3c14faefff3f6166a9bcb075bc40b76b23c078ebd534d4af5102d7061343db"},
	{300, 500, 503, "f61e0b5fa5da2f6a78ae099fe5a09b87fb86b68e4b5f5d5c0a8a5858fb97e4d7"},
	{300, 1000, 1001, "484b50caadc06614d3f2e9c111123bde42436f7670de0081e6a067a7ddedb8a5"},
}

func TestHLLMatchesRedis(t *testing.T) {
	for _, v := range hllVectors {
		t.Run(strconv.Itoa(v.max)+"/"+strconv.Itoa(v.n), func(t *testing.T) {
			h := NewHLL()
			for i := 0; i < v.n; i++ {
				if _, err := h.Add([]byte(strconv.Itoa(i)), v.max); err != nil {
					t.Fatal(err)
				}
			}
			card, _, err := h.Count()
			if err != nil || card != v.count {
				t.Fatalf("count %d, %v; redis-server says %d", card, err, v.count)
			}
			sum := sha256.Sum256(h.Bytes())
			if got := hex.EncodeToString(sum[:]); got != v.sha {
				t.Fatalf("raw value differs from redis-server's (sparse=%v, len %d)", h.Sparse(), len(h.Bytes()))
			}
		})
	}
}

func TestHLLSparseBytes(t *testing.T) {
	// PFADD k 0 1 2 then PFCOUNT k on redis-server 7.0.15, GET k in hex.
	const want = "48594c4c0100000003000000000000005d668056408c48608c43f3"
	h := NewHLL()
	for _, e := range []string{"0", "1", "2"} {
		h.Add([]byte(e), 3000)
	}
	h.Count()
	if got := hex.EncodeToString(h.Bytes()); got != want {
		t.Fatalf("got %s want %s", got, want)
	}
	d, _ := h.Decode()
	if d != "Z:7527 v:1,1 Z:5697 v:4,1 Z:2145 v:4,1 Z:1012" { // PFDEBUG DECODE of redis-server
		t.Fatalf("decode %q", d)
	}
}

func TestHLLUnionAndMerge(t *testing.T) {
	// redis-server: PFADD u1 a0..a699, PFADD u2 a300..a1999, PFCOUNT u1 u2 = 2003.
	a, b := NewHLL(), NewHLL()
	for i := 0; i < 700; i++ {
		a.Add([]byte("a"+strconv.Itoa(i)), 3000)
	}
	for i := 300; i < 2000; i++ {
		b.Add([]byte("a"+strconv.Itoa(i)), 3000)
	}
	max := make([]uint8, HLLRegisters)
	if err := a.MergeInto(max); err != nil {
		t.Fatal(err)
	}
	if err := b.MergeInto(max); err != nil {
		t.Fatal(err)
	}
	if got := CountRegisters(max); got != 2003 {
		t.Fatalf("union %d, redis-server says 2003", got)
	}
	dst := NewHLL()
	if err := dst.SetRegisters(max, 3000); err != nil {
		t.Fatal(err)
	}
	if c, _, _ := dst.Count(); c != 2003 {
		t.Fatalf("merged count %d", c)
	}
}

func TestHLLSparseEqualsDense(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for round := 0; round < 200; round++ {
		s, d := NewHLL(), NewHLL()
		if _, err := d.ToDense(); err != nil {
			t.Fatal(err)
		}
		for i, n := 0, rng.Intn(300); i < n; i++ {
			e := []byte(strconv.FormatFloat(rng.Float64(), 'g', -1, 64))
			cs, err1 := s.Add(e, 3000)
			cd, err2 := d.Add(e, 3000)
			if err1 != nil || err2 != nil || cs != cd {
				t.Fatalf("add: sparse %v %v, dense %v %v", cs, err1, cd, err2)
			}
		}
		rs, _ := s.Registers()
		rd, _ := d.Registers()
		for i := range rs {
			if rs[i] != rd[i] {
				t.Fatalf("register %d: sparse %d dense %d", i, rs[i], rd[i])
			}
		}
		s.InvalidateCache()
		d.InvalidateCache()
		cs, _, _ := s.Count()
		cd, _, _ := d.Count()
		if cs != cd {
			t.Fatalf("count sparse %d dense %d", cs, cd)
		}
	}
}

func TestHLLCorrupt(t *testing.T) {
	hdr := "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80"
	for _, tc := range []struct {
		name, val string
		parse     error
		count     error
	}{
		{"short", "HYLL", ErrHLLNotHLL, nil},
		{"magic", "HYLX" + hdr[4:], ErrHLLNotHLL, nil},
		{"encoding", "HYLL\x02" + hdr[5:], ErrHLLNotHLL, nil},
		{"dense length", "HYLL\x00" + hdr[5:] + "xx", ErrHLLNotHLL, nil},
		{"too few registers", hdr + "\x7f\xfe", nil, ErrHLLCorrupt},
		{"too many registers", hdr + "\x7f\xff\x7f\xff", nil, ErrHLLCorrupt},
		{"truncated xzero", hdr + "\x7f", nil, ErrHLLCorrupt},
		{"val past end", hdr + "\x7f\xff\xff", nil, ErrHLLCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := ParseHLL(tc.val)
			if err != tc.parse {
				t.Fatalf("parse: %v, want %v", err, tc.parse)
			}
			if err != nil {
				return
			}
			if _, _, err := h.Count(); err != tc.count {
				t.Fatalf("count: %v, want %v", err, tc.count)
			}
			if err := h.MergeInto(make([]uint8, HLLRegisters)); err != tc.count {
				t.Fatalf("merge: %v, want %v", err, tc.count)
			}
			if _, err := h.ToDense(); err != tc.count {
				t.Fatalf("todense: %v, want %v", err, tc.count)
			}
		})
	}
}

func TestHLLCorruptFuzzNeverPanics(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for round := 0; round < 300; round++ {
		h := NewHLL()
		for i, n := 0, rng.Intn(3000); i < n; i++ {
			h.Add([]byte(strconv.Itoa(rng.Int())), 3000)
		}
		b := append([]byte(nil), h.Bytes()...)
		for k := 0; k < 1+rng.Intn(5); k++ {
			b[rng.Intn(len(b))] = byte(rng.Intn(256))
		}
		p, err := ParseHLL(string(b))
		if err != nil {
			continue
		}
		p.InvalidateCache()
		p.Count()
		p.Add([]byte("x"), 3000)
		p.MergeInto(make([]uint8, HLLRegisters))
	}
}

func TestHLLSelfTest(t *testing.T) {
	if testing.Short() {
		t.Skip("10 million additions")
	}
	if err := HLLSelfTest(rand.New(rand.NewSource(3)), 3000); err != nil {
		t.Fatal(err)
	}
}
