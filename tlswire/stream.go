package tlswire

import (
	"encoding/binary"
	"fmt"
)

// MessageKind says what a Message holds.
type MessageKind uint8

// Message kinds.
const (
	ClientHelloMsg MessageKind = iota + 1
	ServerHelloMsg
	AlertMsg
	ChangeCipherSpecMsg
	ApplicationDataMsg
	OtherHandshakeMsg
	NotTLS
	// SyncMsg: a stream that did not start at a record boundary (capture
	// started mid-connection, or bytes were lost) found TLS record headers
	// again. Record is the record-layer version of the first record found.
	SyncMsg
)

// Message is one thing found in a TLS byte stream.
type Message struct {
	Kind          MessageKind
	Record        Version // record-layer version
	HandshakeType uint8   // for handshake messages
	ClientHello   *ClientHello
	ServerHello   *ServerHello
	Alert         *Alert
	Err           error // a hello that could not be parsed
}

// maxRecord is the largest record a conforming peer sends (2^14 plus
// expansion).
const maxRecord = 1<<14 + 2048

// Stream parses one direction of a TLS connection incrementally.
//
// Encryption starts, for this direction, at its ChangeCipherSpec (TLS 1.2
// and older) or at a TLS 1.3 ServerHello. In a connection that may be TLS
// 1.3 (this side offered or selected it) the ChangeCipherSpec is the
// middlebox-compatibility record of RFC 8446 §D.4 and does not end
// parsing: a second ClientHello or the ServerHello after a
// HelloRetryRequest still follows in plaintext.
type Stream struct {
	max        int
	buf        []byte
	hs         []byte // unencrypted handshake bytes not yet forming a message
	encrypted  bool
	tls13      bool // TLS 1.3 possible: ChangeCipherSpec does not start encryption
	dead       bool
	records    int
	appData    bool
	unanchored bool      // the stream may start inside a record: search for a header instead of giving up
	syncing    bool      // looking for a record header
	discard    int       // bytes of the current record still to skip (after lost bytes)
	synced     bool      // a SyncMsg was emitted
	out        []Message // Write's result, reused by the next Write
}

// NewStream returns a parser that buffers at most maxBuffer bytes (records
// and partial handshake messages); beyond that it gives up.
func NewStream(maxBuffer int) *Stream {
	if maxBuffer < 2*maxRecord+10 {
		maxBuffer = 2*maxRecord + 10
	}
	return &Stream{max: maxBuffer}
}

// Reset returns the parser to the state NewStream left it in, keeping its
// buffers for the next stream (a caller following many connections reuses
// parsers instead of growing new buffers for each).
func (s *Stream) Reset() {
	clear(s.out[:cap(s.out)]) // let go of the hellos of the previous stream
	*s = Stream{max: s.max, buf: s.buf[:0], hs: s.hs[:0], out: s.out[:0]}
}

// BufferCap returns the capacity of the parser's buffers, in bytes.
func (s *Stream) BufferCap() int { return cap(s.buf) + cap(s.hs) }

// SetEncrypted tells the parser that what follows is encrypted (TLS 1.3
// after the ServerHello: the peer's handshake and alerts cannot be read).
func (s *Stream) SetEncrypted() { s.encrypted = true; s.hs = s.hs[:0] }

// Negotiated tells the parser which version the server selected in its
// final ServerHello: from TLS 1.3 on what follows is encrypted; below it
// the ChangeCipherSpec starts encryption again.
func (s *Stream) Negotiated(v Version) {
	if v >= TLS13 {
		s.tls13 = true
		s.SetEncrypted()
		return
	}
	s.tls13 = false
}

// SetUnanchored tells the parser that the stream did not start with the
// connection (no SYN seen: the capture started mid-connection). If its
// first bytes are not a TLS record header, the parser searches for one
// instead of declaring the stream "not TLS".
func (s *Stream) SetUnanchored() {
	if s.records == 0 && len(s.buf) == 0 {
		s.unanchored = true
	}
}

// Skip tells the parser that n bytes at the current position were lost
// (the capture truncated the segment, or a gap was given up on). A hello
// cut by the loss is parsed as far as it goes (Truncated set); after the
// current record the parser continues, or searches for the next record
// header when the loss crossed a record boundary.
func (s *Stream) Skip(n int) []Message {
	if s.dead || n <= 0 {
		return nil
	}
	if s.discard > 0 {
		if n <= s.discard {
			s.discard -= n
			return nil
		}
		n -= s.discard
		s.discard = 0
		s.resync()
		return nil
	}
	if s.syncing {
		s.buf = s.buf[:0]
		return nil
	}
	b := s.buf
	if len(b) < 5 || b[0]&0x80 != 0 {
		s.resync()
		return nil
	}
	typ, ver, rlen := b[0], Version(binary.BigEndian.Uint16(b[1:])), int(binary.BigEndian.Uint16(b[3:]))
	have := len(b) - 5
	var out []Message
	if typ == typeHandshake && !s.encrypted && len(s.hs) == 0 && have >= 1 {
		body := b[5:]
		switch body[0] {
		case hsClientHello:
			h := ParsePartialClientHello(body)
			h.RecordVersion = ver
			out = append(out, Message{Kind: ClientHelloMsg, Record: ver, ClientHello: h})
			s.helloSeen(h.offers13())
		case hsServerHello:
			h := ParsePartialServerHello(body)
			out = append(out, Message{Kind: ServerHelloMsg, Record: ver, ServerHello: h})
			if h.SelectedVersion >= TLS13 && !h.HelloRetryRequest {
				s.Negotiated(h.SelectedVersion)
			} else if h.SelectedVersion >= TLS13 {
				s.tls13 = true
			}
		}
	}
	s.records++
	s.buf = s.buf[:0]
	s.hs = s.hs[:0]
	if rest := rlen - have - n; rest >= 0 {
		s.discard = rest
	} else {
		s.resync()
	}
	return out
}

