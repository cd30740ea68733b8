package diagnose

import (
	"context"
	"sort"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/decode"
	"github.com/etlscope/etlscope/etl/scan"
	"github.com/etlscope/etlscope/filters"
	"github.com/etlscope/etlscope/packet"
	"github.com/etlscope/etlscope/redact"
	"github.com/etlscope/etlscope/wintls"
)

// Options control Analyze.
type Options struct {
	Redact *redact.Redactor // nil: no redaction
	// Filter, when set, limits the decoded events the diagnosis uses
	// (packets are always used); what it removes is reported.
	Filter *filters.Filter
	// OnIssue is called with each integrity finding as the reader finds it.
	OnIssue func(etl.Issue)
}

// diagnosedProviders are the providers whose events the diagnosis
// decodes.
var diagnosedProviders = [...]etl.GUID{decode.WebIO, decode.WinHttp, decode.WinINet, decode.Schannel, decode.TCPIP, decode.DNSClient}

// diagnosed reports whether the diagnosis decodes the events of provider
// g. It is asked for every event of a trace, mostly packets: comparing
// Data1 first rules those out with one integer compare each, where a map
// lookup would hash the GUID.
func diagnosed(g etl.GUID) bool {
	for _, p := range diagnosedProviders {
		if p.Data1 == g.Data1 && p == g {
			return true
		}
	}
	return false
}

// MaxConnections bounds the connections an Analysis lists (failed ones
// are kept first); ConnectionsTotal has the full count.
const MaxConnections = 5000

// Analyze reads f once and returns the TLS diagnosis.
func Analyze(ctx context.Context, f *etl.File, name string, opts Options) (*Analysis, error) {
	h := f.Header()
	a := &Analysis{File: name, OS: wintls.Lookup(h.OSBuild, wintls.EditionUnknown), Start: h.StartTime, End: h.EndTime, Providers: map[string]int{}}
	facts := &Facts{OS: a.OS, Bits: wintls.BitsFromPointerSize(h.PointerSize), Providers: a.Providers,
		procs: map[uint32]*ProcessTLS{}, names: map[uint32]string{}, dnsName: map[string]string{}, red: opts.Redact}
	x := packet.NewExtractor()
	tr := packet.NewTracker()
	wanted := func(ev *etl.Event) bool { return ev.Kind == etl.KindEventHeader && diagnosed(ev.Provider) }
	so := scan.Options{Decode: wanted, OnIssue: opts.OnIssue}
	var packets etl.ProviderCounts
	res, err := scan.Run(ctx, f, so, func(e *scan.Event) error {
		if e.Decoded == nil {
			if isProcessNameEvent(e.Event) {
				if pid, name, ok := processImage(e.Event); ok && len(facts.names) < maxProcessNames {
					facts.names[pid] = name
				}
				return nil
			}
			if packet.IsPacketEvent(e.Event) {
				packets.Add(e.Provider)
				if fr, err := x.Add(e.Event); err == nil && fr != nil {
					a.Packets++
					tr.Add(fr)
				}
			}
			return nil
		}
		d := e.Decoded
		// Connection owners are needed whatever the filter says.
		if IsOwnerEvent(e.Event) {
			if l, r, pid, ok := ConnectOwner(d); ok {
				tr.SetOwner(l, r, pid)
			}
		}
		if opts.Filter != nil && !opts.Filter.Match(d) {
			facts.Filtered++
			return nil
		}
		a.Providers[d.ProviderName]++
		facts.event(d)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for g, n := range packets.Map() {
		a.Providers[decode.ProviderName(g)] += n
	}
	a.Events = res.Events
	a.Integrity = res.Integrity
	facts.Integrity = res.Integrity
	facts.Packets = a.Packets
	facts.convs = tr.All()
	finishProcesses(a, facts)
	a.Connections, a.ConnectionsTotal = connections(facts)
	for _, rule := range Rules {
		a.Verdicts = append(a.Verdicts, rule(facts, a.Verdicts)...)
	}
	a.Result = result(a.Verdicts)
	return a, nil
}

// finishProcesses lists the processes that asked for protocols or failed,
// by PID, with their masks in words.
func finishProcesses(a *Analysis, f *Facts) {
	for _, pid := range f.order {
		p := f.procs[pid]
		if p.Name == "" {
			p.Name = f.names[pid]
		}
		for _, m := range p.EnabledProtocols {
			p.Enabled = append(p.Enabled, wintls.Protocols(m).Names())
		}
		if p.EnabledProtocols == nil {
			p.EnabledProtocols = []uint32{}
		}
		if len(p.EnabledProtocols) > 0 || len(p.Errors) > 0 {
			a.Processes = append(a.Processes, p)
		}
	}
	sort.Slice(a.Processes, func(i, j int) bool { return a.Processes[i].PID < a.Processes[j].PID })
	if a.Processes == nil {
		a.Processes = []*ProcessTLS{}
	}
}

// connections returns the TLS connections, failed ones first up to
// MaxConnections, sorted by time, and how many there are.
func connections(f *Facts) ([]ConnectionTLS, int) {
	var out []ConnectionTLS
	total := 0
	for pass := 0; pass < 2; pass++ {
		for c := range f.convs {
			o := c.Outcome()
			if !isTLS(c) {
				continue
			}
			if o.Failed() != (pass == 0) {
				continue
			}
			total++
			if len(out) < MaxConnections {
				out = append(out, f.connection(c))
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].FirstSeen.Before(out[j].FirstSeen) })
	if out == nil {
		out = []ConnectionTLS{}
	}
	return out, total
}
