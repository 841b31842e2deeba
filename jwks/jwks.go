// Package jwks reads and fetches the JSON Web Key Sets of the JWT policies, as Istio's pilot does
// for jwks_uri (istio/istio pilot/pkg/model/jwks_resolver.go: the control plane fetches, caches
// and refreshes the key sets and inlines them in the configuration it serves, keeping the last
// good keys when a refresh fails). Files are re-read when they change (key rotation reaches both
// data planes without a restart), URLs are fetched on an interval with a timeout; a source that
// fails, or gives a key set without a usable key, keeps its last good keys and reports why.
package jwks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/rpcbridge/rpcbridge/dataplane/jwtauthn"
)

// maxBody bounds a fetched key set.
const maxBody = 1 << 20

// Source is where one key set comes from: a file or an http(s) URL.
type Source struct {
	// Key identifies the source in Sets.
	Key string
	// File or URL: exactly one is set.
	File, URL string
	// Refresh is how often the file is checked or the URL fetched (> 0).
	Refresh time.Duration
	// Timeout bounds one fetch of the URL (> 0).
	Timeout time.Duration
}

// State is what is known of one source.
type State struct {
	// JSON is the last good key set; empty when none was ever read.
	JSON string
	// Problem is why the latest attempt failed; empty when it succeeded.
	Problem string
}

// Sets are the states of the sources, by Source.Key.
type Sets map[string]State

// Run reads every source at once, publishes when each has been tried, then re-reads each on its
// Refresh and publishes whenever a key set or a problem changes, until ctx ends. publish gets a
// copy it may keep; it must not block.
func Run(ctx context.Context, sources []Source, client *http.Client, log *slog.Logger, publish func(Sets)) error {
	var mu sync.Mutex
	sets := Sets{}
	first := make(chan struct{}, len(sources))
	var wg sync.WaitGroup
	for _, src := range sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var last []byte
			tick := time.NewTicker(src.Refresh)
			defer tick.Stop()
			for i := 0; ; i++ {
				mu.Lock()
				prev := sets[src.Key]
				mu.Unlock()
				next, raw := attempt(ctx, src, client, prev, last)
				last = raw
				if ctx.Err() != nil {
					return
				}
				if next != prev {
					if next.Problem != "" && next.Problem != prev.Problem {
						log.Warn("jwks: cannot read the key set; the last good keys are kept", "source", src.Key, "err", next.Problem)
					} else if next.Problem == "" && next.JSON != prev.JSON {
						log.Info("jwks: key set loaded", "source", src.Key)
					}
					mu.Lock() // publishing under the lock keeps the published states in order
					sets[src.Key] = next
					if i > 0 {
						publish(maps.Clone(sets))
					}
					mu.Unlock()
				}
				if i == 0 {
					first <- struct{}{}
				}
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
			}
		}()
	}
	for range sources {
		select {
		case <-first:
		case <-ctx.Done():
		}
	}
	if ctx.Err() == nil {
		mu.Lock()
		publish(maps.Clone(sets))
		mu.Unlock()
	}
	wg.Wait()
	return ctx.Err()
}

// Load tries every source once: what the one-shot commands use.
func Load(ctx context.Context, sources []Source, client *http.Client) Sets {
	out := Sets{}
	for _, src := range sources {
		out[src.Key], _ = attempt(ctx, src, client, State{}, nil)
	}
	return out
}

// attempt reads src once: the state after it, given the state before and the bytes of the last
// good key set (which is not parsed again), and the bytes of the good key set now.
func attempt(ctx context.Context, src Source, client *http.Client, prev State, lastGood []byte) (State, []byte) {
	raw, err := read(ctx, src, client)
	if err != nil {
		return State{JSON: prev.JSON, Problem: err.Error()}, lastGood
	}
	if lastGood != nil && string(raw) == string(lastGood) {
		return State{JSON: prev.JSON}, lastGood
	}
	if _, err := jwtauthn.ParseKeySet(string(raw)); err != nil {
		return State{JSON: prev.JSON, Problem: fmt.Sprintf("bad key set: %v", err)}, lastGood
	}
	return State{JSON: string(raw)}, raw
}

// read returns the source's bytes.
func read(ctx context.Context, src Source, client *http.Client) ([]byte, error) {
	if src.File != "" {
		b, err := os.ReadFile(src.File)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", src.File, err)
		}
		return b, nil
	}
	if src.URL == "" {
		return nil, errors.New("no file or URL")
	}
	ctx, cancel := context.WithTimeout(ctx, src.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", src.URL, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", src.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch %s: status %s", src.URL, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", src.URL, err)
	}
	if len(b) > maxBody {
		return nil, fmt.Errorf("fetch %s: key set larger than %d bytes", src.URL, maxBody)
	}
	return b, nil
}
