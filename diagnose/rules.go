package diagnose

import (
	"fmt"
	"sort"
	"strings"

	"github.com/etlscope/etlscope/packet"
	"github.com/etlscope/etlscope/tlswire"
	"github.com/etlscope/etlscope/wintls"
)

// Rule derives verdicts from the facts. It sees the verdicts of the rules
// before it (to refer to them by Kind) and returns its own.
type Rule func(f *Facts, prior []Verdict) []Verdict

// Rules is the diagnosis, in the order verdicts are listed: causes first,
// then what happened on the wire, then what the trace cannot tell.
var Rules = []Rule{
	ruleWinHTTPTLS12Off,
	ruleCredentialsFailed,
	ruleProxyRefused,
	ruleHandshakeFailed,
	ruleCertificate,
	ruleVersionMismatch,
	ruleUnexplainedErrors,
	ruleTCPFailed,
	ruleTraceIncomplete,
	ruleFilterRemoved,
	ruleProviderMissing,
	ruleNoPackets,
	ruleHealthy,
}

const (
	webioName   = "Microsoft-Windows-WebIO"
	winhttpName = "Microsoft-Windows-WinHttp"
)

// usesWinHTTP reports whether the trace shows WinHTTP/WebIO at work, so
// a fix may assume the failing client uses WinHTTP.
func (f *Facts) usesWinHTTP() bool { return f.has(webioName) || f.has(winhttpName) }

// clientFix is the fix when a client offered less than TLS 1.2: the
// WinHTTP fix when WinHTTP is in the trace, otherwise what applies to any
// Schannel client.
func (f *Facts) clientFix() []string {
	if f.usesWinHTTP() {
		return wintls.WinHTTPTLS12Fix(f.OS, f.Bits)
	}
	return wintls.ClientTLS12Fix(f.OS, f.Bits)
}

// ruleWinHTTPTLS12Off: WebIO EnabledProtocols (or the application's
// WINHTTP_OPTION_SECURE_PROTOCOLS) without TLS 1.2 — the seed case. One
// verdict per mask, naming the processes that used it.
func ruleWinHTTPTLS12Off(f *Facts, _ []Verdict) []Verdict {
	masks, ev, pids := f.masksWithoutTLS12()
	var out []Verdict
	for _, m := range masks {
		var names []string
		for _, pid := range pids[m] {
			names = append(names, f.processName(pid))
		}
		list := strings.Join(names, ", ")
		if len(names) > 5 {
			list = fmt.Sprintf("%s and %d more processes", strings.Join(names[:5], ", "), len(names)-5)
		}
		detail := "Office 365 and most current services accept only TLS 1.2 or later."
		if f.OS.Known() {
			detail += fmt.Sprintf(" On %s (build %d) the WinHTTP default is %s.", f.OS.Name, f.OS.Build, f.OS.WinHTTPDefaultText())
		}
		out = append(out, Verdict{
			Kind:     KindWinHTTPTLS12Off,
			Severity: Problem,
			Title:    fmt.Sprintf("WinHTTP in %s enabled %s only (EnabledProtocols %#x): TLS 1.2 is off", list, m.Names(), uint32(m)),
			Detail:   detail,
			Evidence: ev[m],
			Fix:      wintls.WinHTTPTLS12Fix(f.OS, f.Bits),
			Believed: f.OS.Believed,
		})
	}
	return out
}

// ruleCredentialsFailed: AcquireCredentialsHandle failed (WebIO 730,
// Schannel 36871). Schannel refuses the credential before any packet is
// sent when none of the requested protocols is enabled for clients in its
// registry keys, so the fix is the SCHANNEL client keys of this build — not
// a new capture.
func ruleCredentialsFailed(f *Facts, prior []Verdict) []Verdict {
	if len(f.achFail) == 0 && len(f.credFail) == 0 {
		return nil
	}
	var asked []string
	for _, m := range f.achMasks {
		asked = append(asked, fmt.Sprintf("%#x (%s)", uint32(m), m.Names()))
	}
	detail := "Schannel refused to create the client credential"
	if len(asked) > 0 {
		detail += " for EnabledProtocols " + strings.Join(asked, ", ")
	}
	if len(f.achCodes) > 0 {
		detail += " (" + strings.Join(f.achCodes, ", ") + ")"
	}
	detail += ": none of the protocols the application asked for is enabled for clients in Schannel, so no handshake was attempted."
	switch {
	case f.Packets > 0:
		detail += " The packet capture agrees: it holds no ClientHello for these attempts."
	default:
		detail += " This happens before any packet is sent, so a packet capture would show nothing more."
	}
	if f.OS.Known() && f.OS.SchannelTLS12 {
		detail += fmt.Sprintf(" On %s the SCHANNEL TLS 1.2 client is enabled by default, so a registry key or a policy disabled it.", f.OS.Name)
	} else if f.OS.Known() {
		detail += fmt.Sprintf(" On %s the SCHANNEL TLS 1.2 client is disabled by default.", f.OS.Name)
	}
	ev := append(append([]Evidence{}, f.achFail...), f.credFail...)
	sortEvidence(ev)
	fix := wintls.SchannelTLS12ClientFix()
	if len(f.achMasks) > 0 && !hasKind(prior, KindWinHTTPTLS12Off) {
		fix = append(fix, "If the application must keep older protocols, enable them the same way under "+wintls.SchannelKey+`\<protocol>\Client.`)
	}
	return []Verdict{{
		Kind:     KindCredentialsFailed,
		Severity: Problem,
		Title:    "Schannel could not create a TLS client credential (AcquireCredentialsHandle failed): the requested protocols are disabled in SCHANNEL",
		Detail:   detail,
		Evidence: ev,
		Fix:      fix,
		Believed: "that AcquireCredentialsHandle fails this way when the SCHANNEL client keys disable every requested protocol",
	}}
}

