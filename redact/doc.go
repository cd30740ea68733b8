// Package redact makes etlscope output and traces safe to attach to a
// support ticket.
//
// A Redactor replaces identifying values — host and machine names, IP and
// MAC addresses, user and domain names, e-mail addresses, profile paths,
// certificate names — with stable placeholders (host-1, ip-2, user-1, …),
// and hides credentials. It works by knowledge first: a learning pass over
// the trace (Learn, LearnHeader, LearnFrame) collects the trace's
// vocabulary from values whose meaning the decoder knows (decode.PropKind:
// the SNI, DNS query names, WebIO host names, user names, the log file
// path), so that every later occurrence is replaced everywhere — in
// fields, descriptions, evidence and free text — including single-label
// names no pattern could recognise. Patterns (addresses, e-mail, DOMAIN\user,
// \Users\<name> paths, FQDNs, Authorization headers) catch what was not
// learned. File names (proxy.pac, Exchange.asmx) and well-known public
// service names (outlook.office365.com, Microsoft CRL/OCSP hosts) are kept:
// they are what the engineer reading the ticket needs.
//
// Placeholders are numbered in order of first appearance, so the same
// value gets the same placeholder in every command run over one trace;
// with a key (--redact-key) they are derived from an HMAC-SHA256 of the
// value instead, and so stay the same across runs and traces.
//
// Sanitize writes a sanitized copy of a whole trace (etlscope redact).
package redact
