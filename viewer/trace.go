package viewer

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/decode"
	"github.com/etlscope/etlscope/filters"
	"github.com/etlscope/etlscope/redact"
)

// Options configure a Trace.
type Options struct {
	// Name is the file name the page shows; with Redact it is replaced.
	Name string
	// Redact hides host names, addresses and user names, drops the
	// credential events and opaque bytes, as --redact does for the other
	// commands, and hides payload hex.
	Redact bool
	// Redactor is the redactor to use with Redact (configured by the
	// privacy flags); nil uses redact.NewRedactor(). The viewer teaches it
	// the trace's vocabulary first.
	Redactor *redact.Redactor
	// Every is the distance between checkpoints (0: the default); tests
	// use small values to cross many checkpoints.
	Every int
	// NewDecoder returns a decoder configured as the user asked (more
	// providers from --manifest, --show-secrets); nil uses the built-in
	// schemas. The viewer asks for one per reading pass.
	NewDecoder func() *decode.Decoder
}

// Trace is one trace served by the viewer: its position index, the
// diagnosis and the filters, each computed in the background.
type Trace struct {
	path string
	name string
	size int64
	hdr  etl.Header
	fh   *os.File
	ix   *index
	red  *redactor // nil without --redact

	decMu sync.Mutex
	dec   *decode.Decoder // observes every event while indexing; decodes rows
	// newDec is Options.NewDecoder.
	newDec func() *decode.Decoder

	ctx    context.Context // done when the trace is closed
	cancel context.CancelFunc
	wg     sync.WaitGroup

	diagDone chan struct{}
	diag     *diagnosis
	diagErr  error

	convOnce sync.Once
	convDone chan struct{}
	convs    []conversation
	convDrop int
	convErr  error

	filterMu sync.Mutex
	filters  []*filterJob // most recently used last
}

// maxFilterJobs bounds the filters whose matches are kept.
const maxFilterJobs = 4

// Open opens path, starts indexing it and diagnosing it in the
// background, and returns at once. Close stops the background work.
func Open(path string, o Options) (*Trace, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("etl: %w", err)
	}
	size := fileSize(path)
	f, err := etl.NewFile(fh, size)
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ix := newIndex(fh, size, o.Every)
	t := &Trace{path: path, name: o.Name, size: size, hdr: f.Header(), fh: fh, ix: ix,
		newDec: o.NewDecoder, diagDone: make(chan struct{}), convDone: make(chan struct{})}
	t.dec = t.newDecoder()
	if t.name == "" {
		t.name = path
	}
	var rr *redact.Redactor
	if o.Redact {
		rr = o.Redactor
		if rr == nil {
			rr = redact.NewRedactor()
		}
		t.red = &redactor{r: rr}
		t.name = "NetTrace.etl (name redacted)"
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.ctx, t.cancel = ctx, cancel
	t.wg.Add(2)
	go func() {
		defer t.wg.Done()
		ix.build(ctx, f, func(ev *etl.Event) {
			t.decMu.Lock()
			t.dec.Observe(ev)
			t.decMu.Unlock()
		})
	}()
	go func() {
		defer t.wg.Done()
		defer close(t.diagDone)
		if t.red != nil {
			// Learning and the diagnosis own the redactor while they run,
			// so that verdicts and rows use the same placeholders.
			t.red.mu.Lock()
			defer t.red.mu.Unlock()
			t.diag, t.diagErr = learnAndDiagnose(ctx, path, t.name, t.newDecoder(), rr)
			return
		}
		t.diag, t.diagErr = runDiagnosis(ctx, path, t.name, rr)
	}()
	return t, nil
}

// Close stops the background work and closes the file.
func (t *Trace) Close() error {
	t.cancel()
	t.wg.Wait()
	return t.fh.Close()
}

func (t *Trace) ctxDone() context.Context { return t.ctx }

// Diagnosis waits for the diagnosis.
func (t *Trace) Diagnosis(ctx context.Context) (*diagnosis, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.diagDone:
		return t.diag, t.diagErr
	}
}

// Row is one line of the event list.
type Row struct {
	Index       int    `json:"index"`
	Time        string `json:"time"`
	Provider    string `json:"provider"`
	ID          uint16 `json:"id"`
	PID         uint32 `json:"pid"`
	Level       uint8  `json:"level"`
	Description string `json:"description"`
}

// Field is one named value of the details pane.
type Field struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Detail is everything the viewer knows about one event.
type Detail struct {
	Row
	Header     []Field `json:"header"`
	Properties []Field `json:"properties"`
	Warning    string  `json:"warning,omitempty"`
	Hex        string  `json:"hex"`
	HexHidden  string  `json:"hex_hidden,omitempty"`
}

const credentialsHidden = "(credentials hidden: --redact)"

// row decodes ev; t.decMu is held.
func (t *Trace) rowLocked(i int, ev *etl.Event, d *decode.Decoded) Row {
	r := Row{Index: i, Time: formatTime(ev.Time), Provider: providerLabel(d), ID: ev.ID, PID: ev.PID, Level: ev.Level,
		Description: t.red.text(d.Description())}
	if t.red != nil && isCredentialEvent(ev) {
		r.Description = credentialsHidden
	}
	return r
}

