package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/decode"
	"github.com/etlscope/etlscope/etl/scan"
	"github.com/etlscope/etlscope/internal/etltest"
	"github.com/etlscope/etlscope/internal/nettrace"
	"github.com/etlscope/etlscope/internal/sharedtest"
	"github.com/etlscope/etlscope/redact"
	"github.com/etlscope/etlscope/report"
)

// The events JSON is appended by hand (eventjson.go) and must be byte for
// byte what encoding/json writes for the EventJSON document (docs/json.md;
// the golden files pin a few events). These tests compare the two on
// every event of real and generated traces and on events built to hold
// what a trace may carry: any text in strings (Windows writes whatever
// the application passed, ANSI strings are bytes in the writer's code
// page, so invalid UTF-8 too), names that need sorting and escaping,
// repeated property names, floats encoding/json writes in exponent form
// or refuses (NaN, ±Inf), times outside the years encoding/json accepts.

// trickyManifest declares an event with one field of each manifest type
// etlscope decodes, in an order that is not sorted, with a repeated name
// (manifests from the field do repeat names: a map keeps the last).
const trickyManifest = `<instrumentationManifest xmlns="http://schemas.microsoft.com/win/2004/08/events">
 <instrumentation><events>
  <provider name="Contoso-Tricky &lt;&amp;&gt; &quot;q&quot; é" guid="{11111111-2222-3333-4444-555555555555}">
   <events><event value="7" version="1" symbol="Tricky&#x2028;Event" task="Task &lt;1&gt;" template="T1"/></events>
   <templates><template tid="T1">
    <data name="zeta" inType="win:UnicodeString"/>
    <data name="Alpha" inType="win:AnsiString"/>
    <data name="Dup" inType="win:UInt32"/>
    <data name="Ratio" inType="win:Double"/>
    <data name="Small" inType="win:Float"/>
    <data name="Big" inType="win:UInt64"/>
    <data name="Neg" inType="win:Int64"/>
    <data name="Flag" inType="win:Boolean"/>
    <data name="Mask" inType="win:HexInt32"/>
    <data name="Id" inType="win:GUID"/>
    <data name="When" inType="win:FILETIME"/>
    <data name="é" inType="win:UInt8"/>
    <data name="Dup" inType="win:UnicodeString"/>
    <data name="Len" inType="win:UInt16"/>
    <data name="Blob" inType="win:Binary" length="Len"/>
   </template></templates>
  </provider>
 </events></instrumentation>
</instrumentationManifest>`

var trickyTexts = []string{
	"", "plain", " lead", "\u00a0nbsp", "\u2028line\u2029para", `<a href="x">&amp;</a>`, `back\slash "quote"`,
	"ctl \x01\x07\x08\x0c\x1b\x1f\x7f tab\tnl\ncr\r", "bad \xff\xfe utf8 \xc3", "\xed\xa0\x80", "emoji 😀 and é",
	strings.Repeat("0123456789abcdef", 300),
}

// trickyEvents decodes events of the tricky manifest with every text of
// trickyTexts and a range of numbers, floats and times.
func trickyEvents(t *testing.T) []*decode.Decoded {
	t.Helper()
	dec := decode.New()
	if err := dec.LoadManifest(strings.NewReader(trickyManifest)); err != nil {
		t.Fatal(err)
	}
	g := etl.MustParseGUID("11111111-2222-3333-4444-555555555555")
	floats := []float64{0, 1.5, -2.25e-7, 1e21, 123456789, math.SmallestNonzeroFloat64, math.MaxFloat64, math.Copysign(0, -1)}
	times := []time.Time{
		time.Date(2024, 3, 12, 9, 30, 0, 16_000_100, time.UTC), {}, time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 0, 0, 999_999_900, time.UTC),
	}
	var out []*decode.Decoded
	for i, s := range trickyTexts {
		blob := bytes.Repeat([]byte{0x16, 0x03, byte(i)}, 40*i) // up to 1320 bytes: past the 256-byte cut
		p := etltest.NewPayload(8).UTF16Z(s).AnsiZ(strings.ReplaceAll(s, "\x00", "")).U32(uint32(i)).
			U64(math.Float64bits(floats[i%len(floats)])).U32(math.Float32bits(float32(max(-math.MaxFloat32, min(math.MaxFloat32, floats[(i+3)%len(floats)]))))).
			U64(math.MaxUint64 - uint64(i)).I64(-int64(i) << 40).Bool32(i%2 == 0).U32(0xa80 + uint32(i)).GUID(g).
			FileTime(times[i%len(times)]).U8(uint8(i)).UTF16Z(s + "dup").U16(uint16(len(blob))).Raw(blob)
		ev := &etl.Event{Kind: etl.KindEventHeader, Provider: g, ID: 7, Version: 1, Level: 4, Opcode: uint8(i), Task: 9,
			Keywords: 0x8000_0000_0000_0000 >> i, PID: uint32(1000 + i), TID: noID, CPU: uint16(i), PointerSize: 8,
			Offset: int64(i) << 33, Time: times[i%len(times)].Add(time.Duration(i) * time.Millisecond), UserData: p.Bytes()}
		if i%3 == 0 {
			ev.PID, ev.TID = noID, 7
		}
		d := keep(dec.Decode(ev))
		if d.Warning != "" {
			t.Fatalf("event %d: %s", i, d.Warning)
		}
		if i%2 == 1 { // the names decode takes from the file can hold anything
			d.ProviderName, d.EventName, d.TaskName, d.OpcodeName, d.Warning = s, s, s, s, s
		}
		out = append(out, d)
	}
	// An event without properties, one from an unknown provider.
	out = append(out, keep(dec.Decode(&etl.Event{Kind: etl.KindEventHeader, Provider: g, ID: 99, PID: noID, TID: noID})),
		keep(dec.Decode(&etl.Event{Kind: etl.KindEventHeader, Provider: etl.MustParseGUID("00000000-0000-0000-0000-0000000000ab"), ID: 1})))
	return out
}

