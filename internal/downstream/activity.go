package downstream

import "net/http"

// MarkActive restarts the idle timer of the Stream whose ResponseWriter w is (or wraps: Unwrap is
// followed), for a handler that moves data past the writer, such as a WebSocket on the hijacked
// connection: Envoy counts an upgraded stream's data as activity too. It does nothing when w is
// not a Stream's.
func MarkActive(w http.ResponseWriter) {
	for {
		switch t := w.(type) {
		case *streamWriter:
			t.s.active()
			return
		case interface{ Unwrap() http.ResponseWriter }:
			w = t.Unwrap()
		default:
			return
		}
	}
}
