package main

import (
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/decode"
	"github.com/etlscope/etlscope/report"
)

// The events listing is the longest output etlscope writes (a line per
// event, a few million on a 1 GB trace), so its JSON is written by
// appending to one reused buffer rather than through encoding/json's
// reflection and a map per event. The bytes are those encoding/json
// writes for EventJSON (eventJSON, which the tests compare against):
// fields in EventJSON's order, properties sorted by name as encoding/json
// sorts a map's keys, one value per name (the last, as a map keeps it).

// jsonScratch is the memory the JSON writer reuses from event to event.
type jsonScratch struct {
	order []int  // the properties to write, sorted by name
	text  []byte // a property's text before escaping
	// redacted holds, under --redact, each property's redacted text.
	redacted []string
	// The last provider GUID and its text: events come in runs from one
	// provider.
	lastGUID etl.GUID
	lastText []byte
}

// appendJSON appends d as one line of JSON. Whatever the trace holds,
// the line is valid JSON: property values JSON has no form for (NaN,
// infinite floats, times outside years 0-9999) are their text, and an
// event time outside years 0-9999 (a damaged clock or timestamp) is
// written in the same RFC 3339 layout with as many year digits as it
// needs, where encoding/json would refuse the whole listing.
func (ew *eventWriter) appendJSON(dst []byte, d *decode.Decoded) []byte {
	ev := d.Event
	t := ev.Time.UTC()
	dst = append(dst, `{"time":"`...)
	dst = t.AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","provider":`...)
	if d.ProviderName != "" {
		dst = report.AppendJSONString(dst, d.ProviderName)
	} else {
		dst = append(append(append(dst, '"'), ew.js.guidText(ev.Provider)...), '"')
	}
	dst = append(dst, `,"provider_guid":"`...)
	dst = append(dst, ew.js.guidText(ev.Provider)...)
	dst = append(dst, `","id":`...)
	dst = strconv.AppendUint(dst, uint64(ev.ID), 10)
	dst = append(dst, `,"version":`...)
	dst = strconv.AppendUint(dst, uint64(ev.Version), 10)
	dst = append(dst, `,"level":`...)
	dst = strconv.AppendUint(dst, uint64(ev.Level), 10)
	dst = append(dst, `,"opcode":`...)
	dst = strconv.AppendUint(dst, uint64(ev.Opcode), 10)
	dst = append(dst, `,"task":`...)
	dst = strconv.AppendUint(dst, uint64(ev.Task), 10)
	dst = append(dst, `,"keywords":"0x`...)
	dst = strconv.AppendUint(dst, ev.Keywords, 16)
	dst = append(dst, '"')
	if d.EventName != "" {
		dst = report.AppendJSONString(append(dst, `,"event":`...), d.EventName)
	}
	if d.TaskName != "" {
		dst = report.AppendJSONString(append(dst, `,"task_name":`...), d.TaskName)
	}
	if d.OpcodeName != "" {
		dst = report.AppendJSONString(append(dst, `,"opcode_name":`...), d.OpcodeName)
	}
	dst = appendIDJSON(append(dst, `,"pid":`...), ev.PID)
	dst = appendIDJSON(append(dst, `,"tid":`...), ev.TID)
	dst = append(dst, `,"cpu":`...)
	dst = strconv.AppendUint(dst, uint64(ev.CPU), 10)
	dst = report.AppendJSONString(append(dst, `,"kind":`...), ev.Kind.String())
	dst = append(dst, `,"offset":`...)
	dst = strconv.AppendInt(dst, ev.Offset, 10)
	dst = append(dst, `,"description":`...)
	if ew.red == nil {
		ew.js.text = d.AppendDescription(ew.js.text[:0])
		dst = report.AppendJSONString(dst, ew.js.text)
	} else {
		dst = report.AppendJSONString(dst, ew.red.Text(d.Description()))
	}
	dst = ew.appendProperties(dst, d.Properties)
	if d.Warning != "" {
		dst = report.AppendJSONString(append(dst, `,"warning":`...), d.Warning)
	}
	return append(dst, '}')
}