// ruleProxyRefused: the explicit proxy answered the CONNECT (RFC 9110
// §9.3.6) with an error, so no TLS handshake with the target happened.
func ruleProxyRefused(f *Facts, _ []Verdict) []Verdict {
	type key struct {
		proxy, target string
		status        int
	}
	seen := map[key]int{}
	var out []Verdict
	for c := range f.convs {
		o := c.Outcome()
		if o.Kind != packet.OutcomeProxyRefused {
			continue
		}
		ct := f.connection(c)
		k := key{ct.Proxy, ct.Server, o.Status}
		if i, ok := seen[k]; ok {
			out[i].count++
			out[i].Title = fmt.Sprintf("The proxy %s refused CONNECT %s %d times: HTTP %d %s", k.proxy, k.target, out[i].count, o.Status, c.Proxy.Reason)
			continue
		}
		v := Verdict{Kind: KindProxyRefused, Severity: Problem, count: 1,
			Title:    fmt.Sprintf("The proxy %s refused CONNECT %s: HTTP %d %s", k.proxy, k.target, o.Status, c.Proxy.Reason),
			Detail:   "The client reached the proxy, but the proxy did not open the tunnel, so no TLS handshake with the target took place: this is not a TLS version problem.",
			Evidence: []Evidence{{Time: ct.FirstSeen, Source: "packet", Text: fmt.Sprintf("CONNECT %s → %s %d %s", k.target, k.proxy, o.Status, c.Proxy.Reason)}},
		}
		switch {
		case o.Status == 407:
			v.Fix = []string{"The proxy wants authentication (407): let the proxy allow the server's account without authentication for the target (Exchange Hybrid: the Office 365 URLs and IP ranges), or configure credentials for the application."}
		case o.Status == 403:
			v.Fix = []string{"The proxy forbids the target (403): add it to the proxy's allow list (Office 365 URLs and IP address ranges)."}
		default:
			v.Fix = []string{"Check the proxy's log for this CONNECT and its access rules for the target."}
		}
		v.Fix = append(v.Fix, "Check which proxy WinHTTP uses: netsh winhttp show proxy.")
		seen[k] = len(out)
		out = append(out, v)
	}
	return out
}

// handshakeFailureKey groups failures per server, outcome and client
// version: a retrying client fails the same way many times.
type handshakeFailureKey struct {
	target, outcome string
	max             tlswire.Version
}

