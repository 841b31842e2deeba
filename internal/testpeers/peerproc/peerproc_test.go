package peerproc

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStartReadyAndKill(t *testing.T) {
	log := filepath.Join(t.TempDir(), "peer.log")
	marker := filepath.Join(t.TempDir(), "ready")
	p, err := Start(exec.Command("sh", "-c", "echo starting; touch "+marker+"; exec sleep 60"), log, "peer", 20*time.Second,
		func() bool { return exec.Command("test", "-e", marker).Run() == nil })
	if err != nil {
		t.Fatal(err)
	}
	p.Kill()
	select {
	case <-p.Exited():
	default:
		t.Error("Kill returned before the process exited")
	}
	if !strings.Contains(LogTail(log), "starting") {
		t.Errorf("log = %q, want the process's output", LogTail(log))
	}
}

func TestStartFailsWhenTheProcessExits(t *testing.T) {
	log := filepath.Join(t.TempDir(), "peer.log")
	_, err := Start(exec.Command("sh", "-c", "echo broken config; exit 3"), log, "peer", 20*time.Second, func() bool { return false })
	if err == nil || !strings.Contains(err.Error(), "exited during start-up") || !strings.Contains(err.Error(), "broken config") {
		t.Errorf("err = %v, want an early exit with the log", err)
	}
}

func TestStartGivesUp(t *testing.T) {
	log := filepath.Join(t.TempDir(), "peer.log")
	_, err := Start(exec.Command("sleep", "60"), log, "peer", 300*time.Millisecond, func() bool { return false })
	if err == nil || !strings.Contains(err.Error(), "not ready within") {
		t.Errorf("err = %v, want a give-up", err)
	}
}

func TestTerminate(t *testing.T) {
	p, err := Start(exec.Command("sleep", "60"), filepath.Join(t.TempDir(), "peer.log"), "peer", 20*time.Second, func() bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	p.Terminate(10 * time.Second)
	select {
	case <-p.Exited():
	default:
		t.Error("Terminate returned before the process exited")
	}
}

// TestPauseResume: a paused process is stopped (state T in /proc), a resumed one runs again, and a
// paused one can still be terminated.
func TestPauseResume(t *testing.T) {
	p, err := Start(exec.Command("sleep", "60"), filepath.Join(t.TempDir(), "peer.log"), "peer", 20*time.Second, func() bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	state := func() string {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
		if err != nil {
			t.Fatal(err)
		}
		// pid (comm) state ...
		fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		return fields[0]
	}
	waitState := func(want string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for state() != want {
			if time.Now().After(deadline) {
				t.Fatalf("process state %s, want %s", state(), want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if err := p.Pause(); err != nil {
		t.Fatal(err)
	}
	waitState("T")
	if err := p.Resume(); err != nil {
		t.Fatal(err)
	}
	waitState("S")
	if err := p.Pause(); err != nil {
		t.Fatal(err)
	}
	waitState("T")
	p.Terminate(10 * time.Second)
	select {
	case <-p.Exited():
	default:
		t.Error("Terminate returned before the paused process exited")
	}
}
