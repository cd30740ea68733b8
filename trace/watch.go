package trace

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/decode"
	"github.com/etlscope/etlscope/redact"
)

// WatchProviders are the providers `etlscope watch` enables, at verbose
// level with every keyword: WebIO (EnabledProtocols, handshake results),
// WinHttp, Schannel (the System-log provider: alerts, handshake done) and
// Microsoft-Windows-Schannel-Events (providers.md §1.1).
var WatchProviders = []etl.GUID{decode.WebIO, decode.WinHttp, decode.Schannel, decode.SchannelEvt}

// ErrWatchUnsupported is returned by Watch in builds without the live ETW
// consumer, which needs Windows and cgo.
var ErrWatchUnsupported = errors.New("watch needs Windows and a cgo build of etlscope (CGO_ENABLED=1 with a C compiler such as mingw-w64); use capture, then analyze, instead")

// SessionPrefix starts the name of every watch's real-time ETW session
// (`logman query -ets` lists it while it runs).
const SessionPrefix = "etlscope-watch-"

// SessionName is the ETW session name of the watch run by process pid:
// unique per run, so a second watch neither replaces nor stops the first
// (ETW session names are system-wide).
func SessionName(pid int) string { return fmt.Sprintf("%s%d", SessionPrefix, pid) }

// LiveEvent is one event of a live session.
type LiveEvent struct {
	Time       time.Time
	ProviderID etl.GUID
	Provider   string
	ID         uint16
	Level      uint8
	PID        uint32
	Props      []LiveProp // the key fields (keyProps) first, then in event order
}

// LiveProp is one property of a live event.
type LiveProp struct {
	Name  string
	Value string // for display: EnabledProtocols and error codes decoded
	Raw   string // as the event rendered it
}

// keyProps are the fields that answer "which TLS versions, and why did it
// fail", shown first.
var keyProps = []string{"EnabledProtocols", "Result", "Error", "ErrorCode", "Status", "ErrorState", "AlertDesc", "Protocol"}

// NewLiveEvent builds a LiveEvent from a header and the properties as the
// ETW consumer rendered them (name, value pairs in event order).
func NewLiveEvent(t time.Time, provider etl.GUID, id uint16, level uint8, pid uint32, props [][2]string) *LiveEvent {
	e := &LiveEvent{Time: t, ProviderID: provider, ID: id, Level: level, PID: pid, Provider: decode.ProviderName(provider)}
	if e.Provider == "" {
		e.Provider = "{" + provider.String() + "}"
	}
	for _, p := range props {
		e.Props = append(e.Props, LiveProp{Name: p[0], Raw: p[1], Value: showProp(p[0], p[1])})
	}
	rank := func(name string) int {
		if i := slices.IndexFunc(keyProps, func(k string) bool { return strings.EqualFold(k, name) }); i >= 0 {
			return i
		}
		return len(keyProps)
	}
	slices.SortStableFunc(e.Props, func(a, b LiveProp) int { return rank(a.Name) - rank(b.Name) })
	return e
}

// showProp decodes the values worth decoding: protocol masks and status
// codes.
func showProp(name, raw string) string {
	n, err := strconv.ParseUint(strings.TrimSpace(raw), 0, 32)
	if err != nil {
		return raw
	}
	switch strings.ToLower(name) {
	case "enabledprotocols", "protocol":
		if n == 0 {
			return "0 (none: Schannel picks its system defaults; believed)"
		}
		return fmt.Sprintf("%#x (%s)", n, decode.ProtocolNames(uint32(n)))
	case "result", "error", "errorcode", "status":
		if s := decode.ErrorName(uint32(n)); s != "" {
			return fmt.Sprintf("%#x (%s)", n, s)
		}
		if n > 0xffff {
			return fmt.Sprintf("%#x", n)
		}
	case "alertdesc":
		if s := decode.TLSAlertName(uint8(n)); s != "" && n <= 0xff {
			return fmt.Sprintf("%d (%s)", n, s)
		}
	}
	return raw
}

// IsCredentialEvent reports whether e carries credentials: WinHttp 100,
// WinHttpSetCredentials, with a user name and a password — the event
// `events --redact` drops.
func (e *LiveEvent) IsCredentialEvent() bool {
	return e.ProviderID == decode.WinHttp && e.ID == 100
}