// ruleHandshakeFailed: handshakes that failed on the wire, and why.
func ruleHandshakeFailed(f *Facts, prior []Verdict) []Verdict {
	var out []Verdict
	groups := map[handshakeFailureKey]int{}
	certProblem := len(f.certFail) > 0
	for c := range f.convs {
		o := c.Outcome()
		if !o.Failed() || o.Kind == packet.OutcomeProxyRefused {
			continue
		}
		// After a certificate error the client drops a completed (or
		// nearly completed) handshake; the certificate verdict says why.
		if certProblem && c.ServerHello != nil {
			continue
		}
		// An encrypted alert after the handshake is a normal close or an
		// application-level error, not a handshake failure.
		if o.Kind == packet.OutcomeAlert && o.Encrypted && c.ServerHello != nil {
			continue
		}
		ct := f.connection(c)
		var max tlswire.Version
		if c.ClientHello != nil {
			max = c.ClientHello.MaxVersion()
		}
		k := handshakeFailureKey{target(ct, c), o.String(), max}
		if i, ok := groups[k]; ok {
			v := &out[i]
			v.count++
			v.Title = fmt.Sprintf("TLS handshake with %s failed %d times: %s", k.target, v.count, k.outcome)
			continue
		}
		v := Verdict{Kind: KindHandshakeFailed, Severity: Problem, Title: fmt.Sprintf("TLS handshake with %s failed: %s", k.target, k.outcome), count: 1}
		v.Detail = failureDetail(o, max, ct)
		if o.Kind == packet.OutcomeReset || o.Kind == packet.OutcomeClosed {
			if o.By == packet.Server && max != 0 && max < tlswire.TLS12 {
				v.Believed = "that a silent close means a version mismatch"
			}
		}
		if max != 0 && max < tlswire.TLS12 {
			v.Fix = f.clientFix()
			if hasKind(prior, KindWinHTTPTLS12Off) {
				v.Fix = []string{"The same fix as the WinHTTP EnabledProtocols verdict above: enable TLS 1.2 for WinHTTP."}
			}
			if f.askedTLS12() {
				// WinHTTP asked for TLS 1.2 and Schannel did not offer
				// it: TLS 1.2 is off at the OS level.
				v.Kind = KindSchannelTLS12Off
				v.Detail = fmt.Sprintf("WinHTTP enabled TLS 1.2 (see the EnabledProtocols evidence), yet the ClientHello offered at most %s: Schannel's TLS 1.2 client is disabled on this machine (SCHANNEL\\Protocols\\TLS 1.2\\Client Enabled=0", max)
				if f.OS.Known() && !f.OS.SchannelTLS12 {
					v.Detail += fmt.Sprintf(", or left at the %s default, which disables it)", f.OS.Name)
				} else {
					v.Detail += " or DisabledByDefault=1, or a policy)"
				}
				v.Detail += "."
				v.Believed = "that Schannel drops protocols disabled in its registry keys from what the application asked for"
				v.Fix = wintls.SchannelTLS12ClientFix()
				for _, m := range f.masks {
					v.Evidence = addEv(v.Evidence, m.ev)
				}
			}
		}
		if c.ClientHello != nil {
			v.Evidence = append(v.Evidence, Evidence{Time: c.ClientHelloAt.Time(), Source: "packet", Text: fmt.Sprintf("ClientHello %s → %s, SNI %s, max %s", ct.Client, ct.Server, orDash(ct.SNI), max)})
		}
		for _, al := range c.Alerts {
			text := fmt.Sprintf("alert %d %s from %s", al.Alert.Description, tlswire.AlertName(al.Alert.Description), al.From)
			if al.Alert.Encrypted {
				text = "encrypted alert from " + al.From.String()
			}
			v.Evidence = append(v.Evidence, Evidence{Time: al.Time, Source: "packet", Text: text})
		}
		if c.ResetBy != packet.SideNone {
			v.Evidence = append(v.Evidence, Evidence{Time: c.ResetAt.Time(), Source: "packet", Text: "TCP reset by " + c.ResetBy.String()})
		}
		groups[k] = len(out)
		out = append(out, v)
		if len(groups) >= 50 {
			break
		}
	}
	// Error events of WebIO/WinHTTP/Schannel support the first handshake
	// failure: they are the same failure seen from the client's stack.
	if len(out) > 0 {
		v := &out[0]
		for _, e := range append(append(append([]Evidence{}, f.iscFail...), f.winhttp...), f.schannel...) {
			v.Evidence = addEv(v.Evidence, e)
		}
		sortEvidence(v.Evidence)
	}
	return out
}

// failureDetail explains an outcome, using the alert the row shows.
func failureDetail(o packet.Outcome, max tlswire.Version, ct ConnectionTLS) string {
	offered := "The client offered " + strings.Join(ct.Offered, ", ") + "."
	if max == 0 {
		offered = "The capture holds no ClientHello for this connection."
	}
	switch {
	case o.Kind == packet.OutcomeAlert && o.Encrypted:
		return "The handshake ended with an encrypted alert, so its reason is not readable on the wire. " + offered
	case o.Kind == packet.OutcomeAlert && o.Alert == 70:
		return fmt.Sprintf("The server refused the protocol version (alert 70 protocol_version): the client offered at most %s.", max)
	case o.Kind == packet.OutcomeAlert && o.Alert == 40 && max != 0 && max < tlswire.TLS12:
		return fmt.Sprintf("handshake_failure (alert 40) after a ClientHello offering at most %s: usually the server requires TLS 1.2.", max)
	case o.Kind == packet.OutcomeAlert && o.By == packet.Client:
		return fmt.Sprintf("The client aborted the handshake with alert %d %s: a local validation or configuration problem. %s", o.Alert, tlswire.AlertName(o.Alert), offered)
	case o.Kind == packet.OutcomeAlert:
		return fmt.Sprintf("The server aborted the handshake with alert %d %s. %s", o.Alert, tlswire.AlertName(o.Alert), offered)
	case (o.Kind == packet.OutcomeReset || o.Kind == packet.OutcomeClosed) && o.By == packet.Server && max != 0 && max < tlswire.TLS12:
		return fmt.Sprintf("The server closed the connection right after a ClientHello offering at most %s: servers that require TLS 1.2 often do that.", max)
	}
	return offered
}

