package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/rpcbridge/rpcbridge/internal/testpeers/browser"
)

// brokenProto has an unknown type at line 3, column 19.
const brokenProto = `syntax = "proto3";
package demo;
message Hello { strin name = 1; }
`

func demoProto(methods ...string) string {
	src := "syntax = \"proto3\";\npackage demo;\nmessage M { string text = 1; }\nservice Demo {\n"
	for _, m := range methods {
		src += "  rpc " + m + "(M) returns (M);\n"
	}
	return src + "}\n"
}

// uploadThroughPage chooses one file in the upload form, names the upload and submits it.
func uploadThroughPage(t *testing.T, b *browser.Browser, name, file string) {
	t.Helper()
	do(t, b, "upload "+file,
		chromedp.Evaluate[chromedp.Void](`document.getElementById("idl-name").value = ""; document.getElementById("idl-result").replaceChildren()`),
		chromedp.SendKeys(chromedp.CSS("#idl-name"), name),
		chromedp.SetUploadFiles(chromedp.CSS("#idl-files"), []string{file}),
		chromedp.Poll[chromedp.Void](`document.querySelector("#idl-chosen li")?.dataset.path === `+strconv.Quote(filepath.Base(file))),
		chromedp.Click(chromedp.CSS("#idl-upload")))
}

// confirm accepts the console's confirmation dialog.
func confirm(t *testing.T, b *browser.Browser) {
	t.Helper()
	do(t, b, "confirm", chromedp.Poll[chromedp.Void](`document.getElementById("confirm-dialog").open`), chromedp.Click(chromedp.CSS("#confirm-ok")))
}

type shownSchema struct{ Name, Kind, Version, Files string }

