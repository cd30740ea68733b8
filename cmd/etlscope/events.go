package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/decode"
	"github.com/etlscope/etlscope/etl/scan"
	"github.com/etlscope/etlscope/filters"
	"github.com/etlscope/etlscope/redact"
	"github.com/etlscope/etlscope/report"
)

type eventsOptions struct {
	example   bool
	output    string
	filter    string
	fields    []string
	limit     int
	manifests []string
	fileOrder bool
	redact    bool
}

func newEventsCmd(s *streams) *cobra.Command {
	o := &eventsOptions{}
	cmd := &cobra.Command{
		Use:   "events FILE.etl | --example",
		Short: "List the events of a trace, decoded, optionally filtered",
		Long: `events prints one line per event record, in time order across CPUs: time (UTC),
provider, event id, opcode, version, level, process and thread id, header kind and a
description rendered from the provider's message template, as Network Monitor showed it.

Filter with a Network-Monitor-style expression, for example:
  etlscope events NetTrace.etl -f 'description.contains("EnabledProtocols")'
  etlscope events NetTrace.etl -f 'provider == "Microsoft-Windows-WebIO" && id in (728,729,730)'
Add decoded properties as columns with --fields EnabledProtocols,Result.`,
		Example: `  etlscope events NetTrace.etl --limit 20
  etlscope events NetTrace.etl -f 'EnabledProtocols & 0x800' --output json`,
		Args: traceArgs(&o.example),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEvents(cmd.Context(), o, args, s)
		},
	}
	exampleFlag(cmd, &o.example)
	fl := cmd.Flags()
	fl.StringVarP(&o.output, "output", "o", "table", "output format: "+report.FormatList())
	fl.StringVarP(&o.filter, "filter", "f", "", "show only events matching this filter expression")
	fl.StringSliceVar(&o.fields, "fields", nil, "extra columns: decoded property names (comma-separated)")
	fl.IntVarP(&o.limit, "limit", "n", 0, "stop after this many matching events (0 = all)")
	fl.StringArrayVar(&o.manifests, "manifest", nil, "instrumentation manifest (.xml) to decode more providers (repeatable)")
	fl.BoolVar(&o.fileOrder, "file-order", false, "list records in file order instead of merging CPUs by time (faster)")
	fl.BoolVar(&o.redact, "redact", false, "hide host names, IP addresses and user names; drop WinHttp credential events")
	return cmd
}

// newDecoder returns a decoder with the built-in schemas plus the given
// manifests.
func newDecoder(manifests []string) (*decode.Decoder, error) {
	d := decode.New()
	for _, m := range manifests {
		if err := loadManifest(d, m); err != nil {
			return nil, usageError(err)
		}
	}
	return d, nil
}

// formatAndFilter parses the --output and --filter flags shared by the
// commands that read events; both problems are usage errors, and so is a
// field of the filter that is not in known (nil: no check).
func formatAndFilter(output, filter string, known []string) (report.Format, *filters.Filter, error) {
	format, err := report.ParseFormat(output)
	if err != nil {
		return "", nil, usageError(err)
	}
	flt, err := compileFilter(filter)
	if err != nil {
		return "", nil, err
	}
	if known != nil {
		if err := checkFilterFields(flt, known); err != nil {
			return "", nil, err
		}
	}
	return format, flt, nil
}

func compileFilter(expr string) (*filters.Filter, error) {
	if strings.TrimSpace(expr) == "" {
		return nil, nil
	}
	f, err := filters.Compile(expr)
	if err != nil {
		return nil, usageError(fmt.Errorf("bad filter:\n%w", err))
	}
	return f, nil
}

