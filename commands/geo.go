package commands

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/sessiond/sessiond/engine"
)

// GEO: points kept in a sorted set with their 52-bit geohash as score
// (engine/geohash.go), as Redis does, so ZRANGE, ZREM and the rest work on
// them too. GEOADD, GEOPOS, GEODIST, GEOHASH, GEORADIUS(_RO),
// GEORADIUSBYMEMBER(_RO), GEOSEARCH and GEOSEARCHSTORE.

func init() {
	const w, r, d = FlagWrite, FlagReadonly, FlagDenyOOM
	k1 := func(s *Spec) *Spec { s.FirstKey, s.LastKey, s.Step = 1, 1, 1; return s }
	register(
		k1(&Spec{Name: "geoadd", Arity: -5, Flags: w | d, Group: "geo", Since: "3.2.0",
			Syntax: "key [NX|XX] [CH] longitude latitude member [longitude latitude member ...]", Summary: "Adds one or more members to a geospatial index. The key is created if it doesn't exist.",
			Example: "> GEOADD places 13.361389 38.115556 Palermo\n(integer) 1", Run: cmdGeoadd}),
		k1(&Spec{Name: "geopos", Arity: -2, Flags: r, Group: "geo", Since: "3.2.0",
			Syntax: "key [member [member ...]]", Summary: "Returns the longitude and latitude of members from a geospatial index.",
			Example: "> GEOPOS places Palermo\n1) 1) \"13.36138933897018433\"\n   2) \"38.11555639549629859\"", Run: cmdGeopos}),
		k1(&Spec{Name: "geodist", Arity: -4, Flags: r, Group: "geo", Since: "3.2.0",
			Syntax: "key member1 member2 [M|KM|FT|MI]", Summary: "Returns the distance between two members of a geospatial index.",
			Example: "> GEODIST places Palermo Catania km\n\"166.2742\"", Run: cmdGeodist}),
		k1(&Spec{Name: "geohash", Arity: -2, Flags: r, Group: "geo", Since: "3.2.0",
			Syntax: "key [member [member ...]]", Summary: "Returns members from a geospatial index as geohash strings.",
			Example: "> GEOHASH places Palermo\n1) \"sqc8b49rny0\"", Run: cmdGeohash}),
		k1(&Spec{Name: "georadius", Arity: -6, Flags: w | d, KeySpecs: geoRadiusSpecs(6), Group: "geo", Since: "3.2.0",
			Syntax: "key longitude latitude radius M|KM|FT|MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC] [STORE key|STOREDIST key]", Summary: "Queries a geospatial index for members within a distance from a coordinate, optionally stores the result.",
			Example: "> GEORADIUS places 15 37 200 km\n1) \"Palermo\"\n2) \"Catania\"", Run: func(c *Call) { geoSearch(c, geoByCoords) }}),
		k1(&Spec{Name: "georadius_ro", Arity: -6, Flags: r, Group: "geo", Since: "3.2.10",
			Syntax: "key longitude latitude radius M|KM|FT|MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC]", Summary: "Returns members from a geospatial index that are within a distance from a coordinate.",
			Example: "> GEORADIUS_RO places 15 37 200 km\n1) \"Palermo\"\n2) \"Catania\"", Run: func(c *Call) { geoSearch(c, geoByCoords|geoNoStore) }}),
		k1(&Spec{Name: "georadiusbymember", Arity: -5, Flags: w | d, KeySpecs: geoRadiusSpecs(5), Group: "geo", Since: "3.2.0",
			Syntax: "key member radius M|KM|FT|MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC] [STORE key|STOREDIST key]", Summary: "Queries a geospatial index for members within a distance from a member, optionally stores the result.",
			Example: "> GEORADIUSBYMEMBER places Palermo 200 km\n1) \"Palermo\"\n2) \"Catania\"", Run: func(c *Call) { geoSearch(c, geoByMember) }}),
		k1(&Spec{Name: "georadiusbymember_ro", Arity: -5, Flags: r, Group: "geo", Since: "3.2.10",
			Syntax: "key member radius M|KM|FT|MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC]", Summary: "Returns members from a geospatial index that are within a distance from a member.",
			Example: "> GEORADIUSBYMEMBER_RO places Palermo 200 km\n1) \"Palermo\"\n2) \"Catania\"", Run: func(c *Call) { geoSearch(c, geoByMember|geoNoStore) }}),
		k1(&Spec{Name: "geosearch", Arity: -7, Flags: r, Group: "geo", Since: "6.2.0",
			Syntax: "key FROMMEMBER member|FROMLONLAT longitude latitude BYRADIUS radius M|KM|FT|MI|BYBOX width height M|KM|FT|MI [ASC|DESC] [COUNT count [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]", Summary: "Queries a geospatial index for members inside an area of a box or a circle.",
			Example: "> GEOSEARCH places FROMLONLAT 15 37 BYRADIUS 200 km ASC\n1) \"Catania\"\n2) \"Palermo\"", Run: func(c *Call) { geoSearch(c, geoSearchCmd) }}),
		&Spec{Name: "geosearchstore", Arity: -8, Flags: w | d, FirstKey: 1, LastKey: 2, Step: 1, Group: "geo", Since: "6.2.0",
			Syntax: "destination source FROMMEMBER member|FROMLONLAT longitude latitude BYRADIUS radius M|KM|FT|MI|BYBOX width height M|KM|FT|MI [ASC|DESC] [COUNT count [ANY]] [STOREDIST]", Summary: "Queries a geospatial index for members inside an area of a box or a circle, optionally stores the result.",
			Example: "> GEOSEARCHSTORE near places FROMLONLAT 15 37 BYRADIUS 200 km\n(integer) 2", Run: func(c *Call) { geoSearch(c, geoSearchCmd|geoSearchStore) }},
	)
}

