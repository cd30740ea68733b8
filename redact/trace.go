package redact

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/netip"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/gopacket/gopacket/layers"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/decode"
)

// LearnTrace is the learning pass over a whole trace, in time order: the
// header, every decoded event and every captured frame. dec is used for
// this pass only; it is told to show secrets, so that a password echoed
// elsewhere is recognised.
func LearnTrace(ctx context.Context, f *etl.File, dec *decode.Decoder, r *Redactor) error {
	return learnTrace(ctx, f, dec, r, nil)
}

func learnTrace(ctx context.Context, f *etl.File, dec *decode.Decoder, r *Redactor, p *planner) error {
	r.LearnHeader(f.Header())
	dec.ShowSecrets(true)
	for ev, err := range f.Events(etl.ReadOptions{}) {
		if err != nil {
			var fe *etl.FormatError
			if errors.As(err, &fe) {
				continue
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if data, link, ok := wholeFrame(ev); ok {
			r.LearnFrame(data, link)
			if p != nil {
				p.frame(ev, data, link)
			}
			continue
		}
		dec.Observe(ev)
		r.Learn(dec.Decode(ev))
	}
	return nil
}

// Packet event layouts (providers.md §2.9 and the PktMon manifest; the same
// facts package packet uses).
const (
	ndisFragment     = 1001
	ndisHeader       = 12 // MiniportIfIndex, LowerIfIndex, FragmentSize
	kwWWAN           = 0x200
	kwNative80211    = 0x10000
	kwPacketStart    = 0x40000000
	kwPacketEnd      = 0x80000000
	pktmonPacket     = 160
	pktmonHeaderSize = 34
)

// packetPayload returns the captured bytes of a packet event (aliasing
// its payload), and whether the event is one.
func packetPayload(ev *etl.Event) ([]byte, bool) {
	if ev.Kind != etl.KindEventHeader {
		return nil, false
	}
	p := ev.UserData
	switch {
	case ev.Provider == decode.NDISCapture && ev.ID == ndisFragment:
		if len(p) < ndisHeader {
			return nil, true
		}
		n := int(binary.LittleEndian.Uint32(p[8:]))
		if n > len(p)-ndisHeader {
			n = len(p) - ndisHeader
		}
		return p[ndisHeader : ndisHeader+n], true
	case ev.Provider == decode.PktMon && ev.ID == pktmonPacket:
		if len(p) < pktmonHeaderSize {
			return nil, true
		}
		n := int(binary.LittleEndian.Uint16(p[32:]))
		if n > len(p)-pktmonHeaderSize {
			n = len(p) - pktmonHeaderSize
		}
		return p[pktmonHeaderSize : pktmonHeaderSize+n], true
	}
	return nil, false
}

// wholeFrame returns the frame of a packet event that carries a whole
// frame, with its link type. Fragments of multi-event frames (NDIS before
// Windows 8.1), Wi-Fi frames and PktMon payloads that are not frames are
// not: the writer clears them.
func wholeFrame(ev *etl.Event) ([]byte, layers.LinkType, bool) {
	data, ok := packetPayload(ev)
	if !ok || data == nil {
		return nil, 0, false
	}
	if ev.Provider == decode.NDISCapture {
		kw := ev.Keywords
		start, end := kw&kwPacketStart != 0, kw&kwPacketEnd != 0
		if start != end || kw&kwNative80211 != 0 {
			return nil, 0, false
		}
		if kw&kwWWAN != 0 {
			return data, layers.LinkTypeRaw, true
		}
		return data, layers.LinkTypeEthernet, true
	}
	switch binary.LittleEndian.Uint16(ev.UserData[14:]) { // PacketType
	case 1:
		return data, layers.LinkTypeEthernet, true
	case 3:
		return data, layers.LinkTypeRaw, true
	}
	return nil, 0, false
}

// segKey identifies a captured TCP segment in both passes (file and time
// order see the same record): its buffer, timestamp and bytes.
func segKey(ev *etl.Event, frame []byte) uint64 {
	h := fnv.New64a()
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:], uint64(ev.Buffer))
	binary.LittleEndian.PutUint64(b[8:], uint64(ev.Timestamp))
	h.Write(b[:])
	h.Write(frame)
	return h.Sum64()
}

// frame feeds the TCP segment of a frame to the planner.
func (p *planner) frame(ev *etl.Event, data []byte, link layers.LinkType) {
	l, ok := parseLayout(data, link)
	if !ok || l.proto != 6 || l.l4 < 0 || l.payload < 0 {
		return
	}
	s, d := l.addrs(data)
	sa, _ := addrFromSlice(s)
	da, _ := addrFromSlice(d)
	sp, dp := l.ports(data)
	t := data[l.l4:]
	seq := binary.BigEndian.Uint32(t[4:])
	syn := t[13]&0x02 != 0
	p.segment(segKey(ev, data), netip.AddrPortFrom(sa, sp), netip.AddrPortFrom(da, dp), seq, syn, data[l.payload:l.end])
}

