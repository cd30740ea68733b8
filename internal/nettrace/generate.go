package nettrace

import (
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/etlscope/etlscope/etl/decode"
	"github.com/etlscope/etlscope/internal/etltest"
)

// GenOptions describe a generated large trace.
type GenOptions struct {
	Size     int64  // approximate file size in bytes
	Compress bool   // compressed buffers (relogged style)
	CPUs     int    // default 4
	Build    uint32 // default 17763
}

// GenStats reports what Generate wrote.
type GenStats struct {
	Bytes       int64
	Events      int64
	Connections int
}

// Generate streams a NetTrace-like file of about o.Size bytes to w: DNS,
// TCPIP, WebIO and WinHttp events and NDIS frames of TLS connections, one
// in eight of them a TLS 1.0 client rejected with alert 70. Memory stays
// flat whatever the size (etltest.Stream writes buffer by buffer).
func Generate(w io.Writer, o GenOptions) (GenStats, error) {
	if o.CPUs == 0 {
		o.CPUs = 4
	}
	if o.Build == 0 {
		o.Build = 17763
	}
	s, err := etltest.NewStream(w, etltest.Options{CPUs: o.CPUs, Build: o.Build, Compress: o.Compress, BufferSize: 64 << 10})
	if err != nil {
		return GenStats{}, err
	}
	var st GenStats
	now := s.Options().Start
	ptr := s.Options().PointerSize
	add := func(ev etltest.Event) error {
		ev.Time = now
		now = now.Add(50 * time.Microsecond)
		return s.Add(&ev)
	}
	appData := make([]byte, 1400)
	for i := range appData {
		appData[i] = byte(i * 7)
	}
	for s.Offset() < o.Size {
		c := st.Connections
		st.Connections++
		cpu := c % o.CPUs
		pid := uint32(1000 + c%50)
		client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(c >> 8), byte(c)}), uint16(49152+c%16000))
		server := netip.AddrPortFrom(netip.AddrFrom4([4]byte{52, 97, byte(c % 7), 2}), 443)
		bad := c%8 == 7
		mask, ver := uint32(0xA80), uint16(0x0303)
		if bad {
			mask, ver = 0xA0, 0x0301
		}
		host := fmt.Sprintf("svc%d.example.com", c%100)
		p := func() *etltest.Payload { return etltest.NewPayload(ptr) }
		evs := []etltest.Event{
			{Provider: decode.DNSClient, ID: 3008, Level: 4, PID: pid, TID: pid + 1, CPU: cpu, UserData: p().UTF16Z(host).U32(1).U64(0).U32(0).UTF16Z(server.Addr().String() + ";").Bytes()},
			{Provider: decode.TCPIP, ID: 1033, Level: 4, PID: 4, TID: pid + 1, CPU: cpu, Keywords: kwTCPConnectPath, UserData: p().U32(16).SockaddrIn(client).U32(16).SockaddrIn(server).U32(0).U32(pid).U32(1).Ptr(uint64(c)).Bytes()},
			{Provider: decode.WebIO, ID: 728, Version: 1, Level: 4, Opcode: 1, Task: taskSSLACH, PID: pid, TID: pid + 1, CPU: cpu, Keywords: kwWebIOSecurity,
				UserData: p().Ptr(uint64(c)).U32(mask).Ptr(0).U16(0).U32(0).U64(1).U64(2).U32(0).Bytes()},
		}
		for _, ev := range evs {
			if err := add(ev); err != nil {
				return st, err
			}
		}
		// Frames: handshake, a flight of data or the alert, close.
		flights := []struct {
			fromServer bool
			data       []byte
		}{{false, ClientHelloRecord(ver, host)}}
		if bad {
			flights = append(flights, struct {
				fromServer bool
				data       []byte
			}{true, []byte{21, 3, 1, 0, 2, 2, 70}})
		} else {
			flights = append(flights, struct {
				fromServer bool
				data       []byte
			}{true, ServerHelloRecord(ver, 0xC02F)})
			for k := 0; k < 8; k++ {
				rec := append([]byte{23, 3, 3, byte(len(appData) >> 8), byte(len(appData))}, appData...)
				flights = append(flights, struct {
					fromServer bool
					data       []byte
				}{k%2 == 1, rec})
			}
		}
		cseq, sseq := uint32(1000), uint32(900000)
		for _, fl := range flights {
			src, dst, seq, ack := client, server, cseq, sseq
			if fl.fromServer {
				src, dst, seq, ack = server, client, sseq, cseq
			}
			frame, err := tcpFrame(src, dst, seq, ack, tcpFlags{ack: true, psh: true}, fl.data, fl.fromServer)
			if err != nil {
				return st, err
			}
			kw := uint64(kwNDISEthernet | kwNDISStart | kwNDISEnd)
			if fl.fromServer {
				kw |= kwNDISReceive
				sseq += uint32(len(fl.data))
			} else {
				kw |= kwNDISSend
				cseq += uint32(len(fl.data))
			}
			data := p().U32(7).U32(7).U32(uint32(len(frame))).Raw(frame).U64(0).U64(0).Bytes()
			if err := add(etltest.Event{Provider: decode.NDISCapture, ID: 1001, Level: 4, PID: 4, CPU: cpu, Keywords: kw, UserData: data}); err != nil {
				return st, err
			}
		}
		end := etltest.Event{Provider: decode.WebIO, ID: 703, Level: 4, Opcode: 2, Task: taskSSLISC, PID: pid, TID: pid + 1, CPU: cpu, Keywords: kwWebIOSecurity}
		result := uint32(0)
		if bad {
			result = 0x80090326
		}
		end.UserData = p().Ptr(uint64(c)).U64(0).U64(0).U64(1).U64(2).UTF16Z(host).U32(0).Ptr(0).U32(0).U32(0).U32(0).Ptr(0).U32(0).U32(result).Bytes()
		if err := add(end); err != nil {
			return st, err
		}
	}
	if err := s.Close(); err != nil {
		return st, err
	}
	st.Bytes, st.Events = s.Offset(), s.Events()
	return st, nil
}

