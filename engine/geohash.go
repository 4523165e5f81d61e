package engine

import (
	"math"
	"strings"
)

// Geohash as Redis' geohash.c and geohash_helper.c compute it: a point is
// stored in a sorted set with its 52-bit interleaved geohash as score, and
// a search looks at the sorted-set ranges of the geohash box holding the
// center and its eight neighbours at a step fitted to the radius, then
// filters by exact distance (haversine on Redis' earth radius).

// Limits of what can be indexed (EPSG:900913).
const (
	GeoLatMin  = -85.05112878
	GeoLatMax  = 85.05112878
	GeoLongMin = -180.0
	GeoLongMax = 180.0
	geoStepMax = 26

	earthRadiusMeters = 6372797.560856
	mercatorMax       = 20037726.37
)

type geoBits struct {
	bits uint64
	step uint
}

func interleave64(xlo, ylo uint32) uint64 {
	b := [...]uint64{0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF, 0x0000FFFF0000FFFF}
	s := [...]uint{1, 2, 4, 8, 16}
	x, y := uint64(xlo), uint64(ylo)
	for i := 4; i >= 0; i-- {
		x = (x | (x << s[i])) & b[i]
		y = (y | (y << s[i])) & b[i]
	}
	return x | (y << 1)
}

func deinterleave64(v uint64) uint64 {
	b := [...]uint64{0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF, 0x0000FFFF0000FFFF, 0x00000000FFFFFFFF}
	s := [...]uint{0, 1, 2, 4, 8, 16}
	x, y := v, v>>1
	for i := 0; i < 6; i++ {
		x = (x | (x >> s[i])) & b[i]
		y = (y | (y >> s[i])) & b[i]
	}
	return x | (y << 32)
}

func geoEncode(lonMin, lonMax, latMin, latMax, lon, lat float64, step uint) (geoBits, bool) {
	if lon > GeoLongMax || lon < GeoLongMin || lat > GeoLatMax || lat < GeoLatMin {
		return geoBits{}, false
	}
	if lat < latMin || lat > latMax || lon < lonMin || lon > lonMax {
		return geoBits{}, false
	}
	latOff := (lat - latMin) / (latMax - latMin) * float64(uint64(1)<<step)
	lonOff := (lon - lonMin) / (lonMax - lonMin) * float64(uint64(1)<<step)
	return geoBits{interleave64(uint32(latOff), uint32(lonOff)), step}, true
}

type geoArea struct{ lonMin, lonMax, latMin, latMax float64 }

func geoDecode(h geoBits) geoArea {
	sep := deinterleave64(h.bits)
	ilat, ilon := uint32(sep), uint32(sep>>32)
	scale := float64(uint64(1) << h.step)
	latScale, lonScale := GeoLatMax-GeoLatMin, GeoLongMax-GeoLongMin
	return geoArea{
		latMin: GeoLatMin + float64(ilat)/scale*latScale,
		latMax: GeoLatMin + (float64(ilat)+1)/scale*latScale,
		lonMin: GeoLongMin + float64(ilon)/scale*lonScale,
		lonMax: GeoLongMin + (float64(ilon)+1)/scale*lonScale,
	}
}

// GeoScore is the sorted-set score of a point (GEOADD); false when the
// point is outside the indexable range.
func GeoScore(lon, lat float64) (float64, bool) {
	h, ok := geoEncode(GeoLongMin, GeoLongMax, GeoLatMin, GeoLatMax, lon, lat, geoStepMax)
	if !ok {
		return 0, false
	}
	return float64(h.bits << (52 - h.step*2)), true
}

// GeoPoint decodes a score back into the center of its geohash cell.
func GeoPoint(score float64) (lon, lat float64) {
	a := geoDecode(geoBits{uint64(score), geoStepMax})
	lon = math.Min(math.Max((a.lonMin+a.lonMax)/2, GeoLongMin), GeoLongMax)
	lat = math.Min(math.Max((a.latMin+a.latMax)/2, GeoLatMin), GeoLatMax)
	return lon, lat
}

// GeoHashString is GEOHASH's 11-character standard geohash of the point a
// score stands for (latitude range -90..90, as the standard has it).
func GeoHashString(score float64) string {
	lon, lat := GeoPoint(score)
	h, _ := geoEncode(-180, 180, -90, 90, lon, lat, geoStepMax)
	const alphabet = "0123456789bcdefghjkmnpqrstuvwxyz"
	var b strings.Builder
	for i := 0; i < 11; i++ {
		idx := uint64(0)
		if i < 10 {
			idx = (h.bits >> (52 - (uint(i)+1)*5)) & 0x1f
		}
		b.WriteByte(alphabet[idx])
	}
	return b.String()
}

func degRad(d float64) float64 { return d * (math.Pi / 180.0) }
func radDeg(r float64) float64 { return r / (math.Pi / 180.0) }

// GeoDistance is the haversine distance in meters.
func GeoDistance(lon1, lat1, lon2, lat2 float64) float64 {
	v := math.Sin((degRad(lon2) - degRad(lon1)) / 2)
	if v == 0 {
		return earthRadiusMeters * math.Abs(degRad(lat2)-degRad(lat1))
	}
	u := math.Sin((degRad(lat2) - degRad(lat1)) / 2)
	a := u*u + math.Cos(degRad(lat1))*math.Cos(degRad(lat2))*v*v
	return 2.0 * earthRadiusMeters * math.Asin(math.Sqrt(a))
}

// GeoShape is a search area: a circle of Radius meters, or (Box) a
// Width x Height meters rectangle, centered on Lon, Lat.
type GeoShape struct {
	Lon, Lat      float64
	Box           bool
	Radius        float64
	Width, Height float64
}

