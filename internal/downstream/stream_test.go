package downstream

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestStreamIdleResetsAStartedResponse checks Envoy's other half of stream_idle_timeout: when
// the response has started, a stream that goes idle is reset (the client sees the response cut
// off), not answered 408.
func TestStreamIdleResetsAStartedResponse(t *testing.T) {
	h := Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "first")
		http.NewResponseController(w).Flush()
		<-r.Context().Done() // an upstream that stalls mid-response
	}), StreamTimeouts{Idle: 200 * time.Millisecond}, func(w http.ResponseWriter, code int, _, _ string) { w.WriteHeader(code) })
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := &http.Client{Timeout: giveUp}
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != "first" || err == nil {
		t.Fatalf("got %d %q, %v; want 200 \"first\" cut off by a reset", resp.StatusCode, body, err)
	}
}
