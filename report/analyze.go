package report

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/decode"
	"github.com/etlscope/etlscope/packet"
	"github.com/etlscope/etlscope/tlswire"
	"github.com/etlscope/etlscope/wintls"
)

// Severity ranks a verdict.
type Severity string

// Severities.
const (
	Problem Severity = "problem" // a TLS failure with its cause
	Warning Severity = "warning" // likely to fail, or failed for a non-TLS reason
	Unknown Severity = "unknown" // cannot tell: data missing from the trace
	OK      Severity = "ok"
)

// Evidence is one event or packet that supports a verdict.
type Evidence struct {
	Time   time.Time `json:"time"`
	Source string    `json:"source"` // provider name and event id, or "packet"
	Text   string    `json:"text"`
	Offset int64     `json:"offset"` // file offset of the record
}

// Verdict is one conclusion with its evidence and fix.
type Verdict struct {
	Severity Severity   `json:"severity"`
	Title    string     `json:"title"`
	Detail   string     `json:"detail,omitempty"`
	Evidence []Evidence `json:"evidence,omitempty"`
	Fix      []string   `json:"fix,omitempty"`
	Believed string     `json:"believed,omitempty"` // which believed (unverified) fact the verdict rests on
	count    int        // connections grouped into this verdict
}

// ProcessTLS is what one process's WinHTTP/WebIO stack did.
type ProcessTLS struct {
	PID              uint32   `json:"pid"`
	Name             string   `json:"name,omitempty"`
	EnabledProtocols []uint32 `json:"enabled_protocols"` // distinct WebIO EnabledProtocols masks, in order seen
	Enabled          []string `json:"enabled"`           // the same, in words
	Hosts            []string `json:"hosts,omitempty"`   // InitializeSecurityContext targets
	Errors           []string `json:"errors,omitempty"`  // failing results (SEC_E_*, WinHTTP errors)
}

// ConnectionTLS is one TCP connection from the packet capture.
type ConnectionTLS struct {
	FirstSeen time.Time `json:"first_seen"`
	Client    string    `json:"client"`
	Server    string    `json:"server"`
	SNI       string    `json:"sni,omitempty"`
	ClientMax string    `json:"client_max,omitempty"`
	Offered   []string  `json:"offered,omitempty"`
	Selected  string    `json:"selected,omitempty"`
	Cipher    string    `json:"cipher,omitempty"`
	Outcome   string    `json:"outcome"`
	Failed    bool      `json:"failed"`
	PID       uint32    `json:"pid,omitempty"` // owning process, when a TCPIP event named it
}

// Analysis is the result of Analyze.
type Analysis struct {
	File        string         `json:"file"`
	OS          wintls.Release `json:"os"`
	bits        wintls.Bits
	Start       time.Time       `json:"start"`
	End         time.Time       `json:"end"`
	Events      int             `json:"events"`
	Providers   map[string]int  `json:"providers"` // event counts of the providers the diagnosis uses
	Packets     int             `json:"packets"`
	Processes   []*ProcessTLS   `json:"processes"`
	Connections []ConnectionTLS `json:"connections"` // failed ones first; at most MaxConnections
	// ConnectionsTotal counts all TLS connections, also those beyond
	// MaxConnections.
	ConnectionsTotal int       `json:"connections_total"`
	Verdicts         []Verdict `json:"verdicts"`
	Warnings         []string  `json:"warnings,omitempty"`
}

// HasProblem reports whether any verdict is a problem.
func (a *Analysis) HasProblem() bool {
	for _, v := range a.Verdicts {
		if v.Severity == Problem {
			return true
		}
	}
	return false
}

// Options control Analyze.
type Options struct {
	Redact *Redactor // nil: no redaction
	// Filter, when set, limits the decoded events the diagnosis uses
	// (packets are always used).
	Filter func(*decode.Decoded) bool
}

