package java

import (
	"archive/zip"
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/rpcbridge/rpcbridge/idl"
)

var update = flag.Bool("update", false, "rewrite testdata/*.out.yaml from the current output")

// withoutDocs is s without the descriptions that only Java sources (and declarative YAML) carry.
func withoutDocs(s idl.Schema) idl.Schema {
	out := s
	out.Interfaces = nil
	for _, in := range s.Interfaces {
		in.Doc = ""
		methods := make([]idl.JavaMethod, len(in.Methods))
		for i, m := range in.Methods {
			m.Doc, m.ReturnsDoc = "", ""
			m.Params = append([]idl.JavaParam{}, m.Params...)
			for j := range m.Params {
				m.Params[j].Doc = ""
			}
			methods[i] = m
		}
		in.Methods = methods
		out.Interfaces = append(out.Interfaces, in)
	}
	out.Classes = nil
	for _, c := range s.Classes {
		c.Doc = ""
		c.Fields = append([]idl.JavaField(nil), c.Fields...)
		for j := range c.Fields {
			c.Fields[j].Doc = ""
		}
		out.Classes = append(out.Classes, c)
	}
	return out
}

// TestGolden feeds every API under testdata/<case>/ in all four forms: src/ (Java sources),
// api.jar (prebuilt with javac -parameters) and the same sources compiled now with javac,
// api.yaml (declarative) and servicedef.json (a metadata-center service definition). Sources,
// both jars and the declarative form must give exactly testdata/<case>.out.yaml; the service
// definition gives testdata/<case>.metadata.out.yaml, which must equal what Dubbo's
// TypeDefinitionBuilder can carry of the source schema (metadataView).
func TestGolden(t *testing.T) {
	ctx := context.Background()
	cases, err := filepath.Glob("testdata/*/src")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no golden cases under testdata: %v", err)
	}
	written := map[string]bool{}
	for _, srcDir := range cases {
		dir := filepath.Dir(srcDir)
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			srcFiles := readTree(t, srcDir)
			fromSource, err := ParseSources(ctx, srcFiles)
			if err != nil {
				t.Fatalf("ParseSources: %v", err)
			}
			goldenPath := filepath.Join("testdata", name+".out.yaml")
			written[goldenPath] = true
			checkGolden(t, goldenPath, fromSource)
			want := toYAML(t, fromSource)
			// Class files keep no Javadoc: a jar gives the sources' schema without its docs.
			wantUndocumented := toYAML(t, withoutDocs(fromSource))

			fromJar, err := ParseJar(ctx, unzip(t, filepath.Join(dir, "api.jar")))
			if err != nil {
				t.Fatalf("ParseJar(api.jar): %v", err)
			}
			compareYAML(t, "prebuilt api.jar vs sources", wantUndocumented, toYAML(t, fromJar))

			if classes := compileWithJavac(t, srcDir); classes != nil {
				fromFresh, err := ParseJar(ctx, classes)
				if err != nil {
					t.Fatalf("ParseJar(javac output): %v", err)
				}
				compareYAML(t, "freshly compiled classes vs sources", wantUndocumented, toYAML(t, fromFresh))
			}

			decl, err := ParseDeclarative(ctx, map[string][]byte{"api.yaml": readFile(t, filepath.Join(dir, "api.yaml"))})
			if err != nil {
				t.Fatalf("ParseDeclarative: %v", err)
			}
			compareYAML(t, "declarative vs sources", want, toYAML(t, decl))

			meta, err := ParseServiceDefinitions(ctx, [][]byte{readFile(t, filepath.Join(dir, "servicedef.json"))})
			if err != nil {
				t.Fatalf("ParseServiceDefinitions: %v", err)
			}
			metaPath := filepath.Join("testdata", name+".metadata.out.yaml")
			written[metaPath] = true
			checkGolden(t, metaPath, meta)
			compareYAML(t, "service definition vs what the metadata center keeps of the sources",
				toYAML(t, metadataView(t, fromSource)), toYAML(t, meta))
		})
	}
	if *update {
		stale, _ := filepath.Glob("testdata/*.out.yaml")
		for _, p := range stale {
			if !written[p] {
				if err := os.Remove(p); err != nil {
					t.Errorf("prune %s: %v", p, err)
				}
			}
		}
	}
}

func TestParsersRejectEmptyInput(t *testing.T) {
	ctx := context.Background()
	none := map[string][]byte{"README.md": []byte("hi")}
	for name, parse := range map[string]func(context.Context, map[string][]byte) (idl.Schema, error){
		"sources": ParseSources, "jar": ParseJar, "declarative": ParseDeclarative,
	} {
		if _, err := parse(ctx, none); err == nil {
			t.Errorf("%s: accepted an upload without any file of its kind", name)
		}
	}
	if _, err := ParseServiceDefinitionFiles(ctx, map[string][]byte{"x.json": []byte(`{"canonicalName":""}`)}); err == nil {
		t.Error("service definitions: accepted a definition without canonicalName")
	}
}

func checkGolden(t *testing.T, path string, s idl.Schema) {
	t.Helper()
	got := toYAML(t, s)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./idl/java -update to create it)", err)
	}
	compareYAML(t, path, string(want), got)
}

func toYAML(t *testing.T, s idl.Schema) string {
	t.Helper()
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// compareYAML reports the first differing lines with context, which is enough to read a diff.
func compareYAML(t *testing.T, what, want, got string) {
	t.Helper()
	if want == got {
		return
	}
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			from := max(0, i-3)
			t.Errorf("%s: differs at line %d\ncontext:\n  %s\nwant: %s\ngot:  %s",
				what, i+1, strings.Join(wl[from:i], "\n  "), w, g)
			return
		}
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readTree(t *testing.T, root string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)], err = os.ReadFile(p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func unzip(t *testing.T, path string) map[string][]byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	files := map[string][]byte{}
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if _, err := b.ReadFrom(rc); err != nil {
			t.Fatal(err)
		}
		rc.Close()
		files[f.Name] = b.Bytes()
	}
	return files
}

// compileWithJavac compiles the sources with "javac -parameters" and returns the class files,
// or nil (after t.Skip-like logging) when javac is missing and RPCBRIDGE_REQUIRE_PEERS is not 1.
func compileWithJavac(t *testing.T, srcDir string) map[string][]byte {
	t.Helper()
	javac, err := exec.LookPath("javac")
	if err != nil {
		if os.Getenv("RPCBRIDGE_REQUIRE_PEERS") == "1" {
			t.Fatal("javac not found and RPCBRIDGE_REQUIRE_PEERS=1: install a JDK (apt-get install -y openjdk-17-jdk-headless)")
		}
		t.Log("javac not found: skipping the freshly-compiled jar (the prebuilt api.jar is still checked)")
		return nil
	}
	out := t.TempDir()
	args := []string{"-parameters", "-d", out}
	for name := range readTree(t, srcDir) {
		args = append(args, filepath.Join(srcDir, filepath.FromSlash(name)))
	}
	cmd := exec.Command(javac, args...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, msg)
	}
	return readTree(t, out)
}
