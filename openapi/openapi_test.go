package openapi

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/rpcbridge/rpcbridge/bridge"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/idl"
	"github.com/rpcbridge/rpcbridge/idl/java"
	protoidl "github.com/rpcbridge/rpcbridge/idl/proto"
	"github.com/rpcbridge/rpcbridge/internal/golden"
	"github.com/rpcbridge/rpcbridge/transcoding"
)

var update = flag.Bool("update", false, "rewrite testdata/*.out.yaml from the current output")

// generateCase is the format of testdata/*.in.yaml: the inputs of transcoding.Build, whose
// gateway is rendered. The .out.yaml file holds the JSON document (JSON is YAML).
type generateCase struct {
	Catalog bridge.Catalog    `yaml:"catalog"`
	Schemas []schemaCase      `yaml:"schemas"`
	Rules   transcoding.Rules `yaml:"rules"`
	// KeySets are the JWT policies' key sets (transcoding.Rules.KeySets, which YAML skips).
	KeySets map[string]transcoding.KeySet `yaml:"keySets"`
}

type schemaCase struct {
	Name            string            `yaml:"name"`
	Proto           map[string]string `yaml:"proto"`
	JavaDeclarative map[string]string `yaml:"javaDeclarative"`
	JavaSources     map[string]string `yaml:"javaSources"`
}

// TestGenerateGolden renders every case, compares it with its golden file, checks that two
// runs give the same bytes, and validates the document with libopenapi-validator: it must build
// as an OpenAPI 3.1 model and pass the specification's schema with zero errors.
func TestGenerateGolden(t *testing.T) {
	golden.Run(t, "testdata", *update, func(t *testing.T, in []byte) []byte {
		g := buildGateway(t, in)
		doc, err := Generate(g, Info{Title: "golden", Version: "1", ServerURL: "http://127.0.0.1:8080"})
		if err != nil {
			t.Fatalf("Generate: %v", err)
		}
		again, err := Generate(g, Info{Title: "golden", Version: "1", ServerURL: "http://127.0.0.1:8080"})
		if err != nil || !bytes.Equal(doc, again) {
			t.Errorf("Generate is not deterministic (%v)", err)
		}
		newValidator(t, doc)
		return doc
	})
}

func buildGateway(t *testing.T, in []byte) ir.Gateway {
	t.Helper()
	var c generateCase
	golden.DecodeStrict(t, in, &c)
	ctx := context.Background()
	var schemas []idl.Schema
	for _, sc := range c.Schemas {
		var s idl.Schema
		var err error
		switch {
		case sc.Proto != nil:
			s.Descriptors, s.ProtoDocs, err = protoidl.CompileWithDocs(ctx, bytesMap(sc.Proto))
		case sc.JavaSources != nil:
			s, err = java.ParseSources(ctx, bytesMap(sc.JavaSources))
		default:
			s, err = java.ParseDeclarative(ctx, bytesMap(sc.JavaDeclarative))
		}
		if err != nil {
			t.Fatalf("schema %s: %v", sc.Name, err)
		}
		s.Name = sc.Name
		schemas = append(schemas, s)
	}
	c.Rules.KeySets = c.KeySets
	g, _ := transcoding.Build(c.Catalog, schemas, c.Rules)
	if len(g.Routes) == 0 {
		t.Fatal("the case builds no routes")
	}
	return g
}

