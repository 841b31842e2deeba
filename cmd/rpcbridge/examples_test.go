package main

import (
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// walk calls fn for cmd and every command below it.
func walk(cmd *cobra.Command, fn func(*cobra.Command)) {
	fn(cmd)
	for _, c := range cmd.Commands() {
		walk(c, fn)
	}
}

// TestEveryCommandHasExamples fails when a command's help has no Example block, and when an
// example line that runs rpcbridge names a command or a flag that does not exist.
func TestEveryCommandHasExamples(t *testing.T) {
	root := newRootCommand(io.Discard, io.Discard)
	commands := 0
	walk(root, func(cmd *cobra.Command) {
		commands++
		if strings.TrimSpace(cmd.Example) == "" {
			t.Errorf("%q has no Example: set cobra.Command.Example", cmd.CommandPath())
			return
		}
		for _, line := range strings.Split(cmd.Example, "\n") {
			if args, ok := exampleArgs(line); ok {
				checkExample(t, cmd, args)
			}
		}
	})
	if commands < 10 {
		t.Fatalf("walked %d commands; the tree is not what the test expects", commands)
	}
}

// exampleArgs returns the arguments of an example line that runs rpcbridge, up to the first
// shell operator, without quotes; ok is false for comments and other commands.
func exampleArgs(line string) ([]string, bool) {
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, "rpcbridge ") {
		return nil, false
	}
	if i := strings.IndexAny(line, "|&;<>#"); i >= 0 {
		line = line[:i]
	}
	var args []string
	for _, f := range strings.Fields(line)[1:] {
		args = append(args, strings.Trim(f, `"'`))
	}
	return args, true
}

// checkExample finds the command args run, expecting the one whose help shows them (or one of
// its subcommands, for the root's and idl's overview examples), and parses its flags.
func checkExample(t *testing.T, in *cobra.Command, args []string) {
	t.Helper()
	root := newRootCommand(io.Discard, io.Discard) // fresh flags for every line
	cmd, rest, err := root.Find(args)
	if err != nil {
		t.Errorf("%s: example %q: %v", in.CommandPath(), strings.Join(args, " "), err)
		return
	}
	if !strings.HasPrefix(cmd.CommandPath(), in.CommandPath()) {
		t.Errorf("%s: example %q runs %s", in.CommandPath(), strings.Join(args, " "), cmd.CommandPath())
	}
	if err := cmd.ParseFlags(rest); err != nil {
		t.Errorf("%s: example %q: %v", in.CommandPath(), strings.Join(args, " "), err)
	}
	if cmd.Args != nil {
		if err := cmd.Args(cmd, cmd.Flags().Args()); err != nil {
			t.Errorf("%s: example %q: %v", in.CommandPath(), strings.Join(args, " "), err)
		}
	}
}
