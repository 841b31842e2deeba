package dataplane

import (
	"errors"
	"net/http"

	"github.com/rpcbridge/rpcbridge/dubborpc"
)

// writeRefusedDubboCall answers a call that dubborpc refused to send because its encoded
// request is over the providers' payload limit (the route's DubboRoute.payload_limit): 413, as
// a JSON body over the limit is answered (dubbojson). Sending it would have made the provider
// close the connection under every other call on it. It reports whether it answered.
func writeRefusedDubboCall(w http.ResponseWriter, err error) bool {
	if !errors.Is(err, dubborpc.ErrPayloadTooLarge) {
		return false
	}
	writeError(w, http.StatusRequestEntityTooLarge, StatusInvalidRequest, err.Error())
	return true
}
