// Package diag defines the diagnostics that every pipeline stage reports: a problem found in
// registry data, IDL, rules or translation, tied to the thing it is about. Diagnostics never stop
// the pipeline; they explain what was skipped or chosen and why.
//
// Every diagnostic carries a Code (codes.go): a stable name for the kind of finding, which
// docs/troubleshooting.md explains with what to do about it. Messages may be reworded; codes
// are not renamed.
package diag

import (
	"cmp"
	"fmt"
	"slices"
)

// Severity says how much a diagnostic matters.
type Severity string

const (
	// Info is a fact worth knowing, such as a route served only by the embedded gateway.
	Info Severity = "info"
	// Warning is input that was skipped or repaired; the rest still works.
	Warning Severity = "warning"
	// Error is input that could not be used at all.
	Error Severity = "error"
)

// Diagnostic is one finding of a pipeline stage.
type Diagnostic struct {
	// Severity is how much the finding matters.
	Severity Severity `json:"severity" yaml:"severity"`
	// Code names the kind of finding ("registry.unreachable"); docs/troubleshooting.md lists
	// every code.
	Code Code `json:"code" yaml:"code"`
	// Stage is the pipeline stage or source that found it, such as "registry/zk1" or "bridge".
	Stage string `json:"stage" yaml:"stage"`
	// Subject names what the finding is about: a service ID, a registry path, a file:line.
	Subject string `json:"subject" yaml:"subject"`
	// Message says what is wrong and what was done about it.
	Message string `json:"message" yaml:"message"`
}

// String renders the diagnostic on one line: "warning [bridge.metadata-conflict] bridge:
// dubbo:com.foo.Greeter::: metadata ...".
func (d Diagnostic) String() string {
	return fmt.Sprintf("%s [%s] %s: %s: %s", d.Severity, d.Code, d.Stage, d.Subject, d.Message)
}

// Sort orders diagnostics by stage, subject, message, severity and code so that output is
// deterministic.
func Sort(ds []Diagnostic) {
	slices.SortFunc(ds, func(a, b Diagnostic) int {
		return cmp.Or(
			cmp.Compare(a.Stage, b.Stage),
			cmp.Compare(a.Subject, b.Subject),
			cmp.Compare(a.Message, b.Message),
			cmp.Compare(a.Severity, b.Severity),
			cmp.Compare(a.Code, b.Code),
		)
	})
}
