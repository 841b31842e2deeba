package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rpcbridge/rpcbridge/config"
)

// TestUploadLimitsFromConfig checks that admin.uploads reaches the admin API and the IDL store:
// maxBytes is the upload size answered 413, storeQuotaBytes the quota answered 403.
func TestUploadLimitsFromConfig(t *testing.T) {
	cfg, err := config.Parse("rpcbridge.yaml", []byte("dataDir: "+t.TempDir()+"\nadmin:\n  uploads: {maxBytes: 200, storeQuotaBytes: 80}\n"))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	st, err := openStore(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	s := &server{log: log, start: cfg, store: st, metrics: prometheus.NewRegistry()}
	srv := httptest.NewServer(s.adminHandler())
	defer srv.Close()
	put := func(name, body string) int {
		req, _ := http.NewRequest(http.MethodPut, srv.URL+"/api/v1/idl/"+name+"?kind=proto&filename="+name+".proto", strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	proto := func(pkg string) string {
		return "syntax = \"proto3\";\npackage " + pkg + ";\nmessage M { string s = 1; }\n"
	}
	if code := put("big", proto("big")+"//"+strings.Repeat("x", 200)); code != http.StatusRequestEntityTooLarge {
		t.Errorf("an upload beyond admin.uploads.maxBytes: status %d, want 413", code)
	}
	if code := put("a", proto("a")); code != http.StatusOK {
		t.Fatalf("an upload within the limits: status %d", code)
	}
	if code := put("b", proto("b")); code != http.StatusForbidden {
		t.Errorf("an upload beyond admin.uploads.storeQuotaBytes: status %d, want 403", code)
	}
}