// ruleCertificate: WebIO 713, server certificate validation failed.
func ruleCertificate(f *Facts, _ []Verdict) []Verdict {
	if len(f.certFail) == 0 {
		return nil
	}
	return []Verdict{{
		Kind:     KindCertificateInvalid,
		Severity: Problem,
		Title:    "Server certificate validation failed: " + strings.Join(f.certWhy, "; "),
		Detail:   "This is a certificate problem, not a TLS version problem: CERT_CN_INVALID / CERT_E_CN_NO_MATCH means the certificate does not carry the host name the client asked for; INVALID_CA an untrusted root; CERT_DATE_INVALID an expired certificate.",
		Evidence: f.certFail,
		Fix: []string{"Check the name the client connects to against the certificate's subject and SAN (a proxy or TLS inspection device often presents its own certificate).",
			"Check the certificate chain and date on the server, and the client's trusted root store."},
		Believed: "that WebIO ServerCertErrors uses the WINHTTP_CALLBACK_STATUS_FLAG values",
	}}
}

// ruleVersionMismatch: WinHttp 1053 (Windows 11 21H2 and later).
func ruleVersionMismatch(f *Facts, _ []Verdict) []Verdict {
	if len(f.mismatch) == 0 {
		return nil
	}
	return []Verdict{{Kind: KindVersionMismatch, Severity: Problem, Title: "WinHTTP reported a TLS version mismatch (WinHttp 1053)", Evidence: f.mismatch, Fix: wintls.WinHTTPTLS12Fix(f.OS, f.Bits)}}
}

// ruleUnexplainedErrors: TLS errors were logged but no rule above found
// their cause.
func ruleUnexplainedErrors(f *Facts, prior []Verdict) []Verdict {
	if len(f.iscFail)+len(f.winhttp)+len(f.schannel) == 0 || hasSeverity(prior, Problem) {
		return nil
	}
	ev := append(append(append([]Evidence{}, f.iscFail...), f.winhttp...), f.schannel...)
	sortEvidence(ev)
	v := Verdict{Kind: KindTLSErrors, Severity: Problem, Title: "TLS errors were logged, but the trace does not show why", Evidence: ev,
		Believed: "the meaning of SEC_E_ILLEGAL_MESSAGE / SEC_E_ALGORITHM_MISMATCH as a protocol mismatch"}
	if f.Packets > 0 {
		v.Detail = "See the evidence. The packet capture holds no failed handshake that matches these errors (the connection may have gone through a proxy, or its packets were not captured)."
	} else {
		v.Detail = "See the evidence. Capture again with packets (capture=yes) to see the handshake on the wire."
	}
	return []Verdict{v}
}

// ruleTCPFailed: TCP connects that failed before any TLS.
func ruleTCPFailed(f *Facts, _ []Verdict) []Verdict {
	if len(f.tcpFail) == 0 {
		return nil
	}
	return []Verdict{{Kind: KindTCPFailed, Severity: Warning, Title: "TCP connections failed before TLS (TCPIP connect failure/timeout)", Detail: "Check name resolution, proxy and firewall: these connections never reached the TLS handshake.", Evidence: f.tcpFail}}
}

