package trace

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/decode"
	"github.com/etlscope/etlscope/filters"
	"github.com/etlscope/etlscope/redact"
)

// fakeSession records what watch does to the session. Process blocks
// until Close, like ETW's ProcessTrace.
type fakeSession struct {
	mu          sync.Mutex
	log         []string
	failSub     map[etl.GUID]error
	failUnsub   map[etl.GUID]error
	processErr  error // Process returns this at once
	hangProcess bool  // Process never returns
	closed      chan struct{}
	closeOnce   sync.Once
	lostEvents  atomic.Uint32 // what Lost reports
	lostBuffers atomic.Uint32
}

func (f *fakeSession) Lost() (uint32, uint32, error) {
	return f.lostEvents.Load(), f.lostBuffers.Load(), nil
}

func newFakeSession() *fakeSession { return &fakeSession{closed: make(chan struct{})} }

func (f *fakeSession) record(s string) {
	f.mu.Lock()
	f.log = append(f.log, s)
	f.mu.Unlock()
}

func (f *fakeSession) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.log...)
}

func (f *fakeSession) Subscribe(g etl.GUID) error {
	f.record("subscribe " + providerLabel(g))
	return f.failSub[g]
}

func (f *fakeSession) Unsubscribe(g etl.GUID) error {
	f.record("unsubscribe " + providerLabel(g))
	return f.failUnsub[g]
}

func (f *fakeSession) Process() error {
	if f.processErr != nil {
		return f.processErr
	}
	if f.hangProcess {
		select {}
	}
	<-f.closed
	return nil
}

func (f *fakeSession) Close() error {
	f.record("close")
	f.closeOnce.Do(func() { close(f.closed) })
	return nil
}

var (
	subscribeAll = []string{"subscribe Microsoft-Windows-WebIO", "subscribe Microsoft-Windows-WinHttp", "subscribe Schannel", "subscribe Microsoft-Windows-Schannel-Events"}
	teardownAll  = []string{"unsubscribe Microsoft-Windows-Schannel-Events", "unsubscribe Schannel", "unsubscribe Microsoft-Windows-WinHttp", "unsubscribe Microsoft-Windows-WebIO", "close"}
)

func webIO728(mask string) *LiveEvent {
	return NewLiveEvent(time.Unix(0, 0), decode.WebIO, 728, 4, 1234, [][2]string{{"Request", "0x1"}, {"EnabledProtocols", mask}})
}

func TestWatchTeardownOnCtrlC(t *testing.T) {
	s := newFakeSession()
	events := make(chan *LiveEvent, 8)
	events <- webIO728("160")  // SSL3|TLS1.0
	events <- webIO728("2048") // TLS1.2
	var got []*LiveEvent
	var mu sync.Mutex
	ctx, cancel := context.WithCancel(context.Background())
	f, err := filters.Compile(`provider == "Microsoft-Windows-WebIO" && !(EnabledProtocols & 0x800)`)
	if err != nil {
		t.Fatal(err)
	}
	o := &WatchOptions{
		Match: MatchFunc(func(e *LiveEvent) bool { return f.Match(e) }),
		Emit: func(e *LiveEvent) {
			mu.Lock()
			got = append(got, e)
			mu.Unlock()
			cancel() // Ctrl-C after the first shown event
		},
	}
	var dropped atomic.Uint64
	if err := runLive(ctx, s, events, &dropped, o); err != nil {
		t.Fatal(err)
	}
	if want := append(append([]string{}, subscribeAll...), teardownAll...); !reflect.DeepEqual(s.calls(), want) {
		t.Errorf("session calls:\n%q\nwant:\n%q", s.calls(), want)
	}
	if len(got) != 1 || got[0].Description() != "EnabledProtocols=0xa0 (SSL3.0|TLS1.0 (client)), Request=0x1" {
		for _, e := range got {
			t.Logf("%s", e.Description())
		}
		t.Errorf("emitted %d events, want only the one without TLS 1.2", len(got))
	}
}

