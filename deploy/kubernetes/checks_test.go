package kubernetes_test

import (
	"errors"
	"fmt"
	"net"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/rpcbridge/rpcbridge/dataplane"
)

// The names the base is built around.
const (
	namespace      = "rpcbridge"
	configFlag     = "--config"
	adminPortName  = "admin"
	xdsPortName    = "xds"
	wantReplicas   = 3
	wantMinAvail   = 2
	drainMarginSec = 5 // terminationGracePeriodSeconds beyond preStop + drain, for the process to exit
)

// check is one reference check over the whole base; it returns every problem it finds.
type check struct {
	name string
	run  func(*manifests) []error
}

// checks are the reference checks, in the order they are reported.
var checks = []check{
	{"namespace", checkNamespace},
	{"names", checkNames},
	{"images", checkImages},
	{"selectors", checkSelectors},
	{"ports", checkPorts},
	{"volumes", checkVolumes},
	{"files", checkFiles},
	{"control plane", checkControlPlane},
	{"gateway", checkGateway},
	{"security", checkSecurity},
}

// role is what a Deployment runs: the first argument of its container, serve or gateway.
func role(d *appsv1.Deployment) string {
	if cs := d.Spec.Template.Spec.Containers; len(cs) > 0 && len(cs[0].Args) > 0 {
		return cs[0].Args[0]
	}
	return ""
}

// byRole returns the one Deployment of a role.
func (m *manifests) byRole(r string) (*appsv1.Deployment, error) {
	var found []*appsv1.Deployment
	for _, n := range m.deploymentNames() {
		if role(m.deployments[n]) == r {
			found = append(found, m.deployments[n])
		}
	}
	if len(found) != 1 {
		return nil, fmt.Errorf("want one Deployment running %q, found %d", r, len(found))
	}
	return found[0], nil
}

// flags are a container's arguments after the subcommand: "--name=value" or "--name value".
type flags map[string][]string

func parseFlags(args []string) (flags, error) {
	f := flags{}
	for i := 1; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "--") {
			return nil, fmt.Errorf("argument %q: want --flag=value or --flag value", a)
		}
		name, value, ok := strings.Cut(a, "=")
		if !ok {
			if i+1 == len(args) || strings.HasPrefix(args[i+1], "--") {
				return nil, fmt.Errorf("flag %s: no value (the test knows no boolean flags)", a)
			}
			i++
			value = args[i]
		}
		f[name] = append(f[name], value)
	}
	return f, nil
}

// one returns the single value of a flag.
func (f flags) one(name string) (string, error) {
	if v := f[name]; len(v) == 1 {
		return v[0], nil
	}
	return "", fmt.Errorf("flag %s: want one value, have %q", name, f[name])
}

// portOf returns the port number of a host:port (":8080" too).
func portOf(hostport string) (int32, error) {
	_, p, err := net.SplitHostPort(hostport)
	if err != nil {
		return 0, fmt.Errorf("address %q: %w", hostport, err)
	}
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("address %q: bad port", hostport)
	}
	return int32(n), nil
}