// geoRadiusSpecs are GEORADIUS' key specs: the source, read, and the
// STORE or STOREDIST destination searched from argument base on, written.
func geoRadiusSpecs(base int) []KeySpec {
	return []KeySpec{{Flags: "RO access", Index: 1},
		{Flags: "OW update", Keyword: "STORE", StartFrom: base},
		{Flags: "OW update", Keyword: "STOREDIST", StartFrom: base}}
}

func cmdGeoadd(c *Call) {
	var o engine.ZAddOptions
	i := 2
	for ; i < len(c.Args); i++ {
		switch {
		case keyword(c.Args[i], "NX"):
			o.NX = true
		case keyword(c.Args[i], "XX"):
			o.XX = true
		case keyword(c.Args[i], "CH"):
			o.CH = true
		default:
			goto points
		}
	}
points:
	if (len(c.Args)-i)%3 != 0 || (o.NX && o.XX) || i == len(c.Args) {
		c.W.Error(msgSyntax)
		return
	}
	var items []engine.ScoreMember
	for ; i < len(c.Args); i += 3 {
		lon, lat, ok := geoLonLat(c, c.Args[i], c.Args[i+1])
		if !ok {
			return
		}
		score, _ := engine.GeoScore(lon, lat)
		items = append(items, engine.ScoreMember{Score: score, Member: c.Arg(i + 2)})
	}
	var res engine.ZAddResult
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		res, err = tx.ZAdd(c.DB(), c.Arg(1), o, items)
		return err
	})
	if err != nil {
		writeErr(c, err)
		return
	}
	n := res.Added
	if o.CH {
		n += res.Updated
	}
	c.W.Int(int64(n))
}

// geoLonLat parses a longitude/latitude pair and checks Redis' limits.
func geoLonLat(c *Call, lonArg, latArg []byte) (float64, float64, bool) {
	lon, ok1 := parseFloat(lonArg)
	lat, ok2 := parseFloat(latArg)
	if !ok1 || !ok2 {
		c.W.Error(msgNotFloat)
		return 0, 0, false
	}
	if lon < engine.GeoLongMin || lon > engine.GeoLongMax || lat < engine.GeoLatMin || lat > engine.GeoLatMax {
		c.W.Error(fmt.Sprintf("ERR invalid longitude,latitude pair %f,%f", lon, lat))
		return 0, 0, false
	}
	return lon, lat, true
}