func providerLabel(d *decode.Decoded) string {
	if d.ProviderName != "" {
		return d.ProviderName
	}
	return d.Event.Provider.String()
}

func (t *Trace) detailLocked(i int, ev *etl.Event, d *decode.Decoded) Detail {
	out := Detail{Row: t.rowLocked(i, ev, d), Warning: d.Warning}
	add := func(name, value string) { out.Header = append(out.Header, Field{name, value}) }
	add("time", formatTime(ev.Time))
	add("provider", providerLabel(d))
	add("provider_guid", ev.Provider.String())
	add("id", strconv.Itoa(int(ev.ID)))
	add("version", strconv.Itoa(int(ev.Version)))
	add("channel", strconv.Itoa(int(ev.Channel)))
	add("level", strconv.Itoa(int(ev.Level)))
	add("opcode", strconv.Itoa(int(ev.Opcode)))
	add("task", strconv.Itoa(int(ev.Task)))
	add("keywords", fmt.Sprintf("%#x", ev.Keywords))
	for _, nv := range [][2]string{{"event", d.EventName}, {"task_name", d.TaskName}, {"opcode_name", d.OpcodeName}} {
		if nv[1] != "" {
			add(nv[0], nv[1])
		}
	}
	add("pid", strconv.FormatUint(uint64(ev.PID), 10))
	add("tid", strconv.FormatUint(uint64(ev.TID), 10))
	add("cpu", strconv.Itoa(int(ev.CPU)))
	add("kind", ev.Kind.String())
	add("flags", fmt.Sprintf("%#04x", ev.Flags))
	if !ev.ActivityID.IsZero() {
		add("activity_id", ev.ActivityID.String())
	}
	if !ev.RelatedActivityID.IsZero() {
		add("related_activity_id", ev.RelatedActivityID.String())
	}
	add("offset", fmt.Sprintf("%#x", ev.Offset))
	add("buffer", strconv.Itoa(ev.Buffer))
	add("payload_bytes", strconv.Itoa(len(ev.UserData)))
	credential := t.red != nil && isCredentialEvent(ev)
	out.Properties = []Field{}
	if !credential {
		for _, p := range d.Properties {
			if v, ok := t.red.value(p); ok {
				out.Properties = append(out.Properties, Field{p.Name, v})
			}
		}
	}
	switch {
	case credential:
		out.HexHidden = credentialsHidden
	case t.red != nil:
		out.HexHidden = "payload hex hidden: --redact (it may hold names and addresses)"
	default:
		out.Hex = hex.Dump(ev.UserData)
	}
	return out
}

// Page is a slice of the event list.
type Page struct {
	Start    int    `json:"start"`
	Rows     []Row  `json:"rows"`
	Total    int    `json:"total"`    // events (or matches) known so far
	Complete bool   `json:"complete"` // Total is final
	Filter   string `json:"filter,omitempty"`
}

// maxPage bounds the rows of one request.
const maxPage = 1000

// Events returns rows [start, start+limit) of the event list, filtered by
// flt when not nil. It waits until the background work has reached them.
func (t *Trace) Events(ctx context.Context, flt *filters.Filter, start, limit int) (*Page, error) {
	limit = min(max(limit, 1), maxPage)
	start = max(start, 0)
	if err := t.waitRedactor(ctx); err != nil {
		return nil, err
	}
	if flt == nil {
		count, done, err := t.ix.wait(ctx, start+limit)
		if err != nil {
			return nil, err
		}
		p := &Page{Start: start, Total: count, Complete: done, Rows: []Row{}}
		if start >= count {
			return p, t.indexErr()
		}
		end := min(start+limit, count)
		err = t.ix.read(ctx, start, func(i int, ev *etl.Event) bool {
			t.decMu.Lock()
			t.dec.Observe(ev)
			p.Rows = append(p.Rows, t.rowLocked(i, ev, t.dec.Decode(ev)))
			t.decMu.Unlock()
			return i+1 < end
		})
		return p, err
	}
	job := t.filterJob(flt)
	idx, total, done, err := job.slice(ctx, start, limit)
	if err != nil {
		return nil, err
	}
	p := &Page{Start: start, Total: total, Complete: done, Rows: []Row{}, Filter: flt.String()}
	err = t.readIndices(ctx, idx, func(i int, ev *etl.Event) {
		t.decMu.Lock()
		t.dec.Observe(ev)
		p.Rows = append(p.Rows, t.rowLocked(i, ev, t.dec.Decode(ev)))
		t.decMu.Unlock()
	})
	if err == nil {
		err = job.error()
	}
	return p, err
}

// waitRedactor makes rows wait for the diagnosis under --redact, so that
// a host is host-1 in the verdicts and in the rows alike.
func (t *Trace) waitRedactor(ctx context.Context) error {
	if t.red == nil {
		return nil
	}
	_, err := t.Diagnosis(ctx)
	if err != nil && ctx.Err() != nil {
		return err
	}
	return nil
}

