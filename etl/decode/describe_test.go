package decode_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/decode"
	"github.com/etlscope/etlscope/internal/etltest"
	"github.com/etlscope/etlscope/internal/nettrace"
	"github.com/etlscope/etlscope/internal/sharedtest"
)

// TestAppendDescription: AppendDescription appends what Description
// returns, before and after Description renders it, on every event of a
// generated NetTrace (messages with inserts), of the real samples
// (TraceLogging and schema-less events list their properties) and on a
// manifest event whose message uses the message-file escapes.
func TestAppendDescription(t *testing.T) {
	var files [][]byte
	var gen bytes.Buffer
	if _, err := nettrace.Generate(&gen, nettrace.GenOptions{Size: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	files = append(files, gen.Bytes())
	if dir := sharedtest.Dir(); dir != "" {
		paths, _ := filepath.Glob(filepath.Join(dir, "testdata", "etl", "*.etl"))
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, data)
		}
	}
	n := 0
	for _, data := range files {
		f, err := etl.NewFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		d := decode.New()
		for ev, err := range f.Events(etl.ReadOptions{}) {
			if err != nil {
				break // damaged samples end early; what came before counts
			}
			d.Observe(ev)
			checkDescription(t, d.Decode(ev))
			n++
		}
	}
	if n < 1000 {
		t.Errorf("only %d events compared", n)
	}

	const xml = `<instrumentationManifest xmlns="http://schemas.microsoft.com/win/2004/08/events">
 <instrumentation><events>
  <provider name="Contoso-Test" guid="{11111111-2222-3333-4444-555555555555}">
   <events><event value="7" version="0" symbol="Hello" template="T1" message="$(string.m1)"/></events>
   <templates><template tid="T1">
    <data name="Count" inType="win:UInt32"/>
    <data name="Name" inType="win:UnicodeString"/>
   </template></templates>
  </provider>
 </events></instrumentation>
 <localization><resources culture="en-US"><stringTable><string id="m1" value="100%% of %2,%tcount %1%n(%3 %12 %)&#13;&#10;end %"/></stringTable></resources></localization>
</instrumentationManifest>`
	d := decode.New()
	if err := d.LoadManifest(strings.NewReader(xml)); err != nil {
		t.Fatal(err)
	}
	data := etltest.NewPayload(8).U32(3).UTF16Z("wörld").Bytes()
	x := d.Decode(&etl.Event{Kind: etl.KindEventHeader, Provider: etl.MustParseGUID("11111111-2222-3333-4444-555555555555"), ID: 7, PointerSize: 8, UserData: data})
	if got, want := string(x.AppendDescription(nil)), "100% of wörld, count 3 (  %) end %"; got != want {
		t.Errorf("AppendDescription = %q, want %q", got, want)
	}
	checkDescription(t, x)
}

func checkDescription(t *testing.T, x *decode.Decoded) {
	t.Helper()
	before := string(x.AppendDescription([]byte("x")))
	desc := x.Description()
	after := string(x.AppendDescription([]byte("x")))
	if before != "x"+desc || after != "x"+desc {
		t.Errorf("event %d of %s: AppendDescription %q before and %q after, Description %q", x.Event.ID, x.ProviderName, before, after, desc)
	}
}
