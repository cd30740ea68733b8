// Package wintls is what Windows does with TLS, in one place: the release
// a build number names, the per-release defaults of WinHTTP and SCHANNEL,
// where update KB3140245 applies, the SP_PROT / WINHTTP_FLAG_SECURE_PROTOCOL
// protocol masks, and the registry lines that fix a missing TLS 1.2.
//
// Every fact carries its provenance: Verified facts were read in Microsoft's
// documentation ("Protocols in TLS/SSL (Schannel SSP)", the KB3140245 text,
// the WinHTTP option reference and the Hybrid Configuration Wizard article);
// Believed ones (Release.Believed, Fix.Believed) are inferences that a
// verdict resting on them must say it rests on.
//
// The package imports nothing of the project: the trace reader, the
// diagnosis, doctor and info all import it.
package wintls