// ruleTraceIncomplete: the reader lost, skipped or could not read data.
func ruleTraceIncomplete(f *Facts, _ []Verdict) []Verdict {
	in := &f.Integrity
	if in.Complete() {
		return nil
	}
	var ev []Evidence
	kinds := map[string]bool{}
	for _, is := range in.Issues {
		if !is.Loss {
			continue
		}
		kinds[string(is.Kind)] = true
		if len(ev) < maxEvidence {
			e := Evidence{Source: "file", Text: is.Message}
			if is.Offset >= 0 {
				e.Offset = is.Offset
			}
			ev = append(ev, e)
		}
	}
	var fix []string
	if kinds["truncated"] || kinds["damaged_buffer"] || kinds["damaged_record"] || kinds["skipped_bytes"] {
		fix = append(fix, "Copy the .etl again from the machine that captured it (compare sizes), after `netsh trace stop` has finished; a partial copy or a full disk cuts the file.")
	}
	if kinds["lost_events"] || kinds["lost_buffers"] {
		fix = append(fix, "Capture again with a larger maxsize (etlscope capture --max-size 1024) and fewer other programs running: ETW dropped events because its buffers were full.")
	}
	if kinds["wrapped"] {
		fix = append(fix, "The circular trace file wrapped and overwrote its oldest events: capture again with a larger maxsize, and reproduce right after starting the trace (etlscope capture does this).")
	}
	return []Verdict{{
		Kind:     KindTraceIncomplete,
		Severity: Unknown,
		Title:    "cannot tell whether all is well: the trace is incomplete (" + IntegrityKinds(in) + "), so the failing connection may be among the missing data",
		Detail:   "A verdict above still holds for what was read; an absence of errors proves nothing.",
		Evidence: ev,
		Fix:      fix,
	}}
}

// ruleFilterRemoved: --filter hid events the diagnosis needs.
func ruleFilterRemoved(f *Facts, _ []Verdict) []Verdict {
	if f.Filtered == 0 {
		return nil
	}
	return []Verdict{{Kind: KindFilterRemovedEvents, Severity: Unknown,
		Title:  fmt.Sprintf("cannot tell: the filter removed %d events of the providers the diagnosis uses", f.Filtered),
		Detail: "A missing provider or an absent error below may only mean that the filter hid it.",
		Fix:    []string{"Run analyze without --filter for the full diagnosis."}}}
}

// ruleProviderMissing: without WebIO the trace cannot tell what WinHTTP
// asked Schannel for.
func ruleProviderMissing(f *Facts, prior []Verdict) []Verdict {
	if f.has(webioName) || hasKind(prior, KindCredentialsFailed) {
		return nil
	}
	return []Verdict{{Kind: KindProviderMissing, Severity: Unknown, Title: "cannot tell which protocols WinHTTP enabled: provider Microsoft-Windows-WebIO is not in the trace (no EnabledProtocols events)",
		Fix: []string{`Capture with: netsh trace start scenario=InternetClient capture=yes (etlscope capture does this)`}}}
}

// ruleNoPackets: without packets nor Schannel 36880 the trace cannot tell
// what was negotiated.
func ruleNoPackets(f *Facts, prior []Verdict) []Verdict {
	if f.Packets > 0 || len(f.shakes) > 0 || hasKind(prior, KindCredentialsFailed) {
		return nil
	}
	return []Verdict{{Kind: KindNoPackets, Severity: Unknown, Title: "cannot tell the TLS version offered and negotiated on the wire: the trace has no packets",
		Fix: []string{`Capture with packets: netsh trace start scenario=InternetClient capture=yes`}}}
}

// ruleHealthy: nothing wrong, and something right to show.
func ruleHealthy(f *Facts, prior []Verdict) []Verdict {
	if hasSeverity(prior, Problem) {
		return nil
	}
	var ok []Evidence
	for c := range f.convs {
		if c.Outcome().Kind != packet.OutcomeOK || c.ServerHello == nil {
			continue
		}
		ct := f.connection(c)
		if ct.Selected == "" {
			continue
		}
		ok = addEv(ok, Evidence{Source: "packet", Time: ct.FirstSeen, Text: fmt.Sprintf("%s → %s (%s): %s, %s", ct.Client, ct.Server, orDash(ct.SNI), ct.Selected, ct.Cipher)})
	}
	for _, e := range f.shakes {
		ok = addEv(ok, e)
	}
	for _, m := range f.masks {
		if m.mask.Has(wintls.TLS12Client) {
			ok = addEv(ok, m.ev)
		}
	}
	if len(ok) == 0 {
		if len(prior) == 0 {
			return []Verdict{{Kind: KindNoTLSActivity, Severity: Unknown, Title: "cannot tell: the trace holds no TLS activity (no WebIO, Schannel or TLS packets)"}}
		}
		return nil
	}
	sortEvidence(ok)
	title := "No TLS problem found: TLS 1.2 or later is enabled and negotiated where the trace shows it"
	if hasSeverity(prior, Unknown) {
		title = "TLS 1.2 or later is enabled and negotiated where the trace shows it; what the trace cannot show is listed above"
	}
	return []Verdict{{Kind: KindHealthy, Severity: OK, Title: title, Evidence: ok}}
}

func sortEvidence(ev []Evidence) {
	sort.SliceStable(ev, func(i, j int) bool { return ev[i].Time.Before(ev[j].Time) })
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