func TestWatchTeardownOnErrors(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(*fakeSession)
		wantErr []string
		want    []string
	}{
		{
			name:    "a provider cannot be enabled: the ones enabled are disabled, session stopped",
			setup:   func(f *fakeSession) { f.failSub = map[etl.GUID]error{decode.Schannel: errBoom} },
			wantErr: []string{"enable provider Schannel: boom"},
			want: []string{"subscribe Microsoft-Windows-WebIO", "subscribe Microsoft-Windows-WinHttp", "subscribe Schannel",
				"unsubscribe Microsoft-Windows-WinHttp", "unsubscribe Microsoft-Windows-WebIO", "close"},
		},
		{
			name:    "a provider cannot be disabled: reported, the others disabled, session stopped",
			setup:   func(f *fakeSession) { f.failUnsub = map[etl.GUID]error{decode.WinHttp: errBoom} },
			wantErr: []string{"disable provider Microsoft-Windows-WinHttp: boom"},
			want:    append(append([]string{}, subscribeAll...), teardownAll...),
		},
		{
			name:    "processing fails: torn down",
			setup:   func(f *fakeSession) { f.processErr = errBoom },
			wantErr: []string{"ETW session etlscope-watch-"},
			want:    append(append([]string{}, subscribeAll...), teardownAll...),
		},
		{
			name:    "processing does not end after stop: reported",
			setup:   func(f *fakeSession) { f.hangProcess = true },
			wantErr: []string{"did not end"},
			want:    append(append([]string{}, subscribeAll...), teardownAll...),
		},
	}
	old := closeWait
	closeWait = 30 * time.Millisecond
	t.Cleanup(func() { closeWait = old })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFakeSession()
			tt.setup(s)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			var dropped atomic.Uint64
			err := runLive(ctx, s, make(chan *LiveEvent), &dropped, &WatchOptions{Emit: func(*LiveEvent) {}})
			if err == nil {
				t.Fatalf("no error, want %q", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if !reflect.DeepEqual(s.calls(), tt.want) {
				t.Errorf("session calls:\n%q\nwant:\n%q", s.calls(), tt.want)
			}
		})
	}
}

func TestWatchReportsDropped(t *testing.T) {
	var notices []string
	var dropped atomic.Uint64
	dropped.Store(7)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := runLive(ctx, newFakeSession(), nil, &dropped, &WatchOptions{Emit: func(*LiveEvent) {}, Notice: func(s string) { notices = append(notices, s) }})
	if err != nil || len(notices) != 1 || !strings.HasPrefix(notices[0], "7 events were dropped") {
		t.Errorf("err %v, notices %q", err, notices)
	}
}

func TestWatchReportsETWLost(t *testing.T) {
	old := lostEvery
	lostEvery = 5 * time.Millisecond
	t.Cleanup(func() { lostEvery = old })
	var mu sync.Mutex
	var notices []string
	s := newFakeSession()
	s.lostEvents.Store(3)
	s.lostBuffers.Store(1)
	ctx, cancel := context.WithCancel(context.Background())
	o := &WatchOptions{Emit: func(*LiveEvent) {}, Notice: func(n string) {
		mu.Lock()
		notices = append(notices, n)
		mu.Unlock()
		cancel()
	}}
	var dropped atomic.Uint64
	if err := runLive(ctx, s, nil, &dropped, o); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	// Said once while running; unchanged counts are not repeated at the end.
	if len(notices) != 1 || !strings.HasPrefix(notices[0], "ETW lost events: 3 events and 1 real-time buffers") {
		t.Errorf("notices %q", notices)
	}
	// Counts that grow are said again, at the end too.
	notices = nil
	s2 := newFakeSession()
	s2.lostEvents.Store(2)
	ctx2, cancel2 := context.WithCancel(context.Background())
	o.Notice = func(n string) {
		notices = append(notices, n)
		s2.lostEvents.Store(5)
		cancel2()
	}
	mu.Unlock()
	err := runLive(ctx2, s2, nil, &dropped, o)
	mu.Lock()
	if err != nil || len(notices) != 2 || !strings.Contains(notices[1], "5 events") {
		t.Errorf("err %v, notices %q", err, notices)
	}
}

func TestExplainStartError(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("StartTraceW failed; %w", syscall.Errno(5)), "elevated prompt"},
		{fmt.Errorf("StartTraceW failed; %w", syscall.Errno(1450)), "at most 64 ETW sessions"},
		{syscall.Errno(183), "logman stop etlscope-watch-7 -ets"},
		{errBoom, "start ETW session etlscope-watch-7: boom"},
	} {
		err := explainStartError(SessionName(7), tt.err)
		if !strings.Contains(err.Error(), tt.want) || !errors.Is(err, tt.err) {
			t.Errorf("%v: %v, want %q", tt.err, err, tt.want)
		}
	}
}

