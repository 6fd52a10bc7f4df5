package auth_test

import (
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/roomserver/auth"
	"github.com/concordchat/concord/roomserver/roomversion"
)

func TestParsePowerLevelsStringy(t *testing.T) {
	v9, v10 := roomversion.MustGet("9"), roomversion.MustGet("10")
	for _, tc := range []struct {
		raw  string
		want int64
		ok   bool
	}{
		{`"100"`, 100, true}, {`"000100"`, 100, true}, {`"+100"`, 100, true}, {`"-100"`, -100, true},
		{`" 100 "`, 100, true}, {`" 00100 "`, 100, true}, {`" +100 "`, 100, true}, {`" -100 "`, -100, true},
		{"\"\\t42\\n\"", 42, true},
		{`"99999999999999999999"`, math.MaxInt64 - 1, true}, {`"-99999999999999999999"`, math.MinInt64, true},
		{`""`, 0, false}, {`" "`, 0, false}, {`"+"`, 0, false}, {`"+-1"`, 0, false}, {`"1.5"`, 0, false},
		{`"1e2"`, 0, false}, {`"0x10"`, 0, false}, {`"1_000"`, 0, false}, {`"1 0"`, 0, false},
		{`true`, 0, false}, {`null`, 0, false}, {`{}`, 0, false}, {`[]`, 0, false},
	} {
		pl, err := auth.ParsePowerLevels(v9, []byte(`{"ban":`+tc.raw+`}`))
		if !tc.ok {
			require.Error(t, err, tc.raw)
			require.True(t, errors.Is(err, auth.ErrRejected))
			require.Equal(t, int64(auth.DefaultBanLevel), pl.Ban, "an invalid value keeps the default")
			require.False(t, pl.Has("ban"))
			continue
		}
		require.NoError(t, err, tc.raw)
		require.Equal(t, tc.want, pl.Ban, tc.raw)
		require.True(t, pl.Has("ban"))
		_, err = auth.ParsePowerLevels(v10, []byte(`{"ban":`+tc.raw+`}`))
		require.Error(t, err, "v10 takes integers only: %s", tc.raw)
	}
}

func TestParsePowerLevelsFloaty(t *testing.T) {
	v1 := roomversion.MustGet("1")
	for _, tc := range []struct {
		raw  string
		want int64
		ok   bool
	}{
		{`5.114698E4`, 51146, true}, {`51146.98`, 51146, true}, {`50.57`, 50, true}, {`-5.9`, -5, true},
		{`1e2`, 100, true}, {`0.5`, 0, true}, {`1e300`, math.MaxInt64 - 1, true}, {`-1e300`, math.MinInt64, true},
		{`100000000000000000000`, math.MaxInt64 - 1, true}, {`9223372036854775807`, math.MaxInt64 - 1, true},
		{`1e400`, 0, false}, {`-1e400`, 0, false},
	} {
		pl, err := auth.ParsePowerLevels(v1, []byte(`{"users":{"@a:b.test":`+tc.raw+`}}`))
		if !tc.ok {
			require.Error(t, err, tc.raw)
			continue
		}
		require.NoError(t, err, tc.raw)
		require.Equal(t, tc.want, pl.UserLevel("@a:b.test"), tc.raw)
	}
}

func TestParsePowerLevelsStrict(t *testing.T) {
	v12 := roomversion.MustGet("12")
	for raw, rule := range map[string]string{
		`{"ban": 1.0}`:                     auth.RulePLScalars,
		`{"invite": "0"}`:                  auth.RulePLScalars,
		`{"kick": null}`:                   auth.RulePLScalars,
		`{"events": {"x": "1"}}`:           auth.RulePLMaps,
		`{"events": []}`:                   auth.RulePLMaps,
		`{"notifications": null}`:          auth.RulePLMaps,
		`{"users": {"@a:b.test": "1"}}`:    auth.RulePLUsers,
		`{"users": {"a:b.test": 1}}`:       auth.RulePLUsers,
		`{"users": 5}`:                     auth.RulePLUsers,
		`{"ban": "1", "users": {"x": 1}}`:  auth.RulePLScalars, // 10.1 comes first
		`{"events": {"x": "1"}, "ban": 1}`: auth.RulePLMaps,
	} {
		_, err := auth.ParsePowerLevels(v12, []byte(raw))
		var ae *auth.Error
		require.True(t, errors.As(err, &ae), raw)
		require.Equal(t, rule, ae.Rule, raw)
	}
	pl, err := auth.ParsePowerLevels(v12, []byte(`{"ban": 1, "users": {"@a:b.test": 7}, "events": {"m.room.name": 9}, "notifications": {"room": 3}}`))
	require.NoError(t, err)
	require.Equal(t, int64(1), pl.Ban)
	require.Equal(t, int64(7), pl.UserLevel("@a:b.test"))
	require.Equal(t, int64(0), pl.UserLevel("@c:b.test"))
	require.Equal(t, int64(9), pl.EventLevel("m.room.name", true))
	require.Equal(t, int64(50), pl.EventLevel("m.room.topic", true))
	require.Equal(t, int64(0), pl.EventLevel("m.room.message", false))
	require.Equal(t, int64(3), pl.NotificationLevel("room"))
	require.Equal(t, int64(50), pl.NotificationLevel("other"))
	require.True(t, pl.Has("ban"))
	require.False(t, pl.Has("kick"))
	require.False(t, pl.Has("nonsense"))
}

func TestDefaultPowerLevels(t *testing.T) {
	d := auth.DefaultPowerLevels()
	require.Equal(t, []int64{0, 0, 50, 50, 50, 50, 0},
		[]int64{d.UsersDefault, d.EventsDefault, d.StateDefault, d.Ban, d.Kick, d.Redact, d.Invite})
	require.Equal(t, int64(50), d.NotificationLevel("room"))
}