// newValidator validates doc and returns a request validator for it.
func newValidator(t *testing.T, doc []byte) validator.Validator {
	t.Helper()
	v, err := validate(doc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// validate builds doc as a libopenapi model and checks it against the OpenAPI 3.1 schema.
func validate(doc []byte) (validator.Validator, error) {
	d, err := libopenapi.NewDocument(doc)
	if err != nil {
		return nil, fmt.Errorf("libopenapi: %w", err)
	}
	v, errs := validator.NewValidator(d)
	if len(errs) > 0 {
		return nil, fmt.Errorf("libopenapi model: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok || len(verrs) > 0 {
		var msgs []string
		for _, e := range verrs {
			msgs = append(msgs, e.Message+": "+e.Reason)
			for _, se := range e.SchemaValidationErrors {
				msgs = append(msgs, "  "+se.KeywordLocation+": "+se.Reason)
			}
		}
		return nil, fmt.Errorf("OpenAPI 3.1 validation failed:\n%s", strings.Join(msgs, "\n"))
	}
	return v, nil
}

// TestValidationCanFail makes sure the validator used above rejects a broken document: a path
// parameter that is not required.
func TestValidationCanFail(t *testing.T) {
	doc, err := os.ReadFile("testdata/http.out.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := validate(doc); err != nil {
		t.Fatalf("the golden document itself is invalid: %v", err)
	}
	broken := bytes.Replace(doc, []byte(`"required": true`), []byte(`"required": "yes"`), 1)
	if bytes.Equal(broken, doc) {
		t.Fatal("the golden document has no required path parameter to break")
	}
	if _, err := validate(broken); err == nil {
		t.Error("a path parameter with required: \"yes\" passed validation")
	}
}

// TestRequestsAgainstDocument checks that the document describes what the gateway accepts:
// requests built as the routes expect pass, requests with wrongly typed values do not.
func TestRequestsAgainstDocument(t *testing.T) {
	cases := []struct {
		golden, method, target, body string
		valid                        bool
	}{
		{"bookstore", "GET", "/v1/shelves/s1", "", true},
		{"bookstore", "GET", "/v1/shelves/s1/books?page_size=10&genres=FICTION&genres=HISTORY&filter.author=x", "", true},
		{"bookstore", "GET", "/v1/shelves/s1/books?page_size=ten", "", false},
		{"bookstore", "POST", "/v1/shelves/s1/books", `{"name": "b", "id": "12345678901234567890", "genre": "FICTION", "tags": {"a": 1}}`, true},
		{"bookstore", "POST", "/v1/shelves/s1/books", `{"genre": "POETRY"}`, false},
		{"dubbo", "PUT", "/users/7/name", `{"name": "Ann"}`, true},
		{"dubbo", "POST", "/dubbo/beta/com.example.user.UserService:2.0.0/rename", `{"id": "7", "newName": "Ann"}`, true},
		{"dubbo", "POST", "/dubbo/beta/com.example.user.UserService:2.0.0/rename", `{"id": true, "newName": "Ann"}`, false},
		{"dubbo", "GET", "/dubbo/beta/com.example.user.UserService:2.0.0/find~long?id=7", "", true},
		{"dubbo", "POST", "/users:search?page=1&size=20", `{"prefix": "a", "roles": ["ADMIN"]}`, true},
		{"dubbo", "POST", "/users:search?page=1&size=20", `{"roles": ["ROOT"]}`, false},
		{"dubbo-limits", "GET", "/dubbo/com.example.Pay/pay?amount=12345678.90&serial=12345678901234567890", "", true},
		{"dubbo-limits", "GET", "/dubbo/com.example.Pay/pay?amount=1e99999999999999999999999&serial=1", "", false},
		{"dubbo-limits", "GET", "/dubbo/com.example.Pay/pay?amount=1&serial=123456789012345678901", "", false},
		{"dubbo-limits", "POST", "/dubbo/com.example.Pay/refund", `{"refund": {"amount": "-0.01"}}`, true},
		{"dubbo-limits", "POST", "/dubbo/com.example.Pay/refund", `{"refund": {"amount": "0.000000000000000000001"}}`, false},
	}
	validators := map[string]validator.Validator{}
	for _, c := range cases {
		v := validators[c.golden]
		if v == nil {
			doc, err := os.ReadFile("testdata/" + c.golden + ".out.yaml")
			if err != nil {
				t.Fatal(err)
			}
			v = newValidator(t, doc)
			validators[c.golden] = v
		}
		req := httptest.NewRequest(c.method, "http://127.0.0.1:8080"+c.target, strings.NewReader(c.body))
		if c.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		ok, errs := v.ValidateHttpRequest(req)
		if ok != c.valid {
			var msgs []string
			for _, e := range errs {
				msgs = append(msgs, e.Message+": "+e.Reason)
			}
			t.Errorf("%s %s %s: valid = %v, want %v (%s)", c.method, c.target, c.body, ok, c.valid, strings.Join(msgs, "; "))
		}
	}
}

func bytesMap(m map[string]string) map[string][]byte {
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = []byte(v)
	}
	return out
}
