package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/rpcbridge/rpcbridge/admin"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/browser"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/dubboprovider"
)

// The console files stack: the dubbo-go provider's FileService in the static registry, its
// Java API pushed as IDL, and one rule that makes download a named download.
const (
	filesID           = "dubbo:" + dubboprovider.FileInterface + ":1.0.0:"
	filesUploadPath   = "/dubbo/" + dubboprovider.FileInterface + ":1.0.0/upload"
	filesDownloadPath = "/files/{name}"
	// filesUploadLimit is gateway.limits.maxUploadBytes: above the 1 MiB buffer limit, so that
	// the file chosen in the browser (1.5 MiB) is larger than what any other route would take.
	filesUploadLimit = 4 << 20
	fileServiceAPI   = `package org.rpcbridge.test;

public interface FileService {
    String upload(String name, byte[] data);
    String checksum(byte[] data);
    byte[] download(String name, int size);
}
`
)

// consoleFilesConfig is the serve configuration of the stack, the provider listening on port.
func consoleFilesConfig(port int) string {
	return fmt.Sprintf(`registries:
  - name: local
    type: static
    static:
      services:
        - name: files
          protocol: dubbo
          interface: %s
          version: 1.0.0
          endpoints:
            - {address: 127.0.0.1, port: %d}
rpcRoutes:
  - service: %q
    method: download
    http: {method: GET, path: %q}
    download: {contentType: application/pdf, filename: "{name}.pdf"}
`, dubboprovider.FileInterface, port, filesID, filesDownloadPath)
}

// startConsoleFiles runs serve with the stack and returns once the gateway answers the upload
// route.
func startConsoleFiles(t *testing.T) *running {
	t.Helper()
	// dubbo-go takes packets of at most 1,024,000 bytes by default: let it take the upload.
	provider := dubboprovider.Start(t, dubboprovider.Options{Registry: "none", App: "console-files", MaxMessageLength: 2 * filesUploadLimit})
	srv := startServeWith(t, fmt.Sprintf(", limits: {maxUploadBytes: %d}", filesUploadLimit), "", consoleFilesConfig(provider.Port()))
	dir := filepath.Join(t.TempDir(), "files-api")
	if err := os.MkdirAll(filepath.Join(dir, "org", "rpcbridge", "test"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "org", "rpcbridge", "test"), "FileService.java", fileServiceAPI)
	if code, out, stderr := runCLI(t, context.Background(), "idl", "push", "files-api", dir, "--admin", "http://"+srv.admin); code != exitOK {
		t.Fatalf("idl push files-api: exit %d %s %s", code, out, stderr)
	}
	waitFor(t, "the FileService routes", func() error {
		code, body, err := get("http://" + srv.gateway + "/files/ready?size=1")
		if err != nil || code != http.StatusOK {
			return fmt.Errorf("GET /files/ready: %d %q %v", code, body, err)
		}
		return nil
	})
	return srv
}

// TestConsoleFiles runs Swagger UI's "try it out" on file routes in headless chromium: an
// upload with a file chosen in the file input of the multipart form, whose answer must be the
// real dubbo-go provider's (the file's size and SHA-256), and a download whose binary answer
// Swagger UI offers as a link, whose bytes must be the gateway's answer. Both go through the
// admin address's forward (admin/tryit.go).
func TestConsoleFiles(t *testing.T) {
	srv := startConsoleFiles(t)
	b := browser.Start(t)
	open(t, b, srv, "api", `document.querySelector("#doc-select option")`)
	var docs struct {
		Documents []struct{ Service, URL string }
	}
	apiGet(t, srv, "/api/v1/openapi", &docs)
	url := ""
	for _, d := range docs.Documents {
		if d.Service == filesID {
			url = d.URL
		}
	}
	if url == "" {
		t.Fatalf("no document for %s among %+v", filesID, docs.Documents)
	}
	do(t, b, "choose the FileService document", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
		`const s = document.getElementById("doc-select"); s.value = %q; s.dispatchEvent(new Event("change"))`, url)))

	t.Run("upload a chosen file", func(t *testing.T) { checkUploadTryIt(t, b, srv, url) })
	t.Run("download link", func(t *testing.T) { checkDownloadTryIt(t, b, srv, url) })
	t.Run("upload limit through the forward", func(t *testing.T) { checkForwardedUploadLimit(t, srv) })

	if off := b.Offsite(srv.admin); len(off) > 0 {
		t.Errorf("the console requested URLs outside the admin address: %v", off)
	}
	if p := b.Problems(); len(p) > 0 {
		t.Errorf("errors in the browser console: %v", p)
	}
}

