// Package dubbourl parses Dubbo provider URLs such as
// "dubbo://10.0.0.1:20880/com.foo.Greeter?interface=com.foo.Greeter&version=1.0.0&methods=a,b",
// the form in which Dubbo providers register themselves (URL-encoded once more as ZooKeeper node
// names, Nacos metadata and the like).
//
// Parse is strict about what a registry adapter cannot use (no host, a bad port, no interface, bad
// percent escapes) and bounded in what it accepts (MaxLength, MaxParams), so that one malformed or
// hostile entry can be reported and skipped without affecting its siblings.
package dubbourl

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MaxLength is the longest raw URL Parse accepts, in bytes.
const MaxLength = 64 << 10

// MaxParams is the largest number of query parameters Parse accepts.
const MaxParams = 1000

// DefaultWeight is the weight of a provider that has none (or Dubbo's weight<=0).
const DefaultWeight = 100

// ErrTooLarge is wrapped by the errors Parse returns for URLs over MaxLength or MaxParams.
var ErrTooLarge = errors.New("dubbo url too large")

// URL is a parsed Dubbo provider URL.
type URL struct {
	// Protocol is the URL scheme: "dubbo", "tri", "triple", "rest", ...
	Protocol string
	// Host is the provider's IP address or host name, without brackets for IPv6.
	Host string
	// Port is the provider's port, 1..65535.
	Port uint16
	// Path is the URL path without its leading slash, usually the interface name.
	Path string
	// Params are the decoded query parameters; a repeated key keeps its last value.
	Params map[string]string
}

// Parse parses a Dubbo URL that has already been decoded from its registry encoding (for
// ZooKeeper node names: url.QueryUnescape). Query keys and values are percent-decoded once more,
// with '+' kept as is. User info ("user:pass@") is accepted and dropped.
func Parse(raw string) (URL, error) {
	if len(raw) > MaxLength {
		return URL{}, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(raw), MaxLength)
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return URL{}, errors.New(`missing "://" after the protocol`)
	}
	if err := checkScheme(scheme); err != nil {
		return URL{}, err
	}
	rest, query, _ := strings.Cut(rest, "?")
	authority, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		authority, path = rest[:i], rest[i+1:]
	}
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		authority = authority[i+1:]
	}
	host, port, err := splitHostPort(authority)
	if err != nil {
		return URL{}, err
	}
	path, err = unescape(path)
	if err != nil {
		return URL{}, fmt.Errorf("path: %w", err)
	}
	params, err := parseQuery(query)
	if err != nil {
		return URL{}, err
	}
	u := URL{Protocol: scheme, Host: host, Port: port, Path: path, Params: params}
	if u.Interface() == "" {
		return URL{}, errors.New("empty interface: no interface parameter and no path")
	}
	return u, nil
}

func checkScheme(s string) error {
	if s == "" {
		return errors.New("missing protocol")
	}
	for i, c := range []byte(s) {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		other := c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'
		if !letter && (i == 0 || !other) {
			return fmt.Errorf("invalid protocol %q", s)
		}
	}
	return nil
}

func splitHostPort(authority string) (string, uint16, error) {
	if authority == "" {
		return "", 0, errors.New("missing host")
	}
	var host, port string
	if strings.HasPrefix(authority, "[") {
		end := strings.IndexByte(authority, ']')
		if end < 0 {
			return "", 0, fmt.Errorf("unterminated IPv6 address in %q", authority)
		}
		host = authority[1:end]
		after := authority[end+1:]
		if !strings.HasPrefix(after, ":") {
			return "", 0, fmt.Errorf("missing port in %q", authority)
		}
		port = after[1:]
		if _, err := netip.ParseAddr(host); err != nil {
			return "", 0, fmt.Errorf("invalid IPv6 address %q", host)
		}
	} else {
		i := strings.LastIndexByte(authority, ':')
		if i < 0 {
			return "", 0, fmt.Errorf("missing port in %q", authority)
		}
		host, port = authority[:i], authority[i+1:]
		if err := checkHostName(host); err != nil {
			return "", 0, err
		}
	}
	if host == "" {
		return "", 0, errors.New("missing host")
	}
	n, err := strconv.ParseUint(port, 10, 32)
	if err != nil || port[0] == '+' {
		return "", 0, fmt.Errorf("bad port %q", port)
	}
	if n == 0 || n > math.MaxUint16 {
		return "", 0, fmt.Errorf("port %d out of range 1..65535", n)
	}
	return host, uint16(n), nil
}

