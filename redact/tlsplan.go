package redact

import (
	"bytes"
	"net/netip"

	"github.com/etlscope/etlscope/tlswire"
)

// The TLS planner decides, in a first pass over the trace in time order,
// which bytes of each TCP payload a sanitized trace keeps: TLS record
// headers (RFC 8446 §5.1, RFC 5246 §6.2: type, version, length),
// unencrypted handshake messages but the certificate contents (RFC 5246
// §7.4.2: certificate_list and each ASN.1Cert length are kept, the DER
// bytes cleared), ChangeCipherSpec and alerts. Application data,
// encrypted handshake messages, session tickets, CertificateRequest,
// CertificateStatus and anything that is not TLS (HTTP included) are
// cleared. The SNI host name (RFC 6066 §3) is replaced in place.

// Limits that bound the planner's memory.
const (
	maxHalves         = 1 << 20
	maxRecordsPerHalf = 64
	maxKeptRanges     = 256
	maxHelloBytes     = 16 << 10
)

type halfKey struct{ src, dst netip.AddrPort }

type seqRange struct{ from, to uint32 } // [from, to) in sequence space

type sniRange struct {
	at   uint32
	host string
}

// half is one direction of a TCP connection.
type half struct {
	started  bool
	next     uint32 // next expected sequence number
	dead     bool   // nothing more is kept
	records  int
	kept     []seqRange
	sni      []sniRange
	http     bool // skipping an HTTP CONNECT request or its response until CRLFCRLF
	crlf     uint32
	hdr      [5]byte
	hdrN     int
	hdrAt    uint32
	recLeft  int
	recType  byte
	enc      bool
	hsHdr    [4]byte
	hsN      int
	hsLeft   int
	hsType   byte
	hello    []byte // the ClientHello being collected (to find the SNI)
	helloAt  uint32
	certStep int // 0 list length, 1 cert length, 2 cert bytes
	certN    int
	certLen  int
	certBuf  [3]byte
}

type planner struct {
	halves map[halfKey]*half
	segs   map[uint64]segRef
	r      *Redactor
}

type segRef struct {
	h   *half
	seq uint32
}

func newPlanner(r *Redactor) *planner {
	return &planner{halves: map[halfKey]*half{}, segs: map[uint64]segRef{}, r: r}
}

// segment feeds one TCP segment seen in time order.
func (p *planner) segment(key uint64, src, dst netip.AddrPort, seq uint32, syn bool, payload []byte) {
	k := halfKey{src, dst}
	h := p.halves[k]
	if h == nil {
		if len(p.halves) >= maxHalves {
			return
		}
		h = &half{}
		p.halves[k] = h
	}
	if syn {
		h.started, h.next = true, seq+1
		return
	}
	if len(payload) == 0 {
		return
	}
	if !h.started {
		h.started, h.next = true, seq
	}
	if h.dead && len(h.kept) == 0 {
		return
	}
	p.segs[key] = segRef{h, seq}
	end := seq + uint32(len(payload))
	switch {
	case int32(seq-h.next) > 0:
		h.dead = true // a gap: record boundaries are lost
	case int32(end-h.next) > 0:
		skip := h.next - seq
		p.feed(h, payload[skip:], h.next)
		h.next = end
	}
}

func (h *half) keep(from, to uint32) {
	if from == to {
		return
	}
	if n := len(h.kept); n > 0 && h.kept[n-1].to == from {
		h.kept[n-1].to = to
		return
	}
	if len(h.kept) >= maxKeptRanges {
		h.dead = true
		return
	}
	h.kept = append(h.kept, seqRange{from, to})
}

// feed parses new stream bytes b starting at sequence number at.
func (p *planner) feed(h *half, b []byte, at uint32) {
	for i := 0; i < len(b) && !h.dead; {
		pos := at + uint32(i)
		if h.records == 0 && h.hdrN == 0 && !h.http && (bytes.HasPrefix(b[i:], []byte("CONNECT ")) || bytes.HasPrefix(b[i:], []byte("HTTP/1."))) {
			h.http = true
		}
		if h.http {
			// Skip (clear) an HTTP CONNECT exchange: the TLS starts after
			// the blank line.
			for i < len(b) {
				h.crlf = h.crlf<<8 | uint32(b[i])
				i++
				if h.crlf == 0x0d0a0d0a {
					h.http = false
					break
				}
			}
			continue
		}
		if h.hdrN < 5 {
			if h.hdrN == 0 {
				h.hdrAt = pos
			}
			h.hdr[h.hdrN] = b[i]
			h.hdrN++
			i++
			if h.hdrN < 5 {
				continue
			}
			typ, n := h.hdr[0], int(h.hdr[3])<<8|int(h.hdr[4])
			if typ < 20 || typ > 24 || h.hdr[1] != 3 || n > 1<<14+2048 || h.records >= maxRecordsPerHalf {
				h.dead = true
				return
			}
			h.keep(h.hdrAt, h.hdrAt+5)
			h.records++
			h.recType, h.recLeft = typ, n
			if typ == 20 {
				h.enc = true
			}
			if n == 0 {
				h.hdrN = 0
			}
			continue
		}
		n := min(h.recLeft, len(b)-i)
		body := b[i : i+n]
		switch h.recType {
		case 20, 21: // ChangeCipherSpec, alert
			h.keep(pos, pos+uint32(n))
		case 22:
			if !h.enc {
				p.handshake(h, body, pos)
			}
		}
		i += n
		h.recLeft -= n
		if h.recLeft == 0 {
			h.hdrN = 0
		}
	}
}

