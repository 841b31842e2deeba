package grpcjson

import (
	"strings"
	"testing"
)

// TestStreamFormatFor: the first stream media type listed with a non-zero q chooses the format;
// anything else leaves it to the print options.
func TestStreamFormatFor(t *testing.T) {
	cases := []struct {
		accept []string
		format StreamFormat
		ct     string
	}{
		{nil, StreamAsConfigured, ""},
		{[]string{"application/json"}, StreamAsConfigured, ""},
		{[]string{"*/*"}, StreamAsConfigured, ""},
		{[]string{"application/x-ndjson"}, StreamNDJSON, "application/x-ndjson"},
		{[]string{"application/json, application/jsonl; q=0.5"}, StreamNDJSON, "application/jsonl"},
		{[]string{"text/event-stream"}, StreamSSE, "text/event-stream"},
		{[]string{"text/event-stream;q=0", "application/x-ndjson"}, StreamNDJSON, "application/x-ndjson"},
		{[]string{"application/x-ndjson;q=0.0"}, StreamAsConfigured, ""},
		{[]string{"garbage;;;", "text/event-stream"}, StreamSSE, "text/event-stream"},
	}
	for _, tc := range cases {
		f, ct := StreamFormatFor(tc.accept)
		if f != tc.format || ct != tc.ct {
			t.Errorf("StreamFormatFor(%q) = %v %q, want %v %q", tc.accept, f, ct, tc.format, tc.ct)
		}
	}
}

// TestCloseReason: a close reason fits a close frame (123 bytes) and stays valid UTF-8.
func TestCloseReason(t *testing.T) {
	long := strings.Repeat("é", 100) // 200 bytes
	got := closeReason(long)
	if len(got) > maxCloseReason || !strings.HasPrefix(long, got) || len(got) < maxCloseReason-1 {
		t.Errorf("closeReason cut to %d bytes %q", len(got), got)
	}
	if closeReason("short") != "short" {
		t.Error("a short reason is kept")
	}
}
