package configdoc

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/internal/yamltime"
)

// sampleConfig is a document of the shapes the renderer must handle.
type sampleConfig struct {
	// Name names the thing.
	Name string `yaml:"name"`
	// Server is a nested object.
	Server sampleServer `yaml:"server"`
	// Backends are a list of objects whose defaults are applied inside each element.
	Backends []sampleBackend `yaml:"backends"`
	// Block is an optional object behind a pointer.
	Block        *sampleBlock `yaml:"block"`
	sampleInline `yaml:",inline"`
	// Origin is not written in YAML.
	Origin string `yaml:"-"`
}

// Defaults fills the top-level defaults and those of every backend.
func (c sampleConfig) Defaults() sampleConfig {
	if c.Name == "" {
		c.Name = "default-name"
	}
	c.Backends = append([]sampleBackend(nil), c.Backends...)
	for i := range c.Backends {
		if c.Backends[i].Weight == nil {
			w := 100
			c.Backends[i].Weight = &w
		}
	}
	return c
}

// sampleServer has no Defaults method: its defaults come from sampleConfig's.
type sampleServer struct {
	// Listen is where it listens.
	Listen string `yaml:"listen"`
	// Timeout bounds a request.
	Timeout yamltime.Duration `yaml:"timeout"`
}

type sampleBackend struct {
	// Host and Port say where the backend is.
	Host string `yaml:"host"`
	Port int    `yaml:"port"`
	// Weight is relative.
	Weight *int `yaml:"weight"`
	// Tags are free-form.
	Tags map[string]string `yaml:"tags"`
}

// sampleBlock has defaults of its own.
type sampleBlock struct {
	// Interval is how often.
	Interval yamltime.Duration `yaml:"interval"`
	// Enabled says whether.
	Enabled bool `yaml:"enabled"`
	// Hosts are the hosts.
	Hosts []string `yaml:"hosts"`
}

// Defaults fills the block's interval.
func (b sampleBlock) Defaults() sampleBlock {
	b.Interval = yamltime.Duration(b.Interval.Or(90 * time.Second))
	return b
}

type sampleInline struct {
	// Flat is a key of the inline struct, at the level of its holder.
	Flat string `yaml:"flat"`
}

const sampleExample = `name: demo
server: {listen: ":80", timeout: 5s}
backends:
  - {host: a.example, port: 80, weight: 3, tags: {zone: a}}
block: {interval: 1m, enabled: true, hosts: [x, "y|z"]}
flat: yes
`

func sourceHere(string) (string, error) { return os.Getwd() }

func TestRender(t *testing.T) {
	out, err := Render(Options{Root: reflect.TypeFor[sampleConfig](), Header: "# Sample", Example: []byte(sampleExample), SourceDir: sourceHere})
	if err != nil {
		t.Fatal(err)
	}
	doc := string(out)
	for _, want := range []string{
		"# Sample\n\nSections: [Top level](#top-level), [server](#server), [backends[]](#backends), [block](#block).\n",
		"| `name` | string | `default-name` | `demo` | Name names the thing. |",
		"| `server` | object, see [server](#server) | — | — | Server is a nested object. |",
		"| `flat` | string | — | `yes` | Flat is a key of the inline struct, at the level of its holder. |",
		"| `server.timeout` | duration | — | `5s` | Timeout bounds a request. |",
		"| `backends[].port` | integer | — | `80` | Host and Port say where the backend is. |",
		"| `backends[].weight` | integer | `100` | `3` | Weight is relative. |",
		"| `backends[].tags` | map of strings | — | `{zone: a}` | Tags are free-form. |",
		"| `block.interval` | duration | `1m30s` | `1m` | Interval is how often. |",
		"| `block.enabled` | boolean | `false` | `true` | Enabled says whether. |",
		"| `block.hosts` | list of strings | — | `[x, \"y\\|z\"]` | Hosts are the hosts. |",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("the reference lacks\n%s\nin:\n%s", want, doc)
		}
	}
	if strings.Contains(doc, "origin") || strings.Contains(doc, "`sampleInline") {
		t.Errorf("a \"-\" field or the inline struct itself is listed:\n%s", doc)
	}
}

// noDoc has a key without a doc comment.
type noDoc struct {
	// Documented is documented.
	Documented string `yaml:"documented"`

	Bare string `yaml:"bare"`
}

func TestRenderRefusesKeysWithoutDocOrExample(t *testing.T) {
	_, err := Render(Options{Root: reflect.TypeFor[noDoc](), Example: []byte("bare: x\n"), SourceDir: sourceHere})
	if err == nil {
		t.Fatal("no error for a key without doc and one without example")
	}
	for _, want := range []string{"bare (configdoc.noDoc.Bare) has no doc comment", "documented has no example"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

// twoServers uses one struct type at two keys, as upstreams: uses its policy rule type.
type twoServers struct {
	// Primary is one server.
	Primary sampleServer `yaml:"primary"`
	// Others are more servers.
	Others []sampleServer `yaml:"others"`
}

// TestExamplesFollowAliasesAndMergeKeys: an anchored block gives the examples of every key that
// refers to it, by alias or by merge key, so that a type used at several keys needs its example
// written once.
func TestExamplesFollowAliasesAndMergeKeys(t *testing.T) {
	const example = "primary: &s {listen: \":80\", timeout: 7s}\nothers:\n  - <<: *s\n"
	out, err := Render(Options{Root: reflect.TypeFor[twoServers](), Example: []byte(example), SourceDir: sourceHere})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| `primary.timeout` | duration | — | `7s` |", "| `others[].timeout` | duration | — | `7s` |"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the reference lacks\n%s\nin:\n%s", want, out)
		}
	}
}
