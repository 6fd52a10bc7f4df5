package clientapi

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/storage/accounts"
)

// maxDeleteDevices bounds one POST /delete_devices.
const maxDeleteDevices = 1000

type deviceJSON struct {
	DeviceID    string `json:"device_id"`
	DisplayName string `json:"display_name,omitempty"`
	LastSeenIP  string `json:"last_seen_ip,omitempty"`
	LastSeenTS  int64  `json:"last_seen_ts,omitempty"`
}

func toDeviceJSON(d accounts.Device) deviceJSON {
	return deviceJSON{DeviceID: d.DeviceID, DisplayName: d.DisplayName, LastSeenIP: d.LastSeenIP, LastSeenTS: d.LastSeenTS}
}

type devicesResponse struct {
	Devices []deviceJSON `json:"devices"`
}

func errUnknownDevice() *matrixhttp.Error { return matrixhttp.NotFound("Unknown device") }

// listDevices answers GET /devices.
func (a *API) listDevices(c *gin.Context) {
	s := mustSession(c)
	list, err := a.deps.Accounts.ListDevices(c.Request.Context(), s.Localpart)
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	out := devicesResponse{Devices: make([]deviceJSON, 0, len(list))}
	for _, d := range list {
		out.Devices = append(out.Devices, toDeviceJSON(d))
	}
	matrixhttp.Respond(c, http.StatusOK, out)
}

// getDevice answers GET /devices/{deviceId}.
func (a *API) getDevice(c *gin.Context) {
	s := mustSession(c)
	d, err := a.deps.Accounts.GetDevice(c.Request.Context(), s.Localpart, c.Param("deviceId"))
	if errors.Is(err, accounts.ErrNotFound) {
		matrixhttp.Fail(c, errUnknownDevice())
		return
	}
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, toDeviceJSON(d))
}

type updateDeviceRequest struct {
	DisplayName *string `json:"display_name"` // absent: unchanged
}

// updateDevice answers PUT /devices/{deviceId}: it renames one of the
// caller's devices. Creating devices this way is for application services,
// which Concord does not support yet: an unknown device is 404.
func (a *API) updateDevice(c *gin.Context) {
	s := mustSession(c)
	var req updateDeviceRequest
	if err := matrixhttp.DecodeJSON(c, &req, 0, true); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	ctx, deviceID := c.Request.Context(), c.Param("deviceId")
	var err error
	if req.DisplayName == nil {
		_, err = a.deps.Accounts.GetDevice(ctx, s.Localpart, deviceID)
	} else if err = checkDeviceName(*req.DisplayName); err == nil {
		err = a.deps.Accounts.SetDeviceDisplayName(ctx, s.Localpart, deviceID, *req.DisplayName)
	}
	if errors.Is(err, accounts.ErrNotFound) {
		err = errUnknownDevice()
	}
	if err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	matrixhttp.Respond(c, http.StatusOK, emptyResponse{})
}

type deleteDeviceRequest struct {
	Auth *uiaAuth `json:"auth"`
}

// deleteDevice answers DELETE /devices/{deviceId}, authenticated by the
// password (UIA m.login.password). Deleting the device ends its tokens; a
// device that is already gone is not an error.
func (a *API) deleteDevice(c *gin.Context) {
	var req deleteDeviceRequest
	if err := matrixhttp.DecodeJSON(c, &req, 0, true); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	a.deleteDevicesWithUIA(c, req.Auth, []string{c.Param("deviceId")})
}

type deleteDevicesRequest struct {
	Devices *[]string `json:"devices"`
	Auth    *uiaAuth  `json:"auth"`
}

// deleteDevices answers POST /delete_devices, like deleteDevice for a list.
func (a *API) deleteDevices(c *gin.Context) {
	var req deleteDevicesRequest
	if err := matrixhttp.DecodeJSON(c, &req, 0, false); err != nil {
		matrixhttp.Fail(c, err)
		return
	}
	if req.Devices == nil {
		matrixhttp.Fail(c, matrixhttp.MissingParam("Missing devices"))
		return
	}
	ids := slices.Clone(*req.Devices)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) > maxDeleteDevices {
		matrixhttp.Fail(c, matrixhttp.InvalidParam("At most %d devices can be deleted at once", maxDeleteDevices))
		return
	}
	a.deleteDevicesWithUIA(c, req.Auth, ids)
}

// deleteDevicesWithUIA deletes the caller's devices ids once the password
// stage is complete. The UIA session is bound to exactly this set of
// devices.
func (a *API) deleteDevicesWithUIA(c *gin.Context, auth *uiaAuth, ids []string) {
	s := mustSession(c)
	ctx := c.Request.Context()
	spec := uiaSpec{op: "devices.delete\x00" + strings.Join(ids, "\x00"), localpart: s.Localpart, flows: passwordFlows()}
	sess, err := a.uiaAuthenticate(ctx, spec, auth)
	if err != nil {
		failAuth(c, err)
		return
	}
	if _, err := a.deps.Accounts.DeleteDevices(ctx, s.Localpart, ids); err != nil {
		a.uiaAbort(ctx, sess, false)
		matrixhttp.Fail(c, err)
		return
	}
	a.uiaFinish(sess)
	matrixhttp.Respond(c, http.StatusOK, emptyResponse{})
}