func (t *Trace) indexErr() error {
	_, _, err, _ := t.ix.progress()
	return err
}

// errNoEvent is returned for an index past the end of the trace.
var errNoEvent = errors.New("no such event")

// Event returns the details of event i.
func (t *Trace) Event(ctx context.Context, i int) (*Detail, error) {
	if err := t.waitRedactor(ctx); err != nil {
		return nil, err
	}
	count, _, err := t.ix.wait(ctx, i+1)
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= count {
		return nil, errNoEvent
	}
	var out *Detail
	err = t.ix.read(ctx, i, func(j int, ev *etl.Event) bool {
		t.decMu.Lock()
		t.dec.Observe(ev)
		d := t.detailLocked(j, ev, t.dec.Decode(ev))
		t.decMu.Unlock()
		out = &d
		return false
	})
	if err == nil && out == nil {
		err = errNoEvent
	}
	return out, err
}

// Locate returns the index of the first event at or after t (unix
// nanoseconds), once the index is complete.
func (t *Trace) Locate(ctx context.Context, at int64) (int, error) {
	if _, _, err := t.ix.wait(ctx, int(^uint(0)>>1)); err != nil {
		return 0, err
	}
	k := t.ix.checkpointAtTime(at)
	found := -1
	err := t.ix.read(ctx, k*t.ix.every, func(i int, ev *etl.Event) bool {
		if ev.Time.UnixNano() >= at {
			found = i
			return false
		}
		return true
	})
	if err != nil {
		return 0, err
	}
	if found < 0 {
		return 0, errNoEvent
	}
	return found, nil
}

// readIndices reads the events with the given (increasing) indices,
// resuming from the nearest checkpoint whenever the next one is far.
func (t *Trace) readIndices(ctx context.Context, idx []int, fn func(int, *etl.Event)) error {
	if len(idx) == 0 {
		return nil
	}
	if _, _, err := t.ix.wait(ctx, idx[len(idx)-1]+1); err != nil {
		return err
	}
	j := 0
	for j < len(idx) {
		before := j
		err := t.ix.read(ctx, idx[j], func(i int, ev *etl.Event) bool {
			if i == idx[j] {
				fn(i, ev)
				j++
			}
			return j < len(idx) && idx[j]-i <= 2*t.ix.every
		})
		if err != nil {
			return err
		}
		if j == before {
			return fmt.Errorf("viewer: event %d not found", idx[j])
		}
	}
	return nil
}

// Conversations returns the TCP conversations, computed on first use.
func (t *Trace) Conversations(ctx context.Context) ([]conversation, int, error) {
	t.convOnce.Do(func() {
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			defer close(t.convDone)
			if err := t.waitRedactor(context.Background()); err != nil {
				t.convErr = err
				return
			}
			t.convs, t.convDrop, t.convErr = readConversations(context.Background(), t.path, t.red)
		}()
	})
	select {
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	case <-t.convDone:
		return t.convs, t.convDrop, t.convErr
	}
}

// Summary is the trace-wide information at the top of the page.
type Summary struct {
	File     string `json:"file"`
	Size     int64  `json:"size"`
	OSBuild  uint32 `json:"os_build"`
	Start    string `json:"start"`
	End      string `json:"end"`
	CPUs     uint32 `json:"cpus"`
	Indexed  int    `json:"indexed"`
	Done     bool   `json:"done"` // the whole file has been indexed
	Error    string `json:"error,omitempty"`
	Findings int    `json:"findings"` // integrity findings so far
	// Complete is false when data is missing, damaged or lost (known once
	// Done); Integrity lists the findings then.
	Complete  bool           `json:"complete"`
	Integrity *etl.Integrity `json:"integrity,omitempty"`
	Redacted  bool           `json:"redacted"`
	FileOrder bool           `json:"file_order"`
}

// Summary reports the header and how far indexing has come.
func (t *Trace) Summary() Summary {
	count, done, err, nwarn := t.ix.progress()
	s := Summary{File: t.name, Size: t.size, OSBuild: t.hdr.OSBuild, Start: formatTime(t.hdr.StartTime), End: formatTime(t.hdr.EndTime),
		CPUs: t.hdr.NumberOfProcessors, Indexed: count, Done: done, Findings: nwarn, Redacted: t.red != nil}
	select {
	case <-t.ix.listed:
		s.FileOrder = t.ix.fileOrder
	default:
	}
	if done {
		t.ix.mu.Lock()
		in := t.ix.integrity
		t.ix.mu.Unlock()
		s.Complete = err == nil && in.Complete()
		if len(in.Issues) > 0 {
			if t.red != nil {
				in.Issues = append([]etl.Issue(nil), in.Issues...)
				for i := range in.Issues {
					in.Issues[i].Message = t.red.text(in.Issues[i].Message)
				}
			}
			s.Integrity = &in
		}
	}
	if err != nil {
		s.Error = err.Error()
	}
	return s
}