func runEvents(ctx context.Context, o *eventsOptions, args []string, s *streams) error {
	if o.limit < 0 {
		return usageError(fmt.Errorf("--limit %d: want 0 (all) or a positive number", o.limit))
	}
	dec, err := newDecoder(o.manifests)
	if err != nil {
		return err
	}
	known := dec.KnownFields()
	format, flt, err := formatAndFilter(o.output, o.filter, known)
	if err != nil {
		return err
	}
	fields, err := checkFieldNames(o.fields, known)
	if err != nil {
		return err
	}
	s.privacy().applyTo(dec)
	t, err := openInput(args, o.example, s)
	if err != nil {
		return err
	}
	defer t.Close()
	defer startProgress(s, t.File, true)()

	// Rows go out in 64 KB writes (a terminal gets each row as it comes).
	bw := bufio.NewWriterSize(s.Out, 64<<10)
	defer bw.Flush()
	out, err := newEventWriter(bw, format, fields, renderOptions(s, t.Header()))
	if err != nil {
		return err
	}
	out.flushRows = isTTY(s.Out)
	if o.redact {
		if out.red, err = s.privacy().learnRedactor(ctx, t, o.manifests); err != nil {
			return err
		}
	}
	n := 0
	opts := scan.Options{FileOrder: o.fileOrder, Filter: flt, Decoder: dec, OnIssue: issueWarner(s, t.Name)}
	res, err := scan.Run(ctx, t.File, opts, func(e *scan.Event) error {
		if o.redact && isCredentialEvent(e.Event) {
			return nil
		}
		if err := out.write(e.Decoded); err != nil {
			return &writeError{err}
		}
		n++
		if o.limit > 0 && n >= o.limit {
			return scan.ErrStop
		}
		return nil
	})
	var we *writeError
	if errors.As(err, &we) {
		return fmt.Errorf("write output: %w", we.err)
	}
	cerr := out.close(&res.Integrity)
	if cerr == nil {
		cerr = bw.Flush()
	}
	if cerr != nil {
		return fmt.Errorf("write output: %w", cerr)
	}
	if err != nil {
		return badInput(fmt.Errorf("%s: %w", t.Name, err))
	}
	return nil
}

// writeError marks a failure to write the output, which is not the
// input's fault.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }

var eventColumns = []string{"time", "provider", "id", "opcode", "version", "level", "pid", "tid", "kind", "description"}

// eventWriter renders decoded events in one output format.
type eventWriter struct {
	w         *bufio.Writer
	flushRows bool // flush after each event (a terminal)
	format    report.Format
	fields    []string
	rows      report.RowWriter
	n         int
	red       *redact.Redactor
	loc       *time.Location // --local: the trace's time zone

	// Reused from event to event.
	times report.TimeAppender
	row   report.Row
	buf   []byte
	js    jsonScratch
}

// isCredentialEvent reports whether ev carries credentials (WinHttp 100,
// WinHttpSetCredentials with user name and password).
func isCredentialEvent(ev *etl.Event) bool {
	return ev.Provider == decode.WinHttp && ev.ID == 100
}

// propText renders a property, redacted by its kind when asked (opaque
// bytes give "" and are dropped).
func (ew *eventWriter) propText(p decode.Property) string {
	v := p.Value
	if ew.red == nil {
		return v.String()
	}
	if ap, ok := v.AddrPort(); ok && ap.IsValid() {
		return ew.red.AddrPort(ap)
	}
	return ew.red.Value(p.Kind, v.String())
}

// prop returns the property called name (case-insensitive).
func prop(d *decode.Decoded, name string) (decode.Property, bool) {
	for _, p := range d.Properties {
		if strings.EqualFold(p.Name, name) {
			return p, true
		}
	}
	return decode.Property{}, false
}

// eventShape is how the events table fits a terminal: the description and
// the decoded fields are shortened, the least useful columns go first.
var eventShape = report.Shape{
	Drop:  []string{"version", "level", "kind", "opcode", "tid"},
	Fixed: []string{"time", "id", "pid", "tid", "version", "level"},
	Last:  []string{"description"},
}

func newEventWriter(w *bufio.Writer, format report.Format, fields []string, o report.Options) (*eventWriter, error) {
	ew := &eventWriter{w: w, format: format, fields: fields, loc: o.Loc, times: report.TimeAppender{Loc: o.Loc}}
	if format == report.FormatJSON {
		return ew, nil
	}
	cols := append(append([]string(nil), eventColumns...), fields...)
	rw, err := report.NewTableWriter(w, format, "", cols, eventShape, o)
	if err != nil {
		return nil, err
	}
	ew.rows = rw
	return ew, nil
}

// EventsJSON is the document of `etlscope events --output json`.
type EventsJSON struct {
	Events    []EventJSON          `json:"events"`
	Integrity report.IntegrityJSON `json:"integrity"`
}

