package kubernetes_test

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/rpcbridge/rpcbridge/config"
)

// TestKustomizationListsEveryManifest: every YAML file beside kustomization.yaml is one of its
// resources, so that nothing is left out of `kubectl apply -k` (or out of this test).
func TestKustomizationListsEveryManifest(t *testing.T) {
	m := loadBase(t)
	files, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files = slices.DeleteFunc(files, func(f string) bool { return f == "kustomization.yaml" })
	listed := slices.Sorted(slices.Values(m.kustomization.Resources))
	if !slices.Equal(files, listed) {
		t.Errorf("kustomization.yaml resources %v, the directory has %v", listed, files)
	}
	if len(m.objects) == 0 {
		t.Fatal("no objects decoded")
	}
}

// TestReferences runs every reference check on the base.
func TestReferences(t *testing.T) {
	m := loadBase(t)
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if errs := c.run(m); len(errs) > 0 {
				t.Error(errorsText(errs))
			}
		})
	}
}

// TestStrictDecodingRejects: the decoder the test uses refuses what the API server's strict
// field validation refuses, so a typo in a manifest fails the test instead of being dropped.
func TestStrictDecodingRejects(t *testing.T) {
	s, err := newScheme()
	if err != nil {
		t.Fatal(err)
	}
	base := "apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: rpcbridge}\nspec:\n  selector: {app: a}\n  ports: [{name: x, port: 1}]\n"
	if _, err := decodeStrict(s, []byte(base)); err != nil {
		t.Fatalf("the valid Service: %v", err)
	}
	for name, doc := range map[string]string{
		"unknown field":   base + "  publishNotReady: true\n",
		"wrong case":      strings.Replace(base, "selector:", "Selector:", 1),
		"duplicate field": base + "  selector: {app: b}\n",
		"wrong type":      strings.Replace(base, "port: 1", "port: one", 1),
		"unknown kind":    strings.Replace(base, "kind: Service", "kind: Servise", 1),
		"no kind":         strings.Replace(base, "kind: Service\n", "", 1),
	} {
		if _, err := decodeStrict(s, []byte(doc)); err == nil {
			t.Errorf("%s: decoded without an error", name)
		}
	}
}

