package etl_test

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/internal/etltest"
)

// TestReplayedWalk: iterations replay the buffer headers Open walked
// instead of reading them again; on files too large to keep that, they
// walk the file themselves. Both give the same events and findings, on
// intact files and on files with damaged buffer headers, fill and a cut.
func TestReplayedWalk(t *testing.T) {
	plain := writeFixture(t, etltest.Options{CPUs: 4, BufferSize: 4096}, 6000)
	damaged := bytes.Clone(plain)
	// A zeroed buffer header (fill that hides a buffer) and a damaged one.
	copy(damaged[10*4096:], make([]byte, 4096))
	copy(damaged[20*4096:], bytes.Repeat([]byte{0x5A}, 16))
	for _, fx := range []struct {
		name string
		b    []byte
	}{{"plain", plain}, {"damaged headers", damaged}, {"cut", plain[:len(plain)-777]}} {
		for _, fileOrder := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/fileorder=%v", fx.name, fileOrder), func(t *testing.T) {
				read := func(forget bool) (string, etl.Integrity) {
					f, err := etl.NewFile(bytes.NewReader(fx.b), int64(len(fx.b)))
					if err != nil {
						t.Fatal(err)
					}
					if forget {
						etl.ForgetWalk(f)
					}
					var sb strings.Builder
					for ev, err := range f.Events(etl.ReadOptions{FileOrder: fileOrder}) {
						if err != nil {
							t.Fatal(err)
						}
						fmt.Fprintf(&sb, "%d/%d/%d/%d/%x\n", ev.Offset, ev.Timestamp, ev.CPU, ev.ID, ev.UserData)
					}
					return sb.String(), f.Integrity()
				}
				e1, in1 := read(false)
				e2, in2 := read(true)
				if e1 != e2 {
					t.Error("events differ between the replayed and the new walk")
				}
				if !reflect.DeepEqual(in1, in2) {
					t.Errorf("integrity differs:\nreplayed: %+v\nwalked:   %+v", in1, in2)
				}
				if fx.name != "plain" && in1.Complete() {
					t.Error("the damage went unnoticed")
				}
			})
		}
	}
}

// TestNoTimes: with ReadOptions.NoTimes the events are the same except
// that Time is left zero (Timestamp, which orders them, is set).
func TestNoTimes(t *testing.T) {
	b := writeFixture(t, etltest.Options{CPUs: 3, BufferSize: 4096}, 2000)
	for _, fileOrder := range []bool{false, true} {
		with, _, _ := readAll(t, b, etl.ReadOptions{FileOrder: fileOrder})
		without, _, _ := readAll(t, b, etl.ReadOptions{FileOrder: fileOrder, NoTimes: true})
		if len(with) != len(without) || len(with) < 2000 {
			t.Fatalf("%d events with times, %d without", len(with), len(without))
		}
		for i := range with {
			if !without[i].Time.IsZero() {
				t.Fatalf("event %d has a time with NoTimes", i)
			}
			c := *with[i]
			c.Time = time.Time{}
			if !reflect.DeepEqual(&c, without[i]) {
				t.Fatalf("event %d differs beyond its time", i)
			}
			if with[i].Time.IsZero() {
				t.Fatalf("event %d has no time without NoTimes", i)
			}
		}
	}
}
