package nacosdouble

import (
	"crypto/md5"
	"encoding/hex"
	"maps"
	"slices"
	"strings"
	"time"
)

// DefaultMaxContent is Nacos's default limit on a configuration's content, in characters
// (PropertyUtil.maxContent, 10 MB, checked by ParamUtils.checkParam on every publish).
const DefaultMaxContent = 10 * 1024 * 1024

// configKey names one configuration: Nacos's tenant (the namespace ID, "" for public), group
// and data ID.
type configKey struct{ tenant, group, dataID string }

// configKeyOf normalizes a namespace as NamespaceUtil.processNamespaceParameter does: the
// public namespace is "".
func configKeyOf(namespace, group, dataID string) configKey {
	if namespace == defaultNamespace {
		namespace = ""
	}
	return configKey{namespace, group, dataID}
}

// configItem is one stored configuration.
type configItem struct {
	content      string
	md5          string
	lastModified int64
}

// md5Hex is Nacos's content MD5 (MD5Utils.md5Hex(content, "UTF-8")), the one casMd5 and the
// listeners compare.
func md5Hex(content string) string {
	sum := md5.Sum([]byte(content))
	return hex.EncodeToString(sum[:])
}

// SetConfig stores content under a configuration (creating it), as an operator editing it in
// the console would, and tells the listening clients. Empty content deletes it.
func (s *Server) SetConfig(namespace, group, dataID, content string) {
	s.st.putConfig(configKeyOf(namespace, group, dataID), content)
}

// Config returns a configuration's content, and whether it exists.
func (s *Server) Config(namespace, group, dataID string) (string, bool) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	it, ok := s.st.configs[configKeyOf(namespace, group, dataID)]
	return it.content, ok
}

// ConfigIDs lists the data IDs of a namespace and group that start with prefix, sorted.
func (s *Server) ConfigIDs(namespace, group, prefix string) []string {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	var out []string
	for k := range s.st.configs {
		if k == configKeyOf(namespace, group, k.dataID) && strings.HasPrefix(k.dataID, prefix) {
			out = append(out, k.dataID)
		}
	}
	slices.Sort(out)
	return out
}

// SetMaxContent changes the content limit (DefaultMaxContent unless set), as Nacos's maxContent
// property does.
func (s *Server) SetMaxContent(n int) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	s.st.maxContent = n
}

// ConfigListeners is how many client connections listen to a configuration.
func (s *Server) ConfigListeners(namespace, group, dataID string) int {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	return len(s.st.configListenersOf(configKeyOf(namespace, group, dataID)))
}

// publishResult is what a publish did.
type publishResult int

const (
	published publishResult = iota
	casFailed
)

// publish stores content, with Nacos's compare-and-set rule
// (ConfigOperationService.publishConfig, insertOrUpdateCas): with a casMd5, an absent
// configuration is inserted and a present one updated only when its MD5 equals casMd5;
// without one, the configuration is inserted or updated.
func (st *state) publish(key configKey, content, casMd5 string) publishResult {
	st.mu.Lock()
	it, exists := st.configs[key]
	if casMd5 != "" && exists && it.md5 != casMd5 {
		st.mu.Unlock()
		return casFailed
	}
	st.mu.Unlock()
	st.putConfig(key, content)
	return published
}

// putConfig stores (or, for "", deletes) a configuration and pushes a ConfigChangeNotifyRequest
// to every connection listening to it, in the background as Nacos's RpcConfigChangeNotifier
// does.
func (st *state) putConfig(key configKey, content string) {
	st.mu.Lock()
	if content == "" {
		if _, ok := st.configs[key]; !ok {
			st.mu.Unlock()
			return
		}
		delete(st.configs, key)
	} else {
		st.configs[key] = configItem{content: content, md5: md5Hex(content), lastModified: time.Now().UnixMilli()}
	}
	listeners := st.configListenersOf(key)
	st.mu.Unlock()
	for _, c := range listeners {
		st.pushes.Go(func() { st.pushConfigChange(c, key) })
	}
}

// configListenersOf returns the connections listening to key. Caller holds st.mu.
func (st *state) configListenersOf(key configKey) []*conn {
	var out []*conn
	for _, addr := range slices.Sorted(maps.Keys(st.conns)) {
		c := st.conns[addr]
		c.mu.Lock()
		if c.listens[key] && !c.closed {
			out = append(out, c)
		}
		c.mu.Unlock()
	}
	return out
}

// listen records (or, with on false, drops) a connection's listen on key and reports whether
// the client's md5 is out of date (ConfigCacheService.isUptodate; an absent configuration has
// the md5 "").
func (st *state) listen(c *conn, key configKey, clientMd5 string, on bool) (changed bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	c.mu.Lock()
	if on {
		c.listens[key] = true
	} else {
		delete(c.listens, key)
	}
	c.mu.Unlock()
	return on && st.configs[key].md5 != clientMd5
}