// ClientHelloRecord builds a minimal TLS ClientHello record offering up to
// version v with the server_name extension, the way a Windows client
// without supported_versions sends it.
func ClientHelloRecord(v uint16, sni string) []byte {
	var ext []byte
	name := []byte(sni)
	sn := binary.BigEndian.AppendUint16(nil, uint16(len(name)+3))
	sn = append(sn, 0)
	sn = binary.BigEndian.AppendUint16(sn, uint16(len(name)))
	sn = append(sn, name...)
	ext = binary.BigEndian.AppendUint16(ext, 0)
	ext = binary.BigEndian.AppendUint16(ext, uint16(len(sn)))
	ext = append(ext, sn...)
	body := binary.BigEndian.AppendUint16(nil, v)
	body = append(body, make([]byte, 32)...) // random
	body = append(body, 0)                   // session id
	body = append(body, 0, 4, 0xC0, 0x2F, 0x00, 0x2F)
	body = append(body, 1, 0) // compression
	body = binary.BigEndian.AppendUint16(body, uint16(len(ext)))
	body = append(body, ext...)
	return record(22, 0x0301, handshakeMsg(1, body))
}

// ServerHelloRecord builds a TLS ServerHello record selecting version v
// (0x0304 via supported_versions) and a cipher suite.
func ServerHelloRecord(v uint16, suite uint16) []byte {
	legacy := v
	var ext []byte
	if v >= 0x0304 {
		legacy = 0x0303
		ext = []byte{0, 43, 0, 2, byte(v >> 8), byte(v)}
	}
	body := binary.BigEndian.AppendUint16(nil, legacy)
	body = append(body, make([]byte, 32)...)
	body = append(body, 0)
	body = binary.BigEndian.AppendUint16(body, suite)
	body = append(body, 0)
	body = binary.BigEndian.AppendUint16(body, uint16(len(ext)))
	body = append(body, ext...)
	return record(22, legacy, handshakeMsg(2, body))
}

func handshakeMsg(typ byte, body []byte) []byte {
	return append([]byte{typ, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
}

func record(typ byte, v uint16, body []byte) []byte {
	return append([]byte{typ, byte(v >> 8), byte(v), byte(len(body) >> 8), byte(len(body))}, body...)
}