// TestDocumentedSecrets: the README's commands create the four Secrets the manifests name.
func TestDocumentedSecrets(t *testing.T) {
	m := loadBase(t)
	want := map[string][]string{
		"rpcbridge-admin-tokens":      {"ci", "prometheus", "xds"},
		"rpcbridge-xds-tls":           {"ca.crt", "tls.crt", "tls.key", "client.crt", "client.key"},
		"rpcbridge-gateway-tls":       {"tls.crt", "tls.key"},
		"rpcbridge-store-credentials": {"zk-digest"},
	}
	if len(m.secrets) != len(want) {
		t.Errorf("documented secrets %v, want %v", m.secrets, want)
	}
	for name, keys := range want {
		if !slices.Equal(m.secrets[name], keys) {
			t.Errorf("secret %s: keys %v, want %v", name, m.secrets[name], keys)
		}
	}
	// docs/deploy.md repeats the commands: they must create the same Secrets.
	doc, err := os.ReadFile("../../docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	inDoc, err := documentedSecrets(string(doc))
	if err != nil {
		t.Fatalf("docs/deploy.md: %v", err)
	}
	if !maps.EqualFunc(inDoc, m.secrets, slices.Equal) {
		t.Errorf("docs/deploy.md creates the Secrets %v, README.md %v", inDoc, m.secrets)
	}
}

// TestChecksCatchMistakes breaks the base in the ways a hand edit does and expects the named
// check to report it: the checks above can fail.
func TestChecksCatchMistakes(t *testing.T) {
	cases := []struct {
		name, check, want string
		mutate            func(*manifests)
	}{
		{"service selects nothing", "selectors", "selects 0", func(m *manifests) {
			m.services["rpcbridge"].Spec.Selector["app.kubernetes.io/component"] = "controlplane"
		}},
		{"pdb selects nothing", "selectors", "pdb rpcbridge", func(m *manifests) {
			m.pdbs["rpcbridge"].Spec.Selector.MatchLabels["app.kubernetes.io/name"] = "bridge"
		}},
		{"target port renamed", "ports", "port grpc is no container port", func(m *manifests) {
			m.services["rpcbridge"].Spec.Ports[0].TargetPort = intstr.FromString("grpc")
		}},
		{"probe on the wrong port", "ports", "want the admin port", func(m *manifests) {
			m.deployments["rpcbridge"].Spec.Template.Spec.Containers[0].ReadinessProbe.HTTPGet.Port = intstr.FromString("xds")
		}},
		{"admin port differs from the config", "control plane", "admin.listen listens on", func(m *manifests) {
			m.deployments["rpcbridge"].Spec.Template.Spec.Containers[0].Ports[1].ContainerPort = 9901
		}},
		{"secret renamed", "volumes", "rpcbridge-store-credential is neither", func(m *manifests) {
			vol(m, "rpcbridge", "store-credentials").Secret.SecretName = "rpcbridge-store-credential"
		}},
		{"secret item not created", "volumes", "item ca.pem: no such key", func(m *manifests) {
			vol(m, "rpcbridge-gateway", "xds-tls").Secret.Items[0].Key = "ca.pem"
		}},
		{"config file not mounted", "files", "/etc/rpcbridge/store/zk-digest: volume store-credentials", func(m *manifests) {
			m.secrets["rpcbridge-store-credentials"] = []string{"digest"}
		}},
		{"flag file not mounted", "files", "--xds-key-file", func(m *manifests) {
			vol(m, "rpcbridge-gateway", "xds-tls").Secret.Items[2].Path = "client-key.pem"
		}},
		{"config moved", "control plane", "under no volume mount", func(m *manifests) {
			m.deployments["rpcbridge"].Spec.Template.Spec.Containers[0].Args[2] = "/etc/rpcbridge.yaml"
		}},
		{"two replicas", "control plane", "replicas", func(m *manifests) {
			*m.deployments["rpcbridge"].Spec.Replicas = 2
		}},
		{"pdb minAvailable 1", "control plane", "minAvailable", func(m *manifests) {
			*m.pdbs["rpcbridge"].Spec.MinAvailable = intstr.FromInt32(1)
		}},
		{"xds through the ClusterIP Service", "gateway", "not headless", func(m *manifests) {
			args := m.deployments["rpcbridge-gateway"].Spec.Template.Spec.Containers[0].Args
			args[1] = "--xds=rpcbridge.rpcbridge.svc:18000"
		}},
		{"grace shorter than the drain", "gateway", "terminationGracePeriodSeconds", func(m *manifests) {
			*m.deployments["rpcbridge-gateway"].Spec.Template.Spec.TerminationGracePeriodSeconds = 20
		}},
		{"gateway replicas beside the autoscaler", "gateway", "kubectl apply would undo", func(m *manifests) {
			three := int32(3)
			m.deployments["rpcbridge-gateway"].Spec.Replicas = &three
		}},
		{"writable root", "security", "readOnlyRootFilesystem", func(m *manifests) {
			no := false
			m.deployments["rpcbridge-gateway"].Spec.Template.Spec.Containers[0].SecurityContext.ReadOnlyRootFilesystem = &no
		}},
		{"root", "security", "runAsNonRoot", func(m *manifests) {
			root := int64(0)
			m.deployments["rpcbridge"].Spec.Template.Spec.SecurityContext.RunAsUser = &root
		}},
		{"image not in kustomization", "images", "has no kustomization images entry", func(m *manifests) {
			m.deployments["rpcbridge"].Spec.Template.Spec.Containers[0].Image = "rpcbridge:latest"
		}},
		{"port name too long", "names", "must be no more than 15 characters", func(m *manifests) {
			m.deployments["rpcbridge-gateway"].Spec.Template.Spec.Containers[0].Ports[1].Name = "gateway-admin-port"
		}},
		{"service name with a dot", "names", "metadata.name", func(m *manifests) {
			m.services["rpcbridge"].Name = "rpcbridge.cp"
		}},
		{"object in another namespace", "namespace", "in namespace \"default\"", func(m *manifests) {
			m.configMaps["rpcbridge-config"].Namespace = "default"
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := loadBase(t)
			i := slices.IndexFunc(checks, func(c check) bool { return c.name == tc.check })
			if i < 0 {
				t.Fatalf("no check %q", tc.check)
			}
			if errs := checks[i].run(m); len(errs) > 0 {
				t.Fatalf("the base already fails %s: %v", tc.check, errorsText(errs))
			}
			tc.mutate(m)
			errs := checks[i].run(m)
			if len(errs) == 0 {
				t.Fatalf("check %s found nothing", tc.check)
			}
			if got := errorsText(errs); !strings.Contains(got, tc.want) {
				t.Errorf("check %s reported\n%s\nwant a problem containing %q", tc.check, got, tc.want)
			}
		})
	}
}

// vol returns the volume called name of a Deployment of the base.
func vol(m *manifests, deployment, name string) *corev1.Volume {
	return volume(m.deployments[deployment].Spec.Template.Spec, name)
}

// TestConfigMapLoads validates the control plane's configuration with rpcbridge's own loader,
// as `rpcbridge serve` (and `rpcbridge check`) would read it in the pod.
func TestConfigMapLoads(t *testing.T) {
	m := loadBase(t)
	_, cfg, err := m.serveConfig()
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.Parse(cfg.name, cfg.data)
	if err != nil {
		var cerr *config.Error
		if errors.As(err, &cerr) {
			for _, p := range cerr.Problems {
				t.Errorf("%s", p)
			}
			return
		}
		t.Fatal(err)
	}
	if c.Gateway.Enabled == nil || *c.Gateway.Enabled {
		t.Error("the control plane runs the embedded gateway too: the standalone gateways serve the traffic, want gateway.enabled: false")
	}
}

// TestDockerfile checks the repository's Dockerfile and that the manifests fit the image.
func TestDockerfile(t *testing.T) {
	dockerfile, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	img, errs := checkDockerfile(dockerfile, gomod)
	if len(errs) > 0 {
		t.Fatal(errorsText(errs))
	}
	if errs := checkImageFits(loadBase(t), img); len(errs) > 0 {
		t.Error(errorsText(errs))
	}
	if _, err := os.Stat("../../.dockerignore"); err != nil {
		t.Errorf("no .dockerignore: the whole work tree (.git, data) would be sent to the builder: %v", err)
	}
}

// TestDockerfileChecksCatchMistakes breaks the Dockerfile and expects checkDockerfile to say so.
func TestDockerfileChecksCatchMistakes(t *testing.T) {
	dockerfile, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if _, errs := checkDockerfile(dockerfile, gomod); len(errs) > 0 {
		t.Fatal(errorsText(errs))
	}
	for _, tc := range []struct{ name, old, new, want string }{
		{"root user", "USER 65532:65532", "USER 0", "non-root"},
		{"named user", "USER 65532:65532", "USER nonroot", "numeric uid"},
		{"cgo default", "CGO_ENABLED=0 go build", "go build", "CGO_ENABLED=0"},
		{"cgo on", "CGO_ENABLED=0 go build", "CGO_ENABLED=1 go build", "CGO_ENABLED=0"},
		{"other Go", "golang:1.26-", "golang:1.25-", "want Go 1.26"},
		{"one stage", "FROM gcr.io/distroless/static-debian12:nonroot\nCOPY --from=build /out/rpcbridge /usr/local/bin/rpcbridge\n", "", "stage(s)"},
		{"shell entrypoint", `ENTRYPOINT ["/usr/local/bin/rpcbridge"]`, "ENTRYPOINT /usr/local/bin/rpcbridge", "shell form"},
		{"debian final", "FROM gcr.io/distroless/static-debian12:nonroot", "FROM debian:12", "want gcr.io/distroless/static"},
		{"no trimpath", "go build -trimpath", "go build", "without -trimpath"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			broken := strings.Replace(string(dockerfile), tc.old, tc.new, 1)
			if broken == string(dockerfile) {
				t.Fatalf("the Dockerfile has no %q", tc.old)
			}
			_, errs := checkDockerfile([]byte(broken), gomod)
			if len(errs) == 0 {
				t.Fatal("no problem found")
			}
			if got := errorsText(errs); !strings.Contains(got, tc.want) {
				t.Errorf("reported\n%s\nwant %q", got, tc.want)
			}
		})
	}
}
