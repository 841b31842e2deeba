package main

import (
	"context"
	"crypto/sha256"
	"time"

	"github.com/rpcbridge/rpcbridge/internal/bus"
	"github.com/rpcbridge/rpcbridge/transcoding"
)

// policyFilesInterval is how often the files the policies read (API key files) are checked
// for a change; admin/auth re-reads its token files at the same pace.
const policyFilesInterval = time.Second

// policyFiles is the topic of the policies' outside files, as one digest of their contents (an
// unreadable file counts as its error): a new value means some file changed. It never holds
// the contents.
func policyFiles() *bus.Topic[[sha256.Size]byte] {
	return bus.NewTopic(func(a, b [sha256.Size]byte) bool { return a == b })
}

// watchPolicyFiles publishes the digest of the files of the current policies every interval,
// so that the compile stage (an input of which the topic is) builds the gateway again when a
// key file is rewritten: its keys rotate without a restart.
func watchPolicyFiles(ctx context.Context, policies func() []transcoding.Policy, out *bus.Topic[[sha256.Size]byte], interval time.Duration) error {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		out.Publish(policyFilesDigest(policies()))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// policyFilesDigest digests what the policies read outside the configuration.
func policyFilesDigest(policies []transcoding.Policy) [sha256.Size]byte {
	h := sha256.New()
	for _, p := range policies {
		if p.APIKey == nil {
			continue
		}
		v, ok, err := p.APIKey.Keys.ReadFile()
		if !ok {
			continue // a store-held set: followAPIKeys publishes its changes
		}
		if err != nil {
			v = "\x00error: " + err.Error()
		}
		h.Write([]byte(p.APIKey.Keys.String() + "\x00" + v + "\x00"))
	}
	return [sha256.Size]byte(h.Sum(nil))
}

// policies are the policies the compile stage builds with: the file's and the store's.
func (s *server) policies() []transcoding.Policy {
	cfg, _ := s.cfg.Latest()
	if cfg == nil {
		return nil
	}
	if s.rules != nil {
		rules, _ := s.rules.Latest()
		cfg = cfg.WithStoreRules(rules.Rules)
	}
	return cfg.Policies
}