// matches reports whether a non-empty selector selects labels.
func matches(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// selected returns the Deployments whose pods selector selects.
func (m *manifests) selected(selector map[string]string) []*appsv1.Deployment {
	var out []*appsv1.Deployment
	for _, n := range m.deploymentNames() {
		if d := m.deployments[n]; matches(selector, d.Spec.Template.Labels) {
			out = append(out, d)
		}
	}
	return out
}

// containerPort resolves a Service targetPort or probe port (a name or a number) to a port of
// the pod's containers.
func containerPort(spec corev1.PodSpec, p intstr.IntOrString) (*corev1.ContainerPort, error) {
	for _, c := range spec.Containers {
		for i, cp := range c.Ports {
			if (p.Type == intstr.String && cp.Name == p.StrVal) || (p.Type == intstr.Int && cp.ContainerPort == p.IntVal) {
				return &c.Ports[i], nil
			}
		}
	}
	return nil, fmt.Errorf("port %s is no container port", p.String())
}

func checkNamespace(m *manifests) []error {
	var errs []error
	if m.kustomization.Namespace != namespace {
		errs = append(errs, fmt.Errorf("kustomization namespace %q, want %q", m.kustomization.Namespace, namespace))
	}
	if m.namespaces[namespace] == nil {
		errs = append(errs, fmt.Errorf("no Namespace %s", namespace))
	}
	for _, o := range m.objects {
		if _, isNS := o.obj.(*corev1.Namespace); isNS {
			continue
		}
		if ns := metaOf(o).GetNamespace(); ns != namespace {
			errs = append(errs, fmt.Errorf("%s: %s in namespace %q, want %q", o.file, metaOf(o).GetName(), ns, namespace))
		}
	}
	return errs
}

func checkImages(m *manifests) []error {
	var errs []error
	images := map[string]bool{}
	for _, img := range m.kustomization.Images {
		images[img.Name] = img.NewName != "" && img.NewTag != ""
	}
	for _, n := range m.deploymentNames() {
		for _, c := range m.deployments[n].Spec.Template.Spec.Containers {
			if !images[c.Image] {
				errs = append(errs, fmt.Errorf("deployment %s: image %q has no kustomization images entry with newName and newTag", n, c.Image))
			}
			if len(c.Command) > 0 {
				errs = append(errs, fmt.Errorf("deployment %s: command %q overrides the image's ENTRYPOINT", n, c.Command))
			}
		}
	}
	return errs
}

func checkSelectors(m *manifests) []error {
	var errs []error
	for _, n := range m.deploymentNames() {
		d := m.deployments[n]
		if d.Spec.Selector == nil || len(d.Spec.Selector.MatchExpressions) > 0 || !matches(d.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
			errs = append(errs, fmt.Errorf("deployment %s: selector does not select its own pods by matchLabels", n))
		}
		for _, tsc := range d.Spec.Template.Spec.TopologySpreadConstraints {
			if tsc.LabelSelector == nil || !matches(tsc.LabelSelector.MatchLabels, d.Spec.Template.Labels) {
				errs = append(errs, fmt.Errorf("deployment %s: topology spread on %s does not select its own pods", n, tsc.TopologyKey))
			}
		}
	}
	for name, s := range m.services {
		if got := m.selected(s.Spec.Selector); len(got) != 1 {
			errs = append(errs, fmt.Errorf("service %s: selector %v selects %d Deployments' pods, want 1", name, s.Spec.Selector, len(got)))
		}
	}
	for name, p := range m.pdbs {
		if p.Spec.Selector == nil || len(p.Spec.Selector.MatchExpressions) > 0 {
			errs = append(errs, fmt.Errorf("pdb %s: want a matchLabels selector", name))
			continue
		}
		if got := m.selected(p.Spec.Selector.MatchLabels); len(got) != 1 {
			errs = append(errs, fmt.Errorf("pdb %s: selector %v selects %d Deployments' pods, want 1", name, p.Spec.Selector.MatchLabels, len(got)))
		}
	}
	for name, h := range m.hpas {
		ref := h.Spec.ScaleTargetRef
		if ref.Kind != "Deployment" || ref.APIVersion != "apps/v1" || m.deployments[ref.Name] == nil {
			errs = append(errs, fmt.Errorf("hpa %s: target %s %s %s is no Deployment of the base", name, ref.APIVersion, ref.Kind, ref.Name))
		}
	}
	return errs
}

func checkPorts(m *manifests) []error {
	var errs []error
	for name, s := range m.services {
		for _, d := range m.selected(s.Spec.Selector) {
			for _, p := range s.Spec.Ports {
				target := p.TargetPort
				if target.Type == intstr.Int && target.IntVal == 0 {
					target = intstr.FromInt32(p.Port)
				}
				if target.Type != intstr.String {
					errs = append(errs, fmt.Errorf("service %s port %s: targetPort %s: name the container port", name, p.Name, target.String()))
					continue
				}
				if _, err := containerPort(d.Spec.Template.Spec, target); err != nil {
					errs = append(errs, fmt.Errorf("service %s port %s: deployment %s: %w", name, p.Name, d.Name, err))
				}
			}
		}
	}
	for _, n := range m.deploymentNames() {
		spec := m.deployments[n].Spec.Template.Spec
		for _, c := range spec.Containers {
			for kind, p := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe, "startup": c.StartupProbe} {
				if p == nil {
					if kind != "startup" {
						errs = append(errs, fmt.Errorf("deployment %s: no %s probe", n, kind))
					}
					continue
				}
				if p.HTTPGet == nil {
					errs = append(errs, fmt.Errorf("deployment %s: %s probe is not an HTTP GET", n, kind))
					continue
				}
				if p.HTTPGet.Port.String() != adminPortName {
					errs = append(errs, fmt.Errorf("deployment %s: %s probe on port %s, want the %s port", n, kind, p.HTTPGet.Port.String(), adminPortName))
				}
				want := map[string]string{"readiness": "/readyz", "liveness": "/healthz", "startup": "/healthz"}[kind]
				if p.HTTPGet.Path != want {
					errs = append(errs, fmt.Errorf("deployment %s: %s probe on %s, want %s", n, kind, p.HTTPGet.Path, want))
				}
				if _, err := containerPort(spec, p.HTTPGet.Port); err != nil {
					errs = append(errs, fmt.Errorf("deployment %s: %s probe: %w", n, kind, err))
				}
			}
		}
	}
	return errs
}

