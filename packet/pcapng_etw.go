package packet

// ETW events as pcapng records of link type LINKTYPE_ETW (290), which
// Wireshark dissects as "Event Tracing for Windows" (etw.message,
// etw.provider_id, etw.descriptor.id, ...). The record layout is the
// legacy one that Wireshark 3.6 through 4.4 read: EVENT_HEADER,
// ETW_BUFFER_CONTEXT, three lengths, then the user data, the message and
// the provider name, each zero-padded to 4 bytes (tcpdump.org
// linktypes/LINKTYPE_ETW.html; ../shared/docs/etw-dlt.md).

import (
	"encoding/binary"
	"fmt"
	"unicode/utf16"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/etlscope/etlscope/etl"
)

// LinkTypeETW is LINKTYPE_ETW: one ETW event per packet.
const LinkTypeETW layers.LinkType = 290

// sourceETW keys the events interface in PcapWriter.ifaces.
const sourceETW Source = 0xFF

// etwHeaderSize is the size of the fixed part of a LINKTYPE_ETW record:
// EVENT_HEADER (0x50), ETW_BUFFER_CONTEXT (4), UserDataLength,
// MessageLength and ProviderLength (4 each).
const etwHeaderSize = 0x60

// maxETWMessage bounds the characters of a message written to a record (a
// pcapng block holds far more, but Wireshark shows a line).
const maxETWMessage = 16 << 10

// filetimeEpoch is 1970-01-01 as a FILETIME (100 ns units since 1601).
const filetimeEpoch = 116444736000000000

// CarriesFrame reports whether ev is a packet event that carries (a
// fragment of) a frame: NDIS-PacketCapture 1001, PktMon 160 and its drop
// event 170, Ras-NdisWanPacketCapture 5001/5002. Other events, also other
// events of those providers, are ETW events.
func CarriesFrame(ev *etl.Event) bool {
	if ev.Kind != etl.KindEventHeader {
		return false
	}
	switch ev.Provider {
	case NDISPacketCapture:
		return ev.ID == ndisFragment
	case PktMon:
		return ev.ID == pktmonPacket || ev.ID == pktmonDrop
	case RasNdisWan:
		return ev.ID == rasSend || ev.ID == rasReceive
	}
	return false
}

// AppendETWRecord appends the LINKTYPE_ETW record of ev to dst, with
// message as the event message (etw.message, Wireshark's Info column) and
// providerName as the provider name (etw.provider_name, the Protocol
// column).
func AppendETWRecord(dst []byte, ev *etl.Event, providerName, message string) []byte {
	msg := utf16NUL(message, maxETWMessage)
	prov := utf16NUL(providerName, 1024)
	total := etwHeaderSize + pad4(len(ev.UserData)) + pad4(len(msg)) + pad4(len(prov))
	start := len(dst)
	dst = append(dst, make([]byte, etwHeaderSize)...)
	h := dst[start:]
	le := binary.LittleEndian
	le.PutUint16(h[0x00:], uint16(min(total, 0xFFFF))) // Size: display only
	le.PutUint16(h[0x04:], etwFlags(ev))
	le.PutUint16(h[0x06:], ev.EventProperty)
	le.PutUint32(h[0x08:], ev.TID)
	le.PutUint32(h[0x0C:], ev.PID)
	le.PutUint64(h[0x10:], uint64(ev.Time.UnixNano()/100+filetimeEpoch))
	putGUID(h[0x18:], ev.Provider)
	le.PutUint16(h[0x28:], ev.ID)
	h[0x2A], h[0x2B], h[0x2C], h[0x2D] = ev.Version, ev.Channel, ev.Level, ev.Opcode
	le.PutUint16(h[0x2E:], ev.Task)
	le.PutUint64(h[0x30:], ev.Keywords)
	le.PutUint32(h[0x38:], ev.KernelTime)
	le.PutUint32(h[0x3C:], ev.UserTime)
	putGUID(h[0x40:], ev.ActivityID)
	h[0x50] = byte(ev.CPU) // ProcessorNumber; Alignment and LoggerId stay 0
	le.PutUint32(h[0x54:], uint32(len(ev.UserData)))
	le.PutUint32(h[0x58:], uint32(len(msg)))
	le.PutUint32(h[0x5C:], uint32(len(prov)))
	dst = appendPadded(dst, ev.UserData)
	dst = appendPadded(dst, msg)
	return appendPadded(dst, prov)
}

