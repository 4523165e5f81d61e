package engine

import (
	"math"
	"testing"
)

// Figures from redis-server 7.0 (GEOADD Sicily 13.361389 38.115556 Palermo
// 15.087269 37.502669 Catania, then ZSCORE / GEOHASH / GEOPOS / GEODIST).
func TestGeohashMatchesRedis(t *testing.T) {
	palermo, ok := GeoScore(13.361389, 38.115556)
	if !ok || palermo != 3479099956230698 {
		t.Fatalf("score(Palermo) = %v %v", palermo, ok)
	}
	catania, _ := GeoScore(15.087269, 37.502669)
	if catania != 3479447370796909 {
		t.Fatalf("score(Catania) = %v", catania)
	}
	if h := GeoHashString(palermo); h != "sqc8b49rny0" {
		t.Fatalf("geohash = %s", h)
	}
	lon, lat := GeoPoint(palermo)
	if math.Abs(lon-13.36138933897018433) > 1e-12 || math.Abs(lat-38.11555639549629859) > 1e-12 {
		t.Fatalf("point = %v %v", lon, lat)
	}
	lon2, lat2 := GeoPoint(catania)
	if d := GeoDistance(lon, lat, lon2, lat2); math.Abs(d-166274.1516) > 0.0001 {
		t.Fatalf("distance = %v", d)
	}
	if _, ok := GeoScore(0, 86); ok {
		t.Fatal("latitude 86 indexed")
	}
}

// TestGeoSearchRangesCover: every point of a shape lies in one of the
// ranges SearchRanges returns, near the poles, the antimeridian and the
// equator, for small and large radii.
func TestGeoSearchRangesCover(t *testing.T) {
	centers := [][2]float64{{0, 0}, {179.9, 10}, {-179.9, -10}, {13.36, 38.11}, {100, 84}, {-50, -84.9}}
	for _, c := range centers {
		for _, r := range []float64{10, 1000, 50000, 500000} {
			shapes := []GeoShape{{Lon: c[0], Lat: c[1], Radius: r}, {Lon: c[0], Lat: c[1], Box: true, Width: 2 * r, Height: r}}
			for _, s := range shapes {
				ranges := s.SearchRanges()
				for i := 0; i < 2000; i++ {
					// Points on a spiral around the center.
					a := float64(i) * 0.37
					dlat := radDeg(r/earthRadiusMeters) * float64(i%50) / 50 * math.Sin(a)
					dlon := radDeg(r/earthRadiusMeters) * float64(i%50) / 50 * math.Cos(a)
					lon, lat := c[0]+dlon, c[1]+dlat
					score, ok := GeoScore(lon, lat)
					if !ok {
						continue
					}
					plon, plat := GeoPoint(score)
					if _, in := s.Contains(plon, plat); !in {
						continue
					}
					covered := false
					for _, rg := range ranges {
						covered = covered || (score >= rg[0] && score < rg[1])
					}
					if !covered {
						t.Fatalf("shape %+v: point %v,%v not in any range", s, lon, lat)
					}
				}
			}
		}
	}
}
