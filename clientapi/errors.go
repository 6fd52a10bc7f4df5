package clientapi

import (
	"errors"
	"net/http"

	"github.com/concordchat/concord/internal/matrixhttp"
	"github.com/concordchat/concord/roomserver"
	"github.com/concordchat/concord/storage/rooms"
	"github.com/concordchat/concord/syncapi"
)

// The one table mapping domain errors of the room and sync components to
// Matrix errors.
func init() {
	matrixhttp.Register(
		matrixhttp.Mapping{Target: roomserver.ErrRoomNotFound, Make: func(error) *matrixhttp.Error {
			return matrixhttp.NotFound("Unknown room")
		}},
		matrixhttp.Mapping{Target: roomserver.ErrNotAllowed, Make: func(err error) *matrixhttp.Error {
			return matrixhttp.Forbidden("%s", errors.Unwrap(err))
		}},
		matrixhttp.Mapping{Target: roomserver.ErrBadEvent, Make: func(err error) *matrixhttp.Error {
			return matrixhttp.BadJSON("%s", errors.Unwrap(err))
		}},
		matrixhttp.Mapping{Target: rooms.ErrNotFound, Make: func(error) *matrixhttp.Error {
			return matrixhttp.NotFound("Not found")
		}},
		matrixhttp.Mapping{Target: syncapi.ErrBadToken, Make: func(error) *matrixhttp.Error {
			return &matrixhttp.Error{Status: http.StatusBadRequest, ErrCode: "M_INVALID_PARAM", Message: "Invalid pagination token"}
		}},
	)
}
