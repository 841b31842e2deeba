package kubernetes_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// kustomization is the part of kustomize's Kustomization this base uses. It is decoded
// strictly: a transformer added later (namePrefix, labels, patches, ...) would change the
// objects applied behind the test's back, so it fails here until the test learns it.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace"`
	Resources  []string `json:"resources"`
	Images     []struct {
		Name    string `json:"name"`
		NewName string `json:"newName"`
		NewTag  string `json:"newTag"`
	} `json:"images"`
}

// object is one decoded manifest with where it came from.
type object struct {
	file string
	obj  runtime.Object
}

// manifests are the decoded objects of the base, by kind, and the Secrets README.md documents.
type manifests struct {
	kustomization kustomization
	objects       []object
	namespaces    map[string]*corev1.Namespace
	deployments   map[string]*appsv1.Deployment
	services      map[string]*corev1.Service
	configMaps    map[string]*corev1.ConfigMap
	pdbs          map[string]*policyv1.PodDisruptionBudget
	hpas          map[string]*autoscalingv2.HorizontalPodAutoscaler
	// secrets are the Secrets the README's `kubectl create secret` commands create: name ->
	// the keys each holds. The manifests create none.
	secrets map[string][]string
}

// newScheme knows the API types the base may use; any other kind fails to decode.
func newScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, appsv1.AddToScheme,
		policyv1.AddToScheme, autoscalingv2.AddToScheme} {
		if err := add(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// decodeStrict decodes one YAML document into its API type as the API server's strict field
// validation does (kubectl apply --validate=strict): unknown fields, fields in the wrong case
// and duplicate fields are errors.
func decodeStrict(s *runtime.Scheme, doc []byte) (runtime.Object, error) {
	codec := json.NewSerializerWithOptions(json.DefaultMetaFactory, s, s, json.SerializerOptions{Yaml: true, Strict: true})
	obj, gvk, err := codec.Decode(doc, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if gvk.Version == "" || gvk.Kind == "" {
		return nil, errors.New("decode: apiVersion or kind missing")
	}
	return obj, nil
}

// splitDocuments returns the non-empty YAML documents of a file.
func splitDocuments(data []byte) ([][]byte, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("split documents: %w", err)
		}
		if len(bytes.TrimSpace(stripComments(doc))) > 0 {
			docs = append(docs, doc)
		}
	}
}

// stripComments drops whole-line comments, to tell an empty document from one with content.
func stripComments(doc []byte) []byte {
	var out [][]byte
	for _, line := range bytes.Split(doc, []byte("\n")) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			out = append(out, line)
		}
	}
	return bytes.Join(out, []byte("\n"))
}

// load reads the base in dir: the kustomization, every resource it lists and README.md's Secrets.
func load(dir string) (*manifests, error) {
	data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		return nil, err
	}
	m := &manifests{namespaces: map[string]*corev1.Namespace{}, deployments: map[string]*appsv1.Deployment{},
		services: map[string]*corev1.Service{}, configMaps: map[string]*corev1.ConfigMap{},
		pdbs: map[string]*policyv1.PodDisruptionBudget{}, hpas: map[string]*autoscalingv2.HorizontalPodAutoscaler{}}
	if err := yaml.UnmarshalStrict(data, &m.kustomization); err != nil {
		return nil, fmt.Errorf("kustomization.yaml: %w", err)
	}
	scheme, err := newScheme()
	if err != nil {
		return nil, err
	}
	for _, file := range m.kustomization.Resources {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			return nil, fmt.Errorf("kustomization.yaml resource: %w", err)
		}
		docs, err := splitDocuments(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		for i, doc := range docs {
			obj, err := decodeStrict(scheme, doc)
			if err != nil {
				return nil, fmt.Errorf("%s, document %d: %w", file, i+1, err)
			}
			if err := m.add(file, obj); err != nil {
				return nil, err
			}
		}
	}
	readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		return nil, err
	}
	if m.secrets, err = documentedSecrets(string(readme)); err != nil {
		return nil, fmt.Errorf("README.md: %w", err)
	}
	return m, nil
}

