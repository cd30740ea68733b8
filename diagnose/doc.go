// Package diagnose turns a trace into a TLS diagnosis: it collects facts per
// process (what WinHTTP/WebIO asked Schannel for, what failed) and per
// connection (what the packets show), then runs a list of rules over them.
// Each rule is a small function that produces verdicts of one or a few
// kinds; a verdict's Kind is a stable machine-readable name, and rules refer
// to each other only through kinds, never through text.
//
// A diagnosis is only as good as the trace: Analysis.Result is
// ResultInconclusive, never ResultOK, when the trace is damaged, truncated,
// lost events, or lacks the providers the diagnosis needs.
package diagnose
