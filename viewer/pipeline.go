package viewer

// This file is the viewer's contact with the read pipeline (etl/scan), the
// diagnosis (diagnose) and redaction (redact): opening, decoding,
// filtering, analyzing and the TCP conversations. Only the position index
// (index.go) reads etl.File directly, because it needs the buffer of every
// event.

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/etlscope/etlscope/diagnose"
	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/decode"
	"github.com/etlscope/etlscope/etl/scan"
	"github.com/etlscope/etlscope/filters"
	"github.com/etlscope/etlscope/packet"
	"github.com/etlscope/etlscope/redact"
	"github.com/etlscope/etlscope/tlswire"
)

// openTrace opens path for one reading.
func openTrace(path string) (*scan.Trace, error) { return scan.Open(path, nil) }

// newDecoder returns a decoder as Options.NewDecoder configures it (the
// built-in schemas without one) for the trace's OS build.
func (t *Trace) newDecoder() *decode.Decoder {
	var d *decode.Decoder
	if t.newDec != nil {
		d = t.newDec()
	} else {
		d = decode.New()
	}
	d.SetOSBuild(t.hdr.OSBuild)
	return d
}

// isCredentialEvent reports whether ev carries credentials (WinHttp 100,
// WinHttpSetCredentials); --redact hides them as `events --redact` does.
func isCredentialEvent(ev *etl.Event) bool {
	return ev.Provider == decode.WinHttp && ev.ID == 100
}

// filterError is a filter that does not compile, with the 1-based column
// (in characters) of the problem.
type filterError struct {
	Message string `json:"message"`
	Column  int    `json:"column"`
}

// compileFilter compiles a filter in the language of `events -f`.
func compileFilter(expr string) (*filters.Filter, *filterError) {
	f, err := filters.Compile(expr)
	if err == nil {
		return f, nil
	}
	fe := &filterError{Message: "filter: " + err.Error()}
	var se *filters.SyntaxError
	if errors.As(err, &se) {
		pos := min(max(se.Pos, 0), len(se.Expr))
		fe.Column = utf8.RuneCountInString(se.Expr[:pos]) + 1
		fe.Message = se.Error()
	}
	return f, fe
}

// redactor is redact.Redactor made safe for concurrent requests. A nil
// *redactor leaves values unchanged.
type redactor struct {
	mu sync.Mutex
	r  *redact.Redactor
}

