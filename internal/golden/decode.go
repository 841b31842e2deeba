package golden

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"gopkg.in/yaml.v3"
	k8syaml "sigs.k8s.io/yaml"
)

// DecodeStrict decodes a golden input into v, whose type is described by yaml tags
// (gopkg.in/yaml.v3). A key that v's type does not declare — a typo, a renamed field — fails t,
// as do a key given twice and a second document, so that a mistake in an input cannot silently
// test nothing.
func DecodeStrict(t testing.TB, in []byte, v any) {
	t.Helper()
	if err := decodeStrict(in, v); err != nil {
		t.Fatalf("decoding the golden input: %v", err)
	}
}

// DecodeStrictJSON decodes a YAML golden input into v, whose type is described by json tags
// (third-party API types such as Consul's), with sigs.k8s.io/yaml's strict mode: unknown and
// duplicate keys fail t. Note that encoding/json matches keys to fields case-insensitively.
func DecodeStrictJSON(t testing.TB, in []byte, v any) {
	t.Helper()
	if err := decodeStrictJSON(in, v); err != nil {
		t.Fatalf("decoding the golden input: %v", err)
	}
}

func decodeStrictJSON(in []byte, v any) error {
	return k8syaml.UnmarshalStrict(in, v)
}

// decodeStrict is DecodeStrict's error-returning core. yaml.v3's strictness reaches nested
// types, but not into a custom UnmarshalYAML that calls Node.Decode (a new, lenient decoder):
// types of golden inputs implement it for scalars only.
func decodeStrict(in []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(in))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("the input is empty")
		}
		return err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return errors.New("the input holds more than one YAML document")
	}
	return nil
}