func checkVolumes(m *manifests) []error {
	var errs []error
	for _, n := range m.deploymentNames() {
		spec := m.deployments[n].Spec.Template.Spec
		mounted := map[string]bool{}
		for _, c := range spec.Containers {
			for _, vm := range c.VolumeMounts {
				mounted[vm.Name] = true
				if volume(spec, vm.Name) == nil {
					errs = append(errs, fmt.Errorf("deployment %s: mount %s: no volume %s", n, vm.MountPath, vm.Name))
				}
			}
		}
		for _, v := range spec.Volumes {
			if !mounted[v.Name] {
				errs = append(errs, fmt.Errorf("deployment %s: volume %s is mounted nowhere", n, v.Name))
			}
			if _, err := m.volumeKeys(v); err != nil {
				errs = append(errs, fmt.Errorf("deployment %s: volume %s: %w", n, v.Name, err))
			}
		}
	}
	return errs
}

// volume returns the pod's volume called name.
func volume(spec corev1.PodSpec, name string) *corev1.Volume {
	for i := range spec.Volumes {
		if spec.Volumes[i].Name == name {
			return &spec.Volumes[i]
		}
	}
	return nil
}

// volumeKeys returns the files a Secret or ConfigMap volume holds (path in the volume -> the
// key it comes from), checking that the Secret is documented, the ConfigMap exists and every
// item's key is in it. Other volumes (emptyDir) hold no files of their own: nil.
func (m *manifests) volumeKeys(v corev1.Volume) (map[string]string, error) {
	var keys []string
	var items []corev1.KeyToPath
	switch {
	case v.Secret != nil:
		documented, ok := m.secrets[v.Secret.SecretName]
		if !ok {
			return nil, fmt.Errorf("secret %s is neither in the manifests nor among README.md's kubectl create secret commands", v.Secret.SecretName)
		}
		keys, items = documented, v.Secret.Items
	case v.ConfigMap != nil:
		cm := m.configMaps[v.ConfigMap.Name]
		if cm == nil {
			return nil, fmt.Errorf("configmap %s is not in the manifests", v.ConfigMap.Name)
		}
		for k := range cm.Data {
			keys = append(keys, k)
		}
		items = v.ConfigMap.Items
	default:
		return nil, nil
	}
	files := map[string]string{}
	if len(items) == 0 {
		for _, k := range keys {
			files[k] = k
		}
		return files, nil
	}
	for _, it := range items {
		if !slices.Contains(keys, it.Key) {
			return nil, fmt.Errorf("item %s: no such key (have %v)", it.Key, keys)
		}
		files[it.Path] = it.Key
	}
	return files, nil
}