// Summary says what Sanitize did.
type Summary struct {
	Buffers, Records int
	Decompressed     int            // compressed buffers written uncompressed
	Replaced         map[string]int // distinct values replaced, by kind
	Strings          int            // strings rewritten in event payloads
	Credentials      int            // credential values blanked
	Frames           int            // frames rewritten (addresses mapped, payload cut)
	ClearedFrames    int            // frames cleared entirely (fragments, Wi-Fi, non-IP)
	PayloadKept      int64          // TCP payload bytes kept (TLS headers and handshakes)
	PayloadCleared   int64          // payload bytes cleared
	OpaqueCleared    int            // binary values cleared
	SkippedBuffers   int            // unreadable buffers left out
	UndecodedRecords int            // records that could not be parsed, cleared with the rest of their buffer
	SIDs             int            // user SIDs cleared from extended data
}

// Sanitize writes a sanitized copy of in to out: the same buffers and
// records, strings replaced in place by same-length placeholders (r in
// same-length mode), packet addresses mapped consistently with their
// checksums fixed, TCP payloads cut to the TLS record headers and
// unencrypted handshakes, credentials and opaque values cleared,
// compressed buffers written uncompressed. r learns the trace first
// (LearnTrace); dec must be a fresh decoder.
func Sanitize(ctx context.Context, in *etl.File, out io.Writer, dec *decode.Decoder, r *Redactor) (*Summary, error) {
	p := newPlanner(r.sameLength())
	if err := learnTrace(ctx, in, dec, r, p); err != nil {
		return nil, err
	}
	w := &traceWriter{r: r.sameLength(), dec: decode.New(), p: p, sum: &Summary{}, hdr: in.Header()}
	w.dec.ShowSecrets(true)
	for rb, err := range in.RawBuffers() {
		if err != nil {
			var fe *etl.FormatError
			if errors.As(err, &fe) {
				w.sum.SkippedBuffers++
				continue
			}
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b, err := w.buffer(in, rb)
		if err != nil {
			return nil, err
		}
		if _, err := out.Write(b); err != nil {
			return nil, err
		}
	}
	w.sum.Replaced = r.Counts()
	return w.sum, nil
}

// sameLength returns a view of r that makes same-length replacements and
// shares its placeholders.
func (r *Redactor) sameLength() *Redactor {
	return &Redactor{state: r.state, fit: true}
}

type traceWriter struct {
	r   *Redactor
	dec *decode.Decoder
	p   *planner
	sum *Summary
	hdr etl.Header
	buf []byte
}

// Buffer header offsets (WMI_BUFFER_HEADER, as in package etl).
const (
	bhBufferSize    = 0x00
	bhSavedOffset   = 0x04
	bhCurrentOffset = 0x08
	bhOffset        = 0x30
	bhBufferFlag    = 0x34
	flagCompressed  = 0x0040
	modeCompressed  = 0x04000000 // EVENT_TRACE_COMPRESSED_MODE
)

// buffer sanitizes one buffer and returns its bytes.
func (w *traceWriter) buffer(in *etl.File, rb *etl.RawBuffer) ([]byte, error) {
	w.sum.Buffers++
	end := 0
	for rec := range in.RawRecords(rb) {
		if rec.Event == nil {
			// A record that cannot be parsed cannot be sanitized: it and
			// everything after it in the buffer are left out.
			w.sum.UndecodedRecords++
			break
		}
		w.sum.Records++
		w.record(rec.Event)
		end = min(rec.Pos+rec.Size, len(rb.Records))
	}
	size := int(rb.Info.Size)
	if rb.Info.Compressed {
		w.sum.Decompressed++
		size = max(int(w.hdr.BufferSize), etl.BufferHeaderSize+len(rb.Records))
	}
	size = max(size, etl.BufferHeaderSize+end)
	if cap(w.buf) < size {
		w.buf = make([]byte, size)
	}
	b := w.buf[:size]
	copy(b, rb.Header[:])
	copy(b[etl.BufferHeaderSize:], rb.Records[:end])
	for i := etl.BufferHeaderSize + end; i < size; i++ {
		b[i] = 0xFF
	}
	le := binary.LittleEndian
	if rb.Info.Compressed || rb.Problem != nil || end < len(rb.Records) && le.Uint32(b[bhOffset:]) != 0 {
		filled := uint32(etl.BufferHeaderSize + end)
		le.PutUint32(b[bhBufferSize:], uint32(size))
		le.PutUint32(b[bhSavedOffset:], filled)
		le.PutUint32(b[bhCurrentOffset:], filled)
		le.PutUint32(b[bhOffset:], filled)
		le.PutUint16(b[bhBufferFlag:], le.Uint16(b[bhBufferFlag:])&^flagCompressed)
	}
	return b, nil
}

// record sanitizes one record in place.
func (w *traceWriter) record(ev *etl.Event) {
	for _, x := range ev.Extended {
		if x.Type == etl.ExtSID && len(x.Data) > 8 {
			clear(x.Data[8:]) // the sub-authorities: domain and account
			w.sum.SIDs++
		}
	}
	if ev.Provider == etl.EventTraceGUID && ev.HookID == 0 && ev.Kind == etl.KindSystem && len(ev.UserData) >= 36 {
		// TRACE_LOGFILE_HEADER.LogFileMode: the copy is not compressed.
		m := binary.LittleEndian.Uint32(ev.UserData[32:])
		binary.LittleEndian.PutUint32(ev.UserData[32:], m&^modeCompressed)
		w.scanStrings(ev.UserData[36:])
		return
	}
	if data, ok := packetPayload(ev); ok {
		w.packet(ev, data)
		return
	}
	w.dec.Observe(ev)
	d := w.dec.Decode(ev)
	raw := len(d.Properties) == 1 && d.Properties[0].Name == "UserData" && d.Properties[0].Kind == decode.PropOpaque
	if raw || d.Warning != "" {
		// No schema (or not a sure one): find the strings by their shape.
		w.scanStrings(ev.UserData)
		return
	}
	for _, p := range d.Properties {
		if p.Len == 0 || p.Off+p.Len > len(ev.UserData) {
			continue
		}
		b := ev.UserData[p.Off : p.Off+p.Len]
		if ap, ok := p.Value.AddrPort(); ok {
			w.sockaddr(b, ap)
			continue
		}
		switch p.Kind {
		case decode.PropOpaque:
			if p.Len > 8 {
				clear(b)
				w.sum.OpaqueCleared++
			}
			continue
		case decode.PropIP:
			if p.Len == 4 || p.Len == 16 {
				if a, ok := addrFromSlice(b); ok {
					m := w.r.amap.addr(a)
					copy(b, m.AsSlice())
				}
				continue
			}
		}
		s := p.Value.Str()
		if s == "" {
			continue
		}
		rep := w.r.Value(p.Kind, s)
		if p.Kind == decode.PropCredential {
			w.sum.Credentials++
		}
		if rep != s && writeString(b, s, rep) {
			w.sum.Strings++
		}
	}
}

// sockaddr maps the address of a SOCKADDR_IN / SOCKADDR_IN6 in place.
func (w *traceWriter) sockaddr(b []byte, ap netip.AddrPort) {
	if !ap.IsValid() {
		return
	}
	m := w.r.amap.addr(ap.Addr())
	switch {
	case m.Is4() && len(b) >= 8:
		copy(b[4:8], m.AsSlice())
	case m.Is6() && len(b) >= 24:
		copy(b[8:24], m.AsSlice())
	}
}

// writeString replaces string s stored in b (UTF-16LE or 8-bit, with or
// without its terminator and padding) by rep, which has as many
// characters. It reports whether it could.
func writeString(b []byte, s, rep string) bool {
	u := utf16.Encode([]rune(s))
	if len(b) >= 2*len(u) && utf16At(b, u) {
		ru := utf16.Encode([]rune(rep))
		if len(ru) != len(u) {
			ru = utf16.Encode([]rune(strings.Repeat("_", len(u))))
		}
		for i, c := range ru {
			binary.LittleEndian.PutUint16(b[2*i:], c)
		}
		return true
	}
	if len(b) >= len(s) && string(b[:len(s)]) == s {
		if len(rep) != len(s) {
			rep = strings.Repeat("_", len(s))
		}
		copy(b, rep)
		return true
	}
	return false
}

func utf16At(b []byte, u []uint16) bool {
	for i, c := range u {
		if binary.LittleEndian.Uint16(b[2*i:]) != c {
			return false
		}
	}
	return true
}

// scanStrings rewrites the text found in bytes with no known layout: runs
// of printable UTF-16LE characters (at either alignment) and of printable
// ASCII.
func (w *traceWriter) scanStrings(b []byte) {
	for align := 0; align < 2; align++ {
		start := -1
		for i := align; i+1 < len(b)+2; i += 2 {
			ok := i+1 < len(b) && printable16(binary.LittleEndian.Uint16(b[i:]))
			if ok {
				if start < 0 {
					start = i
				}
				continue
			}
			if start >= 0 && (i-start)/2 >= 3 {
				w.rewrite16(b[start:i])
			}
			start = -1
		}
	}
	start := -1
	for i := 0; i <= len(b); i++ {
		if i < len(b) && b[i] >= 0x20 && b[i] < 0x7f {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 && i-start >= 4 {
			s := string(b[start:i])
			if rep := w.r.Text(s); rep != s && len(rep) == len(s) {
				copy(b[start:], rep)
				w.sum.Strings++
			}
		}
		start = -1
	}
}

func printable16(c uint16) bool {
	return c >= 0x20 && c < 0xd800 && !(c >= 0x7f && c < 0xa0)
}

func (w *traceWriter) rewrite16(b []byte) {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	s := string(utf16.Decode(u))
	rep := w.r.Text(s)
	if rep == s {
		return
	}
	ru := utf16.Encode([]rune(rep))
	if len(ru) != len(u) || utf8.RuneCountInString(rep) != len(u) {
		ru = utf16.Encode([]rune(strings.Repeat("_", len(u))))
	}
	for i, c := range ru {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	w.sum.Strings++
}

// packet sanitizes the frame of a packet event in place.
func (w *traceWriter) packet(ev *etl.Event, data []byte) {
	frame, link, ok := wholeFrame(ev)
	if !ok {
		clear(data)
		w.sum.ClearedFrames++
		w.sum.PayloadCleared += int64(len(data))
		return
	}
	key := segKey(ev, frame) // before any change: the key of the first pass
	l, ok := parseLayout(frame, link)
	if link == layers.LinkTypeEthernet && len(frame) >= 12 {
		for _, off := range []int{0, 6} {
			m := w.r.amap.mac([6]byte(frame[off : off+6]))
			copy(frame[off:], m[:])
		}
	}
	if !ok || l.ipv == 0 {
		// Not IP (ARP, LLDP, …): keep the link header, clear the rest.
		from := min(len(frame), 14)
		if l.ethType >= 0 {
			from = l.ethType + 2
		}
		clear(frame[from:])
		w.sum.ClearedFrames++
		w.sum.PayloadCleared += int64(len(frame) - from)
		return
	}
	w.sum.Frames++
	src, dst := l.addrs(frame)
	for _, a := range [][]byte{src, dst} {
		if ip, ok := addrFromSlice(a); ok {
			copy(a, w.r.amap.addr(ip).AsSlice())
		}
	}
	if l.ipv == 4 {
		ihl := int(frame[l.l3]&0x0f) * 4
		clear(frame[l.l3+20 : l.l3+ihl]) // options (record route, …)
	}
	switch {
	case l.l4 < 0:
		ipHdr := 40
		if l.ipv == 4 {
			ipHdr = int(frame[l.l3]&0x0f) * 4
		}
		from := min(l.l3+ipHdr, l.end)
		clear(frame[from:l.end])
		w.sum.PayloadCleared += int64(l.end - from)
	case l.proto == 6:
		pl := frame[l.payload:l.end]
		kept := w.p.apply(key, pl, w.r)
		w.sum.PayloadKept += int64(kept)
		w.sum.PayloadCleared += int64(len(pl) - kept)
	default:
		pl := frame[l.payload:l.end]
		clear(pl)
		w.sum.PayloadCleared += int64(len(pl))
	}
	clear(frame[l.end:]) // Ethernet padding or trailing bytes
	l.fixChecksums(frame)
}

// String renders a summary for people.
func (s *Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d buffers, %d records written", s.Buffers, s.Records)
	if s.Decompressed > 0 {
		fmt.Fprintf(&b, " (%d compressed buffers written uncompressed)", s.Decompressed)
	}
	b.WriteString("\nreplaced:")
	for _, k := range []string{"host", "ip", "mac", "user", "domain", "email", "name"} {
		fmt.Fprintf(&b, " %d %s", s.Replaced[k], k)
	}
	fmt.Fprintf(&b, "\n%d strings rewritten, %d credentials blanked, %d binary values and %d user SIDs cleared\n", s.Strings, s.Credentials, s.OpaqueCleared, s.SIDs)
	fmt.Fprintf(&b, "%d frames rewritten (%d payload bytes kept: TLS headers and handshakes; %d cleared), %d frames cleared entirely\n",
		s.Frames, s.PayloadKept, s.PayloadCleared, s.ClearedFrames)
	if s.SkippedBuffers > 0 || s.UndecodedRecords > 0 {
		fmt.Fprintf(&b, "left out: %d unreadable buffers, %d buffers' tails from an unparsable record on\n", s.SkippedBuffers, s.UndecodedRecords)
	}
	return b.String()
}