func TestSessionNameUnique(t *testing.T) {
	if SessionName(1) == SessionName(2) || !strings.HasPrefix(SessionName(42), SessionPrefix) {
		t.Errorf("%q %q", SessionName(1), SessionName(2))
	}
	if got := (&WatchOptions{}).name(); got != SessionName(os.Getpid()) {
		t.Errorf("default name %q", got)
	}
}

// TestLiveEventSecrets: WinHttp 100 (WinHttpSetCredentials; field names
// from the WinHttp manifest, as decode's built-in schema has them) shows
// no password unless asked, --redact drops the event and replaces names.
func TestLiveEventSecrets(t *testing.T) {
	cred := func() *LiveEvent {
		return NewLiveEvent(time.Unix(0, 0), decode.WinHttp, 100, 4, 9, [][2]string{{"hRequest", "0x77"}, {"AuthTargets", "1"}, {"AuthScheme", "1"}, {"UserName", `CONTOSO\admin`}, {"Password", "Secret!"}})
	}
	e := cred()
	if !e.IsCredentialEvent() || webIO728("0x800").IsCredentialEvent() {
		t.Error("IsCredentialEvent")
	}
	e.HideSecrets()
	if d := e.Description(); strings.Contains(d, "Secret!") || !strings.Contains(d, "Password="+HiddenSecret) || !strings.Contains(d, `CONTOSO\admin`) {
		t.Errorf("hidden: %s", d)
	}
	if v, _ := e.Lookup("Password"); v != HiddenSecret {
		t.Errorf("Lookup(Password) = %v", v)
	}
	e = NewLiveEvent(time.Unix(0, 0), decode.WebIO, 703, 4, 4, [][2]string{{"ServerName", "mail.contoso.com"}, {"Address", "10.1.2.3:443"}, {"Result", "0x80090326"}})
	e.Redact(redact.NewRedactor())
	if d := e.Description(); strings.Contains(d, "contoso") || strings.Contains(d, "10.1.2.3") || !strings.Contains(d, "SEC_E_ILLEGAL_MESSAGE") {
		t.Errorf("redacted: %s", d)
	}
}

func TestLiveEvent(t *testing.T) {
	e := NewLiveEvent(time.Unix(0, 0), decode.Schannel, 36887, 2, 4, [][2]string{{"ErrorState", "1203"}, {"AlertDesc", "70"}})
	if got, want := e.Description(), "ErrorState=1203, AlertDesc=70 (protocol_version)"; got != want {
		t.Errorf("description %q, want %q", got, want)
	}
	e = NewLiveEvent(time.Unix(0, 0), decode.WebIO, 703, 4, 4, [][2]string{{"Request", "0x2"}, {"Result", "0x80090326"}})
	if got := e.Description(); !strings.HasPrefix(got, "Result=0x80090326 (SEC_E_ILLEGAL_MESSAGE)") {
		t.Errorf("description %q", got)
	}
	if v, ok := e.Lookup("result"); !ok || v != uint64(0x80090326) {
		t.Errorf("Lookup(result) = %v, %v", v, ok)
	}
	if v, ok := e.Lookup("provider"); !ok || v != "Microsoft-Windows-WebIO" {
		t.Errorf("Lookup(provider) = %v", v)
	}
	if v, _ := e.Lookup("id"); v != uint64(703) {
		t.Errorf("Lookup(id) = %v", v)
	}
	if _, ok := e.Lookup("nope"); ok {
		t.Error("Lookup(nope) found something")
	}
	if got := webIO728("0").Description(); !strings.HasPrefix(got, "EnabledProtocols=0 (none: Schannel picks its system defaults; believed)") {
		t.Errorf("description %q", got)
	}
	unknown := etl.MustParseGUID("01234567-89ab-cdef-0123-456789abcdef")
	if e := NewLiveEvent(time.Time{}, unknown, 1, 0, 0, nil); e.Provider != "{01234567-89ab-cdef-0123-456789abcdef}" {
		t.Errorf("provider %q", e.Provider)
	}
}