// operation opens the block of the operation at path in Swagger UI and clicks "Try it out";
// it returns the block's CSS selector.
func operation(t *testing.T, b *browser.Browser, document, path string) string {
	t.Helper()
	block := page[string](t, b, fmt.Sprintf(`document.getElementById("swagger").dataset.document === %q &&
		[...document.querySelectorAll(".opblock-summary-path")].some((p) => p.textContent.trim() === %q)`, document, path),
		fmt.Sprintf(`"#" + CSS.escape([...document.querySelectorAll(".opblock")].find((o) =>
			o.querySelector(".opblock-summary-path").textContent.trim() === %q).id)`, path))
	do(t, b, "try it out "+path,
		chromedp.Click(chromedp.CSS(block+" .opblock-summary-control")),
		chromedp.Click(chromedp.CSS(block+" .try-out__btn")))
	return block
}

// reactInput is a script that sets the value of the input or select at selector the way a
// user's edit does for React (Swagger UI's framework): through the element's own value setter,
// then input and change events.
func reactInput(selector, value string) string {
	return fmt.Sprintf(`{
		const e = document.querySelector(%q);
		Object.getOwnPropertyDescriptor(Object.getPrototypeOf(e), "value").set.call(e, %q);
		e.dispatchEvent(new Event("input", {bubbles: true}));
		e.dispatchEvent(new Event("change", {bubbles: true}));
	}`, selector, value)
}

func checkUploadTryIt(t *testing.T, b *browser.Browser, srv *running, document string) {
	file := make([]byte, 3<<19) // 1.5 MiB: beyond the 1 MiB buffer limit, within the upload limit
	if _, err := rand.Read(file); err != nil {
		t.Fatal(err)
	}
	chosen := writeFile(t, t.TempDir(), "report.bin", string(file))
	sum := sha256.Sum256(file)
	want := fmt.Sprintf("%q", fmt.Sprintf("report.bin %d %s", len(file), hex.EncodeToString(sum[:])))

	block := operation(t, b, document, filesUploadPath)
	// The document lists application/json first; the form is the other media type.
	do(t, b, "choose multipart/form-data", chromedp.Evaluate[chromedp.Void](reactInput(block+" .body-param-content-type select", "multipart/form-data")))
	page[bool](t, b, fmt.Sprintf(`document.querySelector(%q)`, block+` input[type="file"]`), "true")
	nameInput := block + ` tr[data-property-name="name"] input[type="text"]`
	do(t, b, "fill the form and execute",
		// Swagger UI fills text members with "string": type over it.
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`{ const e = document.querySelector(%q); e.focus(); e.select(); }`, nameInput)),
		chromedp.SendKeys(chromedp.CSS(nameInput), "report.bin"),
		chromedp.SetUploadFiles(chromedp.CSS(block+` tr[data-property-name="data"] input[type="file"]`), []string{chosen}),
		chromedp.Click(chromedp.CSS(block+" .execute")))
	status := block + " .live-responses-table tr.response .response-col_status"
	shown := page[map[string]string](t, b, fmt.Sprintf(`document.querySelector(%q)`, status),
		fmt.Sprintf(`({status: document.querySelector(%[1]q).textContent.trim(),
			body: document.querySelector(%[2]q).textContent,
			url: document.querySelector(%[3]q).textContent.trim(),
			curl: document.querySelector(%[4]q).textContent})`,
			status, block+" .live-responses-table tr.response .response-col_description pre",
			block+" .request-url pre", block+" .curl-command"))
	if shown["status"] != "200" || !sameJSON(shown["body"], want) {
		t.Errorf("Swagger UI shows %s %q for the upload, want 200 %s (the provider's size and SHA-256 of the chosen file)", shown["status"], shown["body"], want)
	}
	if w := "http://" + srv.admin + "/gateway" + filesUploadPath; shown["url"] != w {
		t.Errorf("Swagger UI sent the upload to %s, want %s (the admin address's forward)", shown["url"], w)
	}
	if !strings.Contains(shown["curl"], "multipart/form-data") {
		t.Errorf("the request Swagger UI made is not a multipart form: %s", shown["curl"])
	}
	b.Screenshot(t, "console-files-upload.png")
}