// checkHostName accepts IPv4 addresses and DNS-like names ([A-Za-z0-9._-]).
func checkHostName(h string) error {
	if h == "" {
		return errors.New("missing host")
	}
	for _, c := range []byte(h) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '-' || c == '_'
		if !ok {
			return fmt.Errorf("invalid host %q", h)
		}
	}
	return nil
}

func parseQuery(query string) (map[string]string, error) {
	params := map[string]string{}
	n := 0
	for piece := range strings.SplitSeq(query, "&") {
		if piece == "" {
			continue
		}
		if n++; n > MaxParams {
			return nil, fmt.Errorf("%w: more than %d parameters", ErrTooLarge, MaxParams)
		}
		k, v, _ := strings.Cut(piece, "=")
		key, err := unescape(k)
		if err != nil {
			return nil, fmt.Errorf("parameter %q: %w", k, err)
		}
		value, err := unescape(v)
		if err != nil {
			return nil, fmt.Errorf("parameter %q: %w", key, err)
		}
		if key != "" {
			params[key] = value
		}
	}
	return params, nil
}

// Interface is the "interface" parameter, or the path when there is none.
func (u URL) Interface() string {
	if v := u.Params["interface"]; v != "" {
		return v
	}
	return u.Path
}

// Version is the "version" parameter ("" when none).
func (u URL) Version() string { return u.Params["version"] }

// Group is the "group" parameter ("" when none).
func (u URL) Group() string { return u.Params["group"] }

// Methods are the names in the "methods" parameter (see ParseMethods); nil when the provider
// does not advertise them.
func (u URL) Methods() []string { return ParseMethods(u.Params["methods"]) }

// Weight is the "weight" parameter; absent, unparsable and <=0 values give DefaultWeight.
func (u URL) Weight() uint32 {
	w, err := strconv.ParseInt(strings.TrimSpace(u.Params["weight"]), 10, 64)
	switch {
	case err != nil || w <= 0:
		return DefaultWeight
	case w > math.MaxUint32:
		return math.MaxUint32
	}
	return uint32(w)
}

// Timeout is the "timeout" parameter (milliseconds); ok is false when it is absent or not a
// positive number.
func (u URL) Timeout() (d time.Duration, ok bool) {
	ms, err := strconv.ParseInt(strings.TrimSpace(u.Params["timeout"]), 10, 64)
	if err != nil || ms <= 0 || ms > math.MaxInt64/int64(time.Millisecond) {
		return 0, false
	}
	return time.Duration(ms) * time.Millisecond, true
}

// String renders the URL so that Parse gives back the same fields: parameters sorted by key,
// keys, values and path segments percent-encoded where needed.
func (u URL) String() string {
	var b strings.Builder
	b.WriteString(u.Protocol)
	b.WriteString("://")
	if strings.Contains(u.Host, ":") {
		b.WriteString("[" + u.Host + "]")
	} else {
		b.WriteString(u.Host)
	}
	b.WriteString(":")
	b.WriteString(strconv.Itoa(int(u.Port)))
	b.WriteString("/")
	b.WriteString(escapePath(u.Path))
	for i, k := range slices.Sorted(maps.Keys(u.Params)) {
		if i == 0 {
			b.WriteString("?")
		} else {
			b.WriteString("&")
		}
		b.WriteString(escape(k) + "=" + escape(u.Params[k]))
	}
	return b.String()
}
