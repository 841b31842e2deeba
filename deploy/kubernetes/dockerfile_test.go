package kubernetes_test

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// image is what the Dockerfile's final stage gives the manifests: the user it runs as, its
// ENTRYPOINT and the ports it exposes.
type image struct {
	uid, gid   int64
	entrypoint []string
	exposed    []int32
}

// cgoSetting matches CGO_ENABLED=VALUE on a RUN line.
var cgoSetting = regexp.MustCompile(`\bCGO_ENABLED=(\S*)`)

// goDirective matches go.mod's go line, capturing the major.minor version.
var goDirective = regexp.MustCompile(`(?m)^go (\d+\.\d+)(\.\d+)?\s*$`)

// checkDockerfile parses the Dockerfile with BuildKit's own parser and checks: several stages; a
// golang builder of go.mod's Go version; a static build (CGO_ENABLED=0, -trimpath, -ldflags -s -w);
// a final stage on distroless static or scratch that runs as a numeric non-root USER, with an
// exec-form ENTRYPOINT that is the binary copied from the builder.
func checkDockerfile(dockerfile, gomod []byte) (*image, []error) {
	res, err := parser.Parse(bytes.NewReader(dockerfile))
	if err != nil {
		return nil, []error{fmt.Errorf("parse: %w", err)}
	}
	stages, _, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, []error{fmt.Errorf("parse: %w", err)}
	}
	if len(stages) < 2 {
		return nil, []error{fmt.Errorf("%d stage(s): want a builder stage and a final stage", len(stages))}
	}
	gm := goDirective.FindSubmatch(gomod)
	if gm == nil {
		return nil, []error{fmt.Errorf("go.mod: no go directive")}
	}
	goVersion := string(gm[1])
	var errs []error
	final := stages[len(stages)-1]
	img := &image{uid: -1, gid: -1}
	var copies []*instructions.CopyCommand
	for _, cmd := range final.Commands {
		switch c := cmd.(type) {
		case *instructions.UserCommand:
			img.uid, img.gid, err = numericUser(c.User)
			if err != nil {
				errs = append(errs, fmt.Errorf("final stage: %w", err))
			}
		case *instructions.EntrypointCommand:
			if c.PrependShell {
				errs = append(errs, fmt.Errorf("final stage: ENTRYPOINT in shell form: the image has no shell, want exec form"))
			}
			img.entrypoint = c.CmdLine
		case *instructions.ExposeCommand:
			for _, p := range c.Ports {
				n, err := strconv.ParseUint(strings.TrimSuffix(p, "/tcp"), 10, 16)
				if err != nil {
					errs = append(errs, fmt.Errorf("final stage: EXPOSE %s: %w", p, err))
					continue
				}
				img.exposed = append(img.exposed, int32(n))
			}
		case *instructions.CopyCommand:
			copies = append(copies, c)
		case *instructions.RunCommand:
			errs = append(errs, fmt.Errorf("final stage: RUN %q: the final stage has no shell; build in the builder", c.CmdLine))
		}
	}
	if base := final.BaseName; base != "scratch" && !strings.HasPrefix(base, "gcr.io/distroless/static") {
		errs = append(errs, fmt.Errorf("final stage FROM %s: want gcr.io/distroless/static* or scratch", base))
	}
	if img.uid <= 0 {
		errs = append(errs, fmt.Errorf("final stage: want USER with a non-root numeric uid:gid, have uid %d", img.uid))
	}
	if len(img.entrypoint) != 1 {
		errs = append(errs, fmt.Errorf("final stage: ENTRYPOINT %q: want the binary alone", img.entrypoint))
	}
	// The ENTRYPOINT is a file copied from a golang builder stage of go.mod's Go version.
	var builder *instructions.Stage
	for _, c := range copies {
		if len(img.entrypoint) == 1 && c.DestPath == img.entrypoint[0] {
			for i := range stages[:len(stages)-1] {
				if stages[i].Name == c.From {
					builder = &stages[i]
				}
			}
		}
	}
	if builder == nil {
		return img, append(errs, fmt.Errorf("final stage: the ENTRYPOINT %q is not COPY --from a build stage", img.entrypoint))
	}
	repo, tag, _ := strings.Cut(builder.BaseName, ":")
	if repo != "golang" && repo != "docker.io/library/golang" {
		errs = append(errs, fmt.Errorf("stage %s FROM %s: want the golang image", builder.Name, builder.BaseName))
	}
	if tag != goVersion && !strings.HasPrefix(tag, goVersion+"-") && !strings.HasPrefix(tag, goVersion+".") {
		errs = append(errs, fmt.Errorf("stage %s FROM %s: want Go %s, go.mod's version", builder.Name, builder.BaseName, goVersion))
	}
	cgoOff, built := false, false
	for _, cmd := range builder.Commands {
		switch c := cmd.(type) {
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				if kv.Key == "CGO_ENABLED" {
					cgoOff = kv.Value == "0"
				}
			}
		case *instructions.RunCommand:
			line := strings.Join(c.CmdLine, " ")
			if !strings.Contains(line, "go build") {
				continue
			}
			built = true
			if inline := cgoSetting.FindStringSubmatch(line); (inline == nil && !cgoOff) || (inline != nil && inline[1] != "0") {
				errs = append(errs, fmt.Errorf("stage %s: go build without CGO_ENABLED=0: the binary would need libc", builder.Name))
			}
			for _, want := range []string{"-trimpath", `-ldflags "-s -w`, "./cmd/rpcbridge"} {
				if !strings.Contains(line, want) {
					errs = append(errs, fmt.Errorf("stage %s: go build without %s", builder.Name, want))
				}
			}
		}
	}
	if !built {
		errs = append(errs, fmt.Errorf("stage %s: no RUN go build", builder.Name))
	}
	return img, errs
}

// numericUser parses USER uid:gid; names need a passwd file to resolve, numbers do not.
func numericUser(u string) (int64, int64, error) {
	user, group, _ := strings.Cut(u, ":")
	uid, err := strconv.ParseInt(user, 10, 64)
	if err != nil {
		return -1, -1, fmt.Errorf("USER %s: want a numeric uid", u)
	}
	gid := uid
	if group != "" {
		if gid, err = strconv.ParseInt(group, 10, 64); err != nil {
			return -1, -1, fmt.Errorf("USER %s: want a numeric gid", u)
		}
	}
	return uid, gid, nil
}

// checkImageFits checks the manifests against the image: every container port is exposed and
// the pods run as the image's user.
func checkImageFits(m *manifests, img *image) []error {
	var errs []error
	for _, n := range m.deploymentNames() {
		spec := m.deployments[n].Spec.Template.Spec
		if sc := spec.SecurityContext; sc == nil || sc.RunAsUser == nil || *sc.RunAsUser != img.uid || sc.RunAsGroup == nil || *sc.RunAsGroup != img.gid {
			errs = append(errs, fmt.Errorf("deployment %s: want runAsUser %d and runAsGroup %d, the image's USER", n, img.uid, img.gid))
		}
		for _, c := range spec.Containers {
			for _, p := range c.Ports {
				if !slices.Contains(img.exposed, p.ContainerPort) {
					errs = append(errs, fmt.Errorf("deployment %s: port %s (%d) is not EXPOSEd by the Dockerfile", n, p.Name, p.ContainerPort))
				}
			}
		}
	}
	return errs
}
