// Package nettrace builds NetTrace-like ETL files for tests: the WebIO,
// WinHttp, Schannel, TCPIP, DNS-Client and NDIS-PacketCapture events a
// `netsh trace start scenario=InternetClient capture=yes` session records,
// with the exact payload layouts of ../shared/docs/providers.md, on top of
// the ETL writer in package etltest.
//
// No public NetTrace.etl with these providers exists, so these fixtures
// stand in for customer traces. Every layout here is written from the
// provider documentation, field by field; where that documentation marks a
// fact as believed, the comment says so.
package nettrace

import (
	"net/netip"
	"time"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/decode"
	"github.com/etlscope/etlscope/internal/etltest"
)

// Keywords used on the events (providers.md §2).
const (
	kwWebIOSecurity  = 0x2000000000
	kwWebIOConnect   = 0x400000000
	kwWinHttpAPI     = 0x1
	kwTCPConnectPath = 0x400000000
	kwNDISEthernet   = 0x1
	kwNDISStart      = 0x40000000
	kwNDISEnd        = 0x80000000
	kwNDISSend       = 0x100000000
	kwNDISReceive    = 0x200000000
	levelError       = 2
	levelInfo        = 4
	levelVerbose     = 5
	opcodeStart      = 1
	opcodeStop       = 2
	taskSSLACH       = 436
	taskSSLISC       = 425
	taskSSLCert      = 427
)

// Builder accumulates the events of one trace. Times advance by Step after
// each event unless set with At.
type Builder struct {
	W    *etltest.Writer
	now  time.Time
	Step time.Duration
	ptr  int
	// pktGroup numbers PktMon packet groups (one per packet, its copies
	// share it), per builder: tests build traces in parallel.
	pktGroup uint64
}

// New returns a builder for a session with the given options (Build sets
// the OS build in the header).
func New(opts etltest.Options) *Builder {
	w := etltest.NewWriter(opts)
	o := w.Options()
	return &Builder{W: w, now: o.Start.Add(10 * time.Millisecond), Step: time.Millisecond, ptr: o.PointerSize, pktGroup: 0x1000000000000}
}

// Now returns the time the next event gets.
func (b *Builder) Now() time.Time { return b.now }

// At sets the time of the next event.
func (b *Builder) At(t time.Time) { b.now = t }

// Advance moves the clock forward.
func (b *Builder) Advance(d time.Duration) { b.now = b.now.Add(d) }

// P returns a payload builder with the trace's pointer size.
func (b *Builder) P() *etltest.Payload { return etltest.NewPayload(b.ptr) }

// Proc is the process (and thread) an event is logged in.
type Proc struct {
	PID, TID uint32
}

// Event adds one EVENT_HEADER record at the builder's clock.
func (b *Builder) Event(p Proc, provider etl.GUID, id uint16, version, level, opcode uint8, task uint16, kw uint64, data []byte) {
	b.W.Add(etltest.Event{Provider: provider, ID: id, Version: version, Level: level, Opcode: opcode, Task: task,
		Keywords: kw, PID: p.PID, TID: p.TID, Time: b.now, UserData: data})
	b.now = b.now.Add(b.Step)
}

// Bytes returns the finished file.
func (b *Builder) Bytes() ([]byte, error) { return b.W.Bytes() }

// ACH describes a WebIO SSL AcquireCredentialsHandle event (728/729/730).
type ACH struct {
	Connection       uint64
	EnabledProtocols uint32
	ClientCert       uint64
	RevertToSelf     uint16
	CipherConfig     uint32 // v1 only
	CredHigh         uint64
	CredLow          uint64
	Result           uint32
	Version          uint8 // 0 or 1 (v1 adds CipherConfig)
}

func (b *Builder) achPayload(a ACH) []byte {
	p := b.P().Ptr(a.Connection).U32(a.EnabledProtocols).Ptr(a.ClientCert).U16(a.RevertToSelf)
	if a.Version >= 1 {
		p.U32(a.CipherConfig)
	}
	return p.U64(a.CredHigh).U64(a.CredLow).U32(a.Result).Bytes()
}

// WebIOACHStart adds WebIO 728 (SSLAcquireCredentialsHandle start).
func (b *Builder) WebIOACHStart(p Proc, a ACH) {
	b.Event(p, decode.WebIO, 728, a.Version, levelInfo, opcodeStart, taskSSLACH, kwWebIOSecurity, b.achPayload(a))
}

