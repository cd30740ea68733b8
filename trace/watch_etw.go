//go:build windows && cgo

package trace

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/Velocidex/etw"
	"golang.org/x/sys/windows"

	"github.com/etlscope/etlscope/etl"
)

// Watch runs a real-time ETW session on o's providers (WatchProviders by
// default) and emits their events until ctx is done (Ctrl-C). The session
// is always torn down: every provider disabled, then the session stopped.
// It needs an elevated prompt.
func Watch(ctx context.Context, o WatchOptions) error {
	if o.Emit == nil {
		return errors.New("watch: no Emit function")
	}
	events := make(chan *LiveEvent, 4096)
	var dropped atomic.Uint64
	cb := func(e *etw.Event) {
		le := convert(e)
		select {
		case events <- le:
		default: // the consumer is behind: drop rather than block ETW
			dropped.Add(1)
		}
	}
	s, err := etw.NewSession(o.name(), cb)
	var exists etw.ExistsError
	if errors.As(err, &exists) {
		// The name is per process: left over by a killed etlscope that
		// had this process id. Stop it and start ours.
		o.notice("an ETW session named %s already existed; it was stopped", o.name())
		_ = etw.KillSession(o.name())
		s, err = etw.NewSession(o.name(), cb)
	}
	if err != nil {
		return explainStartError(o.name(), err)
	}
	return runLive(ctx, &etwSession{s: s, name: o.name(), on: map[etl.GUID]bool{}}, events, &dropped, &o)
}

// etwSession adapts *etw.Session to liveSession.
//
// Velocidex/etw's Session.Close disables the providers it still has while
// holding its own mutex, which UnsubscribeFromProvider takes again: with a
// provider still enabled, Close deadlocks. runLive therefore disables every
// provider first, and Close falls back to stopping the session by name
// when one of them could not be disabled.
type etwSession struct {
	s    *etw.Session
	name string
	on   map[etl.GUID]bool
}

func (e *etwSession) Subscribe(g etl.GUID) error {
	wg, err := windowsGUID(g)
	if err != nil {
		return err
	}
	if err := e.s.SubscribeToProvider(etw.SessionOptions{Guid: wg, Level: etw.TRACE_LEVEL_VERBOSE}); err != nil {
		return err
	}
	e.on[g] = true
	return nil
}

func (e *etwSession) Unsubscribe(g etl.GUID) error {
	wg, err := windowsGUID(g)
	if err != nil {
		return err
	}
	if err := e.s.UnsubscribeFromProvider(wg); err != nil {
		return err
	}
	delete(e.on, g)
	return nil
}

func (e *etwSession) Process() error { return e.s.Process() }

func (e *etwSession) Lost() (events, buffers uint32, err error) { return queryLost(e.name) }

func (e *etwSession) Close() error {
	if len(e.on) > 0 {
		return etw.KillSession(e.name)
	}
	return e.s.Close()
}

func windowsGUID(g etl.GUID) (windows.GUID, error) {
	return windows.GUIDFromString("{" + g.String() + "}")
}

// convert copies what watch shows out of an event; the event itself is
// only valid inside the callback.
func convert(e *etw.Event) *LiveEvent {
	h := e.Header
	var provider etl.GUID
	if g, err := etl.ParseGUID(h.ProviderID.String()); err == nil {
		provider = g
	}
	var props [][2]string
	if d := e.Props(); d != nil {
		for _, k := range d.Keys() {
			v, _ := d.Get(k)
			props = append(props, [2]string{k, fmt.Sprint(v)})
		}
	}
	return NewLiveEvent(h.TimeStamp, provider, h.ID, h.Level, h.ProcessID, props)
}

// LiveWatch tells whether this build has the live ETW consumer.
const LiveWatch = true