// resolveFile finds the file path in the container's mounts: the volume and the key it comes
// from. A path that no Secret or ConfigMap provides is an error.
func (m *manifests) resolveFile(spec corev1.PodSpec, c corev1.Container, file string) (*corev1.Volume, string, error) {
	var best *corev1.VolumeMount
	for i, vm := range c.VolumeMounts {
		if file == vm.MountPath || strings.HasPrefix(file, strings.TrimSuffix(vm.MountPath, "/")+"/") {
			if best == nil || len(vm.MountPath) > len(best.MountPath) {
				best = &c.VolumeMounts[i]
			}
		}
	}
	if best == nil {
		return nil, "", fmt.Errorf("%s is under no volume mount of container %s", file, c.Name)
	}
	v := volume(spec, best.Name)
	if v == nil {
		return nil, "", fmt.Errorf("%s: mount %s has no volume", file, best.MountPath)
	}
	files, err := m.volumeKeys(*v)
	if err != nil {
		return nil, "", err
	}
	rel := strings.TrimPrefix(strings.TrimPrefix(file, best.MountPath), "/")
	if best.SubPath != "" {
		if file != best.MountPath {
			return nil, "", fmt.Errorf("%s: under the subPath mount %s", file, best.MountPath)
		}
		rel = best.SubPath
	}
	key, ok := files[rel]
	if !ok {
		return nil, "", fmt.Errorf("%s: volume %s (mounted on %s) has no file %s", file, v.Name, best.MountPath, rel)
	}
	return v, key, nil
}

// fileFields are the configuration keys whose values name files to read.
var fileFields = []string{"file", "certFile", "keyFile", "clientCAFile", "caFile"}

// configFiles walks a decoded configuration for the files it names and the environment
// variables its secret references read.
func configFiles(v any, at string, files, envs map[string]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, sub := range v {
			key := at + "." + k
			if s, ok := sub.(string); ok && s != "" {
				if slices.Contains(fileFields, k) {
					files[s] = strings.TrimPrefix(key, ".")
				}
				if k == "env" {
					envs[s] = strings.TrimPrefix(key, ".")
				}
			}
			configFiles(sub, key, files, envs)
		}
	case []any:
		for i, sub := range v {
			configFiles(sub, fmt.Sprintf("%s[%d]", at, i), files, envs)
		}
	}
}

// controlPlaneConfig is the control plane's configuration file as the --config flag finds it
// in the mounted ConfigMap: its name for messages, its text and its decoded tree.
type controlPlaneConfig struct {
	name string
	data []byte
	tree map[string]any
}

// serveConfig returns the configuration file the control plane's --config names.
func (m *manifests) serveConfig() (*appsv1.Deployment, *controlPlaneConfig, error) {
	d, err := m.byRole("serve")
	if err != nil {
		return nil, nil, err
	}
	spec := d.Spec.Template.Spec
	c := spec.Containers[0]
	f, err := parseFlags(c.Args)
	if err != nil {
		return d, nil, fmt.Errorf("deployment %s: %w", d.Name, err)
	}
	file, err := f.one(configFlag)
	if err != nil {
		return d, nil, fmt.Errorf("deployment %s: %w", d.Name, err)
	}
	v, key, err := m.resolveFile(spec, c, file)
	if err != nil {
		return d, nil, fmt.Errorf("deployment %s: %s: %w", d.Name, configFlag, err)
	}
	if v.ConfigMap == nil {
		return d, nil, fmt.Errorf("deployment %s: %s %s: not from a ConfigMap", d.Name, configFlag, file)
	}
	cm := m.configMaps[v.ConfigMap.Name]
	cfg := &controlPlaneConfig{name: fmt.Sprintf("configmap %s, key %s", cm.Name, key), data: []byte(cm.Data[key])}
	if err := yaml.Unmarshal(cfg.data, &cfg.tree); err != nil {
		return d, nil, fmt.Errorf("%s: %w", cfg.name, err)
	}
	return d, cfg, nil
}