// handshake parses unencrypted handshake bytes (messages may span records).
func (p *planner) handshake(h *half, b []byte, at uint32) {
	for i := 0; i < len(b); {
		pos := at + uint32(i)
		if h.hsN < 4 {
			h.hsHdr[h.hsN] = b[i]
			h.hsN++
			h.keep(pos, pos+1)
			i++
			if h.hsN == 4 {
				h.hsType = h.hsHdr[0]
				h.hsLeft = int(h.hsHdr[1])<<16 | int(h.hsHdr[2])<<8 | int(h.hsHdr[3])
				h.certStep, h.certN = 0, 0
				if h.hsType == 1 {
					h.hello = append(h.hello[:0], h.hsHdr[:]...)
					h.helloAt = pos - 3
				}
				if h.hsLeft == 0 {
					h.hsN = 0
				}
			}
			continue
		}
		n := min(h.hsLeft, len(b)-i)
		body := b[i : i+n]
		switch h.hsType {
		case 1, 2, 14, 12, 16, 20, 8: // hellos, ServerHelloDone, key exchanges, Finished, EncryptedExtensions
			h.keep(pos, pos+uint32(n))
			if h.hsType == 1 && len(h.hello)+n <= maxHelloBytes {
				h.hello = append(h.hello, body...)
			}
		case 11:
			h.certificate(body, pos)
		}
		i += n
		h.hsLeft -= n
		if h.hsLeft == 0 {
			h.hsN = 0
			if h.hsType == 1 {
				p.clientHello(h)
			}
		}
	}
}

// certificate keeps the length fields of a Certificate message and clears
// the certificates.
func (h *half) certificate(b []byte, at uint32) {
	for i := 0; i < len(b); {
		pos := at + uint32(i)
		if h.certStep < 2 {
			h.certBuf[h.certN] = b[i]
			h.certN++
			h.keep(pos, pos+1)
			i++
			if h.certN == 3 {
				h.certN = 0
				if h.certStep == 0 {
					h.certStep = 1
				} else {
					h.certLen = int(h.certBuf[0])<<16 | int(h.certBuf[1])<<8 | int(h.certBuf[2])
					h.certStep = 2
					if h.certLen == 0 {
						h.certStep = 1
					}
				}
			}
			continue
		}
		n := min(h.certLen, len(b)-i)
		i += n
		h.certLen -= n
		if h.certLen == 0 {
			h.certStep = 1
		}
	}
}

// clientHello learns the SNI of a complete ClientHello and records where
// its bytes are, to be replaced.
func (p *planner) clientHello(h *half) {
	ch, err := tlswire.ParseClientHello(h.hello)
	if err != nil || ch.SNI == "" {
		return
	}
	p.r.Host(ch.SNI)
	if i := bytes.Index(h.hello, []byte(ch.SNI)); i >= 0 {
		h.sni = append(h.sni, sniRange{at: h.helloAt + uint32(i), host: ch.SNI})
	}
	h.hello = nil
}

// apply clears payload (starting at sequence number seq) but for the
// kept ranges of its half, and replaces the SNI.
func (p *planner) apply(key uint64, payload []byte, r *Redactor) (kept int) {
	ref, ok := p.segs[key]
	if !ok {
		clear(payload)
		return 0
	}
	h, seq := ref.h, ref.seq
	end := seq + uint32(len(payload))
	mask := make([]bool, len(payload))
	for _, k := range h.kept {
		from, to := k.from, k.to
		if int32(to-seq) <= 0 || int32(from-end) >= 0 {
			continue
		}
		if int32(from-seq) < 0 {
			from = seq
		}
		if int32(to-end) > 0 {
			to = end
		}
		for j := from - seq; j < to-seq; j++ {
			mask[j] = true
		}
	}
	for j := range payload {
		if mask[j] {
			kept++
		} else {
			payload[j] = 0
		}
	}
	for _, s := range h.sni {
		rep := r.Host(s.host)
		for j := 0; j < len(s.host); j++ {
			at := s.at + uint32(j) - seq
			if int32(s.at+uint32(j)-seq) >= 0 && int(at) < len(payload) {
				payload[at] = rep[j]
			}
		}
	}
	return kept
}
