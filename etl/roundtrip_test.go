package etl_test

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/internal/etltest"
)

var (
	webIO   = etl.MustParseGUID("50b3e73c-9370-461d-bb9f-26f32d68887d")
	classic = etl.MustParseGUID("b3e675d7-2554-4f18-830b-2762732560de")
)

// writeFixture builds a small trace with every record flavour the writer
// knows, spread over CPUs, and returns its bytes.
func writeFixture(t testing.TB, opts etltest.Options, n int) []byte {
	t.Helper()
	w := etltest.NewWriter(opts)
	start := w.Options().Start
	for i := 0; i < n; i++ {
		at := start.Add(time.Duration(i) * time.Millisecond)
		cpu := i % w.Options().CPUs
		switch i % 4 {
		case 0, 1:
			ev := etltest.Event{Provider: webIO, ID: 728, Version: 1, Level: 4, Opcode: 0, Task: 31,
				Keywords: 0x8000000000000000 | uint64(i), PID: 4321, TID: uint32(100 + i), CPU: cpu, Time: at,
				UserData: etltest.NewPayload(w.Options().PointerSize).Ptr(0x1234).U32(0xA80).Bytes()}
			if i%8 == 1 {
				ev.Extended = []etl.ExtendedItem{{Type: etl.ExtRelatedActivityID, Data: webIO.Bytes()}, {Type: etl.ExtSID, Data: []byte{1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0}}}
			}
			w.Add(ev)
		case 2:
			w.AddClassic(etltest.ClassicEvent{Provider: classic, Type: 64, Level: 4, Version: 2, PID: 8, TID: 9, CPU: cpu, Time: at, UserData: []byte("classic")})
		case 3:
			w.AddSystem(etltest.SystemEvent{Kind: etltest.SystemKind(i / 4 % 3), HookID: etltest.HookProcessStart, PID: 4, TID: 5, CPU: cpu, Time: at, UserData: []byte{1, 2, 3}})
		}
	}
	b, err := w.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readAll reads every event of b; warns are the integrity issues of the
// file (the iteration itself must not fail).
func readAll(t testing.TB, b []byte, opts etl.ReadOptions) (evs []*etl.Event, warns []etl.Issue, f *etl.File) {
	t.Helper()
	f, err := etl.NewFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	for ev, err := range f.Events(opts) {
		if err != nil {
			t.Fatalf("iteration error: %v", err)
		}
		evs = append(evs, ev.Clone())
	}
	in := f.Integrity()
	return evs, in.Issues, f
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		opts etltest.Options
	}{
		{"64-bit", etltest.Options{}},
		{"32-bit", etltest.Options{PointerSize: 4, Build: 9200}},
		{"compressed", etltest.Options{Compress: true, CPUs: 4, BufferSize: 4096}},
		{"small buffers", etltest.Options{CPUs: 3, BufferSize: 1024}},
		{"system clock", etltest.Options{ClockType: etltest.ClockSystemTime}},
		{"cpu cycles", etltest.Options{ClockType: etltest.ClockCPUCycle, CPUSpeedMHz: 3000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const n = 400
			b := writeFixture(t, tt.opts, n)
			evs, warns, f := readAll(t, b, etl.ReadOptions{})
			if len(warns) > 0 {
				t.Fatalf("warnings: %v", warns)
			}
			h := f.Header()
			o := etltest.NewWriter(tt.opts).Options()
			if h.PointerSize != o.PointerSize || h.OSBuild != o.Build || h.NumberOfProcessors != uint32(o.CPUs) ||
				h.LoggerName != o.LoggerName || h.LogFileName != o.LogFileName || !h.StartTime.Equal(o.Start) {
				t.Errorf("header %+v does not match options %+v", h, o)
			}
			// The writer adds the logfile header record and, like Windows
			// 10, an empty EventTrace record after it.
			if len(evs) != n+2 {
				t.Fatalf("%d events, want %d", len(evs), n+2)
			}
			if evs[0].Provider != etl.EventTraceGUID || evs[0].Kind != etl.KindSystem || evs[1].Provider != etl.EventTraceGUID {
				t.Errorf("first events %v %v, want the logfile header records", evs[0].Provider, evs[0].Kind)
			}
			for i, ev := range evs[2:] {
				want := o.Start.Add(time.Duration(i) * time.Millisecond)
				if d := ev.Time.Sub(want); d < -time.Microsecond || d > time.Microsecond {
					t.Fatalf("event %d: time %v, want %v (merge order or clock wrong)", i, ev.Time, want)
				}
				if ev.CPU != uint16(i%o.CPUs) {
					t.Errorf("event %d: cpu %d, want %d", i, ev.CPU, i%o.CPUs)
				}
				switch i % 4 {
				case 0, 1:
					if ev.Kind != etl.KindEventHeader || ev.Provider != webIO || ev.ID != 728 || ev.Version != 1 || ev.Level != 4 ||
						ev.Task != 31 || ev.PID != 4321 || ev.TID != uint32(100+i) || ev.Keywords != 0x8000000000000000|uint64(i) {
						t.Fatalf("event %d: %+v", i, ev)
					}
					if ev.PointerSize != o.PointerSize || len(ev.UserData) != o.PointerSize+4 {
						t.Errorf("event %d: pointer size %d, payload %d bytes", i, ev.PointerSize, len(ev.UserData))
					}
					if i%8 == 1 {
						if len(ev.Extended) != 2 || ev.RelatedActivityID != webIO || len(ev.Extended[1].Data) != 12 {
							t.Errorf("event %d: extended items %+v", i, ev.Extended)
						}
					} else if len(ev.Extended) != 0 {
						t.Errorf("event %d: unexpected extended items", i)
					}
				case 2:
					if ev.Kind != etl.KindFull || ev.Provider != classic || ev.Opcode != 64 || ev.Version != 2 || string(ev.UserData) != "classic" {
						t.Errorf("event %d: %+v", i, ev)
					}
				case 3:
					if ev.HookID != etltest.HookProcessStart || ev.Opcode != 1 || ev.Provider != etl.KernelGroupGUID(3) || !bytes.Equal(ev.UserData, []byte{1, 2, 3}) {
						t.Errorf("event %d: %+v", i, ev)
					}
				}
			}
			// File order yields the same records.
			fo, _, _ := readAll(t, b, etl.ReadOptions{FileOrder: true})
			if len(fo) != len(evs) {
				t.Errorf("file order: %d events, merged %d", len(fo), len(evs))
			}
			st := f.Stats()
			if tt.opts.Compress && st.CompressedBuffers == 0 {
				t.Error("no compressed buffers read")
			}
		})
	}
}