// lookup returns the value at a dotted path of a decoded configuration, nil when absent.
func lookup(tree map[string]any, dotted string) any {
	var cur any = tree
	for _, k := range strings.Split(dotted, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[k]
	}
	return cur
}

func checkFiles(m *manifests) []error {
	var errs []error
	d, cfg, err := m.serveConfig()
	if err != nil {
		return []error{err}
	}
	files, envs := map[string]string{}, map[string]string{}
	configFiles(cfg.tree, "", files, envs)
	if len(files) == 0 {
		errs = append(errs, fmt.Errorf("%s names no files: the credentials are expected in mounted Secrets", cfg.name))
	}
	spec := d.Spec.Template.Spec
	for file, key := range files {
		if !path.IsAbs(file) {
			errs = append(errs, fmt.Errorf("%s: %s %q: want an absolute path", cfg.name, key, file))
			continue
		}
		v, _, err := m.resolveFile(spec, spec.Containers[0], file)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %s: %w", cfg.name, key, err))
		} else if v.Secret == nil {
			errs = append(errs, fmt.Errorf("%s: %s %s: not from a Secret", cfg.name, key, file))
		}
	}
	for env, key := range envs {
		if !slices.ContainsFunc(spec.Containers[0].Env, func(e corev1.EnvVar) bool { return e.Name == env }) {
			errs = append(errs, fmt.Errorf("%s: %s: the container sets no variable %s", cfg.name, key, env))
		}
	}
	for _, n := range m.deploymentNames() {
		d := m.deployments[n]
		spec := d.Spec.Template.Spec
		for _, c := range spec.Containers {
			f, err := parseFlags(c.Args)
			if err != nil {
				errs = append(errs, fmt.Errorf("deployment %s: %w", n, err))
				continue
			}
			for name, values := range f {
				if name != configFlag && !strings.HasSuffix(name, "-file") {
					continue
				}
				for _, file := range values {
					if _, _, err := m.resolveFile(spec, c, file); err != nil {
						errs = append(errs, fmt.Errorf("deployment %s: %s: %w", n, name, err))
					}
				}
			}
		}
	}
	return errs
}

// listenPort returns the port of the configuration's listen address at dotted.
func listenPort(cfg *controlPlaneConfig, dotted string) (int32, error) {
	s, ok := lookup(cfg.tree, dotted).(string)
	if !ok {
		return 0, fmt.Errorf("%s: %s is not set: the default listens on loopback, out of the pod's reach", cfg.name, dotted)
	}
	host, _, _ := net.SplitHostPort(s)
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return 0, fmt.Errorf("%s: %s %s: loopback, out of the pod's reach", cfg.name, dotted, s)
	}
	return portOf(s)
}

// namedPort returns the container port called name of the pod's first container.
func namedPort(d *appsv1.Deployment, name string) (*corev1.ContainerPort, error) {
	p, err := containerPort(d.Spec.Template.Spec, intstr.FromString(name))
	if err != nil {
		return nil, fmt.Errorf("deployment %s: %w", d.Name, err)
	}
	return p, nil
}

