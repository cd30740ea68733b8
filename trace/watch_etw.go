//go:build windows && cgo

package trace

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/Velocidex/etw"
	"golang.org/x/sys/windows"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/decode"
)

// Watch runs a live ETW session on WatchProviders until ctx is done. The
// session is always closed (providers disabled, then the session stopped),
// also when ctx is cancelled by Ctrl-C.
func Watch(ctx context.Context, o WatchOptions) (err error) {
	events := make(chan *LiveEvent, 1024)
	cb := func(e *etw.Event) {
		le := convert(e)
		select {
		case events <- le:
		default: // the consumer is behind: drop rather than block ETW
		}
	}
	s, err := etw.NewSession(o.name(), cb)
	var exists etw.ExistsError
	if errors.As(err, &exists) {
		// A session left over by a killed etlscope: stop it and retry.
		_ = etw.KillSession(o.name())
		s, err = etw.NewSession(o.name(), cb)
	}
	if err != nil {
		return fmt.Errorf("start ETW session: %w", err)
	}
	defer func() {
		if cerr := s.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("stop ETW session %s (run `logman stop %s -ets`): %w", o.name(), o.name(), cerr)
		}
	}()
	for _, g := range WatchProviders {
		wg, gerr := windows.GUIDFromString("{" + g.String() + "}")
		if gerr != nil {
			return gerr
		}
		if err := s.SubscribeToProvider(etw.SessionOptions{Guid: wg, Level: etw.TRACE_LEVEL_VERBOSE}); err != nil {
			return fmt.Errorf("enable provider %s: %w", decode.ProviderName(g), err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- s.Process() }()
	for {
		select {
		case <-ctx.Done():
			return nil
		case perr := <-done:
			return perr
		case le := <-events:
			if o.Match == nil || o.Match(le) {
				o.Emit(le)
			}
		}
	}
}

func convert(e *etw.Event) *LiveEvent {
	h := e.Header
	le := &LiveEvent{Time: h.TimeStamp, ID: h.ID, Level: h.Level, PID: h.ProcessID}
	if g, err := etl.ParseGUID(h.ProviderID.String()); err == nil {
		le.Provider = decode.ProviderName(g)
		if le.Provider == "" {
			le.Provider = g.String()
		}
	}
	props := e.Props()
	if props == nil {
		return le
	}
	for _, k := range props.Keys() {
		v, _ := props.Get(k)
		s := fmt.Sprint(v)
		if k == "EnabledProtocols" {
			if n, err := strconv.ParseUint(s, 0, 32); err == nil {
				s = fmt.Sprintf("%#x (%s)", n, decode.ProtocolNames(uint32(n)))
			}
		}
		le.Props = append(le.Props, LiveProp{Name: k, Value: s})
	}
	return le
}
