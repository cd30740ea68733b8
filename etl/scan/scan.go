// Package scan is the one read pipeline of etlscope: it opens a trace,
// streams its events in time order, decodes the ones a command needs,
// applies the user's filter and collects what went wrong with the file as
// integrity findings instead of errors. Every command reads through it.
//
//	res, err := scan.Run(ctx, f, scan.Options{Filter: flt}, func(e *scan.Event) error {
//		fmt.Println(e.Decoded.Description())
//		return nil
//	})
//
// Only fatal problems (an I/O error, a cancelled context, an error from the
// visitor) end the scan with an error; a damaged buffer or a truncated file
// ends up in Result.Integrity and the scan goes on with what can be read.
//
// On a machine with more than one core, a scan in time order reads,
// decodes and filters on a goroutine of its own while the visitor runs
// (Options.Ahead): the visitor sees exactly what it would see otherwise.
package scan

import (
	"context"
	"errors"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/decode"
	"github.com/etlscope/etlscope/filters"
)

// ErrStop, returned by a visitor, ends the scan early without an error
// (for example after --limit events).
var ErrStop = errors.New("scan: stop")

// IssueStopped notes that a scan ended early (a visitor returned ErrStop):
// the rest of the file was not read, so it was not checked either. It is
// not a loss of data.
const IssueStopped etl.IssueKind = "stopped"

// Options control Run.
type Options struct {
	// FileOrder reads buffer by buffer in file order instead of merging
	// the per-CPU streams by time (counting needs no order).
	FileOrder bool
	// NoTimes leaves Event.Time zero (etl.ReadOptions.NoTimes): for
	// visitors that do not look at times, such as counting.
	NoTimes bool
	// Decode selects the events to decode; nil decodes every event. Events
	// that are not decoded reach the visitor with a nil Decoded and are
	// not subject to Filter.
	Decode func(*etl.Event) bool
	// Filter keeps only the decoded events it matches; nil keeps all.
	Filter *filters.Filter
	// Decoder decodes the events; nil uses the built-in schemas. Its OS
	// build is set from the trace header.
	Decoder *decode.Decoder
	// OnIssue, when set, is called with each integrity finding as it is
	// found (for a warning line on stderr); Result.Integrity has them all.
	OnIssue func(etl.Issue)
	// Ahead says whether the file is read, decoded and filtered on
	// another goroutine while the visitor runs (see runAhead); the
	// default does so in time order on files of a few MB and more when
	// there is more than one core. Decode, Filter and Decoder are then
	// used on that goroutine; OnIssue and the visitor never are.
	Ahead Ahead
}

// Event is one event of the scan.
type Event struct {
	*etl.Event
	// Decoded is the decoded event, nil when Options.Decode did not select
	// it.
	Decoded *decode.Decoded
	// Index counts the events of the trace in reading order, from 0,
	// whether or not they reached the visitor.
	Index int
}

// Result is what a scan read.
type Result struct {
	Events  int // events read
	Visited int // events passed to the visitor
	// Integrity has what Open found and what this scan found up to where
	// it stopped (not what another pass over the file, or a reader
	// running ahead of a visitor that stopped, found beyond that).
	Integrity etl.Integrity
}

// Complete reports whether the trace was read without losing data.
func (r *Result) Complete() bool { return r.Integrity.Complete() }

// decoder decodes and filters the events a scan selects, the same way
// whether the scan reads inline or ahead. Its decoder is Options.Decoder,
// or the built-in one made when a first event is to be decoded (a scan
// that decodes nothing, as info's, does not build the schema index).
type decoder struct {
	d      *decode.Decoder
	build  uint32 // the trace's Windows build
	set    bool
	choose func(*etl.Event) bool // Options.Decode
	filter *filters.Filter       // Options.Filter
}

func newDecoder(f *etl.File, opts *Options) *decoder {
	return &decoder{d: opts.Decoder, build: f.Header().OSBuild, choose: opts.Decode, filter: opts.Filter}
}

// selects reports whether ev is to be decoded.
func (dc *decoder) selects(ev *etl.Event) bool { return dc.choose == nil || dc.choose(ev) }

// decode decodes ev into out and reports whether the filter keeps it.
func (dc *decoder) decode(ev *etl.Event, out *decode.Decoded) bool {
	d := dc.get()
	d.Observe(ev)
	d.DecodeTo(out, ev)
	return dc.filter == nil || dc.filter.Match(out)
}

func (dc *decoder) get() *decode.Decoder {
	if !dc.set {
		if dc.d == nil {
			dc.d = decode.New()
		}
		dc.d.SetOSBuild(dc.build)
		dc.set = true
	}
	return dc.d
}

// readOptions are the reader's options of a scan with opts.
func (opts *Options) readOptions(onIssue func(etl.Issue)) etl.ReadOptions {
	return etl.ReadOptions{FileOrder: opts.FileOrder, NoTimes: opts.NoTimes, OnIssue: onIssue}
}

// Run reads f once and calls visit for each selected event. The *Event and
// what it points to are valid only during the call.
func Run(ctx context.Context, f *etl.File, opts Options, visit func(*Event) error) (*Result, error) {
	dec := newDecoder(f, &opts)
	res := &Result{}
	// Open found what the logfile and buffer headers say (losses,
	// truncation, damaged buffers, a wrapped circular file, fill); the
	// iteration adds damaged records and buffers as it meets them. The
	// result has exactly those of this scan, up to where it stopped:
	// not those of another pass over the file, nor those a reader
	// running ahead found beyond the point where the visitor stopped.
	seen := f.OpenIntegrity()
	if opts.OnIssue != nil {
		for _, is := range seen.Issues {
			opts.OnIssue(is)
		}
	}
	userIssue := opts.OnIssue
	opts.OnIssue = func(is etl.Issue) {
		seen.Add(is)
		if userIssue != nil {
			userIssue(is)
		}
	}
	defer func() {
		stopped := res.Integrity.Issues
		res.Integrity = seen
		for _, is := range stopped {
			res.Integrity.Add(is)
		}
	}()
	if ahead(f, opts) {
		return res, runAhead(ctx, f, opts, dec, res, visit)
	}
	e := &Event{}
	var one decode.Decoded // the decoded event, reused
	for ev, err := range f.Events(opts.readOptions(opts.OnIssue)) {
		if err != nil {
			return res, err
		}
		if res.Events%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return res, err
			}
		}
		e.Event, e.Decoded, e.Index = ev, nil, res.Events
		res.Events++
		if dec.selects(ev) {
			if !dec.decode(ev, &one) {
				continue
			}
			e.Decoded = &one
		}
		res.Visited++
		if err := visit(e); err != nil {
			if errors.Is(err, ErrStop) {
				res.Integrity.Add(stopped(ev))
				break
			}
			return res, err
		}
	}
	return res, nil
}