// WebIOACHStop adds WebIO 729 (success) or, when a.Result is not zero,
// 730 (failure, level Error).
func (b *Builder) WebIOACHStop(p Proc, a ACH) {
	id, level := uint16(729), uint8(levelInfo)
	if a.Result != 0 {
		id, level = 730, levelError
	}
	b.Event(p, decode.WebIO, id, a.Version, level, opcodeStop, taskSSLACH, kwWebIOSecurity, b.achPayload(a))
}

// ISC describes a WebIO InitializeSecurityContext event (700/703).
type ISC struct {
	Connection        uint64
	SecHigh, SecLow   uint64
	CredHigh, CredLow uint64
	HostName          string
	InputFlags        uint32
	Buffer            uint64
	BufferLength      uint32
	BufferRemaining   uint32
	OutputFlags       uint32
	DataChunks        uint64
	DataChunkLength   uint32
	Result            uint32
}

func (b *Builder) iscPayload(c ISC) []byte {
	return b.P().Ptr(c.Connection).U64(c.SecHigh).U64(c.SecLow).U64(c.CredHigh).U64(c.CredLow).
		UTF16Z(c.HostName).U32(c.InputFlags).Ptr(c.Buffer).U32(c.BufferLength).U32(c.BufferRemaining).
		U32(c.OutputFlags).Ptr(c.DataChunks).U32(c.DataChunkLength).U32(c.Result).Bytes()
}

// WebIOISCStart adds WebIO 700.
func (b *Builder) WebIOISCStart(p Proc, c ISC) {
	b.Event(p, decode.WebIO, 700, 0, levelInfo, opcodeStart, taskSSLISC, kwWebIOSecurity, b.iscPayload(c))
}

// WebIOISCStop adds WebIO 703 with the SECURITY_STATUS in c.Result.
func (b *Builder) WebIOISCStop(p Proc, c ISC) {
	b.Event(p, decode.WebIO, 703, 0, levelInfo, opcodeStop, taskSSLISC, kwWebIOSecurity, b.iscPayload(c))
}

// CertValidation describes WebIO 712/713.
type CertValidation struct {
	Connection      uint64
	CtxHigh, CtxLow uint64
	Ignored         uint32 // IgnoredServerCertErrors
	Errors          uint32 // ServerCertErrors
	Error           uint32
	Reason          uint32 // mapVerifiyCertFailureReason
}

// WebIOCertValidation adds WebIO 712 or, when failed, 713 (level Error).
func (b *Builder) WebIOCertValidation(p Proc, c CertValidation, failed bool) {
	id, level := uint16(712), uint8(levelInfo)
	if failed {
		id, level = 713, levelError
	}
	data := b.P().Ptr(c.Connection).U64(c.CtxHigh).U64(c.CtxLow).U32(c.Ignored).U32(c.Errors).U32(c.Error).U32(c.Reason).Bytes()
	b.Event(p, decode.WebIO, id, 0, level, opcodeStop, taskSSLCert, kwWebIOSecurity, data)
}

// WebIOSetOption adds WebIO 15 (RequestConfiguration): the application set
// request option opt (6 = SecureProtocols) to value.
func (b *Builder) WebIOSetOption(p Proc, request uint64, opt uint32, value []byte) {
	data := b.P().Ptr(request).U64(request).U32(opt).U32(uint32(len(value))).Raw(value).U32(0).Bytes()
	b.Event(p, decode.WebIO, 15, 0, levelInfo, 0, 201, 0x4000000000, data)
}

// WinHttpAPI adds WinHttp 9 (call), 10 (success) or 11 (failure with
// result) for api.
func (b *Builder) WinHttpAPI(p Proc, handle uint64, api string, id uint16, result uint32) {
	pl := b.P().U64(handle).AnsiZ(api)
	level := uint8(levelVerbose)
	if id == 10 || id == 11 || id == 13 || id == 14 {
		pl.U32(result)
	}
	op := uint8(opcodeStop)
	if id == 9 {
		op = opcodeStart
	}
	b.Event(p, decode.WinHttp, id, 0, level, op, 109, kwWinHttpAPI, pl.Bytes())
}

