package diagnose

import (
	"fmt"
	"iter"
	"net/netip"
	"strings"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/decode"
	"github.com/etlscope/etlscope/packet"
	"github.com/etlscope/etlscope/redact"
	"github.com/etlscope/etlscope/tlswire"
	"github.com/etlscope/etlscope/wintls"
)

const maxEvidence = 12

// maskSeen is one protocol mask a process asked Schannel for.
type maskSeen struct {
	mask wintls.Protocols
	pid  uint32
	ev   Evidence
}

// Facts is everything the rules look at, collected in one pass.
type Facts struct {
	OS        wintls.Release
	Bits      wintls.Bits
	Providers map[string]int // events per provider used by the diagnosis
	Packets   int
	Integrity etl.Integrity
	// Filtered counts the events of the diagnosis's providers that
	// --filter removed.
	Filtered int

	procs map[uint32]*ProcessTLS
	order []uint32   // pids in first-seen order
	masks []maskSeen // the mask records the rules use (see enable)
	// maskPIDs, perMask and masksTLS12 count the records in masks.
	maskPIDs   map[maskPID]bool
	perMask    map[wintls.Protocols]int
	masksTLS12 int
	convs      iter.Seq[*packet.Conversation] // each valid only during its iteration step (packet.Tracker.All)
	dnsName    map[string]string              // IP address → queried name (DNS-Client)
	// names are process image names by PID from Kernel-Process and kernel
	// process events (see procnames.go).
	names map[uint32]string

	achFail  []Evidence // WebIO 730 AcquireCredentialsHandle failures
	achCodes []string
	achMasks []wintls.Protocols
	iscFail  []Evidence // WebIO 703 failures
	certFail []Evidence
	certWhy  []string
	winhttp  []Evidence // WinHTTP / WinINet request errors
	mismatch []Evidence // WinHttp 1053
	schannel []Evidence // Schannel error events
	credFail []Evidence // Schannel 36871
	tcpFail  []Evidence
	shakes   []Evidence // Schannel 36880: handshakes completed

	red *redact.Redactor
}

func (f *Facts) has(provider string) bool { return f.Providers[provider] > 0 }

func (f *Facts) proc(pid uint32) *ProcessTLS {
	p := f.procs[pid]
	if p == nil {
		p = &ProcessTLS{PID: pid}
		f.procs[pid] = p
		f.order = append(f.order, pid)
	}
	return p
}

func (f *Facts) evidence(d *decode.Decoded) Evidence {
	return Evidence{Time: d.Event.Time, Source: fmt.Sprintf("%s %d", d.ProviderName, d.Event.ID), Text: f.red.Text(d.Description()), Offset: d.Event.Offset}
}

