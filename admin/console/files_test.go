package console

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestSwaggerUIFilesAreThePinnedRelease checks the embedded Swagger UI files against
// SHA256SUMS (written by scripts/swagger-ui.sh from the npm tarball it verified), that nothing
// else is embedded beside them, and that the bundle is the release the script pins.
func TestSwaggerUIFilesAreThePinnedRelease(t *testing.T) {
	sums, err := fs.ReadFile(files, "swaggerui/SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	listed := []string{"SHA256SUMS"}
	sc := bufio.NewScanner(bytes.NewReader(sums))
	for sc.Scan() {
		want, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("SHA256SUMS line %q is not \"<sha256>  <file>\"", sc.Text())
		}
		data, err := fs.ReadFile(files, "swaggerui/"+name)
		if err != nil {
			t.Fatalf("%s is listed but not embedded: %v", name, err)
		}
		got := sha256.Sum256(data)
		if hex.EncodeToString(got[:]) != want {
			t.Errorf("%s: sha256 %x, SHA256SUMS says %s (run scripts/swagger-ui.sh)", name, got, want)
		}
		listed = append(listed, name)
	}
	entries, err := fs.ReadDir(files, "swaggerui")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !slices.Contains(listed, e.Name()) {
			t.Errorf("swaggerui/%s is embedded but not in SHA256SUMS", e.Name())
		}
	}
	script, err := os.ReadFile("../../scripts/swagger-ui.sh")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^version=(\S+)$`).FindSubmatch(script)
	if m == nil {
		t.Fatal("scripts/swagger-ui.sh pins no version=")
	}
	bundle, _ := fs.ReadFile(files, "swaggerui/swagger-ui-bundle.js")
	if !bytes.Contains(bundle, []byte(`"`+string(m[1])+`"`)) {
		t.Errorf("swagger-ui-bundle.js is not version %s, which scripts/swagger-ui.sh pins", m[1])
	}
}

// TestServedFiles checks what Register serves: the page at /, every module the page imports,
// the Swagger UI files, the security headers, and no directory listings.
func TestServedFiles(t *testing.T) {
	mux := http.NewServeMux()
	Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp, b.String()
	}
	resp, page := get("/")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(page, `src="/console/js/main.js"`) {
		t.Fatalf("GET / = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	// Every relative import of every module resolves to a served JavaScript file.
	modules, _ := fs.Glob(files, "static/js/*.js")
	importRef := regexp.MustCompile(`from "\./([a-z]+\.js)"`)
	for _, m := range modules {
		src, _ := fs.ReadFile(files, m)
		for _, ref := range importRef.FindAllSubmatch(src, -1) {
			if resp, _ := get("/console/js/" + string(ref[1])); resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "javascript") {
				t.Errorf("%s imports %s: %d %s", m, ref[1], resp.StatusCode, resp.Header.Get("Content-Type"))
			}
		}
	}
	for _, path := range []string{"/console/app.css", "/swagger-ui/swagger-ui-bundle.js", "/swagger-ui/swagger-ui.css"} {
		if resp, _ := get(path); resp.StatusCode != 200 || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s = %d", path, resp.StatusCode)
		}
	}
	for _, path := range []string{"/console/", "/console/js/", "/swagger-ui/", "/console/nosuch.js"} {
		if resp, _ := get(path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, resp.StatusCode)
		}
	}
}