// geoUnit is the number of meters in a unit, or an error reply.
func geoUnit(c *Call, u []byte) (float64, bool) {
	switch {
	case keyword(u, "M"):
		return 1, true
	case keyword(u, "KM"):
		return 1000, true
	case keyword(u, "FT"):
		return 0.3048, true
	case keyword(u, "MI"):
		return 1609.34, true
	}
	c.W.Error("ERR unsupported unit provided. please use M, KM, FT, MI")
	return 0, false
}

// geoScores reads the scores of members of key (ok false for a missing
// one).
func geoScores(c *Call, key string, members [][]byte) ([]float64, []bool, bool) {
	names := make([]string, len(members))
	for i, m := range members {
		names[i] = string(m)
	}
	var scores []float64
	var found []bool
	err := c.Read(func(tx *engine.Tx) error {
		var err error
		scores, found, err = tx.ZScores(c.DB(), key, names)
		return err
	})
	if err != nil {
		writeErr(c, err)
		return nil, nil, false
	}
	if found == nil {
		found = make([]bool, len(members))
		scores = make([]float64, len(members))
	}
	return scores, found, true
}

// geoCoord formats a coordinate as Redis' addReplyHumanLongDouble: 17
// decimals, trailing zeros cut.
func geoCoord(c *Call, f float64) {
	if c.W.Proto() == 3 {
		c.W.Double(f)
		return
	}
	s := strconv.FormatFloat(f, 'f', 17, 64)
	s = strings.TrimRight(s, "0")
	s = strings.TrimSuffix(s, ".")
	c.W.BulkString(s)
}

func geoDist(d float64) string { return strconv.FormatFloat(d, 'f', 4, 64) }

func cmdGeopos(c *Call) {
	scores, found, ok := geoScores(c, c.Arg(1), c.Args[2:])
	if !ok {
		return
	}
	c.W.Array(len(scores))
	for i, s := range scores {
		if !found[i] {
			c.W.NullArray()
			continue
		}
		lon, lat := engine.GeoPoint(s)
		c.W.Array(2)
		geoCoord(c, lon)
		geoCoord(c, lat)
	}
}

func cmdGeohash(c *Call) {
	scores, found, ok := geoScores(c, c.Arg(1), c.Args[2:])
	if !ok {
		return
	}
	c.W.Array(len(scores))
	for i, s := range scores {
		if !found[i] {
			c.W.Null()
			continue
		}
		c.W.BulkString(engine.GeoHashString(s))
	}
}

func cmdGeodist(c *Call) {
	unit := 1.0
	switch {
	case len(c.Args) == 5:
		var ok bool
		if unit, ok = geoUnit(c, c.Args[4]); !ok {
			return
		}
	case len(c.Args) > 5:
		c.W.Error(msgSyntax)
		return
	}
	scores, found, ok := geoScores(c, c.Arg(1), c.Args[2:4])
	if !ok {
		return
	}
	if !found[0] || !found[1] {
		c.W.Null()
		return
	}
	lon1, lat1 := engine.GeoPoint(scores[0])
	lon2, lat2 := engine.GeoPoint(scores[1])
	c.W.BulkString(geoDist(engine.GeoDistance(lon1, lat1, lon2, lat2) / unit))
}

// Variants of the search (Redis' georadiusGeneric flags).
const (
	geoByCoords = 1 << iota
	geoByMember
	geoNoStore
	geoSearchCmd
	geoSearchStore
)

type geoHit struct {
	member string
	score  float64
	dist   float64
	lon    float64
	lat    float64
}