func checkControlPlane(m *manifests) []error {
	d, cfg, err := m.serveConfig()
	if err != nil {
		return []error{err}
	}
	var errs []error
	if d.Spec.Replicas == nil || *d.Spec.Replicas != wantReplicas {
		errs = append(errs, fmt.Errorf("deployment %s: replicas %v, want %d", d.Name, d.Spec.Replicas, wantReplicas))
	}
	for key, portName := range map[string]string{"admin.listen": adminPortName, "xds.listen": xdsPortName} {
		want, err := listenPort(cfg, key)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		p, err := namedPort(d, portName)
		if err != nil {
			errs = append(errs, err)
		} else if p.ContainerPort != want {
			errs = append(errs, fmt.Errorf("deployment %s: port %s is %d, %s listens on %d", d.Name, portName, p.ContainerPort, key, want))
		}
	}
	c := d.Spec.Template.Spec.Containers[0]
	wantScheme := corev1.URISchemeHTTP
	if lookup(cfg.tree, "admin.tls") != nil {
		wantScheme = corev1.URISchemeHTTPS
	}
	for _, p := range []*corev1.Probe{c.ReadinessProbe, c.LivenessProbe, c.StartupProbe} {
		if p != nil && p.HTTPGet != nil && p.HTTPGet.Scheme != wantScheme && !(p.HTTPGet.Scheme == "" && wantScheme == corev1.URISchemeHTTP) {
			errs = append(errs, fmt.Errorf("deployment %s: probe %s scheme %s, the admin API serves %s", d.Name, p.HTTPGet.Path, p.HTTPGet.Scheme, wantScheme))
		}
	}
	errs = append(errs, m.checkPDB(d, func(p pdbSpec) error {
		if p.minAvailable == nil || p.minAvailable.IntValue() != wantMinAvail {
			return fmt.Errorf("minAvailable %v, want %d", p.minAvailable, wantMinAvail)
		}
		return nil
	})...)
	errs = append(errs, checkGrace(d, 0, dataplane.DefaultShutdownTimeout))
	return slices.DeleteFunc(errs, func(e error) bool { return e == nil })
}

// pdbSpec is what checkPDB hands its predicate.
type pdbSpec struct {
	name         string
	minAvailable *intstr.IntOrString
}

// checkPDB checks that exactly one PodDisruptionBudget covers d's pods and that ok accepts it.
func (m *manifests) checkPDB(d *appsv1.Deployment, ok func(pdbSpec) error) []error {
	var found []pdbSpec
	for name, p := range m.pdbs {
		if p.Spec.Selector != nil && matches(p.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
			found = append(found, pdbSpec{name: name, minAvailable: p.Spec.MinAvailable})
		}
	}
	if len(found) != 1 {
		return []error{fmt.Errorf("deployment %s: %d PodDisruptionBudgets cover its pods, want 1", d.Name, len(found))}
	}
	if err := ok(found[0]); err != nil {
		return []error{fmt.Errorf("pdb %s: %w", found[0].name, err)}
	}
	return nil
}

// checkGrace checks that the pod's termination grace period covers a preStop sleep, the drain
// and a margin.
func checkGrace(d *appsv1.Deployment, preStop int64, drain time.Duration) error {
	grace := d.Spec.Template.Spec.TerminationGracePeriodSeconds
	want := preStop + int64(drain/time.Second) + drainMarginSec
	if grace == nil || *grace < want {
		return fmt.Errorf("deployment %s: terminationGracePeriodSeconds %v, want >= %d (preStop %ds + drain %v + %ds)", d.Name, grace, want, preStop, drain, drainMarginSec)
	}
	return nil
}