// EventJSON is one element of `etlscope events --output json`.
type EventJSON struct {
	Time        time.Time      `json:"time"`
	Provider    string         `json:"provider"`
	ProviderID  string         `json:"provider_guid"`
	ID          uint16         `json:"id"`
	Version     uint8          `json:"version"`
	Level       uint8          `json:"level"`
	Opcode      uint8          `json:"opcode"`
	Task        uint16         `json:"task"`
	Keywords    string         `json:"keywords"`
	EventName   string         `json:"event,omitempty"`
	TaskName    string         `json:"task_name,omitempty"`
	OpcodeName  string         `json:"opcode_name,omitempty"`
	PID         *uint32        `json:"pid"` // null when the event has none (0xFFFFFFFF)
	TID         *uint32        `json:"tid"`
	CPU         uint16         `json:"cpu"`
	Kind        string         `json:"kind"`
	Offset      int64          `json:"offset"`
	Description string         `json:"description"`
	Properties  map[string]any `json:"properties,omitempty"`
	Warning     string         `json:"warning,omitempty"`
}

// noID is the process or thread id of events logged outside any process
// (kernel events, 0xFFFFFFFF).
const noID = 0xFFFFFFFF

// idText renders a process or thread id: "-" for noID.
func idText(id uint32) string {
	if id == noID {
		return "-"
	}
	return strconv.FormatUint(uint64(id), 10)
}

// isTTY reports whether w is a terminal (not merely a character device
// such as /dev/null).
func isTTY(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// appendIDText appends idText(id).
func appendIDText(dst []byte, id uint32) []byte {
	if id == noID {
		return append(dst, '-')
	}
	return strconv.AppendUint(dst, uint64(id), 10)
}

func providerLabel(d *decode.Decoded) string {
	if d.ProviderName != "" {
		return d.ProviderName
	}
	return d.Event.Provider.String()
}

func (ew *eventWriter) write(d *decode.Decoded) error {
	var err error
	if ew.format == report.FormatJSON {
		err = ew.writeJSON(d)
	} else {
		err = ew.writeRow(d)
	}
	if err == nil && ew.flushRows {
		err = ew.w.Flush()
	}
	return err
}

// writeJSON writes d as the next element of the "events" array.
func (ew *eventWriter) writeJSON(d *decode.Decoded) error {
	sep := ",\n"
	if ew.n == 0 {
		sep = "{\"events\": [\n"
	}
	ew.n++
	ew.buf = ew.appendJSON(append(ew.buf[:0], sep...), d)
	_, err := ew.w.Write(ew.buf)
	return err
}

// writeRow writes d as a row of the table formats.
func (ew *eventWriter) writeRow(d *decode.Decoded) error {
	ev, r := d.Event, &ew.row
	r.Reset()
	r.End(ew.times.Append(r.Start(), ev.Time))
	r.AddString(providerLabel(d))
	r.End(strconv.AppendUint(r.Start(), uint64(ev.ID), 10))
	if d.OpcodeName != "" {
		r.AddString(d.OpcodeName)
	} else {
		r.End(strconv.AppendUint(r.Start(), uint64(ev.Opcode), 10))
	}
	r.End(strconv.AppendUint(r.Start(), uint64(ev.Version), 10))
	r.End(strconv.AppendUint(r.Start(), uint64(ev.Level), 10))
	r.End(appendIDText(r.Start(), ev.PID))
	r.End(appendIDText(r.Start(), ev.TID))
	r.AddString(ev.Kind.String())
	if ew.red == nil {
		r.End(d.AppendDescription(r.Start()))
	} else {
		r.AddString(ew.red.Text(d.Description()))
	}
	for _, name := range ew.fields {
		p, ok := prop(d, name)
		switch {
		case ok && ew.red == nil:
			r.End(p.Value.AppendText(r.Start()))
		case ok:
			r.AddString(ew.propText(p))
		default:
			if hv, ok := d.Lookup(name); ok { // a header field such as task_name
				r.AddString(ew.red.Text(fmt.Sprint(hv)))
			} else {
				r.AddString("")
			}
		}
	}
	return report.WriteRow(ew.rows, r)
}

// close ends the listing and adds the trace's integrity: the
// "integrity" member of the JSON object, a note after the other formats.
func (ew *eventWriter) close(in *etl.Integrity) error {
	if ew.format == report.FormatJSON {
		end := "\n],\n\"integrity\": "
		if ew.n == 0 {
			end = "{\"events\": [],\n\"integrity\": "
		}
		if _, err := io.WriteString(ew.w, end); err != nil {
			return err
		}
		if err := writeJSONCompact(ew.w, report.Integrity(in)); err != nil {
			return err
		}
		_, err := io.WriteString(ew.w, "}\n")
		return err
	}
	if err := ew.rows.Close(); err != nil {
		return err
	}
	if ew.format == report.FormatTable {
		fmt.Fprintln(ew.w)
	}
	return report.WriteIntegrity(ew.w, ew.format, in)
}
