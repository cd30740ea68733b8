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
type Stream struct {
	max       int
	buf       []byte
	hs        []byte // unencrypted handshake bytes not yet forming a message
	encrypted bool
	dead      bool
	records   int
	appData   bool
}

// NewStream returns a parser that buffers at most maxBuffer bytes (records
// and partial handshake messages); beyond that it gives up.
func NewStream(maxBuffer int) *Stream {
	if maxBuffer < maxRecord+5 {
		maxBuffer = maxRecord + 5
	}
	return &Stream{max: maxBuffer}
}

// SetEncrypted tells the parser that what follows is encrypted (TLS 1.3
// after the ServerHello: the peer's handshake and alerts cannot be read).
func (s *Stream) SetEncrypted() { s.encrypted = true; s.hs = s.hs[:0] }

// Write feeds the next bytes of the stream and returns the messages they
// complete.
func (s *Stream) Write(b []byte) []Message {
	if s.dead {
		return nil
	}
	if len(s.buf)+len(b) > s.max {
		s.dead = true
		return []Message{{Kind: NotTLS, Err: fmt.Errorf("tlswire: more than %d bytes buffered", s.max)}}
	}
	s.buf = append(s.buf, b...)
	var out []Message
	for !s.dead {
		n, msgs := s.record()
		out = append(out, msgs...)
		if n == 0 {
			break
		}
		s.buf = s.buf[:copy(s.buf, s.buf[n:])]
	}
	return out
}

// record parses one record from the buffer; n is 0 when more bytes are
// needed.
func (s *Stream) record() (int, []Message) {
	b := s.buf
	if len(b) == 0 {
		return 0, nil
	}
	if s.records == 0 && b[0]&0x80 != 0 {
		// SSLv2-compatible ClientHello.
		if len(b) < 3 {
			return 0, nil
		}
		n := int(b[0]&0x7f)<<8 | int(b[1])
		if b[2] != 1 {
			return s.notTLS("SSLv2 record that is not a ClientHello")
		}
		if len(b) < 2+n {
			return 0, nil
		}
		s.records++
		h, err := ParseSSLv2ClientHello(b[:2+n])
		return 2 + n, []Message{{Kind: ClientHelloMsg, Record: SSL20, ClientHello: h, Err: err}}
	}
	if len(b) < 5 {
		if b[0] < typeChangeCipherSpec || b[0] > typeApplicationData {
			return s.notTLS(fmt.Sprintf("content type %d", b[0]))
		}
		return 0, nil
	}
	typ, ver, n := b[0], Version(binary.BigEndian.Uint16(b[1:])), int(binary.BigEndian.Uint16(b[3:]))
	if typ < typeChangeCipherSpec || typ > typeApplicationData || ver>>8 != 3 || n > maxRecord {
		return s.notTLS(fmt.Sprintf("record header %x", b[:5]))
	}
	if len(b) < 5+n {
		return 0, nil
	}
	s.records++
	body := b[5 : 5+n]
	var msgs []Message
	switch typ {
	case typeChangeCipherSpec:
		s.encrypted = true
		s.hs = s.hs[:0]
		msgs = append(msgs, Message{Kind: ChangeCipherSpecMsg, Record: ver})
	case typeAlert:
		if s.encrypted {
			msgs = append(msgs, Message{Kind: AlertMsg, Record: ver, Alert: &Alert{Encrypted: true}})
		} else {
			for i := 0; i+2 <= len(body); i += 2 {
				msgs = append(msgs, Message{Kind: AlertMsg, Record: ver, Alert: &Alert{Level: body[i], Description: body[i+1]}})
			}
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
			return 5 + n, []Message{{Kind: NotTLS, Err: fmt.Errorf("tlswire: handshake message larger than %d bytes", s.max)}}
		}
		s.hs = append(s.hs, body...)
		for len(s.hs) >= 4 {
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
				}
			case hsServerHello:
				m.Kind = ServerHelloMsg
				m.ServerHello, m.Err = ParseServerHello(msg)
			}
			msgs = append(msgs, m)
			s.hs = s.hs[:copy(s.hs, s.hs[4+mlen:])]
		}
	}
	return 5 + n, msgs
}

func (s *Stream) notTLS(why string) (int, []Message) {
	s.dead = true
	return 0, []Message{{Kind: NotTLS, Err: fmt.Errorf("tlswire: not TLS: %s", why)}}
}
