//go:build cgo

// Package credis holds Redis 7.0's own C number parsing and formatting
// (string2ll, string2ld, getDoubleFromObject's strtod checks, ld2string in
// human mode), compiled with cgo against the C library. It exists only as a
// reference for fuzz tests of the engine's Go implementations; nothing in
// sessiond links it.
package credis

/*
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LONG_DOUBLE_CHARS 5*1024
#define LONG_STR_SIZE 21

static int string2ll(const char *s, size_t slen, long long *value) {
    const char *p = s;
    size_t plen = 0;
    int negative = 0;
    unsigned long long v;
    if (plen == slen || slen >= LONG_STR_SIZE) return 0;
    if (slen == 1 && p[0] == '0') { if (value != NULL) *value = 0; return 1; }
    if (p[0] == '-') { negative = 1; p++; plen++; if (plen == slen) return 0; }
    if (p[0] >= '1' && p[0] <= '9') { v = p[0]-'0'; p++; plen++; } else { return 0; }
    while (plen < slen && p[0] >= '0' && p[0] <= '9') {
        if (v > (ULLONG_MAX / 10)) return 0;
        v *= 10;
        if (v > (ULLONG_MAX - (p[0]-'0'))) return 0;
        v += p[0]-'0';
        p++; plen++;
    }
    if (plen < slen) return 0;
    if (negative) {
        if (v > ((unsigned long long)(-(LLONG_MIN+1))+1)) return 0;
        if (value != NULL) *value = -v;
    } else {
        if (v > LLONG_MAX) return 0;
        if (value != NULL) *value = v;
    }
    return 1;
}

static int string2ld(const char *s, size_t slen, long double *dp) {
    char buf[MAX_LONG_DOUBLE_CHARS];
    long double value;
    char *eptr;
    if (slen == 0 || slen >= sizeof(buf)) return 0;
    memcpy(buf,s,slen);
    buf[slen] = '\0';
    errno = 0;
    value = strtold(buf, &eptr);
    if (isspace(buf[0]) || eptr[0] != '\0' ||
        (size_t)(eptr-buf) != slen ||
        (errno == ERANGE &&
            (value == HUGE_VAL || value == -HUGE_VAL || fpclassify(value) == FP_ZERO)) ||
        errno == EINVAL ||
        isnan(value))
        return 0;
    if (dp) *dp = value;
    return 1;
}

static int string2ld_ok(const char *s, size_t slen) { return string2ld(s, slen, NULL); }

// getDoubleFromObject on a string object (object.c).
static int string2dobj(const char *s, size_t slen, double *out) {
    char *buf = malloc(slen+1);
    char *eptr;
    double value;
    int ok;
    memcpy(buf, s, slen);
    buf[slen] = '\0';
    errno = 0;
    value = strtod(buf, &eptr);
    ok = !(slen == 0 ||
        isspace(((const char*)buf)[0]) ||
        (size_t)(eptr-buf) != slen ||
        (errno == ERANGE &&
            (value == HUGE_VAL || value == -HUGE_VAL || fpclassify(value) == FP_ZERO)) ||
        isnan(value));
    free(buf);
    if (ok) *out = value;
    return ok;
}

static int ld2human(char *buf, size_t len, long double value) {
    size_t l;
    if (isinf(value)) {
        if (len < 5) return 0;
        if (value > 0) { memcpy(buf,"inf",3); l = 3; } else { memcpy(buf,"-inf",4); l = 4; }
    } else {
        l = snprintf(buf,len,"%.17Lf",value);
        if (l+1 > len) return 0;
        if (strchr(buf,'.') != NULL) {
            char *p = buf+l-1;
            while(*p == '0') { p--; l--; }
            if (*p == '.') l--;
        }
        if (l == 2 && buf[0] == '-' && buf[1] == '0') { buf[0] = '0'; l = 1; }
    }
    buf[l] = '\0';
    return l;
}

// sort_strtod is sort.c's numeric weight: strtod, rejecting trailing
// characters, ERANGE and NaN.
static int sort_strtod(const char *s, double *out) {
    char *eptr;
    errno = 0;
    *out = strtod(s, &eptr);
    if (eptr[0] != '\0' || errno == ERANGE || isnan(*out)) return 0;
    return 1;
}

// incrbyfloat: 0 ok (out filled), 1 not a valid float, 2 NaN or Infinity.
static int incrbyfloat(const char *cur, size_t curlen, int hascur, const char *incr, size_t incrlen, char *out, size_t outlen) {
    long double value = 0, delta;
    if (hascur && !string2ld(cur, curlen, &value)) return 1;
    if (!string2ld(incr, incrlen, &delta)) return 1;
    value += delta;
    if (isnan(value) || isinf(value)) return 2;
    if (ld2human(out, outlen, value) == 0 && outlen > 0) out[0] = 0;
    return 0;
}
*/
import "C"

import "unsafe"

func cstr(s string) (*C.char, C.size_t) {
	b := append([]byte(s), 0)
	return (*C.char)(unsafe.Pointer(&b[0])), C.size_t(len(s))
}

// String2ll is Redis' string2ll.
func String2ll(s string) (int64, bool) {
	p, n := cstr(s)
	var v C.longlong
	ok := C.string2ll(p, n, &v) == 1
	return int64(v), ok
}

// String2ld reports whether Redis' string2ld accepts s.
func String2ld(s string) bool {
	p, n := cstr(s)
	return C.string2ld_ok(p, n) == 1
}

// String2d is getDoubleFromObject's parse of a string (strtod).
func String2d(s string) (float64, bool) {
	p, n := cstr(s)
	var v C.double
	ok := C.string2dobj(p, n, &v) == 1
	return float64(v), ok
}

// SortWeight is SORT's numeric weight of s (sort.c: strtod, no trailing
// characters, no ERANGE, no NaN). C stops at a NUL byte; callers skip those.
func SortWeight(s string) (float64, bool) {
	p, _ := cstr(s)
	var v C.double
	ok := C.sort_strtod(p, &v) == 1
	return float64(v), ok
}

// IncrByFloat is INCRBYFLOAT's arithmetic and text: status 0 ok, 1 not a
// valid float, 2 NaN or Infinity.
func IncrByFloat(cur string, hasCur bool, incr string) (string, int) {
	cp, cn := cstr(cur)
	ip, in := cstr(incr)
	out := make([]byte, 5*1024+64)
	h := C.int(0)
	if hasCur {
		h = 1
	}
	st := C.incrbyfloat(cp, cn, h, ip, in, (*C.char)(unsafe.Pointer(&out[0])), C.size_t(len(out)))
	return C.GoString((*C.char)(unsafe.Pointer(&out[0]))), int(st)
}
