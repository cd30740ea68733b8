package tlswire_test

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"testing"

	"github.com/etlscope/etlscope/tlswire"
	"github.com/etlscope/etlscope/tlswire/tlstest"
)

// hrrHandshake runs a real crypto/tls TLS 1.3 handshake that needs a
// HelloRetryRequest (RFC 8446 §4.1.4): the client sends a key share for
// X25519 only and the server accepts P-256 only.
func hrrHandshake(t testing.TB) tlstest.Result {
	cert := tlstest.SelfSigned(t, "outlook.office365.com")
	res := tlstest.Handshake(t,
		&tls.Config{ServerName: "outlook.office365.com", InsecureSkipVerify: true, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS13,
			CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256}},
		&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, CurvePreferences: []tls.CurveID{tls.CurveP256}})
	if res.ClientErr != nil || res.ServerErr != nil || res.Version != tls.VersionTLS13 {
		t.Fatalf("handshake: %v %v %x", res.ClientErr, res.ServerErr, res.Version)
	}
	return res
}

// TestHelloRetryRequest: the HRR (a ServerHello whose random is
// SHA-256("HelloRetryRequest"), RFC 8446 §4.1.3) is followed by the
// middlebox-compatibility ChangeCipherSpec (§D.4) on both sides; the second
// ClientHello and the real ServerHello must still be parsed.
func TestHelloRetryRequest(t *testing.T) {
	res := hrrHandshake(t)
	for _, chunk := range []int{0, 1, 13} {
		cm := collect(res.Client, chunk)
		sm := collect(res.Server, chunk)
		var hellos []*tlswire.ClientHello
		for _, m := range cm {
			if m.Kind == tlswire.ClientHelloMsg {
				hellos = append(hellos, m.ClientHello)
			}
		}
		if len(hellos) != 2 || hellos[0].SNI != "outlook.office365.com" || hellos[1].MaxVersion() != tlswire.TLS13 {
			t.Fatalf("chunk %d: client hellos %+v", chunk, hellos)
		}
		var shs []*tlswire.ServerHello
		for _, m := range sm {
			if m.Kind == tlswire.ServerHelloMsg {
				shs = append(shs, m.ServerHello)
			}
			if m.Kind == tlswire.AlertMsg {
				t.Errorf("chunk %d: alert in a successful handshake: %+v", chunk, m.Alert)
			}
		}
		if len(shs) != 2 || !shs[0].HelloRetryRequest || shs[1].HelloRetryRequest || shs[1].SelectedVersion != tlswire.TLS13 || shs[1].CipherSuite == 0 {
			t.Fatalf("chunk %d: server hellos %+v", chunk, shs)
		}
	}
}

// TestCCSEndsTLS12: in TLS 1.2 the ChangeCipherSpec still starts
// encryption: the encrypted Finished that follows is not parsed as a
// handshake message, and the client's close_notify (an encrypted alert
// record of 26 bytes with AES-GCM, RFC 5246 §6.2.3.3) is "encrypted".
func TestCCSEndsTLS12(t *testing.T) {
	cert := tlstest.SelfSigned(t, "x")
	res := tlstest.Handshake(t, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12, ServerName: "x"},
		&tls.Config{Certificates: []tls.Certificate{cert}})
	for _, m := range collect(res.Client, 0) {
		if m.Kind == tlswire.OtherHandshakeMsg && m.HandshakeType != 16 {
			t.Errorf("encrypted Finished parsed as handshake type %d", m.HandshakeType)
		}
		if m.Kind == tlswire.AlertMsg && !m.Alert.Encrypted {
			t.Errorf("close_notify after CCS decoded as plaintext %+v", m.Alert)
		}
	}
}

