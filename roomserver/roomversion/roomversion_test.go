package roomversion_test

import (
	"encoding/json"
	"os"
	"testing"

	gmsl "github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/stretchr/testify/require"

	"github.com/concordchat/concord/roomserver/roomversion"
)

type versionRow struct {
	ID                        string `json:"id"`
	EventIDFormat             string `json:"event_id_format"`
	StateRes                  string `json:"state_res"`
	Redaction                 string `json:"redaction"`
	StrictCanonicalJSON       bool   `json:"strict_canonical_json"`
	EnforceKeyValidity        bool   `json:"enforce_key_validity"`
	AuthRedactionRule         bool   `json:"auth_redaction_rule"`
	AuthAliasesRule           bool   `json:"auth_aliases_rule"`
	AuthNotificationsPL       bool   `json:"auth_notifications_pl"`
	Knocking                  bool   `json:"knocking"`
	RestrictedJoins           bool   `json:"restricted_joins"`
	KnockRestricted           bool   `json:"knock_restricted"`
	IntegerPowerLevels        bool   `json:"integer_power_levels"`
	CreatorIsSender           bool   `json:"creator_is_sender"`
	RedactsInContent          bool   `json:"redacts_in_content"`
	PrivilegedCreators        bool   `json:"privileged_creators"`
	RoomIDFromCreate          bool   `json:"room_id_from_create"`
	CreateInAuthEvents        bool   `json:"create_in_auth_events"`
	CheckRoomIDDomainOnCreate bool   `json:"check_room_id_domain_on_create"`
}

var (
	idFormats = map[roomversion.EventIDFormat]string{
		roomversion.EventIDServerAssigned: "server_assigned", roomversion.EventIDHashStd: "hash_std", roomversion.EventIDHashURL: "hash_url",
	}
	stateRes = map[roomversion.StateResAlgorithm]string{
		roomversion.StateResV1: "v1", roomversion.StateResV2: "v2", roomversion.StateResV2_1: "v2.1",
	}
	redactions = map[roomversion.RedactionAlgorithm]string{
		roomversion.RedactionV1: "v1", roomversion.RedactionV6: "v6", roomversion.RedactionV8: "v8",
		roomversion.RedactionV9: "v9", roomversion.RedactionV11: "v11",
	}
)

func loadRows(t *testing.T) []versionRow {
	raw, err := os.ReadFile("testdata/versions.json")
	require.NoError(t, err)
	var doc struct{ Versions []versionRow }
	require.NoError(t, json.Unmarshal(raw, &doc))
	require.Len(t, doc.Versions, 12)
	return doc.Versions
}

func rowOf(v *roomversion.Version) versionRow {
	return versionRow{
		ID: v.ID, EventIDFormat: idFormats[v.EventIDFormat], StateRes: stateRes[v.StateRes], Redaction: redactions[v.Redaction],
		StrictCanonicalJSON: v.StrictCanonicalJSON, EnforceKeyValidity: v.EnforceKeyValidity,
		AuthRedactionRule: v.AuthRedactionRule, AuthAliasesRule: v.AuthAliasesRule, AuthNotificationsPL: v.AuthNotificationsPL,
		Knocking: v.Knocking, RestrictedJoins: v.RestrictedJoins, KnockRestricted: v.KnockRestricted,
		IntegerPowerLevels: v.IntegerPowerLevels, CreatorIsSender: v.CreatorIsSender, RedactsInContent: v.RedactsInContent,
		PrivilegedCreators: v.PrivilegedCreators, RoomIDFromCreate: v.RoomIDFromCreate,
		CreateInAuthEvents: v.CreateInAuthEvents, CheckRoomIDDomainOnCreate: v.CheckRoomIDDomainOnCreate,
	}
}

