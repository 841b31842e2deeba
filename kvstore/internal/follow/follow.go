// Package follow is the watch loop that every store backend runs under Store.Watch, so that
// they all publish with the same rules: the full state after the first complete read and after
// every change, nothing when nothing changed, the last state marked stale while the backend
// cannot be read, and a key whose value became unreadable kept at its last good value.
//
// A backend supplies a read function (one complete read of the prefix, reusing what it cached
// for unchanged entries) and a wake channel (its watches firing); the loop does the rest.
package follow

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/kvstore"
)

// Defaults for Options.
const (
	DefaultRetryMin = 100 * time.Millisecond
	DefaultRetryMax = 5 * time.Second
)

// Problem is an entry that exists in the store but whose value could not be read, or (with an
// empty Key) data under the prefix that is not an entry at all.
type Problem struct {
	Key  string
	Diag diag.Diagnostic
}

// Result is one complete read of a prefix.
type Result struct {
	// Entries are the readable entries, in any order.
	Entries []kvstore.Entry
	// Problems are what could not be read.
	Problems []Problem
}

// Options tune the loop.
type Options struct {
	// Resync is how often to read again without a wake, a safety net behind the backend's
	// watches; 0 reads only on wakes.
	Resync time.Duration
	// RetryMin and RetryMax bound the backoff after a failed read, and the re-reads while some
	// entry cannot be read (it may be a write still in flight).
	RetryMin, RetryMax time.Duration
	// Logger receives outages and recoveries.
	Logger *slog.Logger
	// Closing ends when the store is closed; Run then returns kvstore.ErrClosed.
	Closing context.Context
}

// Run reads and publishes until ctx ends (then it returns ctx's error) or the store closes (then
// kvstore.ErrClosed). A read runs at the start, after every wake, every Resync, and after a
// failure (with backoff); read's errors are retried, never returned.
func Run(ctx context.Context, opts Options, wake <-chan struct{}, read func(context.Context) (Result, error),
	publish func(kvstore.Snapshot)) error {
	if opts.Closing != nil {
		parent := ctx
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		defer context.AfterFunc(opts.Closing, cancel)()
		err := run(ctx, opts, wake, read, publish)
		if parent.Err() == nil && opts.Closing.Err() != nil {
			return kvstore.ErrClosed
		}
		return err
	}
	return run(ctx, opts, wake, read, publish)
}

func run(ctx context.Context, opts Options, wake <-chan struct{}, read func(context.Context) (Result, error),
	publish func(kvstore.Snapshot)) error {
	if opts.RetryMin <= 0 {
		opts.RetryMin = DefaultRetryMin
	}
	if opts.RetryMax < opts.RetryMin {
		opts.RetryMax = max(DefaultRetryMax, opts.RetryMin)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var last *kvstore.Snapshot
	backoff := opts.RetryMin
	for {
		res, err := read(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		next := opts.Resync
		if err != nil {
			if last != nil && !last.Stale {
				stale := *last
				stale.Stale = true
				last = &stale
				publish(stale)
				log.Warn("store unreachable: publishing the last known state as stale", "err", err)
			} else {
				log.Debug("store read failed", "err", err)
			}
			next, backoff = backoff, min(2*backoff, opts.RetryMax)
		} else {
			if last != nil && last.Stale {
				log.Info("store reachable again")
			}
			snap := Merge(last, res)
			if last == nil || !Same(*last, snap) {
				last = &snap
				publish(snap)
			}
			if len(res.Problems) > 0 {
				next, backoff = shorter(next, backoff), min(2*backoff, opts.RetryMax)
			} else {
				backoff = opts.RetryMin
			}
		}
		if !wait(ctx, wake, next) {
			return ctx.Err()
		}
	}
}

// wait returns after a wake or d (never, for d <= 0), or false when ctx ends.
func wait(ctx context.Context, wake <-chan struct{}, d time.Duration) bool {
	var timer <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-ctx.Done():
		return false
	case <-wake:
	case <-timer:
	}
	return true
}

func shorter(a, b time.Duration) time.Duration {
	if a <= 0 {
		return b
	}
	return min(a, b)
}

// Merge turns a read into a snapshot: its entries sorted by key, plus, for each unreadable key
// that prev had, prev's entry, so that bad data never takes away a good value.
func Merge(prev *kvstore.Snapshot, res Result) kvstore.Snapshot {
	entries := slices.Clone(res.Entries)
	var diags []diag.Diagnostic
	for _, p := range res.Problems {
		d := p.Diag
		if p.Key != "" && prev != nil && !slices.ContainsFunc(res.Entries, func(e kvstore.Entry) bool { return e.Key == p.Key }) {
			if old, ok := prev.Lookup(p.Key); ok {
				entries = append(entries, old)
				d.Message += fmt.Sprintf("; keeping revision %d", old.Revision)
			}
		}
		diags = append(diags, d)
	}
	slices.SortFunc(entries, func(a, b kvstore.Entry) int { return strings.Compare(a.Key, b.Key) })
	entries = slices.CompactFunc(entries, func(a, b kvstore.Entry) bool { return a.Key == b.Key })
	diag.Sort(diags)
	if entries == nil {
		entries = []kvstore.Entry{}
	}
	return kvstore.Snapshot{Entries: entries, Diagnostics: diags}
}

// Same reports whether two snapshots say the same: the same keys at the same revisions (a
// revision stands for its value), the same staleness and the same diagnostics.
func Same(a, b kvstore.Snapshot) bool {
	return a.Stale == b.Stale && reflect.DeepEqual(a.Diagnostics, b.Diagnostics) &&
		slices.EqualFunc(a.Entries, b.Entries, func(x, y kvstore.Entry) bool { return x.Key == y.Key && x.Revision == y.Revision })
}

// Unreadable is the problem of key, whose value cannot be read because of err (usually a
// *kvstore.CorruptError).
func Unreadable(stage, key string, err error) Problem {
	return Problem{Key: key, Diag: diag.Diagnostic{Code: diag.StoreEntryUnreadable, Severity: diag.Warning, Stage: stage, Subject: key, Message: err.Error()}}
}

// Stray is the problem of data in the store's space that is not an entry at all (a node or
// file whose name is not a key); subject names where it is.
func Stray(stage, subject string) Problem {
	return Problem{Diag: diag.Diagnostic{Code: diag.StoreStray, Severity: diag.Warning, Stage: stage, Subject: subject,
		Message: "not an entry of rpcbridge's store; ignored"}}
}
