package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/etlscope/etlscope/etl/decode"
	"net"
	"net/http"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/etlscope/etlscope/viewer"
)

type viewOptions struct {
	addr      string
	noBrowser bool
	redact    bool
	manifests []string // --manifest
	// open shows url in the default browser; tests replace it.
	open func(url string) error
}

func newViewCmd(s *streams) *cobra.Command {
	o := &viewOptions{open: openBrowser}
	cmd := &cobra.Command{
		Use:   "view FILE.etl",
		Short: "Browse the trace in a local web page: verdicts, events with filters, details, conversations",
		Long: `view serves a read-only page for one trace on 127.0.0.1 and opens it in the default
browser: the verdicts of analyze at the top, the event list with a filter box (the
language of events --filter), every decoded field and the payload of the selected
event, and the TCP/TLS conversations with links to their events.

The first line of output is the page's URL with a random access token; requests
without it are refused. Add &filter=EXPR (URL-encoded) to the URL to open it
filtered. Nothing is loaded from the network. The server runs until Ctrl-C.`,
		Example: `  etlscope view NetTrace.etl
  etlscope view NetTrace.etl --no-browser --addr 127.0.0.1:8080 --redact`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runView(cmd.Context(), o, args[0], s)
		},
	}
	cmd.Flags().StringVar(&o.addr, "addr", "127.0.0.1:0", "address to listen on (a loopback address; port 0 picks a free port)")
	cmd.Flags().BoolVar(&o.noBrowser, "no-browser", false, "only print the URL; do not open a browser")
	cmd.Flags().BoolVar(&o.redact, "redact", false, "replace host names, IPs and user names with stable placeholders; hide credential events and payload bytes")
	cmd.Flags().StringArrayVar(&o.manifests, "manifest", nil, "instrumentation manifest (.xml) to decode more providers (repeatable)")
	return cmd
}

func runView(ctx context.Context, o *viewOptions, path string, s *streams) error {
	host, _, err := net.SplitHostPort(o.addr)
	if err != nil {
		return usageError(fmt.Errorf("--addr %q: %w", o.addr, err))
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return usageError(fmt.Errorf("--addr %q: the viewer listens on a loopback address only (127.0.0.1 or ::1)", o.addr))
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM)
	defer stop()
	token, err := viewer.NewToken()
	if err != nil {
		return err
	}
	// The manifests are checked here, so that a bad one is a usage error
	// now rather than a failing page later; each reading pass of the
	// viewer loads them again (a decoder cannot be copied).
	if _, err := newDecoder(o.manifests); err != nil {
		return err
	}
	vo := viewer.Options{Redact: o.redact, NewDecoder: func() *decode.Decoder {
		d, err := newDecoder(o.manifests)
		if err != nil {
			d = decode.New() // the files changed since: built-in schemas
		}
		return s.privacy().applyTo(d)
	}}
	if o.redact {
		vo.Redactor = s.privacy().newRedactor()
	}
	tr, err := viewer.Open(path, vo)
	if err != nil {
		return badInput(err)
	}
	defer tr.Close()
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return usageError(fmt.Errorf("listen on %s: %w", o.addr, err))
	}
	url := fmt.Sprintf("http://%s/?token=%s", ln.Addr(), token)
	if _, err := fmt.Fprintln(s.Out, url); err != nil {
		ln.Close()
		return fmt.Errorf("write output: %w", err)
	}
	fmt.Fprintf(s.Err, "serving %s at the URL above; press Ctrl-C to stop\n", path)
	srv := &http.Server{Handler: viewer.Handler(tr, token), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if !o.noBrowser && o.open != nil {
		if err := o.open(url); err != nil {
			fmt.Fprintf(s.Err, "could not open a browser (%v); open the URL above yourself\n", err)
		}
	}
	select {
	case <-ctx.Done():
	case err := <-served:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	return nil
}

// openBrowser opens url in the default browser without waiting for it.
func openBrowser(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	case "darwin":
		cmd = exec.Command("open", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait() // reap it
	return nil
}