func (h *ClientHello) offers13() bool {
	for _, v := range h.SupportedVersions {
		if v >= TLS13 {
			return true
		}
	}
	return false
}

func (s *Stream) helloSeen(tls13 bool) {
	if tls13 {
		s.tls13 = true
	}
}

func (s *Stream) resync() {
	s.syncing = true
	s.buf = s.buf[:0]
	s.hs = s.hs[:0]
}

// Write feeds the next bytes of the stream and returns the messages they
// complete. The slice is reused by the next Write (the messages it holds
// are not).
func (s *Stream) Write(b []byte) []Message {
	if s.dead {
		return nil
	}
	if s.discard > 0 {
		n := min(s.discard, len(b))
		s.discard -= n
		b = b[n:]
		if len(b) == 0 {
			return nil
		}
	}
	if len(s.buf)+len(b) > s.max {
		if s.syncing {
			// Keep looking in the newest bytes only.
			keep := s.max / 2
			if len(b) >= keep {
				s.buf = append(s.buf[:0], b[len(b)-keep:]...)
			} else {
				drop := len(s.buf) + len(b) - keep
				s.buf = append(s.buf[:copy(s.buf, s.buf[drop:])], b...)
			}
		} else {
			s.dead = true
			return []Message{{Kind: NotTLS, Err: fmt.Errorf("tlswire: more than %d bytes buffered", s.max)}}
		}
	} else {
		s.buf = append(s.buf, b...)
	}
	out := s.out[:0]
	defer func() { s.out = out[:0] }()
	for !s.dead {
		if s.syncing {
			m, ok := s.sync()
			if !ok {
				break
			}
			out = append(out, m)
		}
		var n int
		n, out = s.record(out)
		if n < 0 {
			continue // switched to searching for a header
		}
		if n == 0 {
			break
		}
		s.buf = s.buf[:copy(s.buf, s.buf[n:])]
	}
	return out
}

// validHeader reports whether b starts with a plausible TLS record header
// (RFC 8446 §5.1: content type 20–23, legacy_record_version 0x0300–0x0304,
// length at most 2^14 + 2048).
func validHeader(b []byte) (int, bool) {
	if len(b) < 5 {
		return 0, false
	}
	n := int(binary.BigEndian.Uint16(b[3:]))
	return n, b[0] >= typeChangeCipherSpec && b[0] <= typeApplicationData && b[1] == 3 && b[2] <= 4 && n > 0 && n <= maxRecord
}

// sync searches the buffer for a record header confirmed by the header of
// the record after it (or by the record ending exactly where the bytes
// end). ok is false when more bytes are needed.
func (s *Stream) sync() (Message, bool) {
	b := s.buf
	for i := 0; i+5 <= len(b); i++ {
		n, ok := validHeader(b[i:])
		if !ok {
			continue
		}
		end := i + 5 + n
		switch {
		case end == len(b):
		case end+5 <= len(b):
			if _, ok := validHeader(b[end:]); !ok {
				continue
			}
		default:
			// Not enough bytes to confirm: wait, keeping the candidate.
			s.buf = s.buf[:copy(s.buf, s.buf[i:])]
			return Message{}, false
		}
		typ := b[i]
		s.buf = s.buf[:copy(s.buf, s.buf[i:])]
		s.syncing = false
		if i > 0 || (s.unanchored && typ != typeHandshake) {
			// Joined inside the connection: whatever handshake records
			// follow are renegotiations or TLS 1.3 post-handshake
			// messages, both encrypted.
			s.encrypted = true
		}
		s.unanchored = false
		s.synced = true
		return Message{Kind: SyncMsg, Record: Version(binary.BigEndian.Uint16(s.buf[1:]))}, true
	}
	// Keep the last 4 bytes: a header may straddle the next write.
	if len(b) > 4 {
		s.buf = s.buf[:copy(s.buf, s.buf[len(b)-4:])]
	}
	return Message{}, false
}

