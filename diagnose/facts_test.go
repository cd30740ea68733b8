package diagnose

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/etlscope/etlscope/wintls"
)

// TestEnableKeepsWhatRulesUse: Facts.enable keeps only some of the
// WebIO mask records (a trace logs one per connection); what every rule
// reads from them must be the same as with all of them kept: askedTLS12,
// masksWithoutTLS12 (masks in order, first evidence of each, every
// process), the first records overall and the first with TLS 1.2.
func TestEnableKeepsWhatRulesUse(t *testing.T) {
	// WinHTTP's default mask on Windows 7/2012 (TLS 1.0 only, 0xA0 with
	// SSL3) and the one with TLS 1.2 (0xA80): providers.md, WebIO 728.
	masks := []wintls.Protocols{0xA0, 0xA80, 0x80, 0xA80 | 0x2000}
	all := &Facts{procs: map[uint32]*ProcessTLS{}}
	kept := &Facts{procs: map[uint32]*ProcessTLS{}}
	for i := range 5000 {
		m := masks[(i*7/3)%len(masks)]
		pid := uint32(1000 + i%37)
		e := Evidence{Source: "Microsoft-Windows-WebIO 728", Text: fmt.Sprint(i)}
		all.masks = append(all.masks, maskSeen{mask: m, pid: pid, ev: e})
		kept.enable(pid, m, func() Evidence { return e })
	}
	if len(kept.masks) >= len(all.masks)/2 {
		t.Errorf("kept %d of %d records", len(kept.masks), len(all.masks))
	}
	if kept.askedTLS12() != all.askedTLS12() {
		t.Errorf("askedTLS12 %v, want %v", kept.askedTLS12(), all.askedTLS12())
	}
	km, kev, kpids := kept.masksWithoutTLS12()
	am, aev, apids := all.masksWithoutTLS12()
	if !reflect.DeepEqual(km, am) || !reflect.DeepEqual(kev, aev) || !reflect.DeepEqual(kpids, apids) {
		t.Errorf("masksWithoutTLS12:\n got %v %v %v\nwant %v %v %v", km, kev, kpids, am, aev, apids)
	}
	first := func(f *Facts, tls12 bool) []Evidence {
		var out []Evidence
		for _, m := range f.masks {
			if !tls12 || m.mask.Has(wintls.TLS12Client) {
				out = addEv(out, m.ev)
			}
		}
		return out
	}
	for _, tls12 := range []bool{false, true} {
		if got, want := first(kept, tls12), first(all, tls12); !reflect.DeepEqual(got, want) {
			t.Errorf("first records (TLS 1.2 only: %v):\n got %v\nwant %v", tls12, got, want)
		}
	}
}
