package jwtauthn

// The verified-token cache of a provider with jwt_cache_config, as Envoy's jwt_cache.cc keeps
// it: an LRU of up to jwt_cache_size tokens (100 when 0) of at most jwt_max_token_size bytes
// (4 KiB when 0), keyed by the token text, holding only tokens whose signature verified. A hit
// skips parsing and the signature check; an expired entry is removed (token_cache lookup). The
// issuer, time and audience checks still run on every request, so a hit answers exactly as a
// miss would. The cache belongs to the provider of one routing table: new keys come with a new
// table, hence an empty cache.

import (
	"container/list"
	"sync"

	jwtv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
)

// Envoy's kJwtCacheDefaultSize and kMaxJwtSizeForCache.
const (
	defaultCacheSize    = 100
	defaultMaxTokenSize = 4 * 1024
)

// tokenCache is the LRU of verified tokens; nil caches nothing.
type tokenCache struct {
	mu       sync.Mutex
	size     int
	maxToken int
	order    *list.List // of *cacheEntry, most recent first
	entries  map[string]*list.Element
}

type cacheEntry struct {
	text string
	tok  *token
}

// newTokenCache is the cache cfg configures; nil when cfg is nil (the cache is off).
func newTokenCache(cfg *jwtv3.JwtCacheConfig) *tokenCache {
	if cfg == nil {
		return nil
	}
	c := &tokenCache{size: int(cfg.GetJwtCacheSize()), maxToken: int(cfg.GetJwtMaxTokenSize()),
		order: list.New(), entries: map[string]*list.Element{}}
	if c.size == 0 {
		c.size = defaultCacheSize
	}
	if c.maxToken == 0 {
		c.maxToken = defaultMaxTokenSize
	}
	return c
}

// get returns the verified token of text, nil when it is not cached or has expired at now.
func (c *tokenCache) get(text string, now uint64) *token {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[text]
	if !ok {
		return nil
	}
	t := e.Value.(*cacheEntry).tok
	if t.exp != 0 && now > t.exp {
		c.order.Remove(e)
		delete(c.entries, text)
		return nil
	}
	c.order.MoveToFront(e)
	return t
}

// put caches a verified token, evicting the least recently used beyond the size.
func (c *tokenCache) put(text string, t *token) {
	if c == nil || len(text) > c.maxToken {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[text]; ok {
		c.order.MoveToFront(e)
		return
	}
	c.entries[text] = c.order.PushFront(&cacheEntry{text: text, tok: t})
	for c.order.Len() > c.size {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.entries, last.Value.(*cacheEntry).text)
	}
}
