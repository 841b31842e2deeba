package dataplane_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestServerStreamingFormats streams a server-streaming method of a real grpc-go server through
// the embedded gateway in each format: the print options' JSON array when the client asks for
// nothing in particular (Envoy's grpc_json_transcoder, the status in the trailers),
// grpc-gateway's newline-delimited JSON ({"result": …} lines, an {"error": …} line) for
// Accept: application/x-ndjson or application/jsonl, and Server-Sent Events (an "error" event)
// for Accept: text/event-stream; an error before the first message is answered with its HTTP
// status in every format.
func TestServerStreamingFormats(t *testing.T) {
	s := startChatStack(t)
	note := func(i string) string { return `{"room":"r","text":"note ` + i + `","seq":` + i + `}` }
	aborted := `{"code":10,"message":"room r closed after 1 notes","details":[]}`
	cases := []struct {
		name, accept, target string
		code                 int
		contentType, body    string
		trailerStatus        string
	}{
		{"array", "", "/v1/rooms/r/notes?count=2", 200, "application/json", "[" + note("1") + "," + note("2") + "]", "0"},
		{"array, error mid-stream in the trailers", "application/json", "/v1/rooms/r/notes?count=3&failAfter=1", 200,
			"application/json", "[" + note("1") + "]", "10"},
		{"ndjson", "application/x-ndjson", "/v1/rooms/r/notes?count=2", 200, "application/x-ndjson",
			`{"result":` + note("1") + "}\n" + `{"result":` + note("2") + "}\n", "0"},
		{"jsonl, error mid-stream as a line", "application/jsonl;q=0.9, */*;q=0.1", "/v1/rooms/r/notes?count=3&failAfter=1", 200,
			"application/jsonl", `{"result":` + note("1") + "}\n" + `{"error":` + aborted + "}\n", "10"},
		{"ndjson, error before the first message", "application/x-ndjson", "/v1/rooms/gone/notes?count=3", 404,
			"application/x-ndjson", `{"error":{"code":5,"message":"no room gone","details":[]}}` + "\n", ""},
		{"sse", "text/event-stream", "/v1/rooms/r/notes?count=2", 200, "text/event-stream",
			"data: " + note("1") + "\n\ndata: " + note("2") + "\n\n", "0"},
		{"sse, error mid-stream as an event", "text/event-stream", "/v1/rooms/r/notes?count=3&failAfter=1", 200, "text/event-stream",
			"data: " + note("1") + "\n\nevent: error\ndata: " + aborted + "\n\n", "10"},
		{"ndjson refused with q=0 falls back to the print options", "application/x-ndjson;q=0", "/v1/rooms/r/notes?count=1", 200,
			"application/json", "[" + note("1") + "]", "0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			header := http.Header{}
			if tc.accept != "" {
				header.Set("Accept", tc.accept)
			}
			resp, err := s.get(tc.target, header)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.code || resp.Header.Get("Content-Type") != tc.contentType || string(body) != tc.body {
				t.Fatalf("got %d %q %q\nwant %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body, tc.code, tc.contentType, tc.body)
			}
			if tc.trailerStatus != "" && resp.Trailer.Get("Grpc-Status") != tc.trailerStatus {
				t.Errorf("grpc-status trailer %q, want %q", resp.Trailer.Get("Grpc-Status"), tc.trailerStatus)
			}
			if tc.trailerStatus != "" && !strings.Contains(resp.Trailer.Get("X-Served-By"), "chat") {
				t.Errorf("the upstream's trailers are lost: %v", resp.Trailer)
			}
		})
	}
}
