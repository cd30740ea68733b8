package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/spf13/cobra"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/redact"
)

type redactOptions struct {
	force     bool
	mapFile   string
	manifests []string
}

func newRedactCmd(s *streams) *cobra.Command {
	o := &redactOptions{}
	cmd := &cobra.Command{
		Use:   "redact IN.etl OUT.etl",
		Short: "Write a sanitized copy of a trace that is safe to attach to a ticket",
		Long: `redact writes OUT.etl: the same buffers and records as IN.etl with every host and
machine name, IP and MAC address, user and domain name, e-mail address and profile path
replaced in place by a placeholder of the same length (host-1___), credentials and
binary values cleared, packet addresses mapped consistently (checksums fixed) and packet
payloads cut to what the TLS diagnosis needs: TCP/IP headers, TLS record headers and the
unencrypted handshake without the certificates. Compressed input is written uncompressed.
"etlscope analyze OUT.etl" gives the same verdicts, "conversations" the same versions,
ciphers and outcomes. Public service names (outlook.office365.com, CRL/OCSP hosts) and
file names are kept. --map writes the placeholder map for you to keep (never into OUT).`,
		Example: `  etlscope redact NetTrace.etl NetTrace-redacted.etl --map NetTrace-map.json`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRedact(cmd.Context(), o, args[0], args[1], s)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&o.force, "force", false, "overwrite OUT.etl (and the --map file) if they exist")
	fl.StringVar(&o.mapFile, "map", "", "write the placeholder → original map (JSON) to this file, for your own records")
	fl.StringArrayVar(&o.manifests, "manifest", nil, "instrumentation manifest (.xml) to decode more providers (repeatable)")
	return cmd
}

func runRedact(ctx context.Context, o *redactOptions, in, out string, s *streams) (err error) {
	if same(in, out) || (o.mapFile != "" && (same(in, o.mapFile) || same(out, o.mapFile))) {
		return usageError(fmt.Errorf("IN, OUT and --map must be different files"))
	}
	for _, p := range []string{out, o.mapFile} {
		if p == "" || o.force {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return usageError(fmt.Errorf("%s exists; use --force to overwrite it", p))
		}
	}
	dec, err := newDecoder(o.manifests)
	if err != nil {
		return err
	}
	f, err := etl.Open(in)
	if err != nil {
		return badInput(err)
	}
	defer f.Close()
	defer startProgress(s, f, false)()

	// Write next to OUT and rename at the end: no half-written trace is
	// ever left under the name.
	tmp, err := os.CreateTemp(filepath.Dir(out), ".etlscope-redact-*.etl")
	if err != nil {
		return usageError(err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	r := s.privacy().newRedactor()
	sum, err := redact.Sanitize(ctx, f, tmp, dec, r)
	if err != nil {
		var fe *etl.FormatError
		if errors.Is(err, context.Canceled) {
			return err
		}
		if errors.As(err, &fe) {
			return badInput(fmt.Errorf("%s: %w", in, err))
		}
		return fmt.Errorf("redact %s: %w", in, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if o.mapFile != "" {
		if err := writeMap(o.mapFile, r.Map()); err != nil {
			return fmt.Errorf("write %s: %w", o.mapFile, err)
		}
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	fmt.Fprintf(s.Out, "wrote %s\n%s", out, sum)
	if o.mapFile != "" {
		fmt.Fprintf(s.Out, "placeholder map (keep it, do not attach it): %s\n", o.mapFile)
	}
	return nil
}

// same reports whether a and b name the same file.
func same(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// writeMap writes the placeholder map, readable by its owner only.
func writeMap(path string, m map[string]string) error {
	type entry struct {
		Placeholder string `json:"placeholder"`
		Original    string `json:"original"`
	}
	list := make([]entry, 0, len(m))
	for p, v := range m {
		list = append(list, entry{p, v})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Placeholder < list[j].Placeholder })
	b, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o600)
}