// note adds the evidence of d to list unless it is full (building it only
// then: such events may come once per connection).
func (f *Facts) note(list *[]Evidence, d *decode.Decoded) {
	if len(*list) < maxEvidence {
		*list = append(*list, f.evidence(d))
	}
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

// processName is "PID n (name)".
func (f *Facts) processName(pid uint32) string {
	s := fmt.Sprintf("PID %d", pid)
	if p := f.procs[pid]; p != nil && p.Name != "" {
		s += " (" + p.Name + ")"
	}
	return s
}

// maxMasks bounds the mask records kept.
const maxMasks = 10000

// maskPID is one process's use of one mask.
type maskPID struct {
	mask wintls.Protocols
	pid  uint32
}

// enable records a protocol mask a process asked for. A trace may hold a
// mask event per connection; only the records a rule can use are kept
// (and their evidence built): the first maxEvidence overall, the first
// maxEvidence with TLS 1.2 and of each mask without it, and the first of
// each process and mask.
func (f *Facts) enable(pid uint32, mask wintls.Protocols, ev func() Evidence) {
	p := f.proc(pid)
	p.EnabledProtocols = appendUnique(p.EnabledProtocols, uint32(mask))
	if f.maskPIDs == nil {
		f.maskPIDs, f.perMask = map[maskPID]bool{}, map[wintls.Protocols]int{}
	}
	tls12 := mask.Has(wintls.TLS12Client)
	keep := len(f.masks) < maxEvidence || !f.maskPIDs[maskPID{mask, pid}] ||
		tls12 && f.masksTLS12 < maxEvidence || !tls12 && f.perMask[mask] < maxEvidence
	if !keep || len(f.masks) >= maxMasks {
		return
	}
	f.maskPIDs[maskPID{mask, pid}] = true
	f.perMask[mask]++
	if tls12 {
		f.masksTLS12++
	}
	f.masks = append(f.masks, maskSeen{mask: mask, pid: pid, ev: ev()})
}

// event takes one decoded event of the providers the diagnosis uses.
func (f *Facts) event(d *decode.Decoded) {
	ev := d.Event
	switch ev.Provider {
	case decode.WebIO:
		f.webio(d)
	case decode.WinHttp:
		switch ev.ID {
		case winhttpAPIFailed, winhttpAPIFailedAsync:
			r, _ := d.PropUint("Result")
			if r >= winhttpErrorFirst && r <= winhttpErrorLast || failed(r) {
				f.note(&f.winhttp, d)
				f.proc(ev.PID).Errors = appendUnique(f.proc(ev.PID).Errors, d.PropString("Api")+": "+d.PropString("Result"))
			}
		case winhttpVersionMismatch:
			f.note(&f.mismatch, d)
			if n := d.PropString("ProcessName"); n != "" {
				f.proc(ev.PID).Name = baseName(n)
			}
		}
	case decode.WinINet:
		switch ev.ID {
		case wininetRequestFailed1, wininetRequestFailed2, wininetRequestFailed3, wininetRequestFailed4:
			f.note(&f.winhttp, d)
		case wininetHandshake:
			if st, _ := d.PropUint("Status"); st != 0 {
				f.note(&f.winhttp, d)
			}
		}
	case decode.DNSClient:
		if ev.ID == dnsQueryDone || ev.ID == dnsCacheAnswer {
			name := d.PropString("QueryName")
			for _, r := range strings.Split(d.PropString("QueryResults"), ";") {
				r = strings.TrimSpace(r)
				if r != "" && !strings.HasPrefix(r, "type:") && len(f.dnsName) < 100000 {
					if _, known := f.dnsName[r]; !known {
						f.dnsName[r] = name
					}
				}
			}
		}
	case decode.Schannel:
		switch ev.ID {
		case schannelCredFatal:
			f.note(&f.credFail, d)
			f.note(&f.schannel, d)
		case schannelAlertSent, schannelNoCommon, schannelUnsupported, schannelAlertRecv, schannelAlertFatal:
			f.note(&f.schannel, d)
		case schannelHandshakeOK:
			f.note(&f.shakes, d)
		}
		if img := d.PropString("CallerProcessImageName"); img != "" {
			if pid, ok := d.PropUint("CallerProcessId"); ok {
				if p := f.proc(uint32(pid)); p.Name == "" {
					p.Name = baseName(img)
				}
			}
		}
	case decode.TCPIP:
		if ev.ID == tcpConnectFailed || ev.ID == tcpConnectTimeout {
			f.note(&f.tcpFail, d)
		}
	}
}

func (f *Facts) webio(d *decode.Decoded) {
	ev := d.Event
	switch ev.ID {
	case webioACHStart, webioACHReturned, webioACHFailed:
		mask, ok := d.PropUint("EnabledProtocols")
		if !ok {
			return
		}
		f.enable(ev.PID, wintls.Protocols(mask), func() Evidence { return f.evidence(d) })
		if ev.ID == webioACHFailed {
			f.note(&f.achFail, d)
			f.achCodes = appendUnique(f.achCodes, d.PropString("Result"))
			f.achMasks = appendUnique(f.achMasks, wintls.Protocols(mask))
			f.proc(ev.PID).Errors = appendUnique(f.proc(ev.PID).Errors, "AcquireCredentialsHandle: "+d.PropString("Result"))
		}
	case webioISCStart, webioISCReturned:
		if host := d.PropString("HostName"); host != "" {
			f.proc(ev.PID).Hosts = appendUnique(f.proc(ev.PID).Hosts, f.red.Host(host))
		}
		if ev.ID == webioISCReturned {
			if r, _ := d.PropUint("Result"); failed(r) && r != secEIncompleteMessage {
				f.note(&f.iscFail, d)
				f.proc(ev.PID).Errors = appendUnique(f.proc(ev.PID).Errors, "InitializeSecurityContext: "+d.PropString("Result"))
			}
		}
	case webioSetOption:
		// WinHttpSetOption(WINHTTP_OPTION_SECURE_PROTOCOLS) as WebIO logs
		// it: the option number and the 4-byte mask as Value.
		if opt, _ := d.PropUint("Option"); opt == webioOptionProtocols {
			if v, ok := d.Prop("Value"); ok && len(v.Bytes()) == 4 {
				b := v.Bytes()
				mask := wintls.Protocols(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24)
				f.enable(ev.PID, mask, func() Evidence {
					e := f.evidence(d)
					e.Text += fmt.Sprintf(" → EnabledProtocols %#x (%s), set by the application with WINHTTP_OPTION_SECURE_PROTOCOLS", uint32(mask), mask.Names())
					return e
				})
			}
		}
	case webioCertError:
		f.note(&f.certFail, d)
		f.certWhy = appendUnique(f.certWhy, d.PropString("Reason")+", errors "+d.PropString("ServerCertErrors")+", "+d.PropString("Error"))
		f.proc(ev.PID).Errors = appendUnique(f.proc(ev.PID).Errors, "certificate validation: "+d.PropString("Error"))
	}
}

// IsOwnerEvent reports whether ev is a TCPIP connect event (connected or
// failed), which names the process that owns a connection: packet events
// are logged in whatever context the driver ran, so their PID is not it.
func IsOwnerEvent(ev *etl.Event) bool {
	return ev.Provider == decode.TCPIP && (ev.ID == tcpConnectDone || ev.ID == tcpConnectFailed)
}

// ConnectOwner returns the 4-tuple and process of a TCPIP connect event.
func ConnectOwner(d *decode.Decoded) (local, remote netip.AddrPort, pid uint32, ok bool) {
	local, lok := propAddrPort(d, "LocalAddress")
	remote, rok := propAddrPort(d, "RemoteAddress")
	p, pok := d.PropUint("ProcessId")
	return local, remote, uint32(p), lok && rok && pok
}

func propAddrPort(d *decode.Decoded, name string) (netip.AddrPort, bool) {
	v, ok := d.Prop(name)
	if !ok {
		return netip.AddrPort{}, false
	}
	ap, ok := v.AddrPort()
	return ap, ok && ap.IsValid()
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `\/`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// askedTLS12 reports whether every mask in the trace includes TLS 1.2.
func (f *Facts) askedTLS12() bool {
	if len(f.masks) == 0 {
		return false
	}
	for _, m := range f.masks {
		if m.mask != 0 && !m.mask.Has(wintls.TLS12Client) {
			return false
		}
	}
	return true
}

// masksWithoutTLS12 returns the distinct nonzero masks without TLS 1.2,
// in the order seen, with the evidence of each.
func (f *Facts) masksWithoutTLS12() ([]wintls.Protocols, map[wintls.Protocols][]Evidence, map[wintls.Protocols][]uint32) {
	var out []wintls.Protocols
	ev := map[wintls.Protocols][]Evidence{}
	pids := map[wintls.Protocols][]uint32{}
	for _, m := range f.masks {
		if m.mask == 0 || m.mask.Has(wintls.TLS12Client) {
			continue
		}
		if _, ok := ev[m.mask]; !ok {
			out = append(out, m.mask)
		}
		ev[m.mask] = addEv(ev[m.mask], m.ev)
		pids[m.mask] = appendUnique(pids[m.mask], m.pid)
	}
	return out, ev, pids
}

// serverName is the name a connection's server is known by: the SNI, else
// what DNS resolved to its address.
func (f *Facts) serverName(c *packet.Conversation) string {
	if c.ClientHello != nil && c.ClientHello.SNI != "" {
		return c.ClientHello.SNI
	}
	return f.dnsName[c.Server.Addr().String()]
}

// connection renders a conversation as a row, redacted when asked.
func (f *Facts) connection(c *packet.Conversation) ConnectionTLS {
	o := c.Outcome()
	ct := ConnectionTLS{FirstSeen: c.FirstSeen.Time(), Client: f.red.AddrPort(c.Client), Server: f.red.AddrPort(c.Server), Outcome: o.String(), Failed: o.Failed()}
	if n := outcomeNotes(c); n != "" {
		ct.Outcome += " (" + n + ")"
	}
	if c.PIDKnown {
		ct.PID = c.PID
	}
	if name := f.serverName(c); name != "" {
		ct.SNI = f.red.Host(name)
	}
	if p := c.Proxy; p != nil {
		ct.Proxy = ct.Server
		host, port, ok := strings.Cut(p.Target, ":")
		ct.Server = f.red.Host(host)
		if ok {
			ct.Server += ":" + port
		}
	}
	ct.ClientMax, ct.Offered = HelloVersions(c.ClientHello)
	ct.Selected = SelectedVersion(c)
	if sh := c.ServerHello; sh != nil && sh.CipherSuite != 0 {
		ct.Cipher = tlswire.CipherSuiteName(sh.CipherSuite)
	}
	return ct
}