func TestNotETL(t *testing.T) {
	tests := map[string][]byte{
		"empty": nil,
		"short": []byte("hello"),
		"text":  bytes.Repeat([]byte("this is not an etl file\n"), 100),
		"zero":  make([]byte, 8192),
		"ff":    bytes.Repeat([]byte{0xFF}, 8192),
		"header only": func() []byte {
			b := writeFixture(t, etltest.Options{}, 1)
			return b[:etl.BufferHeaderSize]
		}(),
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := etl.NewFile(bytes.NewReader(b), int64(len(b)))
			var fe *etl.FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("got %v, want a *FormatError", err)
			}
		})
	}
}

// TestParallelDecompressionMatches reads a compressed trace with buffers
// decompressed ahead on other cores and with one core: same records, same
// order, in both iteration orders.
func TestParallelDecompressionMatches(t *testing.T) {
	b := writeFixture(t, etltest.Options{CPUs: 4, BufferSize: 4096, Compress: true}, 3000)
	read := func(procs int, fileOrder bool) []string {
		old := runtime.GOMAXPROCS(procs)
		defer runtime.GOMAXPROCS(old)
		evs, warns, _ := readAll(t, b, etl.ReadOptions{FileOrder: fileOrder, Prefetch: etl.PrefetchAlways})
		if len(warns) > 0 {
			t.Fatal(warns)
		}
		out := make([]string, len(evs))
		for i, ev := range evs {
			out[i] = fmt.Sprintf("%d/%d/%d/%x", ev.Timestamp, ev.CPU, ev.ID, ev.UserData)
		}
		return out
	}
	for _, fileOrder := range []bool{true, false} {
		one, many := read(1, fileOrder), read(4, fileOrder)
		if len(one) != 3002 || strings.Join(one, "\n") != strings.Join(many, "\n") {
			t.Errorf("file order %v: %d records with one core, %d with four, or a different order", fileOrder, len(one), len(many))
		}
	}
}
