package commands_test

import (
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

func TestGeoCommands(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		coord := func(s string, f float64) any {
			if c.Options().Protocol == 3 {
				return f
			}
			return s
		}
		testserver.Run(t, c, []C{
			{Cmd: []any{"del", "Sicily", "near", "wrong"}, Any: true},
			{Cmd: []any{"geoadd", "Sicily", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"}, Want: int64(2)},
			{Cmd: []any{"geoadd", "Sicily", "xx", "ch", "13.361389", "38.115556", "Palermo"}, Want: int64(0)},
			{Cmd: []any{"geoadd", "Sicily", "nx", "xx", "1", "1", "x"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"geoadd", "Sicily", "200", "100", "x"}, WantErr: "ERR invalid longitude,latitude pair 200.000000,100.000000"},
			{Cmd: []any{"zscore", "Sicily", "Palermo"}, Want: coord("3479099956230698", 3479099956230698)},
			{Cmd: []any{"geohash", "Sicily", "Palermo", "nope"}, Want: []any{"sqc8b49rny0", nil}},
			{Cmd: []any{"geopos", "Sicily", "Palermo", "nope"}, Want: []any{[]any{coord("13.36138933897018433", 13.361389338970184), coord("38.11555639549629859", 38.1155563954963)}, nil}},
			{Cmd: []any{"geodist", "Sicily", "Palermo", "Catania"}, Want: "166274.1516"},
			{Cmd: []any{"geodist", "Sicily", "Palermo", "Catania", "km"}, Want: "166.2742"},
			{Cmd: []any{"geodist", "Sicily", "Palermo", "nope"}, Want: nil},
			{Cmd: []any{"geodist", "Sicily", "Palermo", "Catania", "parsec"}, WantErr: "ERR unsupported unit provided. please use M, KM, FT, MI"},
			{Cmd: []any{"georadius", "Sicily", "15", "37", "200", "km", "asc"}, Want: []any{"Catania", "Palermo"}},
			{Cmd: []any{"georadius", "Sicily", "15", "37", "100", "km", "withdist"}, Want: []any{[]any{"Catania", "56.4413"}}},
			{Cmd: []any{"georadius_ro", "Sicily", "15", "37", "200", "km", "count", "1", "desc"}, Want: []any{"Palermo"}},
			{Cmd: []any{"georadiusbymember", "Sicily", "Palermo", "10", "km", "withhash"}, Want: []any{[]any{"Palermo", int64(3479099956230698)}}},
			{Cmd: []any{"georadiusbymember", "Sicily", "nope", "10", "km"}, WantErr: "ERR could not decode requested zset member"},
			{Cmd: []any{"geosearch", "Sicily", "fromlonlat", "15", "37", "bybox", "400", "400", "km", "asc"}, Want: []any{"Catania", "Palermo"}},
			{Cmd: []any{"geosearch", "Sicily", "frommember", "Palermo", "byradius", "1", "km"}, Want: []any{"Palermo"}},
			{Cmd: []any{"geosearch", "Sicily", "byradius", "1", "km", "asc", "withdist"}, WantErr: "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for geosearch"},
			{Cmd: []any{"geosearch", "Sicily", "fromlonlat", "15", "37", "asc", "withdist"}, WantErr: "ERR exactly one of BYRADIUS and BYBOX can be specified for geosearch"},
			{Cmd: []any{"geosearch", "Sicily", "fromlonlat", "15", "37", "byradius", "1", "km", "any"}, WantErr: "ERR the ANY argument requires COUNT argument"},
			{Cmd: []any{"geosearch", "Sicily", "fromlonlat", "15", "37", "byradius", "-1", "km"}, WantErr: "ERR radius cannot be negative"},
			{Cmd: []any{"geosearchstore", "near", "Sicily", "fromlonlat", "15", "37", "byradius", "200", "km", "storedist"}, Want: int64(2)},
			{Cmd: []any{"zrange", "near", "0", "0"}, Want: []any{"Catania"}},
			{Cmd: []any{"georadius", "Sicily", "15", "37", "200", "km", "store", "near", "withdist"}, WantErr: "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options"},
			{Cmd: []any{"georadius", "Sicily", "15", "37", "1", "km", "store", "near"}, Want: int64(0)},
			{Cmd: []any{"exists", "near"}, Want: int64(0)},
			{Cmd: []any{"command", "getkeys", "georadius", "Sicily", "15", "37", "1", "km", "store", "near"}, Want: []any{"Sicily", "near"}},
			{Cmd: []any{"set", "wrong", "x"}, Want: "OK"},
			{Cmd: []any{"geosearch", "wrong", "frommember", "m", "bybox", "1", "1", "km"}, WantErr: "WRONGTYPE Operation against a key holding the wrong kind of value"},
			{Cmd: []any{"geopos", "missing", "a"}, Want: []any{nil}},
		})
	})
}
