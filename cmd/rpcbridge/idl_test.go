package main

import (
	"archive/zip"
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const greeterProto = `syntax = "proto3";
package demo;
import "google/api/annotations.proto";
service Greeter {
  rpc SayHello(HelloRequest) returns (HelloReply) {
    option (google.api.http) = {get: "/v1/hello/{name}"};
  }
}
message HelloRequest { string name = 1; }
message HelloReply { string message = 1; }
`

// TestIDLPushListRemove uploads IDL through `rpcbridge idl` to a running server: a valid upload
// is stored, a broken one is rejected with file:line:column and the previous version keeps
// serving, and removal works.
func TestIDLPushListRemove(t *testing.T) {
	srv := startServe(t, "")
	admin := "http://" + srv.admin
	dir := t.TempDir()
	protoDir := filepath.Join(dir, "protos")
	if err := os.MkdirAll(protoDir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, protoDir, "greeter.proto", greeterProto)

	code, out, stderr := runCLI(t, context.Background(), "idl", "push", "greeter", protoDir, "--admin", admin)
	if code != exitOK || !strings.Contains(out, "greeter: version 1 stored (proto, 1 files)") {
		t.Fatalf("push: exit %d, out %q, err %q", code, out, stderr)
	}

	writeFile(t, protoDir, "greeter.proto", strings.Replace(greeterProto, "string name = 1;", "strin name = 1;", 1))
	code, _, stderr = runCLI(t, context.Background(), "idl", "push", "greeter", protoDir, "--admin", admin)
	if code == exitOK || !strings.Contains(stderr, "greeter.proto:9:24: field demo.HelloRequest.name: unknown type strin") || !strings.Contains(stderr, "422") {
		t.Fatalf("a broken upload must fail naming file:line; exit %d, stderr:\n%s", code, stderr)
	}

	code, out, _ = runCLI(t, context.Background(), "idl", "ls", "--admin", admin)
	if code != exitOK || !regexpLine(out, "greeter", "proto", "1") {
		t.Fatalf("after a rejected upload version 1 must still be listed; ls:\n%s", out)
	}

	code, out, stderr = runCLI(t, context.Background(), "idl", "rm", "greeter", "--admin", admin)
	if code != exitOK || !strings.Contains(out, "greeter: removed") {
		t.Fatalf("rm: exit %d %q %q", code, out, stderr)
	}
	if _, out, _ = runCLI(t, context.Background(), "idl", "ls", "--admin", admin); strings.Contains(out, "greeter") {
		t.Fatalf("greeter still listed after rm:\n%s", out)
	}
}

// regexpLine reports whether one line of out has the given fields in order.
func regexpLine(out string, fields ...string) bool {
	for _, line := range strings.Split(out, "\n") {
		got := strings.Fields(line)
		if len(got) >= len(fields) && strings.Join(got[:len(fields)], " ") == strings.Join(fields, " ") {
			return true
		}
	}
	return false
}

// TestIDLUploadRefusesUnsafeZips checks the admin API's answers to hostile or oversized uploads.
func TestIDLUploadRefusesUnsafeZips(t *testing.T) {
	srv := startServe(t, "")
	put := func(query string, ctype string, body []byte) int {
		req, _ := http.NewRequest(http.MethodPut, "http://"+srv.admin+"/api/v1/idl/x"+query, bytes.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	zipOf := func(name string, data []byte) []byte {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		w, _ := zw.Create(name)
		_, _ = w.Write(data)
		_ = zw.Close()
		return b.Bytes()
	}
	if code := put("?kind=proto", "application/zip", zipOf("../../etc/evil.proto", []byte(greeterProto))); code != http.StatusBadRequest {
		t.Errorf("zip entry escaping its directory: status %d, want 400", code)
	}
	if code := put("?kind=proto", "application/zip", zipOf("/abs.proto", []byte(greeterProto))); code != http.StatusBadRequest {
		t.Errorf("absolute zip entry: status %d, want 400", code)
	}
	bomb := zipOf("bomb.proto", bytes.Repeat([]byte{' '}, 300<<20))
	if code := put("?kind=proto", "application/zip", bomb); code != http.StatusRequestEntityTooLarge {
		t.Errorf("decompression bomb (%d bytes compressed): status %d, want 413", len(bomb), code)
	}
	if code := put("", "application/zip", zipOf("notes.txt", []byte(greeterProto))); code != http.StatusBadRequest {
		t.Errorf("upload whose kind the file names do not tell: status %d, want 400", code)
	}
	if code := put("", "application/zip", zipOf("a.proto", []byte(greeterProto))); code != http.StatusOK {
		t.Errorf("upload without kind of .proto files: status %d, want 200 (kind inferred)", code)
	}
	if code := put("?kind=proto&filename=a.proto", "text/plain", []byte(greeterProto)); code != http.StatusOK {
		t.Errorf("single-file upload: status %d, want 200", code)
	}
}
