// Package peerproc runs the processes behind the test peers (ZooKeeper, the Consul agent, the
// dubbo-go provider): a command whose output goes to a log file, waited for until it is ready,
// and stopped as a crash would stop it (or gracefully).
package peerproc

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tailBytes is how much of a log LogTail returns.
const tailBytes = 4000

// pollInterval is how often Start asks whether the process is ready.
const pollInterval = 100 * time.Millisecond

// Process is one run of a command.
type Process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	log  string
}

// Start starts cmd with its standard output and error appended to logPath, then asks ready
// every 100 ms until it reports true. It fails, with the log's tail, when the process exits
// first or giveUp passes (then it kills the process). what names the peer in errors.
func Start(cmd *exec.Cmd, logPath, what string, giveUp time.Duration, ready func() bool) (*Process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s log: %w", what, err)
	}
	defer logFile.Close()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", what, err)
	}
	p := &Process{cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() { _ = cmd.Wait(); close(p.done) }()
	deadline := time.Now().Add(giveUp)
	for {
		select {
		case <-p.done:
			return nil, fmt.Errorf("%s exited during start-up; log:\n%s", what, LogTail(logPath))
		default:
		}
		if ready() {
			return p, nil
		}
		if time.Now().After(deadline) {
			p.Kill()
			return nil, fmt.Errorf("%s not ready within %v; log:\n%s", what, giveUp, LogTail(logPath))
		}
		time.Sleep(pollInterval)
	}
}

// Exited is closed when the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.done }

// Kill kills the process as a crash would and waits for it to exit.
func (p *Process) Kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Terminate asks the process to stop (SIGTERM) and waits for it to exit; it kills it when that
// takes longer than grace. A paused process is resumed so that it can act on the signal.
func (p *Process) Terminate(grace time.Duration) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	_ = p.cmd.Process.Signal(syscall.SIGCONT)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.Kill()
	}
}

// Pause freezes the process (SIGSTOP) as a stalled machine, a debugger or a stop-the-world pause
// would: its sockets stay open and the kernel still accepts connections on its listening ports
// and acknowledges what is sent to it, but nothing is read or answered until Resume. It returns
// once the kernel reports the process stopped (signals are delivered asynchronously).
func (p *Process) Pause() error {
	if err := p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		return fmt.Errorf("pause: %w", err)
	}
	stat := fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid)
	deadline := time.Now().Add(pauseGiveUp)
	for {
		b, err := os.ReadFile(stat)
		if err != nil {
			return fmt.Errorf("pause: %w", err)
		}
		// "pid (comm) state ...": the state follows the last ')'.
		if rest := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:])); len(rest) > 0 && (rest[0] == "T" || rest[0] == "t") {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pause: process %d not stopped within %v", p.cmd.Process.Pid, pauseGiveUp)
		}
		time.Sleep(time.Millisecond)
	}
}

// pauseGiveUp bounds the wait for a paused process to be reported stopped.
const pauseGiveUp = 10 * time.Second

// Resume lets a paused process run again (SIGCONT).
func (p *Process) Resume() error {
	if err := p.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	return nil
}

// LogTail returns the last few kilobytes of the log file at path.
func LogTail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > tailBytes {
		return "..." + string(b[len(b)-tailBytes:])
	}
	return string(b)
}

// FreePort returns a TCP port that was free on 127.0.0.1 a moment ago.
func FreePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
