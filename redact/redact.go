package redact

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

// Redactor replaces identifying values with stable placeholders for
// ticket-safe output: the same input always gets the same placeholder
// (host-1, ip-2, user-1, …), so a reader can still follow a connection
// through a report. A nil *Redactor leaves values unchanged.
type Redactor struct {
	hosts map[string]string
	ips   map[netip.Addr]string
	users map[string]string
}

// NewRedactor returns an empty Redactor.
func NewRedactor() *Redactor {
	return &Redactor{hosts: map[string]string{}, ips: map[netip.Addr]string{}, users: map[string]string{}}
}

// Host redacts a host name (case-insensitively).
func (r *Redactor) Host(h string) string {
	if r == nil || h == "" {
		return h
	}
	if a, err := netip.ParseAddr(h); err == nil {
		return r.Addr(a)
	}
	return placeholder(r.hosts, "host", strings.ToLower(h))
}

// placeholder returns the stable placeholder of key in m, numbering new
// keys in order of appearance.
func placeholder[K comparable](m map[K]string, prefix string, key K) string {
	p, ok := m[key]
	if !ok {
		p = fmt.Sprintf("%s-%d", prefix, len(m)+1)
		m[key] = p
	}
	return p
}

// Addr redacts an IP address.
func (r *Redactor) Addr(a netip.Addr) string {
	if r == nil || !a.IsValid() {
		return a.String()
	}
	return placeholder(r.ips, "ip", a.Unmap())
}

// AddrPort redacts the address and keeps the port.
func (r *Redactor) AddrPort(ap netip.AddrPort) string {
	if r == nil || !ap.IsValid() {
		return ap.String()
	}
	return fmt.Sprintf("%s:%d", r.Addr(ap.Addr()), ap.Port())
}

// User redacts a user name.
func (r *Redactor) User(u string) string {
	if r == nil || u == "" {
		return u
	}
	return placeholder(r.users, "user", strings.ToLower(u))
}

var (
	ipv4RE = regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}\b`)
	hostRE = regexp.MustCompile(`\b(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}\b`)
	pathRE = regexp.MustCompile(`(?i)\b([A-Z]:\\Users\\)([^\\\s"]+)`)
)

// Text redacts IPv4 addresses, DNS names and user profile paths found in
// free text (descriptions, messages). File names with extensions such as
// powershell.exe are kept.
func (r *Redactor) Text(s string) string {
	if r == nil || s == "" {
		return s
	}
	s = ipv4RE.ReplaceAllStringFunc(s, func(m string) string {
		a, err := netip.ParseAddr(m)
		if err != nil {
			return m
		}
		return r.Addr(a)
	})
	s = pathRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := pathRE.FindStringSubmatch(m)
		return sub[1] + r.User(sub[2])
	})
	return hostRE.ReplaceAllStringFunc(s, func(m string) string {
		if isFileName(m) {
			return m
		}
		return r.Host(m)
	})
}

// isFileName reports whether m looks like a file name (x.exe, x.dll, …)
// rather than a host.
func isFileName(m string) bool {
	i := strings.LastIndexByte(m, '.')
	switch strings.ToLower(m[i+1:]) {
	case "exe", "dll", "sys", "etl", "cab", "ps1", "xml", "json", "txt", "log", "msc", "cmd", "bat":
		return true
	}
	return false
}
