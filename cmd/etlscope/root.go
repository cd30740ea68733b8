package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/spf13/cobra"
)

// Exit codes shared by all commands.
const (
	exitOK         = 0
	exitUsage      = 1
	exitBadInput   = 2
	exitTLSProblem = 3
	// exitInconclusive is analyze's "cannot tell": data missing, damaged or lost.
	exitInconclusive = 4
)

// streams are the IO streams a command runs with; tests pass buffers.
type streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer

	priv *privacyOptions // the root's --show-secrets, --redact-key, --public-name
	mach *machine        // nil: the real machine (see streams.machine)
	ui   uiFlags         // the root's --quiet, --wide, --local
}

// uiFlags are the root flags about how output looks, parsed anew by each
// run (never package state: runs may be concurrent, as tests are).
type uiFlags struct {
	quiet bool // --quiet: no progress output
	wide  bool // --wide: every table column in full
	local bool // --local: times in the trace's time zone
}

// privacy returns the privacy flags (zero values when none were parsed).
func (s *streams) privacy() *privacyOptions {
	if s.priv == nil {
		s.priv = &privacyOptions{}
	}
	return s.priv
}

// exitError carries a specific exit code out of a command's run function.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// badInput marks err as "input file unreadable or corrupt" (exit 2).
func badInput(err error) error { return &exitError{code: exitBadInput, err: err} }

// usageError marks err as a usage error (exit 1).
func usageError(err error) error { return &exitError{code: exitUsage, err: err} }

// newRootCmd builds the command tree. Each command lives in its own file and
// has an options struct plus a run function that takes the IO streams.
func newRootCmd(s *streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "etlscope",
		Short: "Read Windows .etl traces and diagnose TLS failures, on any OS",
		Long: `etlscope reads Windows ETW trace files (.etl), such as the NetTrace.etl written by
"netsh trace start scenario=InternetClient", on Windows, Linux or macOS. It shows
which TLS versions WinHTTP/WinINet enabled (WebIO EnabledProtocols), what was offered
and negotiated on the wire, why a handshake failed, and how to fix it.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.Version = buildVersion().String()
	root.SetVersionTemplate("{{.Version}}\n")
	root.PersistentFlags().BoolVarP(&s.ui.quiet, "quiet", "q", false, "no progress output on stderr")
	s.privacy().addFlags(root.PersistentFlags())
	root.PersistentFlags().BoolVar(&s.ui.wide, "wide", false, "print every table column in full, whatever the terminal width")
	root.PersistentFlags().BoolVar(&s.ui.local, "local", false, "show times in the time zone of the machine that wrote the trace (default: UTC)")
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	root.AddCommand(commands(s)...)
	return root
}

// commandConstructors is the list of subcommand builders, in help order.
// Each command file adds itself here (keep one line per command).
var commandConstructors = []func(*streams) *cobra.Command{
	newAnalyzeCmd,
	newInfoCmd,
	newEventsCmd,
	newConversationsCmd,
	newPcapCmd,
	newRedactCmd,
	newViewCmd,
	newCaptureCmd,
	newDoctorCmd,
	newWatchCmd,
	newVersionCmd,
}

func commands(s *streams) []*cobra.Command {
	out := make([]*cobra.Command, 0, len(commandConstructors))
	for _, c := range commandConstructors {
		out = append(out, c(s))
	}
	return out
}

// run executes the CLI with args and returns the process exit code.
func run(args []string, s *streams) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	root := newRootCmd(s)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(s.Err, "etlscope:", ee.err)
		}
		return ee.code
	}
	// Anything cobra itself rejects (unknown command or flag, wrong number of
	// arguments) is a usage error.
	fmt.Fprintln(s.Err, "etlscope:", err)
	return exitUsage
}
