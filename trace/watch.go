package trace

import (
	"strings"
	"time"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/decode"
)

// WatchProviders are the providers `etlscope watch` enables: WebIO
// (EnabledProtocols, handshake results), WinHttp and Schannel.
var WatchProviders = []etl.GUID{decode.WebIO, decode.WinHttp, decode.Schannel}

// LiveEvent is one event of a live session.
type LiveEvent struct {
	Time     time.Time
	Provider string
	ID       uint16
	Level    uint8
	PID      uint32
	Props    []LiveProp
}

// LiveProp is one decoded property of a live event.
type LiveProp struct {
	Name, Value string
}

// Lookup implements filters.Fields.
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
			return p.Value, true
		}
	}
	return nil, false
}

// Description renders the properties as "Name=Value, …", with
// EnabledProtocols decoded.
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

// WatchOptions configure a live session.
type WatchOptions struct {
	SessionName string                // default "etlscope-watch"
	Match       func(*LiveEvent) bool // nil: every event
	Emit        func(*LiveEvent)      // called for every matching event, from one goroutine
}

func (o *WatchOptions) name() string {
	if o.SessionName == "" {
		return "etlscope-watch"
	}
	return o.SessionName
}
