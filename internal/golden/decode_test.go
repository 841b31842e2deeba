package golden

import (
	"strings"
	"testing"
)

// input mimics a golden suite's input type: a yaml-tagged struct nesting another.
type input struct {
	Name  string `yaml:"name"`
	Items []struct {
		Port int `yaml:"port"`
	} `yaml:"items"`
}

// jsonInput mimics an input built from a third-party API type described by json tags.
type jsonInput struct {
	Name  string `json:"name"`
	Items []struct {
		Port int `json:"port"`
	} `json:"items"`
}

func TestDecodeStrictRejectsWhatATypoWouldHide(t *testing.T) {
	yamlTagged := func(in []byte) error { return decodeStrict(in, &input{}) }
	jsonTagged := func(in []byte) error { return decodeStrictJSON(in, &jsonInput{}) }
	cases := []struct {
		name, in, wantErr string
		decode            func([]byte) error
	}{
		{"unknown top-level key", "name: a\nnmae: b\n", "field nmae not found", yamlTagged},
		{"unknown nested key", "name: a\nitems:\n- port: 1\n  prot: 2\n", "field prot not found", yamlTagged},
		{"duplicate key", "name: a\nname: b\n", "already defined", yamlTagged},
		{"second document", "name: a\n---\nname: b\n", "more than one YAML document", yamlTagged},
		{"empty input", "", "empty", yamlTagged},
		{"json: unknown top-level key", "name: a\nnmae: b\n", `unknown field "nmae"`, jsonTagged},
		{"json: unknown nested key", "name: a\nitems:\n- port: 1\n  prot: 2\n", `unknown field "prot"`, jsonTagged},
		{"json: duplicate key", "name: a\nname: b\n", "already set", jsonTagged},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.decode([]byte(c.in))
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("decoding %q = %v, want an error containing %q", c.in, err, c.wantErr)
			}
		})
	}
}

func TestDecodeStrictAcceptsAWellFormedInput(t *testing.T) {
	var v input
	DecodeStrict(t, []byte("name: a\nitems:\n- port: 1\n- port: 2\n"), &v)
	if v.Name != "a" || len(v.Items) != 2 || v.Items[1].Port != 2 {
		t.Fatalf("DecodeStrict decoded %+v", v)
	}
	var j jsonInput
	DecodeStrictJSON(t, []byte("name: a\nitems:\n- port: 1\n- port: 2\n"), &j)
	if j.Name != "a" || len(j.Items) != 2 || j.Items[1].Port != 2 {
		t.Fatalf("DecodeStrictJSON decoded %+v", j)
	}
}