// WinHttpCredentials adds WinHttp 100 (WinHttpSetCredentials details,
// which carries a user name and password).
func (b *Builder) WinHttpCredentials(p Proc, request uint64, user, password string) {
	data := b.P().Ptr(request).U32(1).U32(1).UTF16Z(user).UTF16Z(password).Bytes()
	b.Event(p, decode.WinHttp, 100, 0, levelVerbose, 0, 109, kwWinHttpAPI, data)
}

// WinHttpVersionMismatch adds WinHttp 1053 (Windows 11 21H2+): "The WinHttp
// TLS handshake failed with version mismatch error".
func (b *Builder) WinHttpVersionMismatch(p Proc, host, modulePath, module, processPath, process string) {
	data := b.P().UTF16Z(host).UTF16Z(modulePath).UTF16Z(module).UTF16Z(processPath).UTF16Z(process).Bytes()
	b.Event(p, decode.WinHttp, 1053, 0, levelInfo, 0, 0, 0, data)
}

// SchannelCaller is the Windows 11 21H2+ prefix of most Schannel events.
// Nil means the old layout.
type SchannelCaller struct {
	PID   uint32
	Image string
}

func (b *Builder) schannelPrefix(c *SchannelCaller) *etltest.Payload {
	p := b.P()
	if c != nil {
		p.U32(c.PID).UTF16Z(c.Image)
	}
	return p
}

// SchannelAlertReceived adds Schannel 36887: a fatal alert from the peer.
func (b *Builder) SchannelAlertReceived(p Proc, c *SchannelCaller, alert uint32) {
	b.Event(p, decode.Schannel, 36887, 0, levelInfo, 0, 0, 0x8000000000000000, b.schannelPrefix(c).U32(alert).Bytes())
}

// SchannelAlertSent adds Schannel 36888: a fatal alert sent to the peer.
func (b *Builder) SchannelAlertSent(p Proc, c *SchannelCaller, alert, errorState uint32, target string) {
	b.Event(p, decode.Schannel, 36888, 0, levelInfo, 0, 0, 0x8000000000000000, b.schannelPrefix(c).U32(alert).U32(errorState).UTF16Z(target).Bytes())
}

// SchannelCredentialError adds Schannel 36871 (fatal error creating a TLS
// credential).
func (b *Builder) SchannelCredentialError(p Proc, c *SchannelCaller, typ string, errorState uint32) {
	b.Event(p, decode.Schannel, 36871, 0, levelError, 0, 0, 0x8000000000000000, b.schannelPrefix(c).UTF16Z(typ).U32(errorState).Bytes())
}

// SchannelHandshakeDone adds Schannel 36880 (never with the caller prefix).
func (b *Builder) SchannelHandshakeDone(p Proc, typ, protocol string, cipher, strength uint32, ctx uint64, target, local, remote string) {
	data := b.P().UTF16Z(typ).UTF16Z(protocol).U32(cipher).U32(strength).Ptr(ctx).UTF16Z(target).UTF16Z(local).UTF16Z(remote).Bytes()
	b.Event(p, decode.Schannel, 36880, 0, levelInfo, 0, 0, 0x8000000000000000, data)
}

// TCPConnect adds TCPIP 1033 (connected) or 1034 (failed, with status).
func (b *Builder) TCPConnect(p Proc, local, remote netip.AddrPort, status uint32, tcb uint64, failed bool) {
	id, level := uint16(1033), uint8(levelInfo)
	if failed {
		id = 1034
	}
	data := b.P().U32(uint32(etltest.SockaddrLen(local))).SockaddrIn(local).
		U32(uint32(etltest.SockaddrLen(remote))).SockaddrIn(remote).
		U32(status).U32(p.PID).U32(1).Ptr(tcb).Bytes()
	b.Event(Proc{PID: 4, TID: p.TID}, decode.TCPIP, id, 0, level, 0, 0, kwTCPConnectPath, data)
}

// DNSQueryDone adds DNS-Client 3008 (query completed) with the results
// string (e.g. "52.97.1.2;" or "type: 5 outlook.ha.office365.com;52.97.1.2;").
func (b *Builder) DNSQueryDone(p Proc, name string, qtype uint32, status uint32, results string) {
	data := b.P().UTF16Z(name).U32(qtype).U64(0).U32(status).UTF16Z(results).Bytes()
	b.Event(p, decode.DNSClient, 3008, 0, levelInfo, 0, 0, 0x8000000000000000, data)
}

