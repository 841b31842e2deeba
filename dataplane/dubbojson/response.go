package dubbojson

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/rpcbridge/rpcbridge/dubborpc"
)

// StatusJavaException is the error status of a Java exception the method threw.
const StatusJavaException = "java_exception"

// ExceptionBody is the JSON body of a Java exception:
// {"error":{"code":500,"status":"java_exception","exception":"<class>","message":"..."}}.
type ExceptionBody struct {
	Error ExceptionDetail `json:"error"`
}

// ExceptionDetail is the content of ExceptionBody.
type ExceptionDetail struct {
	Code      int    `json:"code"`
	Status    string `json:"status"`
	Exception string `json:"exception"`
	Message   string `json:"message"`
}

// Render turns a call's result into its JSON value, by the route's return type (see renderer
// for the rules).
func (r *Route) Render(resp dubborpc.Response) any {
	return (&renderer{classes: r.classes, fields: r.fields}).render(r.returns, resp.Value)
}

// WriteResult answers req with 200 and the result: as JSON, or, for a byte[] result, as the
// bytes themselves with the route's content type and file name (download.go).
func (r *Route) WriteResult(w http.ResponseWriter, req *http.Request, resp dubborpc.Response) error {
	if r.download != nil {
		return r.download.write(w, req, resp.Value)
	}
	body, err := json.Marshal(r.Render(resp))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// WriteException answers 500 with the Java exception in err and reports true, or reports
// false when err is not a Java exception.
func WriteException(w http.ResponseWriter, err error) bool {
	var remote *dubborpc.RemoteError
	if !errors.As(err, &remote) {
		return false
	}
	body, _ := json.Marshal(ExceptionBody{Error: ExceptionDetail{
		Code: http.StatusInternalServerError, Status: StatusJavaException,
		Exception: remote.Class, Message: remote.Message,
	}})
	writeJSON(w, http.StatusInternalServerError, body)
	return true
}

func writeJSON(w http.ResponseWriter, code int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write(append(body, '\n'))
}