// appendProperties appends the "properties" member: every property but
// opaque ones under redaction, sorted by name, the last of equal names;
// nothing when none is left.
func (ew *eventWriter) appendProperties(dst []byte, props []decode.Property) []byte {
	a := &ew.js
	a.order, a.redacted = a.order[:0], a.redacted[:0]
	for i, p := range props {
		if ew.red == nil {
			a.order = append(a.order, i)
			continue
		}
		// Redacted in the event's order, not the output's: placeholders
		// are numbered in the order values are first seen.
		text := ""
		switch {
		case p.Kind == decode.PropOpaque:
			a.redacted = append(a.redacted, "")
			continue // opaque bytes (packets, binary values) are dropped under --redact
		case p.Kind != decode.PropPlain || p.Value.IsJSONText():
			text = ew.propText(p)
		}
		a.redacted = append(a.redacted, text)
		a.order = append(a.order, i)
	}
	if len(a.order) == 0 {
		return dst
	}
	// Stable: of equal names the last in the event stays last.
	slices.SortStableFunc(a.order, func(i, j int) int { return strings.Compare(props[i].Name, props[j].Name) })
	dst = append(dst, `,"properties":{`...)
	first := true
	for k, i := range a.order {
		p := &props[i]
		if k+1 < len(a.order) && props[a.order[k+1]].Name == p.Name {
			continue // a map keeps the last value of a name
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(report.AppendJSONString(dst, p.Name), ':')
		// Plain numbers, booleans and times are typed; text, and anything
		// redaction may change, is the property's text.
		if p.Kind == decode.PropPlain && !p.Value.IsJSONText() {
			dst, _ = p.Value.AppendJSONScalar(dst) // never refuses a value IsJSONText does not call text
			continue
		}
		if ew.red != nil {
			dst = report.AppendJSONString(dst, a.redacted[i])
			continue
		}
		if p.Value.Kind == decode.KindBytes {
			// Hex digits and "… (N bytes)": nothing to escape, and the
			// most bytes of a NetTrace's listing (packet fragments).
			dst = append(p.Value.AppendText(append(dst, '"')), '"')
			continue
		}
		a.text = p.Value.AppendText(a.text[:0])
		dst = report.AppendJSONString(dst, a.text)
	}
	return append(dst, '}')
}

// guidText returns g's text (GUID.String), formatted again only when the
// provider changes.
func (a *jsonScratch) guidText(g etl.GUID) []byte {
	if a.lastText == nil || g != a.lastGUID {
		a.lastGUID, a.lastText = g, appendGUID(a.lastText[:0], g)
	}
	return a.lastText
}

// appendGUID appends g as GUID.String renders it
// ("50b3e73c-9370-461d-bb9f-26f32d68887d").
func appendGUID(dst []byte, g etl.GUID) []byte {
	var b [16]byte
	binary.BigEndian.PutUint32(b[0:4], g.Data1)
	binary.BigEndian.PutUint16(b[4:6], g.Data2)
	binary.BigEndian.PutUint16(b[6:8], g.Data3)
	copy(b[8:], g.Data4[:])
	dst = hex.AppendEncode(dst, b[0:4])
	dst = hex.AppendEncode(append(dst, '-'), b[4:6])
	dst = hex.AppendEncode(append(dst, '-'), b[6:8])
	dst = hex.AppendEncode(append(dst, '-'), b[8:10])
	return hex.AppendEncode(append(dst, '-'), b[10:16])
}

// appendIDJSON appends a process or thread id as idJSON gives it: null
// for noID.
func appendIDJSON(dst []byte, id uint32) []byte {
	if id == noID {
		return append(dst, "null"...)
	}
	return strconv.AppendUint(dst, uint64(id), 10)
}