func checkIDLPage(t *testing.T, b *browser.Browser, srv *running) {
	open(t, b, srv, "idl", `document.querySelector("#idl-table[data-loaded]")`)
	schemas := func() ([]shownSchema, []shownSchema) {
		got := page[[]shownSchema](t, b, "true", `[...document.querySelectorAll("#idl-table tbody tr[data-name]")].map((r) => {
			const f = (name) => r.querySelector('[data-field="' + name + '"]').textContent;
			return {Name: f("name"), Kind: f("kind"), Version: f("version"), Files: f("files")};
		})`)
		var list struct {
			Schemas []struct {
				Name, Kind string
				Version    int
				Files      []string
			}
		}
		apiGet(t, srv, "/api/v1/idl", &list)
		var want []shownSchema
		for _, s := range list.Schemas {
			want = append(want, shownSchema{s.Name, s.Kind, strconv.Itoa(s.Version), strconv.Itoa(len(s.Files))})
		}
		return want, got
	}
	want, got := schemas()
	if diff := cmp.Diff(want, got); diff != "" || len(want) != 2 {
		t.Errorf("the IDL page differs from GET /api/v1/idl (-api +page):\n%s", diff)
	}

	// A broken upload: the page lists the problems the API gives, at file:line:col, with the line.
	dir := t.TempDir()
	broken := writeFile(t, dir, "broken.proto", brokenProto)
	code, body, err := send("PUT", "http://"+srv.admin+"/api/v1/idl/demo?filename=broken.proto", brokenProto)
	var answer errorAnswer
	if err != nil || code != http.StatusUnprocessableEntity || !decode(body, &answer) || len(answer.Error.Problems) == 0 {
		t.Fatalf("API answer to the broken upload: %d %s %v", code, body, err)
	}
	uploadThroughPage(t, b, "demo", broken)
	shown := page[[]map[string]string](t, b, `document.querySelector("#idl-result .problems li .excerpt")`,
		`[...document.querySelectorAll("#idl-result .problems li")].map((li) => ({...li.dataset, text: li.textContent}))`)
	if len(shown) != len(answer.Error.Problems) {
		t.Fatalf("the page shows %d problems, the API gave %d: %v", len(shown), len(answer.Error.Problems), shown)
	}
	for i, p := range answer.Error.Problems {
		s := shown[i]
		at := fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
		if s["file"] != p.File || s["line"] != strconv.Itoa(p.Line) || s["column"] != strconv.Itoa(p.Column) ||
			!strings.HasPrefix(s["text"], at+" "+p.Message) || !strings.Contains(s["text"], "message Hello { strin name = 1; }") {
			t.Errorf("problem %d shown as %v; the API says %s: %s", i, s, at, p.Message)
		}
	}
	if answer.Error.Problems[0].Line != 3 {
		t.Errorf("the broken upload's problem is on line %d, want 3", answer.Error.Problems[0].Line)
	}
	b.Screenshot(t, "console-idl-error.png")

	// Two versions, their diff, a rollback, a delete.
	for i, methods := range [][]string{{"Ping"}, {"Ping", "Echo"}} {
		file := writeFile(t, t.TempDir(), "demo.proto", demoProto(methods...))
		uploadThroughPage(t, b, "demo", file)
		page[bool](t, b, fmt.Sprintf(`document.querySelector('#idl-result .success[data-version="%d"]')`, i+1), "true")
	}
	page[bool](t, b, `document.querySelector('#idl-history .versions[data-loaded="demo"] tr[data-version="2"]')`, "true")
	do(t, b, "diff", chromedp.Click(chromedp.CSS("#diff-run")))
	changes := page[[]string](t, b, `document.querySelector('#idl-diff[data-to="2"] li.change')`,
		`[...document.querySelectorAll("#idl-diff li.change")].map((c) => c.dataset.kind + " " + c.dataset.name)`)
	var diff struct {
		Diff struct {
			Methods, Types []struct{ Kind, Name string }
		}
	}
	apiGet(t, srv, "/api/v1/idl/demo/diff?from=1&to=2", &diff)
	var wantChanges []string
	for _, c := range append(diff.Diff.Methods, diff.Diff.Types...) {
		wantChanges = append(wantChanges, c.Kind+" "+c.Name)
	}
	if strings.Join(wantChanges, ",") != "added demo.Demo.Echo" || !cmp.Equal(wantChanges, changes) {
		t.Errorf("diff v1 → v2 on the page %v, from the API %v (want the added Echo)", changes, wantChanges)
	}
	if text := page[string](t, b, "true", `document.getElementById("idl-diff").textContent`); strings.Contains(text, "null") {
		t.Errorf("the diff shows %q", text)
	}
	do(t, b, "summary", chromedp.Click(chromedp.CSS(`#idl-history tr[data-version="2"] button:nth-of-type(1)`)))
	signatures := page[[]string](t, b, `document.querySelector('#idl-summary[data-version="2"] li[data-key]')`,
		`[...document.querySelectorAll("#idl-summary .summary-service li[data-key]")].map((li) => li.textContent)`)
	var v2 struct {
		Summary struct {
			Services []struct{ Methods []struct{ Signature string } }
		}
	}
	apiGet(t, srv, "/api/v1/idl/demo/versions/2", &v2)
	var wantSignatures []string
	for _, svc := range v2.Summary.Services {
		for _, m := range svc.Methods {
			wantSignatures = append(wantSignatures, m.Signature)
		}
	}
	if len(wantSignatures) != 2 || !cmp.Equal(wantSignatures, signatures) {
		t.Errorf("summary of v2 on the page %v, from the API %v", signatures, wantSignatures)
	}
	b.Screenshot(t, "console-idl-diff.png")

	do(t, b, "roll back", chromedp.Click(chromedp.CSS(`#idl-history tr[data-version="1"] button:nth-of-type(2)`)))
	confirm(t, b)
	restored := page[string](t, b, `document.querySelector('#idl-history tr[data-version="3"]')`,
		`document.querySelector('#idl-history tr[data-version="3"]').textContent`)
	var versions struct {
		Current  int
		Versions []struct{ Version, RestoredFrom int }
	}
	apiGet(t, srv, "/api/v1/idl/demo/versions", &versions)
	if versions.Current != 3 || versions.Versions[0].RestoredFrom != 1 || !strings.Contains(restored, "restored from v1") {
		t.Errorf("after the rollback: API %+v, page row %q", versions, restored)
	}
	// The page renders the history first and then reloads the list: wait for the list.
	page[bool](t, b, `document.querySelector('#idl-table tr[data-name="demo"] [data-field="version"]')?.textContent === "3"`, "true")
	if want, got := schemas(); !cmp.Equal(want, got) {
		t.Errorf("after the rollback the page lists %v, the API %v", got, want)
	}

	do(t, b, "delete", chromedp.Click(chromedp.CSS(`#idl-table tr[data-name="demo"] button.danger`)))
	confirm(t, b)
	page[bool](t, b, `!document.querySelector('#idl-table tr[data-name="demo"]')`, "true")
	if code, _, _ := get("http://" + srv.admin + "/api/v1/idl/demo"); code != http.StatusNotFound {
		t.Errorf("after the delete GET /api/v1/idl/demo = %d, want 404", code)
	}
}

// errorAnswer is the admin API's error body.
type errorAnswer struct {
	Error struct {
		Message  string
		Problems []struct {
			File         string
			Line, Column int
			Message      string
		}
	}
}

func decode(body string, out any) bool { return json.Unmarshal([]byte(body), out) == nil }