func checkGateway(m *manifests) []error {
	d, err := m.byRole("gateway")
	if err != nil {
		return []error{err}
	}
	cp, err := m.byRole("serve")
	if err != nil {
		return []error{err}
	}
	var errs []error
	c := d.Spec.Template.Spec.Containers[0]
	f, err := parseFlags(c.Args)
	if err != nil {
		return []error{fmt.Errorf("deployment %s: %w", d.Name, err)}
	}
	// --xds: every address is a Service of the base in front of the control plane's xds port.
	cpXDS, err := namedPort(cp, xdsPortName)
	if err != nil {
		return []error{err}
	}
	var xds []string
	for _, v := range f["--xds"] {
		xds = append(xds, strings.Split(v, ",")...)
	}
	if len(xds) == 0 {
		errs = append(errs, fmt.Errorf("deployment %s: no --xds", d.Name))
	}
	for _, addr := range xds {
		if err := m.checkXDSAddress(addr, cp, cpXDS); err != nil {
			errs = append(errs, fmt.Errorf("deployment %s: --xds %s: %w", d.Name, addr, err))
		}
	}
	// --listen and --admin are the container's ports; a LoadBalancer Service exposes --listen.
	for flag, want := range map[string]string{"--listen": "", "--admin": adminPortName} {
		addr, err := f.one(flag)
		if err != nil {
			errs = append(errs, fmt.Errorf("deployment %s: %w", d.Name, err))
			continue
		}
		port, err := portOf(addr)
		if err != nil {
			errs = append(errs, fmt.Errorf("deployment %s: %s: %w", d.Name, flag, err))
			continue
		}
		p, err := containerPort(d.Spec.Template.Spec, intstr.FromInt32(port))
		if err != nil {
			errs = append(errs, fmt.Errorf("deployment %s: %s %s: %w", d.Name, flag, addr, err))
			continue
		}
		if want != "" && p.Name != want {
			errs = append(errs, fmt.Errorf("deployment %s: %s %s is port %s, want %s", d.Name, flag, addr, p.Name, want))
		}
		if flag == "--listen" && !m.exposed(d, p.Name, corev1.ServiceTypeLoadBalancer) {
			errs = append(errs, fmt.Errorf("deployment %s: --listen port %s is on no LoadBalancer Service", d.Name, p.Name))
		}
	}
	// TLS on the listener: the port is https and the pair of files is given.
	if len(f["--tls-cert-file"]) != len(f["--tls-key-file"]) || len(f["--tls-cert-file"]) == 0 {
		errs = append(errs, fmt.Errorf("deployment %s: want --tls-cert-file/--tls-key-file pairs", d.Name))
	}
	for _, flag := range []string{"--xds-ca-file", "--xds-cert-file", "--xds-key-file"} {
		if _, err := f.one(flag); err != nil {
			errs = append(errs, fmt.Errorf("deployment %s: %w (the control plane requires client certificates)", d.Name, err))
		}
	}
	// Scale: an autoscaler, or replicas of its own; at least two either way.
	var hpaMin int32
	for _, h := range m.hpas {
		if h.Spec.ScaleTargetRef.Name == d.Name && h.Spec.MinReplicas != nil {
			hpaMin = *h.Spec.MinReplicas
		}
	}
	switch {
	case hpaMin > 0 && d.Spec.Replicas != nil:
		errs = append(errs, fmt.Errorf("deployment %s: sets replicas and has an autoscaler: kubectl apply would undo its scaling", d.Name))
	case hpaMin == 0 && (d.Spec.Replicas == nil || *d.Spec.Replicas < 2):
		errs = append(errs, fmt.Errorf("deployment %s: fewer than 2 replicas and no autoscaler", d.Name))
	case hpaMin > 0 && hpaMin < 2:
		errs = append(errs, fmt.Errorf("deployment %s: autoscaler minReplicas %d, want >= 2", d.Name, hpaMin))
	}
	errs = append(errs, m.checkPDB(d, func(pdbSpec) error { return nil })...)
	drain := dataplane.DefaultShutdownTimeout
	if v, ok := f["--drain-timeout"]; ok {
		if drain, err = time.ParseDuration(v[0]); err != nil {
			errs = append(errs, fmt.Errorf("deployment %s: --drain-timeout: %w", d.Name, err))
		}
	}
	var preStop int64
	if c.Lifecycle != nil && c.Lifecycle.PreStop != nil && c.Lifecycle.PreStop.Sleep != nil {
		preStop = c.Lifecycle.PreStop.Sleep.Seconds
	}
	errs = append(errs, checkGrace(d, preStop, drain))
	return slices.DeleteFunc(errs, func(e error) bool { return e == nil })
}