// keep copies a decoded event the decoder will reuse (its event too).
func keep(d *decode.Decoded) *decode.Decoded {
	ev := *d.Event
	ev.UserData = slices.Clone(ev.UserData)
	c := *d
	c.Event, c.Properties = &ev, slices.Clone(d.Properties)
	c.Description()
	return &c
}

// sameJSON checks that the appended JSON of d is encoding/json's,
// without and with redaction; each redactor sees the events in the same
// order.
func sameJSON(t *testing.T, d *decode.Decoded, app, ref *eventWriter) {
	t.Helper()
	got := app.appendJSON([]byte("x"), d)
	var want bytes.Buffer
	want.WriteString("x")
	err := writeJSONCompact(&want, ref.eventJSON(d))
	switch {
	case err != nil:
		// Only an event time outside years 0-9999 (see
		// TestEventJSONUnrepresentable); the line must still be JSON.
		if !json.Valid(got[1:]) {
			t.Errorf("encoding/json refuses event at %d (%v); appendJSON wrote invalid JSON %q", d.Event.Offset, err, got)
		}
	case string(got) != want.String():
		t.Errorf("event at %d (redact %v):\n got %q\nwant %q", d.Event.Offset, app.red != nil, got, want.String())
	}
}

func TestEventJSONTricky(t *testing.T) {
	events := trickyEvents(t)
	for _, red := range []bool{false, true} {
		app, ref := &eventWriter{}, &eventWriter{}
		if red {
			app.red, ref.red = redact.NewRedactor(), redact.NewRedactor()
		}
		for _, d := range events {
			sameJSON(t, d, app, ref)
		}
	}
	// The table reaches what it claims: repeated names, a packet past
	// the cut, escaped names.
	var all []byte
	for _, d := range events {
		all = append(append(all, (&eventWriter{}).appendJSON(nil, d)...), '\n')
	}
	for _, want := range []string{`"Dup":"ctl \u0001\u0007\b\f\u001b\u001f`, `\ufffd`, `\u2028`, `"é":11`, `"properties":{"Alpha"`,
		`"pid":null`, `"tid":null`, `e-07`, `e+21`, `…`, `"provider":"<a href=\"x\">&amp;</a>"`, `"provider":"00000000-0000-0000-0000-0000000000ab"`} {
		if !bytes.Contains(all, []byte(want)) {
			t.Errorf("no %q in the tricky events' JSON", want)
		}
	}
}

func TestAppendGUID(t *testing.T) {
	for _, g := range []etl.GUID{{}, etl.MustParseGUID("50b3e73c-9370-461d-bb9f-26f32d68887d"),
		{Data1: 0xffffffff, Data2: 0xffff, Data3: 0xffff, Data4: [8]byte{0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa, 0xf9, 0xf8}},
		{Data1: 1, Data2: 2, Data3: 3, Data4: [8]byte{4, 5, 6, 7, 8, 9, 10, 11}}} {
		if got, want := string(appendGUID([]byte("x"), g)), "x"+g.String(); got != want {
			t.Errorf("appendGUID = %q, want %q", got, want)
		}
	}
}

