package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// versionInfo is what `etlscope version` prints, from the build info the
// Go toolchain embeds in the binary.
type versionInfo struct {
	Module   string `json:"module"`
	Version  string `json:"version"`            // module version: a tag, a pseudo-version or "(devel)"
	Revision string `json:"revision,omitempty"` // VCS commit
	Time     string `json:"time,omitempty"`     // commit time, RFC 3339
	Modified bool   `json:"modified"`           // built from a work tree with uncommitted changes
	Go       string `json:"go"`
}

// readVersion extracts versionInfo from build info (nil when the binary has
// none, as in some test binaries).
func readVersion(bi *debug.BuildInfo) versionInfo {
	v := versionInfo{Module: "github.com/etlscope/etlscope", Version: "(unknown)"}
	if bi == nil {
		return v
	}
	v.Go = bi.GoVersion
	if bi.Main.Path != "" {
		v.Module = bi.Main.Path
	}
	if bi.Main.Version != "" {
		v.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

// String renders v on one line: "etlscope v1.2.3 (commit 0123abcd…, 2026-01-02T03:04:05Z, modified) go1.26".
func (v versionInfo) String() string {
	var extra []string
	if v.Revision != "" {
		extra = append(extra, "commit "+v.Revision)
	}
	if v.Time != "" {
		extra = append(extra, v.Time)
	}
	if v.Modified {
		extra = append(extra, "modified")
	}
	s := "etlscope " + v.Version
	if len(extra) > 0 {
		s += " (" + strings.Join(extra, ", ") + ")"
	}
	if v.Go != "" {
		s += " " + v.Go
	}
	return s
}

func buildVersion() versionInfo {
	bi, _ := debug.ReadBuildInfo()
	return readVersion(bi)
}

type versionOptions struct{ output string }

func newVersionCmd(s *streams) *cobra.Command {
	o := &versionOptions{}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the etlscope version, VCS revision and Go version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVersion(s.Out, o.output)
		},
	}
	cmd.Flags().StringVarP(&o.output, "output", "o", "table", "output format: table|json")
	return cmd
}

func runVersion(w io.Writer, output string) error {
	v := buildVersion()
	switch output {
	case "json":
		return writeJSON(w, v)
	case "table", "":
		_, err := fmt.Fprintln(w, v.String())
		return err
	}
	return usageError(fmt.Errorf("unknown output format %q for version (want table or json)", output))
}
