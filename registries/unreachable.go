package registries

import (
	"slices"

	"github.com/rpcbridge/rpcbridge/diag"
)

// Stage is the diagnostic stage of the source called name: "registry/<name>". Every adapter
// reports its diagnostics under it, so that a reader can tell which registry a finding is about.
func Stage(name string) string { return "registry/" + name }

// Unreachable is the diagnostic a source publishes while it cannot reach or list its registry:
// subject names what it tried (the servers, the agent address), reason is the registry's or the
// client library's own error, so that the user sees why, not only that a registry is pending.
func Unreachable(source, subject, reason string) diag.Diagnostic {
	return diag.Diagnostic{Severity: diag.Error, Code: diag.RegistryUnreachable, Stage: Stage(source),
		Subject: subject, Message: reason}
}

// Stopped is the diagnostic published for a source whose Run returned an error: it does not
// retry, so its state stays as it was until the configuration changes.
func Stopped(source string, err error) diag.Diagnostic {
	return diag.Diagnostic{Severity: diag.Error, Code: diag.RegistryStopped, Stage: Stage(source),
		Subject: source, Message: err.Error() + "; the registry is not watched until its configuration changes"}
}

// UnreachableSnapshot is what a source publishes while its registry cannot be reached: before
// the first listing, a pending snapshot (Synced false) carrying only d; after it, last with
// Stale set and d added to its diagnostics. last is not modified.
func UnreachableSnapshot(source string, last *Snapshot, d diag.Diagnostic) Snapshot {
	if last == nil {
		return Snapshot{Source: source, Services: []Service{}, Diagnostics: []diag.Diagnostic{d}}
	}
	snap := *last
	snap.Stale = true
	snap.Diagnostics = append(slices.Clone(last.Diagnostics), d)
	diag.Sort(snap.Diagnostics)
	return snap
}

// Problems returns the RegistryUnreachable and RegistryStopped diagnostics among ds that are
// about the source called name: why it is pending or stale.
func Problems(name string, ds []diag.Diagnostic) []diag.Diagnostic {
	var out []diag.Diagnostic
	for _, d := range ds {
		if d.Stage == Stage(name) && (d.Code == diag.RegistryUnreachable || d.Code == diag.RegistryStopped) {
			out = append(out, d)
		}
	}
	return out
}
