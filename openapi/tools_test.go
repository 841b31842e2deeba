package openapi

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestToolDescriptions: a tool is described by its method's comment in the IDL (a protobuf
// method's comment; a Java method's Javadoc with its @return text), its arguments by the
// comments of the request fields and the @param tags; a method without a comment keeps the
// summary and the REST request the tool makes.
func TestToolDescriptions(t *testing.T) {
	tools := map[string]Tool{}
	for _, file := range []string{"testdata/bookstore.in.yaml", "testdata/docs.in.yaml"} {
		in, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		list, _, err := Tools(buildGateway(t, in), []string{"*"})
		if err != nil {
			t.Fatal(err)
		}
		for _, tool := range list {
			tools[tool.Name] = tool
		}
	}
	descriptions := map[string]string{
		"example.library.v1.Library.GetShelf": "Returns a shelf.\n\nFails with NOT_FOUND when the shelf does not exist.",
		"example.library.v1.Library.Ping":     "Calls example.library.v1.Library/Ping (POST /example.library.v1.Library/Ping).",
		"com.example.greet.Greeter.hello":     "Greets someone by name.\n\nThe greeting is in English, repeated times times.\n\nReturns the greeting",
		"com.example.greet.Greeter.register":  "Registers a person.",
		"com.example.greet.Greeter.ping":      "Calls com.example.greet.Greeter ping() (GET /dubbo/com.example.greet.Greeter/ping).",
	}
	for name, want := range descriptions {
		tool, ok := tools[name]
		if !ok {
			t.Errorf("no tool %s", name)
			continue
		}
		if tool.Description != want {
			t.Errorf("%s description %q, want %q", name, tool.Description, want)
		}
	}
	argument := func(tool, arg string) string {
		var schema struct {
			Properties map[string]struct {
				Description string `json:"description"`
			} `json:"properties"`
		}
		if err := json.Unmarshal(tools[tool].InputSchema, &schema); err != nil {
			t.Fatal(err)
		}
		return schema.Properties[arg].Description
	}
	for _, c := range []struct{ tool, arg, want string }{
		{"example.library.v1.Library.GetShelf", "name", "The shelf's resource name."},
		{"example.library.v1.Library.ListBooks", "page_size", "At most this many books."},
		{"com.example.greet.Greeter.hello", "name", "who is greeted"},
		{"com.example.greet.Greeter.register", "person", "who registers"},
	} {
		if got := argument(c.tool, c.arg); !strings.HasPrefix(got, c.want) {
			t.Errorf("%s argument %s description %q, want it to start with %q", c.tool, c.arg, got, c.want)
		}
	}
	if schema := string(tools["com.example.greet.Greeter.register"].InputSchema); !strings.Contains(schema, `"description":"Their first name."`) {
		t.Errorf("register's $defs lack the Person field's Javadoc: %s", schema)
	}
}