func geoSearch(c *Call, flags int) {
	src := 1
	if flags&geoSearchStore != 0 {
		src = 2
	}
	key := c.Arg(src)
	var shape engine.GeoShape
	unit := 1.0
	var store string
	storeDist, haveStore := false, false
	var fromMember []byte
	base := 0
	// The center's member, read before the options as Redis does.
	memberCenter := func(m []byte) bool {
		scores, found, ok := geoScores(c, key, [][]byte{m})
		if !ok {
			return false
		}
		if !found[0] {
			exists := false
			_ = c.Read(func(tx *engine.Tx) error { exists = tx.Exists(c.DB(), key); return nil })
			if !exists {
				fromMember = m
				return true // a missing key answers empty below
			}
			c.W.Error("ERR could not decode requested zset member")
			return false
		}
		shape.Lon, shape.Lat = engine.GeoPoint(scores[0])
		return true
	}
	radius := func(at int) bool {
		r, ok := parseFloat(c.Args[at])
		if !ok {
			c.W.Error("ERR need numeric radius")
			return false
		}
		if r < 0 {
			c.W.Error("ERR radius cannot be negative")
			return false
		}
		if unit, ok = geoUnit(c, c.Args[at+1]); !ok {
			return false
		}
		shape.Radius = r * unit
		return true
	}
	switch {
	case flags&geoByCoords != 0:
		base = 6
		var ok bool
		if shape.Lon, shape.Lat, ok = geoLonLat(c, c.Args[2], c.Args[3]); !ok {
			return
		}
		if !radius(4) {
			return
		}
	case flags&geoByMember != 0:
		base = 5
		if !memberCenter(c.Args[2]) || !radius(3) {
			return
		}
	default:
		base = src + 1
	}
	withDist, withHash, withCoord, any := false, false, false, false
	sortDir := 0 // 0 none, 1 asc, -1 desc
	var count int64
	fromMem, fromLoc, byRadius, byBox := false, false, false, false
	n := len(c.Args)
	for i := base; i < n; i++ {
		a := c.Args[i]
		rest := n - i - 1
		switch {
		case keyword(a, "WITHDIST"):
			withDist = true
		case keyword(a, "WITHHASH"):
			withHash = true
		case keyword(a, "WITHCOORD"):
			withCoord = true
		case keyword(a, "ANY"):
			any = true
		case keyword(a, "ASC"):
			sortDir = 1
		case keyword(a, "DESC"):
			sortDir = -1
		case keyword(a, "COUNT") && rest >= 1:
			v, ok := parseInt(c.Args[i+1])
			if !ok {
				c.W.Error(msgNotInt)
				return
			}
			if v <= 0 {
				c.W.Error("ERR COUNT must be > 0")
				return
			}
			count = v
			i++
		case (keyword(a, "STORE") || keyword(a, "STOREDIST")) && rest >= 1 && flags&(geoNoStore|geoSearchCmd) == 0:
			store, haveStore, storeDist = c.Arg(i+1), true, keyword(a, "STOREDIST")
			i++
		case keyword(a, "STOREDIST") && flags&geoSearchStore != 0:
			storeDist = true
		case keyword(a, "FROMMEMBER") && rest >= 1 && flags&geoSearchCmd != 0 && !fromLoc:
			if !memberCenter(c.Args[i+1]) {
				return
			}
			fromMem = true
			i++
		case keyword(a, "FROMLONLAT") && rest >= 2 && flags&geoSearchCmd != 0 && !fromMem:
			var ok bool
			if shape.Lon, shape.Lat, ok = geoLonLat(c, c.Args[i+1], c.Args[i+2]); !ok {
				return
			}
			fromLoc = true
			i += 2
		case keyword(a, "BYRADIUS") && rest >= 2 && flags&geoSearchCmd != 0 && !byBox:
			if !radius(i + 1) {
				return
			}
			byRadius = true
			i += 2
		case keyword(a, "BYBOX") && rest >= 3 && flags&geoSearchCmd != 0 && !byRadius:
			w, ok1 := parseFloat(c.Args[i+1])
			h, ok2 := parseFloat(c.Args[i+2])
			if !ok1 {
				c.W.Error("ERR need numeric width")
				return
			}
			if !ok2 {
				c.W.Error("ERR need numeric height")
				return
			}
			if w < 0 || h < 0 {
				c.W.Error("ERR height or width cannot be negative")
				return
			}
			var ok bool
			if unit, ok = geoUnit(c, c.Args[i+3]); !ok {
				return
			}
			shape.Box, shape.Width, shape.Height = true, w*unit, h*unit
			byBox = true
			i += 3
		default:
			c.W.Error(msgSyntax)
			return
		}
	}
	if flags&geoSearchStore != 0 {
		store, haveStore = c.Arg(1), true
	}
	if haveStore && (withDist || withHash || withCoord) {
		if flags&geoSearchStore != 0 {
			c.W.Error("ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
		} else {
			c.W.Error("ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
		}
		return
	}
	name := strings.ToLower(c.Arg(0))
	if flags&geoSearchCmd != 0 && !fromMem && !fromLoc {
		c.W.Error("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for " + name)
		return
	}
	if flags&geoSearchCmd != 0 && !byRadius && !byBox {
		c.W.Error("ERR exactly one of BYRADIUS and BYBOX can be specified for " + name)
		return
	}
	if any && count == 0 {
		c.W.Error("ERR the ANY argument requires COUNT argument")
		return
	}
	if count != 0 && sortDir == 0 && !any {
		sortDir = 1
	}
	limit := int64(0)
	if any {
		limit = count
	}
	var hits []geoHit
	search := func(tx *engine.Tx) error {
		if fromMember != nil {
			return nil // the key is missing: nothing to find
		}
		for _, r := range shape.SearchRanges() {
			if limit > 0 && int64(len(hits)) >= limit {
				break
			}
			items, err := tx.ZRange(c.DB(), key, engine.ZRangeSpec{By: engine.ByScore,
				Score: engine.ScoreRange{Min: r[0], Max: r[1], MaxEx: true}, Count: -1})
			if err != nil {
				return err
			}
			for _, it := range items {
				lon, lat := engine.GeoPoint(it.Score)
				dist, in := shape.Contains(lon, lat)
				if !in {
					continue
				}
				hits = append(hits, geoHit{member: it.Member, score: it.Score, dist: dist, lon: lon, lat: lat})
				if limit > 0 && int64(len(hits)) >= limit {
					break
				}
			}
		}
		return nil
	}
	order := func() {
		if sortDir != 0 {
			sort.SliceStable(hits, func(i, j int) bool {
				if sortDir > 0 {
					return hits[i].dist < hits[j].dist
				}
				return hits[i].dist > hits[j].dist
			})
		}
		if count > 0 && int64(len(hits)) > count {
			hits = hits[:count]
		}
	}
	if !haveStore {
		if err := c.Read(search); err != nil {
			writeErr(c, err)
			return
		}
		order()
		opts := 0
		for _, b := range []bool{withDist, withHash, withCoord} {
			if b {
				opts++
			}
		}
		c.W.Array(len(hits))
		for _, h := range hits {
			if opts > 0 {
				c.W.Array(opts + 1)
			}
			c.W.BulkString(h.member)
			if withDist {
				c.W.BulkString(geoDist(h.dist / unit))
			}
			if withHash {
				c.W.Int(int64(h.score))
			}
			if withCoord {
				c.W.Array(2)
				geoCoord(c, h.lon)
				geoCoord(c, h.lat)
			}
		}
		return
	}
	event := "georadiusstore"
	if flags&geoSearchCmd != 0 {
		event = "geosearchstore"
	}
	stored := 0
	err := c.Write(func(tx *engine.Tx) error {
		if err := search(tx); err != nil {
			return err
		}
		order()
		items := make([]engine.ScoreMember, len(hits))
		for i, h := range hits {
			s := h.score
			if storeDist {
				s = h.dist / unit
			}
			items[i] = engine.ScoreMember{Score: s, Member: h.member}
		}
		stored = tx.ZStore(c.DB(), store, items, event)
		return nil
	})
	if err != nil {
		writeErr(c, err)
		return
	}
	c.W.Int(int64(stored))
}
