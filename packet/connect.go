package packet

import (
	"bytes"
	"strconv"
	"strings"
)

// httpHead collects the header block of an HTTP CONNECT request (client)
// or of the proxy's reply (server) in front of a tunnelled TLS stream
// (RFC 9110 §9.3.6: "CONNECT server.example.com:443 HTTP/1.1", answered by
// "HTTP/1.1 200 …"; after a 2xx reply both sides speak TLS).
type httpHead struct {
	buf  []byte
	done bool
}

// maxHTTPHead bounds the header block kept (proxies' replies are short).
const maxHTTPHead = 8 << 10

// startsHTTP reports whether the first bytes of a direction begin an HTTP
// CONNECT request, or the proxy's reply to one. A TLS record never starts
// with 'C' (0x43) or 'H' (0x48): no content type has those values.
func startsHTTP(c *Conversation, side Side, data []byte) bool {
	if c.ClientHello != nil || c.ServerHello != nil {
		return false
	}
	if data[0] == 'C' && c.Proxy == nil {
		return true
	}
	return data[0] == 'H' && c.Proxy != nil && c.Proxy.Status == 0
}

// readHTTP consumes header bytes of side; it returns the side (which may
// change when the CONNECT came from the side first taken as the server)
// and the bytes after the header block, which belong to the tunnel.
func (c *Conversation) readHTTP(side Side, h *halfStream, data []byte) (Side, []byte) {
	hh := h.http
	start := max(len(hh.buf)-3, 0)
	hh.buf = append(hh.buf, data...)
	end := bytes.Index(hh.buf[start:], []byte("\r\n\r\n"))
	if end < 0 {
		if len(hh.buf) > maxHTTPHead {
			c.NotTLS = true
			c.release()
		}
		return side, nil
	}
	end += start + 4
	head, rest := hh.buf[:end], append([]byte(nil), hh.buf[end:]...)
	line, _, _ := strings.Cut(string(head), "\r\n")
	f := strings.Fields(line)
	hh.done, hh.buf = true, nil
	switch {
	case len(f) == 3 && f[0] == "CONNECT" && strings.HasPrefix(f[2], "HTTP/") && c.Proxy == nil:
		if side == Server {
			c.swap()
			side = Client
		}
		c.ClientKnown = true
		c.Proxy = &Proxy{Target: f[1]}
	case len(f) >= 2 && strings.HasPrefix(f[0], "HTTP/") && c.Proxy != nil && side == Server:
		code, err := strconv.Atoi(f[1])
		if err != nil || code < 100 || code > 599 {
			c.NotTLS = true
			c.release()
			return side, nil
		}
		c.Proxy.Status = code
		if len(f) > 2 {
			c.Proxy.Reason = strings.Join(f[2:], " ")
		}
		if code < 200 || code > 299 {
			c.release() // no tunnel
			return side, nil
		}
	default: // plain HTTP, or anything else: not a tunnel
		c.NotTLS = true
		c.release()
		return side, nil
	}
	return side, rest
}