// TestMidStream: a capture that starts after the handshake. The stream is
// joined inside a record (the first bytes are the tail of a record), then
// application_data records and an encrypted alert follow. The parser
// synchronises on the record headers (RFC 8446 §5.1 layout) and reports
// the alert as encrypted, never as "alert 70".
func TestMidStream(t *testing.T) {
	cert := tlstest.SelfSigned(t, "x")
	res := tlstest.Handshake(t, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12, ServerName: "x"},
		&tls.Config{Certificates: []tls.Certificate{cert}})
	// Client writes: hello, key exchange+CCS+Finished, application data,
	// close_notify. Keep the last two.
	tail := tlstest.Concat(res.Client[len(res.Client)-2:])
	// Something that would read as "fatal protocol_version" if taken as a
	// plaintext alert body: an alert record with ciphertext 02 46 ...
	fake := append([]byte{21, 3, 3, 0, 26, 2, 70}, bytes.Repeat([]byte{0xab}, 24)...)
	for _, cut := range []int{0, 3, 17} {
		s := tlswire.NewStream(64 << 10)
		s.SetUnanchored()
		// Joined `cut` bytes into an earlier record of 40 bytes.
		prev := append([]byte{23, 3, 3, 0, 40}, bytes.Repeat([]byte{0x17}, 40)...)
		var msgs []tlswire.Message
		msgs = append(msgs, s.Write(prev[cut:])...)
		msgs = append(msgs, s.Write(tail)...)
		msgs = append(msgs, s.Write(fake)...)
		sync := find(msgs, tlswire.SyncMsg)
		if sync == nil || sync.Record != tlswire.TLS12 {
			t.Fatalf("cut %d: no sync: %+v", cut, msgs)
		}
		if find(msgs, tlswire.NotTLS) != nil {
			t.Errorf("cut %d: not TLS", cut)
		}
		for _, m := range msgs {
			if m.Kind == tlswire.AlertMsg && !m.Alert.Encrypted {
				t.Errorf("cut %d: plaintext alert %+v", cut, m.Alert)
			}
		}
	}
	// A stream that is not TLS at all still ends as NotTLS eventually
	// for an anchored stream, and never syncs on text.
	s := tlswire.NewStream(64 << 10)
	s.SetUnanchored()
	msgs := s.Write(bytes.Repeat([]byte("GET / HTTP/1.1\r\nHost: example\r\n\r\n"), 50))
	if find(msgs, tlswire.SyncMsg) != nil {
		t.Errorf("synced on HTTP text: %+v", msgs)
	}
}

// TestPlaintextAlert: a 2-byte alert before encryption (RFC 8446 §6: level,
// description) is plaintext.
func TestPlaintextAlert(t *testing.T) {
	s := tlswire.NewStream(64 << 10)
	m := find(s.Write([]byte{21, 3, 3, 0, 2, 2, 70}), tlswire.AlertMsg)
	if m == nil || m.Alert.Encrypted || m.Alert.Description != 70 || m.Alert.Level != 2 {
		t.Fatalf("%+v", m)
	}
}

// TestTruncatedHello: a ClientHello cut by a 128-byte snap length
// (pktmon's default --pkt-size) still gives its record version,
// client_version and the fields that are complete.
func TestTruncatedHello(t *testing.T) {
	res := hrrHandshake(t) // any real ClientHello
	hello := res.Client[0]
	for _, keep := range []int{5 + 4 + 2, 74, 128 - 54, 200} {
		s := tlswire.NewStream(64 << 10)
		msgs := s.Write(hello[:keep])
		msgs = append(msgs, s.Skip(len(hello)-keep)...)
		ch := find(msgs, tlswire.ClientHelloMsg)
		if ch == nil || !ch.ClientHello.Truncated || ch.ClientHello.LegacyVersion != tlswire.TLS12 || ch.ClientHello.RecordVersion != tlswire.Version(binary.BigEndian.Uint16(hello[1:])) {
			t.Fatalf("keep %d: %+v", keep, ch)
		}
		if ch.ClientHello.VersionsKnown() && keep < 100 {
			t.Errorf("keep %d: versions claimed known", keep)
		}
		// The stream goes on with the next record.
		if m := find(s.Write([]byte{21, 3, 3, 0, 2, 1, 0}), tlswire.AlertMsg); m == nil {
			t.Errorf("keep %d: next record not parsed", keep)
		}
	}
	// A hello cut before its version: only the record is known.
	s := tlswire.NewStream(64 << 10)
	msgs := append(s.Write(hello[:7]), s.Skip(len(hello)-7)...)
	if ch := find(msgs, tlswire.ClientHelloMsg); ch == nil || ch.ClientHello.LegacyVersion != 0 || !ch.ClientHello.Truncated {
		t.Fatalf("short: %+v", ch)
	}
}
