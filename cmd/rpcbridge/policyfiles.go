package main

import (
	"context"
	"crypto/sha256"
	"time"

	"github.com/rpcbridge/rpcbridge/config"
	"github.com/rpcbridge/rpcbridge/internal/bus"
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

// watchPolicyFiles publishes the digest of the latest configuration's policy files every
// interval, so that the compile stage (an input of which the topic is) builds the gateway again
// when a key file is rewritten: its keys rotate without a restart.
func watchPolicyFiles(ctx context.Context, cfgs *bus.Topic[*config.Config], out *bus.Topic[[sha256.Size]byte], interval time.Duration) error {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		cfg, _ := cfgs.Latest()
		out.Publish(policyFilesDigest(cfg))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// policyFilesDigest digests what the policies of cfg read outside the configuration.
func policyFilesDigest(cfg *config.Config) [sha256.Size]byte {
	h := sha256.New()
	if cfg == nil {
		return [sha256.Size]byte(h.Sum(nil))
	}
	for _, p := range cfg.Policies {
		if p.APIKey == nil {
			continue
		}
		v, err := p.APIKey.Keys.Read()
		if err != nil {
			v = "\x00error: " + err.Error()
		}
		h.Write([]byte(p.APIKey.Keys.String() + "\x00" + v + "\x00"))
	}
	return [sha256.Size]byte(h.Sum(nil))
}
