package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionText(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/rpcbridge/rpcbridge", Version: "v1.2.0"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"},
			{Key: "vcs.modified", Value: "true"}, {Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "arm64"},
		}}
	want := `rpcbridge v1.2.0
revision:    0123abcd (modified)
commit time: 2026-12-01T10:00:00Z
go:          go1.26.8
platform:    linux/arm64
`
	if got := versionText(bi); got != want {
		t.Errorf("versionText =\n%s\nwant\n%s", got, want)
	}
	if got := versionText(&debug.BuildInfo{GoVersion: "go1.26.8"}); got != "rpcbridge (devel)\ngo:          go1.26.8\n" {
		t.Errorf("without VCS information: %q", got)
	}
}

// TestVersionCommand runs the command in this test binary, whose build information has no VCS
// stamp but the Go version.
func TestVersionCommand(t *testing.T) {
	code, out, stderr := runCLI(t, context.Background(), "version")
	if code != exitOK || !strings.HasPrefix(out, "rpcbridge ") || !strings.Contains(out, "go:          "+runtime.Version()+"\n") {
		t.Fatalf("version: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
}

// TestVersionOfABuiltBinary builds rpcbridge from this checkout the way a user does and checks
// that `rpcbridge version` names the checked-out commit and the Go version that built it. The
// go command stamps VCS information only where .git is a directory: not in a linked git
// worktree, whose .git is a file (golang/go#58218), where the test skips.
func TestVersionOfABuiltBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("no git to tell the expected revision")
	}
	top, err := exec.Command(git, "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skipf("not in a git checkout: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(strings.TrimSpace(string(top)), ".git")); err != nil || !fi.IsDir() {
		t.Skip("a linked git worktree: the go command does not stamp VCS information here (golang/go#58218)")
	}
	head, err := exec.Command(git, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "rpcbridge")
	build := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-buildvcs=true", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatalf("rpcbridge version: %v", err)
	}
	for _, want := range []string{"rpcbridge ", "revision:    " + strings.TrimSpace(string(head)), "go:          " + runtime.Version()} {
		if !strings.Contains(string(out), want) {
			t.Errorf("rpcbridge version lacks %q:\n%s", want, out)
		}
	}
}