// isSecretProp reports whether a property holds a secret, by the words
// the decoder's credential kind (decode.PropCredential) uses for names:
// password, passwd, secret, token, credential or auth blobs — not their
// handles, lengths or sizes. A live event has names and rendered values
// only, so the name decides.
func isSecretProp(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"handle", "length", "size"} {
		if strings.Contains(n, w) {
			return false
		}
	}
	for _, w := range []string{"password", "passwd", "secret", "token", "credentialblob", "authblob"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// HiddenSecret replaces a secret's value in watch's output: the text
// events and analyze print for hidden credentials.
const HiddenSecret = decode.Hidden

// HideSecrets replaces the values of secret properties with HiddenSecret.
// Watch applies it unless the user asked for secrets (--show-secrets).
func (e *LiveEvent) HideSecrets() {
	for i, p := range e.Props {
		if isSecretProp(p.Name) && p.Raw != "" {
			e.Props[i].Value, e.Props[i].Raw = HiddenSecret, HiddenSecret
		}
	}
}

// Redact replaces host names, IP addresses and user names in every
// property with red's stable placeholders (redact.Redactor.Text: the
// patterns `events --redact` applies to free text; a live view has no
// trace to learn a vocabulary from first). Secret values are hidden too.
func (e *LiveEvent) Redact(red *redact.Redactor) {
	e.HideSecrets()
	for i, p := range e.Props {
		e.Props[i].Value, e.Props[i].Raw = red.Text(p.Value), red.Text(p.Raw)
	}
}

// Lookup implements filters.Fields: provider, id, level, pid, description
// and every property by name (numbers as uint64).
func (e *LiveEvent) Lookup(name string) (any, bool) {
	switch strings.ToLower(name) {
	case "provider":
		return e.Provider, true
	case "id":
		return uint64(e.ID), true
	case "level":
		return uint64(e.Level), true
	case "pid":
		return uint64(e.PID), true
	case "description":
		return e.Description(), true
	}
	for _, p := range e.Props {
		if strings.EqualFold(p.Name, name) {
			if n, err := strconv.ParseUint(strings.TrimSpace(p.Raw), 0, 64); err == nil {
				return n, true
			}
			return p.Raw, true
		}
	}
	return nil, false
}

// Description renders the properties as "Name=Value, …", key fields
// first, decoded.
func (e *LiveEvent) Description() string {
	var b strings.Builder
	for i, p := range e.Props {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.Name)
		b.WriteByte('=')
		b.WriteString(p.Value)
	}
	return b.String()
}

// Matcher selects events; *filters.Filter satisfies it through
// LiveEvent's Lookup (wrap it: func(e) bool { return f.Match(e) }).
type Matcher interface {
	Match(e *LiveEvent) bool
}

// MatchFunc adapts a function to Matcher.
type MatchFunc func(*LiveEvent) bool

// Match implements Matcher.
func (f MatchFunc) Match(e *LiveEvent) bool { return f(e) }

// WatchOptions configure a live session.
type WatchOptions struct {
	SessionName string           // default SessionName(os.Getpid())
	Providers   []etl.GUID       // default WatchProviders
	Match       Matcher          // nil: every event
	Emit        func(*LiveEvent) // called for every matching event, from one goroutine
	// Notice receives messages for the user (a stale session replaced,
	// events lost or dropped). Nil discards them.
	Notice func(string)
}

func (o *WatchOptions) name() string {
	if o.SessionName == "" {
		return SessionName(os.Getpid())
	}
	return o.SessionName
}

func (o *WatchOptions) providers() []etl.GUID {
	if len(o.Providers) == 0 {
		return WatchProviders
	}
	return o.Providers
}

func (o *WatchOptions) notice(format string, args ...any) {
	if o.Notice != nil {
		o.Notice(fmt.Sprintf(format, args...))
	}
}

// liveSession is the part of a real-time ETW session watch uses. The
// Windows implementation wraps github.com/Velocidex/etw; tests use a fake.
type liveSession interface {
	Subscribe(provider etl.GUID) error
	Unsubscribe(provider etl.GUID) error
	Process() error // blocks until Close
	Close() error   // stops the session
	// Lost returns what ETW counted as lost so far: events it could not
	// put in a buffer, and real-time buffers the consumer did not take in
	// time (EVENT_TRACE_PROPERTIES EventsLost, RealTimeBuffersLost).
	Lost() (events, buffers uint32, err error)
}