// record parses one record from the buffer and appends its messages to
// out; n is 0 when more bytes are needed.
func (s *Stream) record(out []Message) (int, []Message) {
	b := s.buf
	if len(b) == 0 {
		return 0, out
	}
	if s.records == 0 && b[0]&0x80 != 0 && !s.unanchored {
		// SSLv2-compatible ClientHello.
		if len(b) < 3 {
			return 0, out
		}
		n := int(b[0]&0x7f)<<8 | int(b[1])
		if b[2] != 1 {
			return s.notTLS(out, "SSLv2 record that is not a ClientHello")
		}
		if len(b) < 2+n {
			return 0, out
		}
		s.records++
		h, err := ParseSSLv2ClientHello(b[:2+n])
		return 2 + n, append(out, Message{Kind: ClientHelloMsg, Record: SSL20, ClientHello: h, Err: err})
	}
	if len(b) < 5 {
		if b[0] < typeChangeCipherSpec || b[0] > typeApplicationData || (len(b) >= 2 && b[1] != 3) {
			return s.notTLS(out, fmt.Sprintf("content type %d", b[0]))
		}
		return 0, out
	}
	typ, ver := b[0], Version(binary.BigEndian.Uint16(b[1:]))
	n, ok := validHeader(b)
	if !ok && !(typ >= typeChangeCipherSpec && typ <= typeApplicationData && ver>>8 == 3 && n <= maxRecord) {
		return s.notTLS(out, fmt.Sprintf("record header %x", b[:5]))
	}
	if len(b) < 5+n {
		return 0, out
	}
	if s.unanchored {
		// First record of a stream joined mid-connection, aligned with
		// the segment. Unless it is a handshake record, the handshake
		// was not captured and what follows is encrypted.
		if typ != typeHandshake {
			s.encrypted = true
		}
		s.synced = true
		s.unanchored = false
		s.records++
		out = append(out, Message{Kind: SyncMsg, Record: ver})
		return 5 + n, s.content(out, typ, ver, b[5:5+n])
	}
	s.records++
	return 5 + n, s.content(out, typ, ver, b[5:5+n])
}

// content interprets one record's body and appends its messages to msgs.
func (s *Stream) content(msgs []Message, typ uint8, ver Version, body []byte) []Message {
	switch typ {
	case typeChangeCipherSpec:
		if !s.tls13 {
			s.encrypted = true
			s.hs = s.hs[:0]
		}
		msgs = append(msgs, Message{Kind: ChangeCipherSpecMsg, Record: ver})
	case typeAlert:
		// A plaintext alert is exactly level + description (RFC 8446
		// §6); once encryption started the record carries ciphertext
		// (TLS 1.2 AEAD: 2 + 8 + 16 bytes). A TLS 1.3 peer sends its
		// encrypted alerts as application_data records, so a 2-byte
		// alert record there is plaintext (e.g. a client rejecting the
		// ServerHello before it has handshake keys).
		if len(body) == 2 && (!s.encrypted || s.tls13) {
			msgs = append(msgs, Message{Kind: AlertMsg, Record: ver, Alert: &Alert{Level: body[0], Description: body[1]}})
		} else {
			msgs = append(msgs, Message{Kind: AlertMsg, Record: ver, Alert: &Alert{Encrypted: true}})
		}
	case typeApplicationData:
		if !s.appData {
			s.appData = true
			msgs = append(msgs, Message{Kind: ApplicationDataMsg, Record: ver})
		}
	case typeHandshake:
		if s.encrypted {
			break
		}
		if len(s.hs)+len(body) > s.max {
			s.dead = true
			return append(msgs, Message{Kind: NotTLS, Err: fmt.Errorf("tlswire: handshake message larger than %d bytes", s.max)})
		}
		s.hs = append(s.hs, body...)
		for len(s.hs) >= 4 && !s.encrypted {
			mlen := int(s.hs[1])<<16 | int(s.hs[2])<<8 | int(s.hs[3])
			if len(s.hs) < 4+mlen {
				break
			}
			msg := s.hs[:4+mlen]
			m := Message{Kind: OtherHandshakeMsg, Record: ver, HandshakeType: msg[0]}
			switch msg[0] {
			case hsClientHello:
				m.Kind = ClientHelloMsg
				m.ClientHello, m.Err = ParseClientHello(msg)
				if m.ClientHello != nil {
					m.ClientHello.RecordVersion = ver
					s.helloSeen(m.ClientHello.offers13())
				}
			case hsServerHello:
				m.Kind = ServerHelloMsg
				m.ServerHello, m.Err = ParseServerHello(msg)
				if sh := m.ServerHello; sh != nil && sh.SelectedVersion >= TLS13 {
					s.tls13 = true
					if !sh.HelloRetryRequest {
						// The rest of this flight is encrypted
						// (RFC 8446 §2: EncryptedExtensions on).
						msgs = append(msgs, m)
						s.hs = s.hs[:copy(s.hs, s.hs[4+mlen:])]
						s.SetEncrypted()
						continue
					}
				}
			}
			msgs = append(msgs, m)
			s.hs = s.hs[:copy(s.hs, s.hs[4+mlen:])]
		}
	}
	return msgs
}

func (s *Stream) notTLS(out []Message, why string) (int, []Message) {
	if s.unanchored && s.records == 0 {
		// Joined mid-connection, inside a record: look for a header.
		s.syncing = true
		return -1, out
	}
	s.dead = true
	return 0, append(out, Message{Kind: NotTLS, Err: fmt.Errorf("tlswire: not TLS: %s", why)})
}
