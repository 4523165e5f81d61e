package engine

// LCSMatch is one matching range of LCS ... IDX: a[AStart..AEnd] equals
// b[BStart..BEnd] (inclusive), Len bytes.
type LCSMatch struct {
	AStart, AEnd, BStart, BEnd, Len int
}

// LCSResult is the longest common subsequence of two strings.
type LCSResult struct {
	Len     int
	Str     string     // the subsequence (when computed)
	Matches []LCSMatch // ranges from the end of the strings backwards, as Redis lists them
}

// LCS computes the longest common subsequence of a and b with the dynamic
// programming table Redis uses, walking it back the same way so the ranges
// and their order match Redis'. Ranges shorter than minLen are left out.
// With walk false only Len is computed. It uses no transaction: callers read
// the values first and compute outside the lock.
func LCS(a, b string, minLen int64, walk bool) LCSResult {
	alen, blen := len(a), len(b)
	w := blen + 1
	tbl := make([]uint32, (alen+1)*w)
	at := func(i, j int) uint32 { return tbl[j+i*w] }
	for i := 1; i <= alen; i++ {
		for j := 1; j <= blen; j++ {
			if a[i-1] == b[j-1] {
				tbl[j+i*w] = at(i-1, j-1) + 1
			} else {
				tbl[j+i*w] = max(at(i-1, j), at(i, j-1))
			}
		}
	}
	res := LCSResult{Len: int(at(alen, blen))}
	if !walk {
		return res
	}
	idx := res.Len
	out := make([]byte, idx)
	aStart, aEnd, bStart, bEnd := alen, 0, 0, 0 // aStart == alen: no range open
	i, j := alen, blen
	for i > 0 && j > 0 {
		emit := false
		if a[i-1] == b[j-1] {
			out[idx-1] = a[i-1]
			if aStart == alen {
				aStart, aEnd, bStart, bEnd = i-1, i-1, j-1, j-1
			} else if aStart == i && bStart == j {
				aStart--
				bStart--
			} else {
				emit = true
			}
			if aStart == 0 || bStart == 0 {
				emit = true
			}
			idx--
			i--
			j--
		} else {
			if at(i-1, j) > at(i, j-1) {
				i--
			} else {
				j--
			}
			if aStart != alen {
				emit = true
			}
		}
		if emit {
			n := aEnd - aStart + 1
			if minLen == 0 || int64(n) >= minLen {
				res.Matches = append(res.Matches, LCSMatch{aStart, aEnd, bStart, bEnd, n})
			}
			aStart = alen
		}
	}
	res.Str = string(out)
	return res
}
