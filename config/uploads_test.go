package config

import (
	"errors"
	"strings"
	"testing"
)

func TestParseUploadLimits(t *testing.T) {
	withUploads := valid + "admin:\n  uploads: {maxConcurrent: 4, maxBytes: 1048576, maxUnpackedBytes: 8388608, maxFiles: 50, storeQuotaBytes: 67108864}\n"
	cfg, err := Parse("rpcbridge.yaml", []byte(withUploads))
	if err != nil {
		t.Fatal(err)
	}
	want := UploadsConfig{MaxConcurrent: 4, MaxBytes: 1 << 20, MaxUnpackedBytes: 8 << 20, MaxFiles: 50, StoreQuotaBytes: 64 << 20}
	if cfg.Admin.Uploads != want {
		t.Fatalf("admin.uploads = %+v, want %+v", cfg.Admin.Uploads, want)
	}

	_, err = Parse("rpcbridge.yaml", []byte(strings.Replace(withUploads, "storeQuotaBytes: 67108864", "storeQuotaBytes: -1", 1)))
	var cerr *Error
	if !errors.As(err, &cerr) || len(cerr.Problems) != 1 ||
		cerr.Problems[0].String() != "rpcbridge.yaml:20: admin.uploads.storeQuotaBytes: -1 is negative; use 0 for the default" {
		t.Fatalf("a negative quota: %v", err)
	}
}