// closeWait bounds how long watch waits for Process to return after Close.
var closeWait = 5 * time.Second

// lostEvery is how often watch asks ETW for its lost counts.
var lostEvery = 5 * time.Second

// lostCounts tracks ETW's lost counts and says when they grew.
type lostCounts struct{ events, buffers uint32 }

func (l *lostCounts) check(s liveSession, o *WatchOptions) {
	ev, buf, err := s.Lost()
	if err != nil || ev <= l.events && buf <= l.buffers {
		return
	}
	o.notice("ETW lost events: %d events and %d real-time buffers so far (the view is incomplete; a filter does not reduce what ETW delivers, fewer busy providers do)", ev, buf)
	l.events, l.buffers = max(ev, l.events), max(buf, l.buffers)
}

// explainStartError makes a failure to start the ETW session readable.
// The numbers are Windows error codes (syscall.Errno on Windows).
func explainStartError(name string, err error) error {
	switch {
	case errors.Is(err, syscall.Errno(5)): // ERROR_ACCESS_DENIED
		return fmt.Errorf("start ETW session %s: %w (run etlscope from an elevated prompt: Run as administrator)", name, err)
	case errors.Is(err, syscall.Errno(1450)): // ERROR_NO_SYSTEM_RESOURCES
		return fmt.Errorf("start ETW session %s: %w (Windows runs at most 64 ETW sessions: list them with `logman query -ets` and stop an unused one with `logman stop NAME -ets`)", name, err)
	case errors.Is(err, syscall.Errno(183)): // ERROR_ALREADY_EXISTS
		return fmt.Errorf("start ETW session %s: %w (stop it with `logman stop %s -ets`)", name, err, name)
	}
	return fmt.Errorf("start ETW session %s: %w", name, err)
}

// runLive enables the providers on s, hands the events that arrive on
// events to o.Emit until ctx is done or processing ends, and always tears
// the session down in the order ETW wants: every enabled provider disabled
// first, then the session stopped — on success, on a failed subscription
// and on Ctrl-C alike.
func runLive(ctx context.Context, s liveSession, events <-chan *LiveEvent, dropped *atomic.Uint64, o *WatchOptions) (err error) {
	var enabled []etl.GUID
	processing := make(chan error, 1)
	started := false
	var lost lostCounts
	defer func() {
		var errs []error
		if started {
			lost.check(s, o) // before the session is gone
		}
		for i := len(enabled) - 1; i >= 0; i-- {
			if uerr := s.Unsubscribe(enabled[i]); uerr != nil {
				errs = append(errs, fmt.Errorf("disable provider %s: %w", providerLabel(enabled[i]), uerr))
			}
		}
		if cerr := s.Close(); cerr != nil {
			errs = append(errs, fmt.Errorf("stop ETW session %s (run `logman stop %s -ets`): %w", o.name(), o.name(), cerr))
		}
		if started {
			select {
			case <-processing:
			case <-time.After(closeWait):
				errs = append(errs, fmt.Errorf("ETW session %s: event processing did not end after the session was stopped", o.name()))
			}
		}
		if n := dropped.Load(); n > 0 {
			o.notice("%d events were dropped because the output could not keep up", n)
		}
		if len(errs) > 0 {
			err = errors.Join(append([]error{err}, errs...)...)
		}
	}()
	for _, g := range o.providers() {
		if err := s.Subscribe(g); err != nil {
			return fmt.Errorf("enable provider %s: %w", providerLabel(g), err)
		}
		enabled = append(enabled, g)
	}
	started = true
	go func() { processing <- s.Process() }()
	tick := time.NewTicker(lostEvery)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			lost.check(s, o)
		case <-ctx.Done():
			return nil
		case perr := <-processing:
			processing <- perr // for the deferred wait
			if perr != nil {
				return fmt.Errorf("ETW session %s: %w", o.name(), perr)
			}
			return nil
		case e := <-events:
			if o.Match == nil || o.Match.Match(e) {
				o.Emit(e)
			}
		}
	}
}

func providerLabel(g etl.GUID) string {
	if n := decode.ProviderName(g); n != "" {
		return n
	}
	return "{" + g.String() + "}"
}