func (r *redactor) text(s string) string {
	if r == nil {
		return s
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.r.Text(s)
}

func (r *redactor) addrPort(ap netip.AddrPort) string {
	if r == nil {
		return ap.String()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.r.AddrPort(ap)
}

func (r *redactor) host(h string) string {
	if r == nil {
		return h
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.r.Host(h)
}

// value renders a decoded property, redacted by its kind when asked, as
// `events --redact` does; ok is false for opaque bytes, which are dropped
// under --redact.
func (r *redactor) value(p decode.Property) (s string, ok bool) {
	v := p.Value
	if r == nil {
		return v.String(), true
	}
	if p.Kind == decode.PropOpaque {
		return "", false
	}
	if ap, ok := v.AddrPort(); ok && ap.IsValid() {
		return r.addrPort(ap), true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.r.Value(p.Kind, v.String()), true
}

// learnAndDiagnose teaches red the vocabulary of the trace (a first pass,
// as every --redact command does, so a name is replaced everywhere and
// placeholders agree across commands), then diagnoses it.
func learnAndDiagnose(ctx context.Context, path, name string, dec *decode.Decoder, red *redact.Redactor) (*diagnosis, error) {
	t, err := openTrace(path)
	if err != nil {
		return nil, err
	}
	err = redact.LearnTrace(ctx, t.File, dec, red)
	t.Close()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return runDiagnosis(ctx, path, name, red)
}

// diagnosis is what the page shows at the top: the verdicts of `analyze`,
// with the same text and kinds, its overall result and what the reader
// found wrong with the file.
type diagnosis struct {
	Result    diagnose.Result    `json:"result"`
	Verdicts  []diagnose.Verdict `json:"verdicts"`
	OS        string             `json:"os"`
	Events    int                `json:"events"`
	Packets   int                `json:"packets"`
	Complete  bool               `json:"complete"`
	Integrity etl.Integrity      `json:"integrity"`
}

// runDiagnosis reads path once and diagnoses it as `analyze` does. red is
// used (and only used) by this call while it runs.
func runDiagnosis(ctx context.Context, path, name string, red *redact.Redactor) (*diagnosis, error) {
	t, err := openTrace(path)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	a, err := diagnose.Analyze(ctx, t.File, name, diagnose.Options{Redact: red})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	d := &diagnosis{Result: a.Result, Verdicts: a.Verdicts, OS: a.OS.Name, Events: a.Events, Packets: a.Packets,
		Complete: a.Integrity.Complete(), Integrity: a.Integrity}
	if d.Verdicts == nil {
		d.Verdicts = []diagnose.Verdict{}
	}
	if d.Integrity.Issues == nil {
		d.Integrity.Issues = []etl.Issue{}
	}
	return d, nil
}

// conversation is one TCP connection as `conversations` lists it, with
// the times that link it to its events.
type conversation struct {
	ID        int    `json:"id"`
	FirstSeen string `json:"first_seen"`
	LastSeen  string `json:"last_seen"`
	Client    string `json:"client"`
	Server    string `json:"server"`
	PID       string `json:"pid"`
	SNI       string `json:"sni"`
	ClientMax string `json:"client_max"`
	Offered   string `json:"offered"`
	Selected  string `json:"selected"`
	Cipher    string `json:"cipher"`
	Outcome   string `json:"outcome"`
	Failed    bool   `json:"failed"`
	Frames    int    `json:"frames"`
}

// readConversations follows the TCP connections of path, with their owners
// from the TCPIP connect events, as `conversations` does.
func readConversations(ctx context.Context, path string, red *redactor) ([]conversation, int, error) {
	t, err := openTrace(path)
	if err != nil {
		return nil, 0, err
	}
	defer t.Close()
	x := packet.NewExtractor()
	tr := packet.NewTracker()
	_, err = scan.Run(ctx, t.File, scan.Options{Decode: diagnose.IsOwnerEvent}, func(e *scan.Event) error {
		if d := e.Decoded; d != nil {
			if l, r, pid, ok := diagnose.ConnectOwner(d); ok {
				tr.SetOwner(l, r, pid)
			}
			return nil
		}
		if packet.IsPacketEvent(e.Event) {
			if fr, err := x.Add(e.Event); err == nil && fr != nil {
				tr.Add(fr)
			}
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	// Rows only: the conversations are unfolded one at a time (All), not
	// all kept at once.
	var out []conversation
	for c := range tr.All() {
		out = append(out, conversationRow(c, red))
	}
	return out, tr.Dropped(), nil
}

func conversationRow(c *packet.Conversation, red *redactor) conversation {
	row := conversation{ID: c.ID, FirstSeen: formatTime(c.FirstSeen.Time()), LastSeen: formatTime(c.LastSeen.Time()),
		Client: red.addrPort(c.Client), Server: red.addrPort(c.Server), Outcome: c.Outcome().String(),
		Failed: c.Outcome().Failed(), Frames: c.Frames}
	if c.PIDKnown {
		row.PID = strconv.FormatUint(uint64(c.PID), 10)
	}
	if ch := c.ClientHello; ch != nil {
		row.SNI = red.host(ch.SNI)
		row.ClientMax = ch.MaxVersion().String()
		var vs []string
		for _, v := range ch.Offered() {
			vs = append(vs, v.String())
		}
		row.Offered = strings.Join(vs, ", ")
	}
	if sh := c.ServerHello; sh != nil {
		row.Selected = c.NegotiatedVersion().String()
		if sh.HelloRetryRequest {
			row.Selected = "HelloRetryRequest"
		}
		row.Cipher = tlswire.CipherSuiteName(sh.CipherSuite)
	}
	if c.Gaps {
		row.Outcome += " (capture incomplete)"
	}
	return row
}

// formatTime is the time format of `events`.
func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.0000000Z") }

// fileSize returns the size of path.
func fileSize(path string) int64 {
	if st, err := os.Stat(path); err == nil {
		return st.Size()
	}
	return 0
}