// Contains reports whether the point is in the shape, and its distance to
// the center in meters.
func (s GeoShape) Contains(lon, lat float64) (float64, bool) {
	if !s.Box {
		d := GeoDistance(s.Lon, s.Lat, lon, lat)
		return d, d <= s.Radius
	}
	if earthRadiusMeters*math.Abs(degRad(s.Lat)-degRad(lat)) > s.Height/2 {
		return 0, false
	}
	// Across, at the point's latitude (Redis' geohashGetDistanceIfInRectangle).
	if GeoDistance(lon, lat, s.Lon, lat) > s.Width/2 {
		return 0, false
	}
	return GeoDistance(s.Lon, s.Lat, lon, lat), true
}

func geoStepsByRadius(rangeMeters, lat float64) uint {
	if rangeMeters == 0 {
		return 26
	}
	step := 1
	for rangeMeters < mercatorMax {
		rangeMeters *= 2
		step++
	}
	step -= 2
	if lat > 66 || lat < -66 {
		step--
		if lat > 80 || lat < -80 {
			step--
		}
	}
	return uint(min(max(step, 1), 26))
}

func moveX(h geoBits, d int) geoBits {
	x := h.bits & 0xaaaaaaaaaaaaaaaa
	y := h.bits & 0x5555555555555555
	zz := uint64(0x5555555555555555) >> (64 - h.step*2)
	if d > 0 {
		x = x + (zz + 1)
	} else {
		x = x | zz
		x = x - (zz + 1)
	}
	x &= uint64(0xaaaaaaaaaaaaaaaa) >> (64 - h.step*2)
	return geoBits{x | y, h.step}
}

func moveY(h geoBits, d int) geoBits {
	x := h.bits & 0xaaaaaaaaaaaaaaaa
	y := h.bits & 0x5555555555555555
	zz := uint64(0xaaaaaaaaaaaaaaaa) >> (64 - h.step*2)
	if d > 0 {
		y = y + (zz + 1)
	} else {
		y = y | zz
		y = y - (zz + 1)
	}
	y &= uint64(0x5555555555555555) >> (64 - h.step*2)
	return geoBits{x | y, h.step}
}

func move(h geoBits, dx, dy int) geoBits {
	if dx != 0 {
		h = moveX(h, dx)
	}
	if dy != 0 {
		h = moveY(h, dy)
	}
	return h
}

// SearchRanges returns the sorted-set score ranges [min, max) to scan for
// the shape: the center's geohash box and its useful neighbours, in Redis'
// order (center, N, S, E, W, NE, NW, SE, SW), consecutive duplicates
// dropped.
func (s GeoShape) SearchRanges() [][2]float64 {
	height, width := s.Radius, s.Radius
	if s.Box {
		height, width = s.Height/2, s.Width/2
	}
	latDelta := radDeg(height / earthRadiusMeters)
	lonDeltaTop := radDeg(width / earthRadiusMeters / math.Cos(degRad(s.Lat+latDelta)))
	lonDeltaBottom := radDeg(width / earthRadiusMeters / math.Cos(degRad(s.Lat-latDelta)))
	var minLon, maxLon float64
	if s.Lat < 0 {
		minLon, maxLon = s.Lon-lonDeltaBottom, s.Lon+lonDeltaBottom
	} else {
		minLon, maxLon = s.Lon-lonDeltaTop, s.Lon+lonDeltaTop
	}
	minLat, maxLat := s.Lat-latDelta, s.Lat+latDelta
	radius := s.Radius
	if s.Box {
		radius = math.Sqrt(width*width + height*height)
	}
	steps := geoStepsByRadius(radius, s.Lat)
	hash, _ := geoEncode(GeoLongMin, GeoLongMax, GeoLatMin, GeoLatMax, s.Lon, s.Lat, steps)
	neighbors := func(h geoBits) [9]geoBits {
		return [9]geoBits{h, move(h, 0, 1), move(h, 0, -1), move(h, 1, 0), move(h, -1, 0),
			move(h, 1, 1), move(h, -1, 1), move(h, 1, -1), move(h, -1, -1)}
	}
	n := neighbors(hash)
	area := geoDecode(hash)
	north, south, east, west := geoDecode(n[1]), geoDecode(n[2]), geoDecode(n[3]), geoDecode(n[4])
	if steps > 1 && (north.latMax < maxLat || south.latMin > minLat || east.lonMax < maxLon || west.lonMin > minLon) {
		steps--
		hash, _ = geoEncode(GeoLongMin, GeoLongMax, GeoLatMin, GeoLatMax, s.Lon, s.Lat, steps)
		n = neighbors(hash)
		area = geoDecode(hash)
	}
	var zero [9]bool
	if steps >= 2 {
		if area.latMin < minLat {
			zero[2], zero[8], zero[7] = true, true, true // S, SW, SE
		}
		if area.latMax > maxLat {
			zero[1], zero[5], zero[6] = true, true, true // N, NE, NW
		}
		if area.lonMin < minLon {
			zero[4], zero[8], zero[6] = true, true, true // W, SW, NW
		}
		if area.lonMax > maxLon {
			zero[3], zero[7], zero[5] = true, true, true // E, SE, NE
		}
	}
	var out [][2]float64
	last := -1
	for i, h := range n {
		if zero[i] {
			continue
		}
		if last >= 0 && h == n[last] {
			continue
		}
		last = i
		lo := h.bits << (52 - h.step*2)
		hi := (h.bits + 1) << (52 - h.step*2)
		out = append(out, [2]float64{float64(lo), float64(hi)})
	}
	return out
}