// TestEventJSONUnrepresentable: a value JSON has no form for (a NaN or
// infinite float in the payload, a time outside years 0-9999 from a
// damaged clock) is written as its text and the line stays valid JSON:
// one odd event must not make the whole listing fail, as it did when
// encoding/json wrote it ("json: unsupported value").
func TestEventJSONUnrepresentable(t *testing.T) {
	dec := decode.New()
	if err := dec.LoadManifest(strings.NewReader(trickyManifest)); err != nil {
		t.Fatal(err)
	}
	g := etl.MustParseGUID("11111111-2222-3333-4444-555555555555")
	ok := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, c := range map[string]struct {
		ratio float64
		ev    time.Time
		want  string
	}{
		"NaN":        {math.NaN(), ok, `"NaN"`},
		"+Inf":       {math.Inf(1), ok, `"+Inf"`},
		"-Inf":       {math.Inf(-1), ok, `"-Inf"`},
		"year 30828": {1, time.Date(30828, 9, 14, 2, 48, 5, 0, time.UTC), `"time":"30828-09-14T02:48:05Z"`},
	} {
		p := etltest.NewPayload(8).UTF16Z("a").AnsiZ("b").U32(1).U64(math.Float64bits(c.ratio)).U32(0).U64(0).I64(0).Bool32(true).
			U32(0).GUID(g).FileTime(ok).U8(0).UTF16Z("").U16(0)
		d := dec.Decode(&etl.Event{Kind: etl.KindEventHeader, Provider: g, ID: 7, Version: 1, PointerSize: 8, Time: c.ev, UserData: p.Bytes()})
		var out bytes.Buffer
		bw := bufio.NewWriter(&out)
		ew := &eventWriter{w: bw, format: report.FormatJSON}
		if err := ew.write(d); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := ew.close(&etl.Integrity{}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		bw.Flush()
		if !json.Valid(out.Bytes()) || !strings.Contains(out.String(), c.want) {
			t.Errorf("%s: want valid JSON with %s, got %s", name, c.want, out.String())
		}
	}
}

// TestEventJSONTraces compares every event of a generated NetTrace and of
// the real samples (when ../shared is there).
func TestEventJSONTraces(t *testing.T) {
	dir := tempDir(t)
	gen := filepath.Join(dir, "gen.etl")
	fh, err := os.Create(gen)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nettrace.Generate(fh, nettrace.GenOptions{Size: 2 << 20}); err != nil {
		t.Fatal(err)
	}
	fh.Close()
	paths := []string{gen}
	if d := sharedtest.Dir(); d != "" {
		more, _ := filepath.Glob(filepath.Join(d, "testdata", "etl", "*.etl"))
		paths = append(paths, more...)
	} else {
		t.Log("../shared not found: only the generated trace (set ETLSCOPE_SHARED for the real samples)")
	}
	for _, p := range paths {
		for _, red := range []bool{false, true} {
			app, ref := &eventWriter{}, &eventWriter{}
			if red {
				app.red, ref.red = redact.NewRedactor(), redact.NewRedactor()
			}
			tr, err := scan.Open(p, nil)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			_, err = scan.Run(context.Background(), tr.File, scan.Options{}, func(e *scan.Event) error {
				n++
				sameJSON(t, e.Decoded, app, ref)
				if t.Failed() {
					return scan.ErrStop
				}
				return nil
			})
			tr.Close()
			if n == 0 {
				t.Errorf("%s: no events (%v)", p, err)
			}
		}
	}
}

// BenchmarkEventJSON: appending an event against encoding/json, on the
// events of a generated NetTrace (mostly packet fragments).
func BenchmarkEventJSON(b *testing.B) {
	dir := tempDir(b)
	gen := filepath.Join(dir, "gen.etl")
	fh, _ := os.Create(gen)
	nettrace.Generate(fh, nettrace.GenOptions{Size: 1 << 20})
	fh.Close()
	tr, err := scan.Open(gen, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close()
	var events []*decode.Decoded
	scan.Run(context.Background(), tr.File, scan.Options{}, func(e *scan.Event) error {
		events = append(events, keep(e.Decoded))
		return nil
	})
	b.Run("append", func(b *testing.B) {
		ew := &eventWriter{}
		var buf []byte
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			buf = ew.appendJSON(buf[:0], events[i%len(events)])
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		ew := &eventWriter{}
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			writeJSONCompact(io.Discard, ew.eventJSON(events[i%len(events)]))
		}
	})
}

// eventJSON returns d as encoding/json is to write it: the reference the
// appended JSON (appendJSON) is compared against; the CLI no longer
// writes events through it.
func (ew *eventWriter) eventJSON(d *decode.Decoded) EventJSON {
	ev := d.Event
	j := EventJSON{
		Time: ev.Time.UTC(), Provider: providerLabel(d), ProviderID: ev.Provider.String(),
		ID: ev.ID, Version: ev.Version, Level: ev.Level, Opcode: ev.Opcode, Task: ev.Task,
		Keywords: fmt.Sprintf("%#x", ev.Keywords), EventName: d.EventName, TaskName: d.TaskName, OpcodeName: d.OpcodeName,
		PID: idJSON(ev.PID), TID: idJSON(ev.TID), CPU: ev.CPU, Kind: ev.Kind.String(), Offset: ev.Offset,
		Description: ew.red.Text(d.Description()), Warning: d.Warning,
	}
	if len(d.Properties) > 0 {
		j.Properties = make(map[string]any, len(d.Properties))
		for _, p := range d.Properties {
			if ew.red != nil && p.Kind == decode.PropOpaque {
				continue // opaque bytes (packets, binary values) are dropped under --redact
			}
			// Plain numbers, booleans and times are typed; text, and
			// anything redaction may change, goes through propText.
			if v := p.Value.JSON(); p.Kind == decode.PropPlain {
				if _, isText := v.(string); !isText {
					j.Properties[p.Name] = v
					continue
				}
			}
			j.Properties[p.Name] = ew.propText(p)
		}
	}
	return j
}

// idJSON is a process or thread id in JSON: null for noID.
func idJSON(id uint32) *uint32 {
	if id == noID {
		return nil
	}
	return &id
}