// interesting lists the providers whose events the diagnosis decodes.
var interesting = map[etl.GUID]bool{
	decode.WebIO: true, decode.WinHttp: true, decode.WinINet: true, decode.Schannel: true,
	decode.TCPIP: true, decode.DNSClient: true,
}

const maxEvidence = 12

// MaxConnections bounds the connections an Analysis lists (failed ones
// are kept first); ConnectionsTotal has the full count.
const MaxConnections = 5000

// analyzer accumulates state while the events stream by.
type analyzer struct {
	a        *Analysis
	dec      *decode.Decoder
	procs    map[uint32]*ProcessTLS
	x        *packet.Extractor
	tr       *packet.Tracker
	hostOf   map[uint64]string // WebIO connection pointer → host
	ach      []Evidence        // EnabledProtocols evidence
	achFail  []Evidence
	iscFail  []Evidence
	certFail []Evidence
	certWhy  []string
	winhttp  []Evidence
	mismatch []Evidence
	schannel []Evidence
	tcpFail  []Evidence
	shakes   []Evidence        // Schannel 36880: handshakes completed, with the protocol
	dnsName  map[string]string // IP address → queried name (DNS-Client 3008)
	red      *Redactor

	lostEvents, lostBuffers uint32
}

// Analyze reads f once and returns the TLS diagnosis.
func Analyze(ctx context.Context, f *etl.File, name string, opts Options) (*Analysis, error) {
	h := f.Header()
	a := &Analysis{File: name, OS: wintls.Lookup(h.OSBuild, wintls.EditionUnknown), bits: wintls.BitsFromPointerSize(int(h.PointerSize)), Start: h.StartTime, End: h.EndTime, Providers: map[string]int{}}
	z := &analyzer{a: a, dec: decode.New(), procs: map[uint32]*ProcessTLS{}, x: packet.NewExtractor(), tr: packet.NewTracker(),
		hostOf: map[uint64]string{}, dnsName: map[string]string{}, red: opts.Redact}
	z.dec.SetOSBuild(h.OSBuild)
	z.lostEvents, z.lostBuffers = h.EventsLost, h.BuffersLost
	for ev, err := range f.Events(etl.ReadOptions{}) {
		if err != nil {
			var fe *etl.FormatError
			if errors.As(err, &fe) {
				if len(a.Warnings) < 50 {
					a.Warnings = append(a.Warnings, err.Error())
				}
				continue
			}
			return nil, err
		}
		if a.Events%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		a.Events++
		if packet.IsPacketEvent(ev) {
			a.Providers[decode.ProviderName(ev.Provider)]++
			fr, err := z.x.Add(ev)
			if err == nil && fr != nil {
				a.Packets++
				z.tr.Add(fr)
			}
			continue
		}
		if !interesting[ev.Provider] || ev.Kind != etl.KindEventHeader {
			continue
		}
		d := z.dec.Decode(ev)
		if opts.Filter != nil && !opts.Filter(d) {
			continue
		}
		a.Providers[decode.ProviderName(ev.Provider)]++
		z.event(d)
	}
	z.finish()
	return a, nil
}

func (z *analyzer) proc(pid uint32) *ProcessTLS {
	p := z.procs[pid]
	if p == nil {
		p = &ProcessTLS{PID: pid}
		z.procs[pid] = p
	}
	return p
}

func (z *analyzer) evidence(d *decode.Decoded) Evidence {
	return Evidence{Time: d.Event.Time, Source: fmt.Sprintf("%s %d", d.ProviderName, d.Event.ID), Text: z.red.Text(d.Description), Offset: d.Event.Offset}
}

func addEv(list []Evidence, e Evidence) []Evidence {
	if len(list) < maxEvidence {
		return append(list, e)
	}
	return list
}