// etwFlags returns EVENT_HEADER.Flags as ProcessTrace reports them: the
// pointer size, classic (MOF) header and trace message bits.
func etwFlags(ev *etl.Event) uint16 {
	f := ev.Flags
	if f&(etl.Flag32BitHeader|etl.Flag64BitHeader) == 0 {
		if ev.PointerSize == 4 {
			f |= etl.Flag32BitHeader
		} else {
			f |= etl.Flag64BitHeader
		}
	}
	switch ev.Kind {
	case etl.KindFull, etl.KindInstance, etl.KindSystem, etl.KindCompact, etl.KindPerfInfo:
		f |= etl.FlagClassicHeader
	case etl.KindMessage:
		f |= etl.FlagTraceMessage
	}
	return f
}

// putGUID writes g in Windows memory order (Data1..3 little-endian).
func putGUID(b []byte, g etl.GUID) {
	binary.LittleEndian.PutUint32(b[0:], g.Data1)
	binary.LittleEndian.PutUint16(b[4:], g.Data2)
	binary.LittleEndian.PutUint16(b[6:], g.Data3)
	copy(b[8:16], g.Data4[:])
}

// utf16NUL encodes s as NUL-terminated UTF-16LE, at most maxChars code units
// before the terminator (cut on a character boundary).
func utf16NUL(s string, maxChars int) []byte {
	u := utf16.Encode([]rune(s))
	if len(u) > maxChars {
		u = u[:maxChars]
		if utf16.IsSurrogate(rune(u[len(u)-1])) {
			u = u[:len(u)-1]
		}
	}
	b := make([]byte, 0, 2*len(u)+2)
	for _, c := range u {
		b = binary.LittleEndian.AppendUint16(b, c)
	}
	return append(b, 0, 0)
}

func pad4(n int) int { return (n + 3) &^ 3 }

func appendPadded(dst, b []byte) []byte {
	dst = append(dst, b...)
	return append(dst, make([]byte, pad4(len(b))-len(b))...)
}

// etwIface returns the id of the events interface, adding it on first use.
func (p *PcapWriter) etwIface() (int, error) {
	k := ifaceKey{source: sourceETW, link: LinkTypeETW}
	if id, ok := p.ifaces[k]; ok {
		return id, nil
	}
	return p.addIface(k, pcapgo.NgInterface{
		Name:                "ETW events",
		Description:         "ETW events of the trace, as etlscope decoded them",
		LinkType:            LinkTypeETW,
		TimestampResolution: 9,
		SnapLength:          0,
	})
}

// ETWWriter writes ETW events into the capture of a PcapWriter, as
// LINKTYPE_ETW packets on an interface of their own. Write packets and
// events in time order: Wireshark lists frames in file order.
type ETWWriter struct {
	p      *PcapWriter
	buf    []byte
	events int
}

// NewETWWriter returns a writer of events into p's capture.
func NewETWWriter(p *PcapWriter) *ETWWriter { return &ETWWriter{p: p} }

// Write appends ev with message as its event message.
func (w *ETWWriter) Write(ev *etl.Event, providerName, message string) error {
	id, err := w.p.etwIface()
	if err != nil {
		return err
	}
	w.buf = AppendETWRecord(w.buf[:0], ev, providerName, message)
	ci := gopacket.CaptureInfo{Timestamp: ev.Time, CaptureLength: len(w.buf), Length: len(w.buf), InterfaceIndex: id}
	if err := w.p.ng.WritePacket(ci, w.buf); err != nil {
		return fmt.Errorf("pcapng: write event: %w", err)
	}
	w.events++
	return nil
}

// Events returns the number of events written.
func (w *ETWWriter) Events() int { return w.events }