// NDISFrame adds an NDIS-PacketCapture 1001 event carrying one whole
// Ethernet frame (Windows 8.1+ style: PacketStart and PacketEnd both set).
// trailing adds the Windows 10 1809+ GftFlowEntryId/GftOffloadInformation
// fields.
func (b *Builder) NDISFrame(frame []byte, sent bool, ifIndex uint32, trailing bool) {
	kw := uint64(kwNDISEthernet | kwNDISStart | kwNDISEnd)
	if sent {
		kw |= kwNDISSend
	} else {
		kw |= kwNDISReceive
	}
	p := b.P().U32(ifIndex).U32(ifIndex).U32(uint32(len(frame))).Raw(frame)
	if trailing {
		p.U64(0).U64(0)
	}
	// Packets are logged in DPC context: the PID is often System's.
	b.Event(Proc{PID: 4, TID: 0}, decode.NDISCapture, 1001, 0, levelInfo, 0, 0, kw, p.Bytes())
}

// NDISFrameTruncated is NDISFrame for any link: native 802.11 frames get
// the Native802.11 keyword (0x10000), cut frames PacketTruncated
// (0x2000000) (providers.md §2.9).
func (b *Builder) NDISFrameTruncated(frame []byte, sent bool, ifIndex uint32, trailing, wifi, truncated bool) {
	kw := uint64(kwNDISStart | kwNDISEnd)
	if wifi {
		kw |= 0x10000
	} else {
		kw |= kwNDISEthernet
	}
	if truncated {
		kw |= 0x2000000
	}
	if sent {
		kw |= kwNDISSend
	} else {
		kw |= kwNDISReceive
	}
	p := b.P().U32(ifIndex).U32(ifIndex).U32(uint32(len(frame))).Raw(frame)
	if trailing {
		p.U64(0).U64(0)
	}
	b.Event(Proc{PID: 4, TID: 0}, decode.NDISCapture, 1001, 0, levelInfo, 0, 0, kw, p.Bytes())
}

// PktMonMeta is the metadata of a PktMon packet event.
type PktMonMeta struct {
	Group                    uint64
	Number, Appearance, Dir  uint16
	Type, Component, Edge    uint16
	Filter                   uint16
	DropReason, DropLocation uint32
	Original                 int
}

// PktMonPacket adds Microsoft-Windows-PktMon 160 (packet) or 170 (drop):
// PktGroupId u64, PktNumber, AppearanceCount, DirTag, PacketType,
// ComponentId, EdgeId, FilterId u16, DropReason, DropLocation u32,
// OriginalPayloadSize, LoggedPayloadSize u16, Payload — the field order
// of the manifest's message ("PktGroupId %1, PktNumber %2, Appearance %3,
// Direction %4, Type %5, Component %6, Edge %7, Filter %8, [DropReason %9,
// DropLocation %10,] OriginalSize %11, LoggedSize %12").
func (b *Builder) PktMonPacket(id uint16, m PktMonMeta, payload []byte) {
	p := b.P().U64(m.Group).U16(m.Number).U16(m.Appearance).U16(m.Dir).U16(m.Type).U16(m.Component).U16(m.Edge).U16(m.Filter).
		U32(m.DropReason).U32(m.DropLocation).U16(uint16(m.Original)).U16(uint16(len(payload))).Raw(payload)
	b.Event(Proc{PID: 4, TID: 0}, decode.PktMon, id, 0, levelInfo, 0, 0, 0x10, p.Bytes())
}

// RasPacket adds Microsoft-Windows-Ras-NdisWanPacketCapture 5001 (sent)
// or 5002 (received): RoutingDomainID and RRASUserName (NUL-terminated
// UTF-16), FragmentSize u32, Fragment (field list as etl2pcapng reads it;
// keywords 0x8000000100000000 for sends as a published Wireshark
// dissector for this provider tests).
func (b *Builder) RasPacket(sent bool, domain, user string, frag []byte) {
	id, kw := uint16(5002), uint64(0x8000000200000000)
	if sent {
		id, kw = 5001, 0x8000000100000000
	}
	p := b.P().UTF16Z(domain).UTF16Z(user).U32(uint32(len(frag))).Raw(frag)
	b.Event(Proc{PID: 4, TID: 0}, decode.RasNdisWan, id, 0, levelInfo, 0, 0, kw, p.Bytes())
}
