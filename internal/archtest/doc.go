// Package archtest enforces the package layering that docs/architecture.md states: its test reads
// the document's package and library tables and checks every import of every package of the
// module, as `go list` reports it, against them. The tables are the one owner of the layering;
// this package holds no rules of its own.
package archtest
