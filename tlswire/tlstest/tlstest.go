// Package tlstest produces real TLS handshakes with crypto/tls for tests:
// the raw bytes each side wrote, in order, ready to be wrapped into TCP
// segments and packet events.
package tlstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"
)

// SelfSigned returns a certificate for the given DNS names, valid now.
func SelfSigned(tb testing.TB, names ...string) tls.Certificate {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: firstOr(names, "server")},
		DNSNames:     names,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func firstOr(s []string, def string) string {
	if len(s) > 0 {
		return s[0]
	}
	return def
}

// recorder keeps a copy of every Write.
type recorder struct {
	net.Conn
	mu     sync.Mutex
	writes [][]byte
}

func (r *recorder) Write(b []byte) (int, error) {
	r.mu.Lock()
	r.writes = append(r.writes, append([]byte(nil), b...))
	r.mu.Unlock()
	return r.Conn.Write(b)
}

func (r *recorder) get() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.writes
}

// Result is what a handshake produced.
type Result struct {
	Client, Server       [][]byte // raw writes of each side, in order
	ClientErr, ServerErr error    // handshake errors (nil on success)
	Version              uint16   // negotiated version when it succeeded
}

// Handshake runs a TLS handshake between a client and a server configured
// by the given configs over an in-memory connection. When it succeeds the
// client sends one small application record and the server reads it. The
// server config needs a certificate (see SelfSigned); the client should
// have InsecureSkipVerify or matching RootCAs.
func Handshake(tb testing.TB, client, server *tls.Config) Result {
	tb.Helper()
	cc, sc := bufferedPipe()
	crec, srec := &recorder{Conn: cc}, &recorder{Conn: sc}
	var res Result
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		c := tls.Client(crec, client)
		if err := c.Handshake(); err != nil {
			res.ClientErr = err
			cc.Close()
			return
		}
		res.Version = c.ConnectionState().Version
		_, _ = c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		c.Close()
	}()
	go func() {
		defer wg.Done()
		s := tls.Server(srec, server)
		if err := s.Handshake(); err != nil {
			res.ServerErr = err
			// Let the client read the alert, then close.
			sc.Close()
			return
		}
		_, _ = io.Copy(io.Discard, s)
		sc.Close()
	}()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cc.Close()
		sc.Close()
		<-done
		tb.Fatal("tlstest: handshake did not finish")
	}
	res.Client, res.Server = crec.get(), srec.get()
	return res
}

// Concat joins writes into one byte slice.
func Concat(writes [][]byte) []byte {
	var out []byte
	for _, w := range writes {
		out = append(out, w...)
	}
	return out
}

// bufferedPipe returns two connected in-memory conns whose writes never
// block (net.Pipe's do, which deadlocks when both sides write at once, as
// in a TLS 1.3 HelloRetryRequest exchange where both send a
// ChangeCipherSpec).
func bufferedPipe() (net.Conn, net.Conn) {
	a, b := &queue{}, &queue{}
	a.cond, b.cond = sync.NewCond(&a.mu), sync.NewCond(&b.mu)
	return &bufConn{r: a, w: b}, &bufConn{r: b, w: a}
}

type queue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	data   []byte
	closed bool
}

type bufConn struct{ r, w *queue }

func (c *bufConn) Read(p []byte) (int, error) {
	q := c.r
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.data) == 0 && !q.closed {
		q.cond.Wait()
	}
	if len(q.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, q.data)
	q.data = q.data[n:]
	return n, nil
}

func (c *bufConn) Write(p []byte) (int, error) {
	q := c.w
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return 0, io.ErrClosedPipe
	}
	q.data = append(q.data, p...)
	q.cond.Broadcast()
	return len(p), nil
}

func (c *bufConn) Close() error {
	for _, q := range []*queue{c.r, c.w} {
		q.mu.Lock()
		q.closed = true
		q.cond.Broadcast()
		q.mu.Unlock()
	}
	return nil
}

func (c *bufConn) LocalAddr() net.Addr              { return pipeAddr{} }
func (c *bufConn) RemoteAddr() net.Addr             { return pipeAddr{} }
func (c *bufConn) SetDeadline(time.Time) error      { return nil }
func (c *bufConn) SetReadDeadline(time.Time) error  { return nil }
func (c *bufConn) SetWriteDeadline(time.Time) error { return nil }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }
