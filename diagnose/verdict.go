package diagnose

import (
	"strings"
	"time"

	"github.com/etlscope/etlscope/etl"
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

// Kind names what a verdict is about; it is stable across releases and
// meant for scripts (the "kind" key of the JSON output).
type Kind string

// Verdict kinds, one or more per rule.
const (
	KindWinHTTPTLS12Off     Kind = "winhttp_tls12_disabled"         // WinHTTP asked Schannel for a mask without TLS 1.2
	KindCredentialsFailed   Kind = "schannel_credentials_failed"    // AcquireCredentialsHandle failed: no requested protocol is enabled in SCHANNEL
	KindSchannelTLS12Off    Kind = "schannel_tls12_client_disabled" // WinHTTP asked for TLS 1.2, the ClientHello offered less
	KindProxyRefused        Kind = "proxy_refused"                  // the explicit proxy refused the CONNECT tunnel
	KindHandshakeFailed     Kind = "handshake_failed"               // a handshake failed on the wire
	KindCertificateInvalid  Kind = "certificate_invalid"            // server certificate validation failed
	KindVersionMismatch     Kind = "winhttp_version_mismatch"       // WinHttp 1053
	KindTLSErrors           Kind = "tls_errors_unexplained"         // TLS errors logged, cause not in the trace
	KindTCPFailed           Kind = "tcp_connect_failed"             // TCP connects failed before TLS
	KindTraceIncomplete     Kind = "trace_incomplete"               // damaged, truncated, wrapped or lossy trace
	KindProviderMissing     Kind = "provider_missing"               // a provider the diagnosis needs is not in the trace
	KindNoPackets           Kind = "no_packets"                     // no packet capture
	KindNoTLSActivity       Kind = "no_tls_activity"                // nothing TLS-related in the trace
	KindFilterRemovedEvents Kind = "filter_removed_events"          // --filter hid events the diagnosis uses
	KindHealthy             Kind = "tls_ok"                         // TLS 1.2+ enabled and negotiated where the trace shows it
)

// Evidence is one event or packet that supports a verdict.
type Evidence struct {
	Time   time.Time `json:"time,omitzero"`
	Source string    `json:"source"` // provider name and event id, or "packet"
	Text   string    `json:"text"`
	Offset int64     `json:"offset,omitempty"` // file offset of the record, when there is one
}

// Verdict is one conclusion with its evidence and fix.
type Verdict struct {
	Kind     Kind       `json:"kind"`
	Severity Severity   `json:"severity"`
	Title    string     `json:"title"`
	Detail   string     `json:"detail,omitempty"`
	Evidence []Evidence `json:"evidence,omitempty"`
	Fix      []string   `json:"fix,omitempty"`
	Believed string     `json:"believed,omitempty"` // the believed (unverified) fact the verdict rests on
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
	FirstSeen time.Time `json:"first_seen,omitzero"`
	Client    string    `json:"client"`
	Server    string    `json:"server"`          // through a proxy: the CONNECT target
	Proxy     string    `json:"proxy,omitempty"` // the HTTP proxy of a CONNECT tunnel
	SNI       string    `json:"sni,omitempty"`
	ClientMax string    `json:"client_max,omitempty"`
	Offered   []string  `json:"offered,omitempty"`
	Selected  string    `json:"selected,omitempty"`
	Cipher    string    `json:"cipher,omitempty"`
	Outcome   string    `json:"outcome"`
	Failed    bool      `json:"failed"`
	PID       uint32    `json:"pid,omitempty"` // owning process, when a TCPIP event named it
}

// Result is the overall answer of a diagnosis; it maps onto the exit
// status of `etlscope analyze`.
type Result string

// Results.
const (
	ResultOK           Result = "ok"           // no TLS problem found in a complete trace that holds what the diagnosis needs
	ResultProblem      Result = "problem"      // a TLS problem found (even in an incomplete trace)
	ResultInconclusive Result = "inconclusive" // cannot tell: data missing, damaged or lost, and nothing wrong in what was read
)

// Analysis is the result of Analyze.
type Analysis struct {
	File        string          `json:"file"`
	Result      Result          `json:"result"`
	OS          wintls.Release  `json:"os"`
	Start       time.Time       `json:"start_time,omitzero"`
	End         time.Time       `json:"end_time,omitzero"`
	Events      int             `json:"events"`
	Providers   map[string]int  `json:"providers"` // event counts of the providers the diagnosis uses
	Packets     int             `json:"packets"`
	Processes   []*ProcessTLS   `json:"processes"`
	Connections []ConnectionTLS `json:"connections"` // failed ones first; at most MaxConnections
	// ConnectionsTotal counts all TLS connections, also those beyond
	// MaxConnections.
	ConnectionsTotal int           `json:"connections_total"`
	Verdicts         []Verdict     `json:"verdicts"`
	Integrity        etl.Integrity `json:"-"` // rendered through report.Integrity
}

// HasProblem reports whether any verdict is a problem.
func (a *Analysis) HasProblem() bool { return hasSeverity(a.Verdicts, Problem) }

// Has reports whether a verdict of kind k was given.
func (a *Analysis) Has(k Kind) bool { return hasKind(a.Verdicts, k) }

func hasSeverity(vs []Verdict, s Severity) bool {
	for _, v := range vs {
		if v.Severity == s {
			return true
		}
	}
	return false
}

func hasKind(vs []Verdict, k Kind) bool {
	for _, v := range vs {
		if v.Kind == k {
			return true
		}
	}
	return false
}

// result derives the overall answer from the verdicts: a problem wins; any
// unknown (missing provider, incomplete trace) makes the answer
// inconclusive; otherwise OK.
func result(vs []Verdict) Result {
	switch {
	case hasSeverity(vs, Problem):
		return ResultProblem
	case hasSeverity(vs, Unknown), !hasSeverity(vs, OK):
		return ResultInconclusive
	}
	return ResultOK
}

// IntegrityKinds lists the kinds of the data-losing findings of in, in
// words: "truncated, lost events".
func IntegrityKinds(in *etl.Integrity) string {
	if kinds := in.KindNames(true); len(kinds) > 0 {
		return strings.Join(kinds, ", ")
	}
	return "data lost"
}
