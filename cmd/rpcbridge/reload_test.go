package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
)

// logWatch is serve's log as it is written. A hook runs inside the write of the first later line
// it matches, while serve's goroutine waits for it, so that a test can act at an exact point of
// serve's progress instead of sleeping.
type logWatch struct {
	mu    sync.Mutex
	text  strings.Builder
	hooks []*logHook
}

type logHook struct {
	match func(line string) bool
	fn    func()
	fired chan struct{}
}

// Write records one log record and runs the hooks it matches.
func (l *logWatch) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.text.Write(p)
	line := string(p)
	for _, h := range l.hooks {
		select {
		case <-h.fired:
			continue
		default:
		}
		if h.match(line) {
			if h.fn != nil {
				h.fn()
			}
			close(h.fired)
		}
	}
	return len(p), nil
}

// on runs fn (which may be nil) when a line written from now on satisfies match; the channel is
// closed once it ran.
func (l *logWatch) on(match func(line string) bool, fn func()) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	h := &logHook{match: match, fn: fn, fired: make(chan struct{})}
	l.hooks = append(l.hooks, h)
	return h.fired
}

func (l *logWatch) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.text.String()
}

// has matches lines that contain every one of parts.
func has(parts ...string) func(string) bool {
	return func(line string) bool {
		for _, p := range parts {
			if !strings.Contains(line, p) {
				return false
			}
		}
		return true
	}
}

// anyOf matches lines that one of ms matches.
func anyOf(ms ...func(string) bool) func(string) bool {
	return func(line string) bool {
		return slices.ContainsFunc(ms, func(m func(string) bool) bool { return m(line) })
	}
}

// traffic is a set of real HTTP clients sending requests to one URL in a loop, counting the
// answers by status (0 for a transport error).
type traffic struct {
	mu       sync.Mutex
	statuses map[int]int
	total    int
	stop     context.CancelFunc
	wg       sync.WaitGroup
}

func startTraffic(t *testing.T, url string, clients int) *traffic {
	ctx, cancel := context.WithCancel(context.Background())
	tr := &traffic{statuses: map[int]int{}, stop: cancel}
	for range clients {
		tr.wg.Go(func() {
			c := &http.Client{Timeout: giveUp}
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				status := 0
				if resp, err := c.Do(req); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					status = resp.StatusCode
				} else if ctx.Err() != nil {
					return // stopped mid-request: not an answer
				}
				tr.mu.Lock()
				tr.statuses[status]++
				tr.total++
				tr.mu.Unlock()
			}
		})
	}
	t.Cleanup(tr.end)
	return tr
}

// end stops the clients and waits for them.
func (tr *traffic) end() {
	tr.stop()
	tr.wg.Wait()
}

// count returns how many answers came so far and how many of them were not 200.
func (tr *traffic) count() (total, failed int) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.total, tr.total - tr.statuses[http.StatusOK]
}

// waitAnswers waits until n more answers have come.
func (tr *traffic) waitAnswers(t *testing.T, n int) {
	t.Helper()
	start, _ := tr.count()
	waitFor(t, fmt.Sprintf("%d more answers", n), func() error {
		if total, _ := tr.count(); total < start+n {
			return fmt.Errorf("%d answers so far", total-start)
		}
		return nil
	})
}

// TestReloadNeverAppliesAFileBeingWritten is issue 11's editor save under live traffic: the
// configuration file is truncated (`: > file`) and kept empty until serve has rejected it, then
// written back in place in two chunks, the second one only after serve has read the first.
// The first chunk alone is a valid configuration without registries; applying it would drop
// every route. No request may fail, and the log must say what was rejected and why.
func TestReloadNeverAppliesAFileBeingWritten(t *testing.T) {
	_, port := backend(t, "A")
	logs := &logWatch{}
	cfg := httpServiceConfig(port, "")
	srv := startServeLogging(t, cfg, logs)
	full := srv.render(cfg)
	cut := strings.Index(full, "registries:")
	head, tail := full[:cut], full[cut:]

	tr := startTraffic(t, "http://"+srv.gateway+"/hello/x", 4)
	tr.waitAnswers(t, 50)

	// 1. Truncate, as `: > file` does, and keep the file empty until serve rejected it.
	rejected := logs.on(has("configuration rejected", "the configuration is empty"), nil)
	f, err := os.OpenFile(srv.file, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	wait(t, rejected, "the empty file to be rejected", logs)
	tr.waitAnswers(t, 50)

	// 2. Write the first chunk; write the second as soon as serve has read the file (before the
	// fix, when it applied the first chunk).
	if f, err = os.OpenFile(srv.file, os.O_WRONLY|os.O_APPEND, 0); err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	write := func(s string) {
		if _, err := f.WriteString(s); err != nil {
			t.Error(err)
		}
	}
	second := logs.on(anyOf(has("configuration file changed"), has("configuration reloaded")), func() { write(tail) })
	settled := logs.on(anyOf(has("configuration unchanged"), has("configuration reloaded", "registries=1")), nil)
	write(head)
	wait(t, second, "serve to read the first chunk", logs)
	wait(t, settled, "serve to settle on the whole file", logs)
	tr.waitAnswers(t, 50)
	tr.end()

	total, failed := tr.count()
	if failed > 0 {
		t.Errorf("%d of %d requests failed while the file was being written (statuses %v)", failed, total, tr.statuses)
	}
	log := logs.String()
	for _, want := range []string{
		`msg="configuration rejected; keeping the previous one"`,
		`problem="` + srv.file + `: the configuration is empty"`,
		`msg="configuration file is still changing; not applied yet"`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("serve's log:\n%s", log)
	}
}

// wait waits for a hook; serve's log is shown when it never fires.
func wait(t *testing.T, fired <-chan struct{}, what string, logs *logWatch) {
	t.Helper()
	waitFor(t, what, func() error {
		select {
		case <-fired:
			return nil
		default:
			return fmt.Errorf("not yet; serve's log so far:\n%s", logs)
		}
	})
}