// checkXDSAddress checks that addr (host:port) names a Service of the base that selects the
// control plane's pods and sends the port to their xds container port.
func (m *manifests) checkXDSAddress(addr string, cp *appsv1.Deployment, xds *corev1.ContainerPort) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	port, err := portOf(addr)
	if err != nil {
		return err
	}
	name, rest, _ := strings.Cut(host, ".")
	if rest != namespace+".svc" && rest != namespace+".svc.cluster.local" {
		return fmt.Errorf("want SERVICE.%s.svc[.cluster.local], a name that resolves from any namespace", namespace)
	}
	s := m.services[name]
	if s == nil {
		return fmt.Errorf("no Service %s", name)
	}
	if !matches(s.Spec.Selector, cp.Spec.Template.Labels) {
		return fmt.Errorf("service %s does not select the control plane's pods", name)
	}
	if s.Spec.ClusterIP != corev1.ClusterIPNone {
		return fmt.Errorf("service %s is not headless: its name resolves to one virtual address, not to every replica", name)
	}
	for _, p := range s.Spec.Ports {
		if p.Port == port {
			target, err := containerPort(cp.Spec.Template.Spec, p.TargetPort)
			if err != nil {
				return fmt.Errorf("service %s: %w", name, err)
			}
			if target.Name != xds.Name {
				return fmt.Errorf("service %s port %d goes to %s, not %s", name, port, target.Name, xds.Name)
			}
			// A headless Service does not translate ports: clients dial the pod's port.
			if port != xds.ContainerPort {
				return fmt.Errorf("service %s is headless: port %d must equal the container port %d", name, port, xds.ContainerPort)
			}
			return nil
		}
	}
	return fmt.Errorf("service %s has no port %d", name, port)
}

// exposed reports whether a Service of type typ sends one of its ports to d's port portName.
func (m *manifests) exposed(d *appsv1.Deployment, portName string, typ corev1.ServiceType) bool {
	for _, s := range m.services {
		if s.Spec.Type != typ || !matches(s.Spec.Selector, d.Spec.Template.Labels) {
			continue
		}
		for _, p := range s.Spec.Ports {
			if target, err := containerPort(d.Spec.Template.Spec, p.TargetPort); err == nil && target.Name == portName {
				return true
			}
		}
	}
	return false
}

func checkSecurity(m *manifests) []error {
	var errs []error
	for _, n := range m.deploymentNames() {
		spec := m.deployments[n].Spec.Template.Spec
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("deployment %s: "+format, append([]any{n}, args...)...))
		}
		psc := spec.SecurityContext
		if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
			bad("pod securityContext: want runAsNonRoot: true and a non-zero runAsUser")
		}
		if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			bad("pod securityContext: want seccompProfile RuntimeDefault")
		}
		if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
			bad("automountServiceAccountToken: rpcbridge does not use the Kubernetes API, want false")
		}
		for _, c := range spec.Containers {
			sc := c.SecurityContext
			switch {
			case sc == nil:
				bad("container %s: no securityContext", c.Name)
				continue
			case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
				bad("container %s: want readOnlyRootFilesystem: true", c.Name)
			case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
				bad("container %s: want allowPrivilegeEscalation: false", c.Name)
			case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
				bad("container %s: want capabilities drop [ALL], add none", c.Name)
			case sc.RunAsUser != nil && *sc.RunAsUser == 0, sc.Privileged != nil && *sc.Privileged:
				bad("container %s: runs as root or privileged", c.Name)
			}
			r := c.Resources
			if r.Requests.Cpu().IsZero() || r.Requests.Memory().IsZero() || r.Limits.Memory().IsZero() {
				bad("container %s: want cpu and memory requests and a memory limit", c.Name)
			}
		}
	}
	return errs
}

// errorsText joins errors for a message.
func errorsText(errs []error) string {
	return errors.Join(errs...).Error()
}