func appendUnique[T comparable](s []T, v T) []T {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

func (z *analyzer) event(d *decode.Decoded) {
	ev := d.Event
	switch ev.Provider {
	case decode.WebIO:
		switch ev.ID {
		case 728, 729, 730:
			mask, ok := d.PropUint("EnabledProtocols")
			if !ok {
				return
			}
			p := z.proc(ev.PID)
			p.EnabledProtocols = appendUnique(p.EnabledProtocols, uint32(mask))
			z.ach = addEv(z.ach, z.evidence(d))
			if ev.ID == 730 {
				z.achFail = addEv(z.achFail, z.evidence(d))
				p.Errors = appendUnique(p.Errors, "AcquireCredentialsHandle: "+d.PropString("Result"))
			}
		case 700, 703:
			conn, _ := d.PropUint("Connection")
			host := d.PropString("HostName")
			if host != "" {
				z.hostOf[conn] = host
				z.proc(ev.PID).Hosts = appendUnique(z.proc(ev.PID).Hosts, z.red.Host(host))
			}
			if ev.ID == 703 {
				r, _ := d.PropUint("Result")
				if r&0x80000000 != 0 && r != 0x80090318 { // SEC_E_INCOMPLETE_MESSAGE is normal
					z.iscFail = addEv(z.iscFail, z.evidence(d))
					z.proc(ev.PID).Errors = appendUnique(z.proc(ev.PID).Errors, "InitializeSecurityContext: "+d.PropString("Result"))
				}
			}
		case 15:
			// WinHttpSetOption(WINHTTP_OPTION_SECURE_PROTOCOLS) as seen by
			// WebIO: Option 6 with the 4-byte mask as Value.
			if opt, _ := d.PropUint("Option"); opt == 6 {
				if v, ok := d.Prop("Value"); ok && len(v.Bytes()) == 4 {
					b := v.Bytes()
					mask := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
					p := z.proc(ev.PID)
					p.EnabledProtocols = appendUnique(p.EnabledProtocols, mask)
					e := z.evidence(d)
					e.Text += fmt.Sprintf(" → EnabledProtocols %#x (%s), set by the application with WINHTTP_OPTION_SECURE_PROTOCOLS", mask, tlsNames(mask))
					z.ach = addEv(z.ach, e)
				}
			}
		case 713:
			z.certFail = addEv(z.certFail, z.evidence(d))
			z.certWhy = appendUnique(z.certWhy, d.PropString("Reason")+", errors "+d.PropString("ServerCertErrors")+", "+d.PropString("Error"))
			z.proc(ev.PID).Errors = appendUnique(z.proc(ev.PID).Errors, "certificate validation: "+d.PropString("Error"))
		}
	case decode.WinHttp:
		switch ev.ID {
		case 11, 14:
			r, _ := d.PropUint("Result")
			if r >= 12000 && r < 13000 || r&0x80000000 != 0 {
				z.winhttp = addEv(z.winhttp, z.evidence(d))
				z.proc(ev.PID).Errors = appendUnique(z.proc(ev.PID).Errors, d.PropString("Api")+": "+d.PropString("Result"))
			}
		case 1053:
			z.mismatch = addEv(z.mismatch, z.evidence(d))
			if n := d.PropString("ProcessName"); n != "" {
				z.proc(ev.PID).Name = n
			}
		}
	case decode.WinINet:
		switch ev.ID {
		case 703, 704, 707, 713:
			z.winhttp = addEv(z.winhttp, z.evidence(d))
		case 1066:
			if st, _ := d.PropUint("Status"); st != 0 {
				z.winhttp = addEv(z.winhttp, z.evidence(d))
			}
		}
	case decode.DNSClient:
		if ev.ID == 3008 || ev.ID == 3020 {
			name := d.PropString("QueryName")
			for _, r := range strings.Split(d.PropString("QueryResults"), ";") {
				r = strings.TrimSpace(r)
				if r != "" && !strings.HasPrefix(r, "type:") && len(z.dnsName) < 100000 {
					if _, known := z.dnsName[r]; !known {
						z.dnsName[r] = name
					}
				}
			}
		}
	case decode.Schannel:
		switch ev.ID {
		case 36871, 36874, 36876, 36884, 36887, 36888:
			z.schannel = addEv(z.schannel, z.evidence(d))
		case 36880:
			z.shakes = addEv(z.shakes, z.evidence(d))
		}
		if img := d.PropString("CallerProcessImageName"); img != "" {
			if pid, ok := d.PropUint("CallerProcessId"); ok {
				p := z.proc(uint32(pid))
				if p.Name == "" {
					p.Name = baseName(img)
				}
			}
		}
	case decode.TCPIP:
		if ev.ID == 1033 || ev.ID == 1034 {
			l, lok := d.Prop("LocalAddress")
			r, rok := d.Prop("RemoteAddress")
			pid, pok := d.PropUint("ProcessId")
			if lap, ok1 := l.AddrPort(); lok && rok && pok && ok1 {
				if rap, ok2 := r.AddrPort(); ok2 {
					z.tr.SetOwner(lap, rap, uint32(pid))
				}
			}
		}
		if ev.ID == 1034 || ev.ID == 1045 {
			z.tcpFail = addEv(z.tcpFail, z.evidence(d))
		}
	}
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `\/`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// tlsNames renders a protocol mask without the "(client)" suffix.
func tlsNames(mask uint32) string {
	return strings.TrimSuffix(decode.ProtocolNames(mask), " (client)")
}

func (z *analyzer) finish() {
	a := z.a
	// Processes, sorted by PID.
	for _, p := range z.procs {
		for _, m := range p.EnabledProtocols {
			p.Enabled = append(p.Enabled, tlsNames(m))
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
	convs := z.tr.Conversations()
	for pass := 0; pass < 2; pass++ {
		for _, c := range convs {
			if c.ClientHello == nil && c.ServerHello == nil && !c.Outcome().Failed() {
				continue // not a TLS connection
			}
			if c.Outcome().Failed() != (pass == 0) {
				continue
			}
			a.ConnectionsTotal++
			if len(a.Connections) < MaxConnections {
				a.Connections = append(a.Connections, z.connection(c))
			}
		}
	}
	sort.SliceStable(a.Connections, func(i, j int) bool { return a.Connections[i].FirstSeen.Before(a.Connections[j].FirstSeen) })
	if a.Connections == nil {
		a.Connections = []ConnectionTLS{}
	}
	z.verdicts(convs)
}

func (z *analyzer) connection(c *packet.Conversation) ConnectionTLS {
	ct := ConnectionTLS{FirstSeen: c.FirstSeen.Time(), Client: z.red.AddrPort(c.Client), Server: z.red.AddrPort(c.Server), Outcome: c.Outcome().String(), Failed: c.Outcome().Failed()}
	if c.PIDKnown {
		ct.PID = c.PID
	}
	if name := z.dnsName[c.Server.Addr().String()]; name != "" {
		ct.SNI = z.red.Host(name) // the name DNS resolved to this address, until a ClientHello says better
	}
	if ch := c.ClientHello; ch != nil && ch.SNI != "" {
		ct.SNI = z.red.Host(ch.SNI)
		ct.ClientMax = ch.MaxVersion().String()
		for _, v := range ch.Offered() {
			ct.Offered = append(ct.Offered, v.String())
		}
	}
	if c.ServerHello != nil {
		ct.Selected = c.NegotiatedVersion().String()
		ct.Cipher = tlswire.CipherSuiteName(c.ServerHello.CipherSuite)
	}
	return ct
}

func (z *analyzer) verdicts(convs []*packet.Conversation) {
	a := z.a
	have := func(name string) bool { return a.Providers[name] > 0 }
	fix := wintls.WinHTTPTLS12Fix(a.OS, a.bits)

	// 1. EnabledProtocols without TLS 1.2: one verdict per mask, naming
	// the processes that used it.
	var masks []uint32
	who := map[uint32][]string{}
	for _, p := range a.Processes {
		for _, m := range p.EnabledProtocols {
			if m == 0 || m&0x800 != 0 {
				continue
			}
			if _, ok := who[m]; !ok {
				masks = append(masks, m)
			}
			name := fmt.Sprintf("PID %d", p.PID)
			if p.Name != "" {
				name += " (" + p.Name + ")"
			}
			who[m] = append(who[m], name)
		}
	}
	for _, m := range masks {
		procs := who[m]
		list := strings.Join(procs, ", ")
		if len(procs) > 5 {
			list = fmt.Sprintf("%s and %d more processes", strings.Join(procs[:5], ", "), len(procs)-5)
		}
		a.Verdicts = append(a.Verdicts, Verdict{
			Severity: Problem,
			Title:    fmt.Sprintf("WinHTTP in %s enabled %s only (EnabledProtocols %#x): TLS 1.2 is off", list, tlsNames(m), m),
			Detail: fmt.Sprintf("Office 365 and most current services accept only TLS 1.2 or later. On %s (build %d) the WinHTTP default is %s.",
				a.OS.Name, a.OS.Build, a.OS.WinHTTPDefaultText()),
			Evidence: filterEvidence(z.ach, fmt.Sprintf("EnabledProtocols %#x", m)),
			Fix:      fix,
		})
	}
	// WinHTTP asked for TLS 1.2 everywhere the trace shows a mask.
	askedTLS12 := false
	for _, p := range a.Processes {
		for _, m := range p.EnabledProtocols {
			if m&0x800 != 0 {
				askedTLS12 = true
			}
		}
	}
	if len(masks) > 0 {
		askedTLS12 = false
	}

	// 2. Failed handshakes on the wire, one verdict per server, outcome and
	// client version (a retrying client fails the same way many times).
	type failKey struct {
		target, outcome string
		max             tlswire.Version
	}
	groups := map[failKey]int{}
	for _, c := range convs {
		o := c.Outcome()
		if !o.Failed() || c.ClientHello == nil {
			continue
		}
		ct := z.connection(c)
		max := c.ClientHello.MaxVersion()
		k := failKey{orDash(ct.SNI) + " (" + ct.Server + ")", o.String(), max}
		if i, ok := groups[k]; ok {
			v := &a.Verdicts[i]
			v.count++
			v.Title = fmt.Sprintf("TLS handshake with %s failed %d times: %s", k.target, v.count, k.outcome)
			continue
		}
		v := Verdict{Severity: Problem, Title: fmt.Sprintf("TLS handshake with %s failed: %s", k.target, k.outcome), count: 1}
		switch {
		case o.Kind == packet.OutcomeAlert && o.Alert == 70:
			v.Detail = fmt.Sprintf("The server refused the protocol version: the client offered at most %s.", max)
		case o.Kind == packet.OutcomeAlert && o.Alert == 40 && max < tlswire.TLS12:
			v.Detail = fmt.Sprintf("handshake_failure after a ClientHello offering at most %s: usually the server requires TLS 1.2.", max)
		case (o.Kind == packet.OutcomeReset || o.Kind == packet.OutcomeClosed) && o.By == packet.Server && max < tlswire.TLS12:
			v.Detail = fmt.Sprintf("The server closed the connection right after a ClientHello offering at most %s: servers that require TLS 1.2 often do that.", max)
			v.Believed = "that a silent close means a version mismatch"
		default:
			v.Detail = fmt.Sprintf("The client offered %s.", strings.Join(ct.Offered, ", "))
		}
		if max < tlswire.TLS12 {
			v.Fix = fix
			if hasSeverity(a.Verdicts, Problem) && strings.HasPrefix(a.Verdicts[0].Title, "WinHTTP in") {
				v.Fix = []string{"The same fix as verdict 1: enable TLS 1.2 for WinHTTP."}
			}
			if askedTLS12 {
				// The application asked for TLS 1.2 and Schannel did not
				// offer it: TLS 1.2 is off at the OS level.
				v.Detail = fmt.Sprintf("WinHTTP enabled TLS 1.2 (see the EnabledProtocols evidence), yet the ClientHello offered at most %s: Schannel's TLS 1.2 client is disabled on this machine (SCHANNEL\\Protocols\\TLS 1.2\\Client Enabled=0 or DisabledByDefault=1, or the %s default).", max, a.OS.Name)
				v.Believed = "that Schannel drops protocols disabled in its registry keys from what the application asked for"
				v.Fix = wintls.SchannelTLS12ClientFix()
				v.Evidence = append(v.Evidence, filterEvidence(z.ach, "TLS1.2")...)
			}
		}
		v.Evidence = append(v.Evidence, Evidence{Time: c.ClientHelloAt.Time(), Source: "packet", Text: fmt.Sprintf("ClientHello %s → %s, SNI %s, max %s", ct.Client, ct.Server, orDash(ct.SNI), max)})
		for _, al := range c.Alerts {
			v.Evidence = append(v.Evidence, Evidence{Time: al.Time, Source: "packet", Text: fmt.Sprintf("alert %d %s from %s", al.Alert.Description, tlswire.AlertName(al.Alert.Description), al.From)})
		}
		if c.ResetBy != packet.SideNone {
			v.Evidence = append(v.Evidence, Evidence{Time: c.ResetAt.Time(), Source: "packet", Text: "TCP reset by " + c.ResetBy.String()})
		}
		groups[k] = len(a.Verdicts)
		a.Verdicts = append(a.Verdicts, v)
		if len(groups) >= 50 {
			break
		}
	}
	// 3. Certificate validation failures.
	if len(z.certFail) > 0 {
		a.Verdicts = append(a.Verdicts, Verdict{
			Severity: Problem,
			Title:    "Server certificate validation failed: " + strings.Join(z.certWhy, "; "),
			Detail:   "This is a certificate problem, not a TLS version problem: CERT_CN_INVALID / CERT_E_CN_NO_MATCH means the certificate does not carry the host name the client asked for; INVALID_CA an untrusted root; CERT_DATE_INVALID an expired certificate.",
			Evidence: z.certFail,
			Fix: []string{"Check the name the client connects to against the certificate's subject and SAN (a proxy or TLS inspection device often presents its own certificate).",
				"Check the certificate chain and date on the server, and the client's trusted root store."},
			Believed: "that WebIO ServerCertErrors uses the WINHTTP_CALLBACK_STATUS_FLAG values",
		})
	}
	// 4. WinHTTP version mismatch event (Windows 11 21H2+).
	if len(z.mismatch) > 0 {
		a.Verdicts = append(a.Verdicts, Verdict{Severity: Problem, Title: "WinHTTP reported a TLS version mismatch (WinHttp 1053)", Evidence: z.mismatch, Fix: fix})
	}
	// 5. Handshake errors without a better explanation.
	if len(z.iscFail)+len(z.achFail)+len(z.winhttp)+len(z.schannel) > 0 && !hasSeverity(a.Verdicts, Problem) {
		ev := append(append(append(append([]Evidence{}, z.achFail...), z.iscFail...), z.winhttp...), z.schannel...)
		sort.SliceStable(ev, func(i, j int) bool { return ev[i].Time.Before(ev[j].Time) })
		a.Verdicts = append(a.Verdicts, Verdict{Severity: Problem, Title: "TLS errors were logged, but the trace does not show why",
			Detail: "See the evidence. Capture again with packets (capture=yes) to see the handshake on the wire.", Evidence: ev,
			Believed: "the meaning of SEC_E_ILLEGAL_MESSAGE / SEC_E_ALGORITHM_MISMATCH as a protocol mismatch"})
	} else if len(z.iscFail)+len(z.winhttp)+len(z.schannel) > 0 {
		// Attach the error events to the first problem as supporting evidence.
		for i := range a.Verdicts {
			if a.Verdicts[i].Severity == Problem {
				for _, e := range append(append(append([]Evidence{}, z.iscFail...), z.winhttp...), z.schannel...) {
					a.Verdicts[i].Evidence = addEv(a.Verdicts[i].Evidence, e)
				}
				sort.SliceStable(a.Verdicts[i].Evidence, func(x, y int) bool { return a.Verdicts[i].Evidence[x].Time.Before(a.Verdicts[i].Evidence[y].Time) })
				break
			}
		}
	}
	if len(z.tcpFail) > 0 {
		a.Verdicts = append(a.Verdicts, Verdict{Severity: Warning, Title: "TCP connections failed before TLS (TCPIP connect failure/timeout)", Detail: "Check name resolution, proxy and firewall: these connections never reached the TLS handshake.", Evidence: z.tcpFail})
	}
	// 6. What the trace cannot tell.
	if z.lostEvents > 0 || z.lostBuffers > 0 {
		a.Verdicts = append(a.Verdicts, Verdict{Severity: Warning,
			Title:  fmt.Sprintf("the trace lost %d events and %d buffers: evidence may be missing", z.lostEvents, z.lostBuffers),
			Detail: "ETW dropped events because its buffers were full. A verdict above still holds for what was recorded; an absence of events proves less.",
			Fix:    []string{"Capture again with a larger maxsize (etlscope capture --max-size 1024) and fewer other programs running."}})
	}
	if !have("Microsoft-Windows-WebIO") {
		a.Verdicts = append(a.Verdicts, Verdict{Severity: Unknown, Title: "unknown: provider Microsoft-Windows-WebIO not in trace: cannot tell which protocols WinHTTP enabled (EnabledProtocols)",
			Fix: []string{`Capture with: netsh trace start scenario=InternetClient capture=yes (etlscope capture does this)`}})
	}
	if a.Packets == 0 {
		a.Verdicts = append(a.Verdicts, Verdict{Severity: Unknown, Title: "unknown: no packets in trace: cannot tell the TLS version offered and negotiated on the wire",
			Fix: []string{`Capture with packets: netsh trace start scenario=InternetClient capture=yes`}})
	}
	// 7. Healthy.
	if !hasSeverity(a.Verdicts, Problem) {
		var ok []Evidence
		for _, c := range a.Connections {
			if c.Outcome == "ok" && c.Selected != "" {
				ok = append(ok, Evidence{Source: "packet", Time: c.FirstSeen, Text: fmt.Sprintf("%s → %s (%s): %s, %s", c.Client, c.Server, orDash(c.SNI), c.Selected, c.Cipher)})
			}
		}
		ok = append(ok, z.shakes...)
		for _, p := range a.Processes {
			for _, m := range p.EnabledProtocols {
				if m&0x800 != 0 {
					ok = append(ok, Evidence{Source: "Microsoft-Windows-WebIO", Text: fmt.Sprintf("PID %d enabled %s", p.PID, tlsNames(m))})
				}
			}
		}
		if len(ok) > 0 {
			a.Verdicts = append([]Verdict{{Severity: OK, Title: "No TLS problem found: TLS 1.2 or later is enabled and negotiated where the trace shows it", Evidence: ok}}, a.Verdicts...)
		} else if len(a.Verdicts) == 0 {
			a.Verdicts = append(a.Verdicts, Verdict{Severity: Unknown, Title: "unknown: the trace holds no TLS activity (no WebIO, Schannel or TLS packets)"})
		}
	}
}

func filterEvidence(list []Evidence, needle string) []Evidence {
	var out []Evidence
	for _, e := range list {
		if strings.Contains(strings.ToLower(e.Text), strings.ToLower(needle)) {
			out = append(out, e)
		}
	}
	if out == nil {
		return list
	}
	return out
}

func hasSeverity(vs []Verdict, s Severity) bool {
	for _, v := range vs {
		if v.Severity == s {
			return true
		}
	}
	return false
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