// add files obj under its kind; a kind the checks do not know, or a name used twice, is an error.
func (m *manifests) add(file string, obj runtime.Object) error {
	m.objects = append(m.objects, object{file: file, obj: obj})
	var name string
	var dup bool
	switch o := obj.(type) {
	case *corev1.Namespace:
		name, dup = o.Name, m.namespaces[o.Name] != nil
		m.namespaces[o.Name] = o
	case *appsv1.Deployment:
		name, dup = o.Name, m.deployments[o.Name] != nil
		m.deployments[o.Name] = o
	case *corev1.Service:
		name, dup = o.Name, m.services[o.Name] != nil
		m.services[o.Name] = o
	case *corev1.ConfigMap:
		name, dup = o.Name, m.configMaps[o.Name] != nil
		m.configMaps[o.Name] = o
	case *policyv1.PodDisruptionBudget:
		name, dup = o.Name, m.pdbs[o.Name] != nil
		m.pdbs[o.Name] = o
	case *autoscalingv2.HorizontalPodAutoscaler:
		name, dup = o.Name, m.hpas[o.Name] != nil
		m.hpas[o.Name] = o
	default:
		return fmt.Errorf("%s: %T: a kind the checks do not know (a Secret with data does not belong in the repository)", file, obj)
	}
	if dup {
		return fmt.Errorf("%s: %T %q defined twice", file, obj, name)
	}
	return nil
}

// secretCommand matches `kubectl [-n NS] create secret TYPE NAME ...`.
var secretCommand = regexp.MustCompile(`\bkubectl\b.*\bcreate secret (generic|tls) ([a-z0-9.-]+)(.*)$`)

// documentedSecrets reads the `kubectl create secret` commands of the README's sh blocks: the
// Secrets the manifests reference and the keys each gets.
func documentedSecrets(readme string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, cmd := range shellCommands(readme) {
		sm := secretCommand.FindStringSubmatch(cmd)
		if sm == nil {
			continue
		}
		typ, name := sm[1], sm[2]
		if out[name] != nil {
			return nil, fmt.Errorf("secret %s created twice", name)
		}
		var keys []string
		for _, arg := range strings.Fields(sm[3]) {
			flag, value, _ := strings.Cut(arg, "=")
			switch {
			case typ == "tls" && (flag == "--cert" || flag == "--key"):
			case typ == "generic" && (flag == "--from-file" || flag == "--from-literal"):
				key, _, hasKey := strings.Cut(value, "=")
				if !hasKey && flag == "--from-file" {
					key = filepath.Base(value)
				}
				keys = append(keys, key)
			case flag == "-n" || flag == "--namespace" || strings.HasPrefix(arg, "-") == false:
			default:
				return nil, fmt.Errorf("secret %s: flag %s: the test does not know which keys it creates", name, arg)
			}
		}
		if typ == "tls" {
			keys = []string{corev1.TLSCertKey, corev1.TLSPrivateKeyKey}
		}
		if len(keys) == 0 {
			return nil, fmt.Errorf("secret %s: no keys", name)
		}
		out[name] = keys
	}
	return out, nil
}

// shellCommands returns the commands of the ```sh blocks of a Markdown text, with continued
// lines (ending in \) joined.
func shellCommands(md string) []string {
	var cmds []string
	in := false
	var cur strings.Builder
	for _, line := range strings.Split(md, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "```"):
			in = trimmed == "```sh"
			continue
		case !in || strings.HasPrefix(trimmed, "#"):
			continue
		}
		if strings.HasSuffix(trimmed, `\`) {
			cur.WriteString(strings.TrimSuffix(trimmed, `\`) + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmds = append(cmds, cur.String())
		cur.Reset()
	}
	return cmds
}

// loadBase loads the base beside this file.
func loadBase(t *testing.T) *manifests {
	t.Helper()
	m, err := load(".")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// podSpecs are the pod templates of the Deployments, by Deployment name, sorted.
func (m *manifests) deploymentNames() []string {
	names := make([]string, 0, len(m.deployments))
	for n := range m.deployments {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// metaOf returns the object metadata of a decoded manifest.
func metaOf(o object) metav1.Object {
	acc, err := meta.Accessor(o.obj)
	if err != nil {
		panic(fmt.Sprintf("%s: %T has no metadata: %v", o.file, o.obj, err)) // every kind add accepts has
	}
	return acc
}
