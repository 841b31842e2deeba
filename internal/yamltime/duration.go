// Package yamltime holds the duration type of everything rpcbridge reads from YAML (the
// configuration file, rule sets, golden inputs): a time.Duration written as "250ms", "5s" or
// "1m30s", never negative. A bad value is reported like any other type mismatch, naming its line,
// and does not stop the decoding of the rest of the document, so one run reports every problem.
package yamltime

import (
	"fmt"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is a time.Duration written as a Go duration string.
type Duration time.Duration

// UnmarshalYAML decodes a Go duration string. A bad value is returned as a *yaml.TypeError whose
// message starts with "line N: ": yaml.v3 collects such errors and goes on decoding, where any
// other error would abort the whole document.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	bad := func(format string, args ...any) error {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: ", n.Line) + fmt.Sprintf(format, args...)}}
	}
	var s string
	if n.Kind != yaml.ScalarNode || n.Decode(&s) != nil {
		return bad("want a duration such as 5s")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return bad("invalid duration %q: want a value such as 250ms, 5s or 1m", s)
	}
	if v < 0 {
		return bad("duration %q is negative", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML encodes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Std returns the value as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// Or returns d, or def when d is zero.
func (d Duration) Or(def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return time.Duration(d)
}
