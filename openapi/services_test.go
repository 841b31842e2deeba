package openapi

import (
	"encoding/json"
	"maps"
	"os"
	"slices"
	"testing"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// TestOneDocumentPerService splits every golden case by service: each part is a valid
// document holding only that service's operations, and together the parts describe exactly the
// operations of the whole document.
func TestOneDocumentPerService(t *testing.T) {
	for _, name := range []string{"bookstore", "dubbo", "http"} {
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile("testdata/" + name + ".in.yaml")
			if err != nil {
				t.Fatal(err)
			}
			g := buildGateway(t, in)
			whole := operations(t, g, "")
			services := Services(g)
			if len(services) == 0 {
				t.Fatal("no services")
			}
			union := map[string]string{}
			for _, svc := range services {
				part, ok := ForService(g, svc)
				if !ok {
					t.Fatalf("ForService(%s) found no routes", svc)
				}
				for _, r := range part.Routes {
					if r.Cluster != svc {
						t.Errorf("the document of %s has route %s of %s", svc, r.Name, r.Cluster)
					}
				}
				for op, tag := range operations(t, part, svc) {
					if _, dup := union[op]; dup {
						t.Errorf("%s is in two services' documents", op)
					}
					union[op] = tag
				}
			}
			if !maps.Equal(union, whole) {
				t.Errorf("the services' documents describe\n%v\nthe whole one\n%v", slices.Sorted(maps.Keys(union)), slices.Sorted(maps.Keys(whole)))
			}
			if _, ok := ForService(g, "nosuch"); ok {
				t.Error("ForService found routes of a service that has none")
			}
		})
	}
}

// operations renders g, validates the document, and returns its operations ("get /path") with
// their summaries.
func operations(t *testing.T, g ir.Gateway, title string) map[string]string {
	t.Helper()
	doc, err := Generate(g, Info{Title: title})
	if err != nil {
		t.Fatal(err)
	}
	newValidator(t, doc)
	var parsed struct {
		Paths map[string]map[string]struct {
			Summary string `json:"summary"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(doc, &parsed); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for path, item := range parsed.Paths {
		for method, op := range item {
			out[method+" "+path] = op.Summary
		}
	}
	return out
}