// TestRegistryMatchesSpec compares every version's rules with the table in
// testdata/versions.json, written from the room version specifications.
func TestRegistryMatchesSpec(t *testing.T) {
	all := roomversion.All()
	require.Len(t, all, 12)
	for i, want := range loadRows(t) {
		v, err := roomversion.Get(want.ID)
		require.NoError(t, err)
		require.Same(t, v, all[i], "All() is in numeric order")
		require.Same(t, v, roomversion.MustGet(want.ID))
		require.True(t, roomversion.Known(want.ID))
		require.True(t, v.Stable)
		require.Equal(t, want.ID, v.String())
		require.Equal(t, want, rowOf(v), "room version %s", want.ID)
		require.Equal(t, want.EventIDFormat == "server_assigned", v.HasEventIDInJSON())
	}
	require.True(t, roomversion.Known(roomversion.Default))
	for _, bad := range []string{"", "0", "13", "1.0", " 1", "org.matrix.msc4014"} {
		_, err := roomversion.Get(bad)
		require.ErrorAs(t, err, new(roomversion.UnsupportedError), "%q", bad)
		require.Nil(t, roomversion.MustGet(bad))
		require.False(t, roomversion.Known(bad))
	}
}

// oracleRedaction names the redaction algorithm gomatrixserverlib applies in
// a version, by probing which keys survive.
func oracleRedaction(t *testing.T, impl gmsl.IRoomVersion) string {
	kept := func(typ, content string) map[string]json.RawMessage {
		ev := `{"type":"` + typ + `","state_key":"","origin":"x","content":` + content + `}`
		out, err := impl.RedactEventJSON([]byte(ev))
		require.NoError(t, err)
		var m struct{ Content map[string]json.RawMessage }
		require.NoError(t, json.Unmarshal(out, &m))
		return m.Content
	}
	if _, ok := kept("m.room.create", `{"other":1}`)["other"]; ok {
		return "v11"
	}
	if _, ok := kept("m.room.member", `{"membership":"join","join_authorised_via_users_server":"@a:b"}`)["join_authorised_via_users_server"]; ok {
		return "v9"
	}
	if _, ok := kept("m.room.join_rules", `{"join_rule":"restricted","allow":[]}`)["allow"]; ok {
		return "v8"
	}
	if _, ok := kept("m.room.aliases", `{"aliases":[]}`)["aliases"]; ok {
		return "v1"
	}
	return "v6"
}

// TestRegistryMatchesOracle compares the features gomatrixserverlib exposes
// (or that can be probed) with the registry.
func TestRegistryMatchesOracle(t *testing.T) {
	for _, v := range roomversion.All() {
		impl, err := gmsl.GetRoomVersion(gmsl.RoomVersion(v.ID))
		require.NoError(t, err)
		require.Equal(t, v.Stable, impl.Stable())
		require.Equal(t, map[gmsl.EventIDFormat]string{gmsl.EventIDFormatV1: "server_assigned", gmsl.EventIDFormatV2: "hash_std", gmsl.EventIDFormatV3: "hash_url"}[impl.EventIDFormat()],
			idFormats[v.EventIDFormat], "v%s event ID format", v.ID)
		require.Equal(t, v.HasEventIDInJSON(), impl.EventFormat() == gmsl.EventFormatV1, "v%s event format", v.ID)
		require.Equal(t, map[gmsl.StateResAlgorithm]string{gmsl.StateResV1: "v1", gmsl.StateResV2: "v2", gmsl.StateResV2_1: "v2.1"}[impl.StateResAlgorithm()],
			stateRes[v.StateRes], "v%s state res", v.ID)
		require.Equal(t, redactions[v.Redaction], oracleRedaction(t, impl), "v%s redaction", v.ID)
		require.Equal(t, v.StrictCanonicalJSON, impl.CheckCanonicalJSON([]byte(`{"a":1.5}`)) != nil, "v%s canonical JSON", v.ID)
		require.Equal(t, v.EnforceKeyValidity, !impl.SignatureValidityCheck(spec.Timestamp(2000), spec.Timestamp(1000)), "v%s key validity", v.ID)
		require.Equal(t, v.Knocking, impl.CheckKnockingAllowed(v.ID, "@a:b", "@a:b", "knock", "leave") == nil, "v%s knocking", v.ID)
		require.Equal(t, v.RestrictedJoins, impl.CheckRestrictedJoinsAllowed() == nil, "v%s restricted joins", v.ID)
		require.Equal(t, v.CreatorIsSender, !impl.CreatorInCreateEvent(), "v%s creator", v.ID)
		require.Equal(t, v.RoomIDFromCreate, impl.DomainlessRoomIDs(), "v%s room IDs", v.ID)
		require.Equal(t, v.PrivilegedCreators, impl.PrivilegedCreators(), "v%s creators", v.ID)
	}
}
