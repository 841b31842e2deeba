package main

import (
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestSIGHUPReloads changes the configuration where the file watcher cannot see it (the config
// path is a symlink into another directory) and checks that SIGHUP alone makes serve reload.
func TestSIGHUPReloads(t *testing.T) {
	// Our own handler keeps a SIGHUP from ever killing the test process.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	_, portA := backend(t, "A")
	_, portB := backend(t, "B")
	srv := startServe(t, httpServiceConfig(portA, ""))

	hidden := filepath.Join(t.TempDir(), "real.yaml")
	if err := os.WriteFile(hidden, []byte(srv.render(httpServiceConfig(portA, ""))), 0o644); err != nil {
		t.Fatal(err)
	}
	// Swap the watched file for a symlink to the hidden one, then wait until that swap itself
	// has been reloaded (same content, so nothing changes), before editing the hidden file.
	link := srv.file + ".link"
	if err := os.Symlink(hidden, link); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(link, srv.file); err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * reloadSettle)

	if err := os.WriteFile(hidden, []byte(srv.render(httpServiceConfig(portB, ""))), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * reloadSettle)
	if code, body, _ := get("http://" + srv.gateway + "/hello/x"); code != http.StatusOK || body != "A /x" {
		t.Fatalf("before SIGHUP: GET = %d %q; the edit must not be seen without a signal", code, body)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "SIGHUP reload", func() error {
		code, body, err := get("http://" + srv.gateway + "/hello/x")
		if err != nil || body != "B /x" {
			return fmt.Errorf("GET = %d %q %v", code, body, err)
		}
		return nil
	})
}