func checkDownloadTryIt(t *testing.T, b *browser.Browser, srv *running, document string) {
	const size = 3000
	block := operation(t, b, document, filesDownloadPath)
	do(t, b, "fill the parameters and execute",
		chromedp.SendKeys(chromedp.CSS(block+` tr[data-param-name="name"] input`), "report"),
		chromedp.SendKeys(chromedp.CSS(block+` tr[data-param-name="size"] input`), strconv.Itoa(size)),
		chromedp.Click(chromedp.CSS(block+" .execute")))
	link := block + " .live-responses-table tr.response .response-col_description a[download]"
	shown := page[map[string]string](t, b, fmt.Sprintf(`document.querySelector(%q)`, link), fmt.Sprintf(`(() => {
		const a = document.querySelector(%q);
		return {text: a.textContent.trim(), download: a.getAttribute("download"), href: a.href};
	})()`, link))
	if shown["text"] != "Download file" || shown["download"] != "report.pdf" || !strings.HasPrefix(shown["href"], "blob:") {
		t.Errorf("the download link is %q download=%q href=%q; want \"Download file\" saving report.pdf (the Content-Disposition's name) from a blob: URL",
			shown["text"], shown["download"], shown["href"])
	}

	// Click it, as a user does: chromium saves the file (named by its download GUID here).
	dir := t.TempDir()
	events := make(chan any, 64)
	ctx, cancel := context.WithCancel(b.Ctx)
	defer cancel()
	if err := chromedp.Listen(ctx, func(ev any) {
		switch ev.(type) {
		case *cdpbrowser.EventDownloadWillBegin, *cdpbrowser.EventDownloadProgress:
			select {
			case events <- ev:
			default:
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	do(t, b, "click the download link",
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
				Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: new(true)})
			return err
		}),
		chromedp.Click(chromedp.CSS(link)))
	suggested, saved := "", ""
	for saved == "" {
		select {
		case ev := <-events:
			switch ev := ev.(type) {
			case *cdpbrowser.EventDownloadWillBegin:
				suggested = ev.SuggestedFilename
			case *cdpbrowser.EventDownloadProgress:
				switch ev.State {
				case cdpbrowser.DownloadProgressStateCompleted:
					saved = filepath.Join(dir, ev.GUID)
				case cdpbrowser.DownloadProgressStateCanceled:
					t.Fatalf("chromium canceled the download of %s", shown["href"])
				}
			}
		case <-time.After(giveUp):
			t.Fatalf("no completed download within %s after clicking the link", giveUp)
		}
	}
	got, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	code, direct, err := get("http://" + srv.gateway + "/files/report?size=" + strconv.Itoa(size))
	if err != nil || code != http.StatusOK || len(direct) != size || !strings.HasPrefix(direct, "report") {
		t.Fatalf("the gateway answers GET /files/report?size=%d with %d, %d bytes %v", size, code, len(direct), err)
	}
	if string(got) != direct {
		t.Errorf("the downloaded file has %d bytes, not the %d bytes the gateway answers", len(got), len(direct))
	}
	if suggested != "report.pdf" {
		t.Errorf("chromium suggested the name %q for the download, want report.pdf", suggested)
	}
	b.Screenshot(t, "console-files-download.png")
}

// checkForwardedUploadLimit sends uploads beyond gateway.limits.maxUploadBytes through the
// admin address's forward, with and without Content-Length: the client must get the gateway's
// own 413 and JSON error, not a failed forward, and the gateway must keep serving. The client
// reads the answer while it still sends the body, as browsers and curl do: a server that
// refuses a body closes the connection without reading the rest of it, and Go's own client
// gives up on the write error instead.
func checkForwardedUploadLimit(t *testing.T, srv *running) {
	var form bytes.Buffer
	w := multipart.NewWriter(&form)
	_ = w.WriteField("name", "big.bin")
	part, _ := w.CreateFormFile("data", "big.bin")
	_, _ = part.Write(make([]byte, filesUploadLimit+1<<20))
	_ = w.Close()
	big := form.Bytes()
	for _, chunked := range []bool{false, true} {
		var body io.Reader = bytes.NewReader(big)
		if chunked {
			body = io.MultiReader(bytes.NewReader(big)) // no length known: sent chunked
		}
		req, err := http.NewRequest(http.MethodPost, "http://"+srv.admin+admin.GatewayPath+strings.TrimPrefix(filesUploadPath, "/"), body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", w.FormDataContentType())
		status, answer := sendReadingEarly(t, srv.admin, req)
		var e struct {
			Error struct{ Code int } `json:"error"`
		}
		if status != http.StatusRequestEntityTooLarge || json.Unmarshal([]byte(answer), &e) != nil || e.Error.Code != status {
			t.Errorf("upload of %d bytes (chunked %v) through the forward: %d %s, want 413 with the gateway's JSON error", len(big), chunked, status, answer)
		}
	}
	if code, body, err := get("http://" + srv.admin + "/gateway/files/after?size=5"); err != nil || code != http.StatusOK || body != "after" {
		t.Errorf("after the refused uploads: %d %q %v", code, body, err)
	}
}

// sendReadingEarly writes req on a connection of its own to addr while it reads the answer.
func sendReadingEarly(t *testing.T, addr string, req *http.Request) (int, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, giveUp)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(giveUp))
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		_ = req.Write(conn) // fails once the server closes: the answer is what matters
	}()
	defer func() { conn.Close(); <-wrote }()
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		t.Fatalf("reading the answer to %s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
