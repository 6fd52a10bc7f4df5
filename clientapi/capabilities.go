package clientapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/roomserver/roomversion"
)

type booleanCapability struct {
	Enabled bool `json:"enabled"`
}

type roomVersionsCapability struct {
	Default   string            `json:"default"`
	Available map[string]string `json:"available"`
}

type capabilities struct {
	ChangePassword  booleanCapability      `json:"m.change_password"`
	RoomVersions    roomVersionsCapability `json:"m.room_versions"`
	SetDisplayName  booleanCapability      `json:"m.set_displayname"`
	SetAvatarURL    booleanCapability      `json:"m.set_avatar_url"`
	ThreePIDChanges booleanCapability      `json:"m.3pid_changes"`
}

type capabilitiesResponse struct {
	Capabilities capabilities `json:"capabilities"`
}

// capabilities answers GET /capabilities.
func (a *API) capabilities(c *gin.Context) {
	available := map[string]string{}
	for _, v := range roomversion.All() {
		stability := "unstable"
		if v.Stable {
			stability = "stable"
		}
		available[v.ID] = stability
	}
	def := a.deps.Config.Rooms.DefaultVersion
	if def == "" {
		def = roomversion.Default
	}
	matrixhttp.Respond(c, http.StatusOK, capabilitiesResponse{Capabilities: capabilities{
		ChangePassword:  booleanCapability{Enabled: true},
		RoomVersions:    roomVersionsCapability{Default: def, Available: available},
		SetDisplayName:  booleanCapability{Enabled: true},
		SetAvatarURL:    booleanCapability{Enabled: true},
		ThreePIDChanges: booleanCapability{Enabled: false},
	}})
}
