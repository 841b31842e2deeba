package jwtauthn

import (
	"fmt"
	"testing"

	jwtv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
)

// TestTokenCacheBounds: the cache keeps at most jwt_cache_size tokens, the least recently used
// evicted first, never a token over jwt_max_token_size, drops an expired token on lookup, and
// uses Envoy's defaults (100 tokens, 4 KiB) for zeros; without jwt_cache_config nothing is cached.
func TestTokenCacheBounds(t *testing.T) {
	c := newTokenCache(&jwtv3.JwtCacheConfig{JwtCacheSize: 2, JwtMaxTokenSize: 10})
	c.put("a", &token{})
	c.put("b", &token{})
	if c.get("a", 0) == nil { // a becomes the most recent
		t.Fatal("a not cached")
	}
	c.put("c", &token{})
	if c.get("b", 0) != nil || c.get("a", 0) == nil || c.get("c", 0) == nil {
		t.Errorf("after a, b, get a, c: b should be evicted, a and c kept")
	}
	c.put("0123456789x", &token{})
	if c.get("0123456789x", 0) != nil {
		t.Error("a token over jwt_max_token_size was cached")
	}
	c.put("d", &token{exp: 100})
	if c.get("d", 100) == nil || c.get("d", 101) != nil || c.get("d", 99) != nil {
		t.Error("an expired token is not removed on lookup")
	}
	d := newTokenCache(&jwtv3.JwtCacheConfig{})
	if d.size != defaultCacheSize || d.maxToken != defaultMaxTokenSize {
		t.Errorf("defaults %d, %d; want %d, %d", d.size, d.maxToken, defaultCacheSize, defaultMaxTokenSize)
	}
	for i := range defaultCacheSize + 5 {
		d.put(fmt.Sprint(i), &token{})
	}
	if d.order.Len() != defaultCacheSize || len(d.entries) != defaultCacheSize {
		t.Errorf("cache holds %d/%d tokens, want %d", d.order.Len(), len(d.entries), defaultCacheSize)
	}
	var off *tokenCache = newTokenCache(nil)
	off.put("x", &token{})
	if off.get("x", 0) != nil {
		t.Error("a provider without jwt_cache_config caches")
	}
}
