package redact

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/etlscope/etlscope/etl/decode"
)

// class is the placeholder family of a replaced value.
type class uint8

const (
	cHost class = iota
	cIP
	cUser
	cDomain
	cEmail
	cMAC
	cName // other names (certificate organisations, …)
	numClasses
)

var classPrefix = [numClasses]string{"host", "ip", "user", "domain", "email", "mac", "name"}

// Options configure a Redactor.
type Options struct {
	// Key, when set, derives placeholders from an HMAC-SHA256 of the value
	// (host-3fa2c1d9), so they are stable across runs and traces
	// (--redact-key). Without it placeholders are numbered in order of first
	// appearance (host-1, host-2).
	Key []byte
	// Public lists more names to keep as they are: exact host names, or
	// ".suffix" for every name under a domain.
	Public []string
	// NoDefaultPublic drops DefaultPublic: every name is redacted.
	NoDefaultPublic bool
}

// DefaultPublic are the well-known public service names kept by default:
// what the support engineer needs to see, identical for every customer.
// Tenant-specific names under shared suffixes (contoso.mail.protection.outlook.com,
// contoso.sharepoint.com) are not on it.
var DefaultPublic = []string{
	"outlook.office365.com", "outlook.office.com", "outlook.com", "smtp.office365.com",
	"login.microsoftonline.com", "login.windows.net", "login.live.com", "autodiscover-s.outlook.com",
	"graph.microsoft.com", "management.azure.com", "nexus.microsoftonline-p.com", "provisioningapi.microsoftonline.com",
	"www.microsoft.com", "go.microsoft.com", "download.microsoft.com", "update.microsoft.com",
	"crl.microsoft.com", "mscrl.microsoft.com", "oneocsp.microsoft.com", "ocsp.msocsp.com", "ctldl.windowsupdate.com",
	"ocsp.digicert.com", "crl3.digicert.com", "crl4.digicert.com", "cacerts.digicert.com",
	"ocsp.globalsign.com", "crl.globalsign.com", "ocsp.sectigo.com", "crl.sectigo.com",
	"r3.o.lencr.org", "x1.c.lencr.org", "ocsp.entrust.net", "crl.entrust.net",
	"localhost", "wpad",
}

// Redactor replaces identifying values with stable placeholders. It is not
// safe for concurrent use. A nil *Redactor leaves values unchanged.
type Redactor struct {
	*state
	fit bool // same-length replacements (for rewriting a trace in place)
}

// state is what the views of one Redactor share.
type state struct {
	key          []byte
	public       map[string]bool
	publicSuffix []string
	ph           [numClasses]map[string]string // value (lower case) → placeholder
	vocab        map[string]class              // learned values (lower case) → class
	vocabM       *vocabMatcher
	vocabDirty   bool
	// textCache memoises Text per same-length mode; emptied whenever the
	// vocabulary changes.
	textCache [2]map[string]string
	amap      *addrMap
}

// NewRedactor returns a Redactor with numbered placeholders and the
// default public names.
func NewRedactor() *Redactor { return New(Options{}) }

// New returns a Redactor configured by o.
func New(o Options) *Redactor {
	r := &Redactor{state: &state{key: o.Key, public: map[string]bool{}, vocab: map[string]class{}, amap: newAddrMap()}}
	for i := range r.ph {
		r.ph[i] = map[string]string{}
	}
	names := o.Public
	if !o.NoDefaultPublic {
		names = append(append([]string(nil), DefaultPublic...), names...)
	}
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		if strings.HasPrefix(n, ".") {
			r.publicSuffix = append(r.publicSuffix, n)
		} else if n != "" {
			r.public[n] = true
		}
	}
	return r
}

// IsPublic reports whether host is a public name kept as it is.
func (r *Redactor) IsPublic(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if r.public[h] {
		return true
	}
	for _, s := range r.publicSuffix {
		if strings.HasSuffix(h, s) {
			return true
		}
	}
	return false
}

// placeholder returns the stable placeholder of value in class c.
func (r *Redactor) placeholder(c class, value string) string {
	m := r.ph[c]
	if p, ok := m[value]; ok {
		return p
	}
	var p string
	if r.key != nil {
		mac := hmac.New(sha256.New, r.key)
		mac.Write([]byte{byte(c)})
		mac.Write([]byte(value))
		p = classPrefix[c] + "-" + hex.EncodeToString(mac.Sum(nil)[:4])
	} else {
		p = classPrefix[c] + "-" + strconv.Itoa(len(m)+1)
	}
	m[value] = p
	return p
}

// Counts returns how many distinct values of each kind were replaced, by
// placeholder family (host, ip, user, domain, email, mac, name).
func (r *Redactor) Counts() map[string]int {
	out := map[string]int{}
	for c := class(0); c < numClasses; c++ {
		if n := len(r.ph[c]); n > 0 {
			out[classPrefix[c]] = n
		}
	}
	return out
}

// Map returns every replacement made so far: placeholder → original value
// (for the customer's own records; never part of the redacted output).
func (r *Redactor) Map() map[string]string {
	out := map[string]string{}
	for c := range r.ph {
		for v, p := range r.ph[c] {
			out[p] = v
		}
	}
	return out
}

// out returns the replacement of orig by placeholder p: p itself, or in
// same-length mode p fitted to orig's length.
func (r *Redactor) out(orig, p string) string {
	if !r.fit {
		return p
	}
	return fitTo(orig, p)
}

// fitTo returns p padded or shortened to exactly the number of characters
// of orig: "host-1____", "h12", or underscores when nothing fits.
func fitTo(orig, p string) string {
	n := utf8.RuneCountInString(orig)
	if len(p) > n {
		// host-12 → h12; host-3fa2c1d9 → h3fa2c1d9 → shortened.
		if i := strings.IndexByte(p, '-'); i > 0 && !strings.HasPrefix(p, "(") {
			p = p[:1] + p[i+1:]
		}
		if len(p) > n {
			if strings.HasPrefix(p, "(") {
				return strings.Repeat("*", n)
			}
			return strings.Repeat("_", n)
		}
	}
	return p + strings.Repeat("_", n-len(p))
}

// learn adds value to the vocabulary replaced in free text.
func (r *Redactor) learn(c class, value string) {
	v := strings.ToLower(strings.TrimSpace(value))
	if len(v) < 3 || len(v) > 255 || keptName(v) {
		return
	}
	if _, ok := r.vocab[v]; ok {
		return
	}
	r.vocab[v] = c
	r.vocabDirty = true
}

// keptName lists names too common or too generic to be personal; they are
// never added to the vocabulary (a user called "system" would otherwise
// blank every description).
func keptName(v string) bool {
	switch v {
	case "system", "local service", "network service", "localservice", "networkservice", "public", "default",
		"default user", "all users", "everyone", "users", "administrators", "guest", "localhost", "workgroup",
		"nt authority", "builtin", "nt service", "none", "null", "unknown", "anonymous", "wpad", "http", "https":
		return true
	}
	return false
}

// Host redacts a host name (case-insensitively). IP addresses are redacted
// as addresses; public names are kept.
func (r *Redactor) Host(h string) string {
	if r == nil || h == "" {
		return h
	}
	if a, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
		return r.addrText(h, a)
	}
	if r.IsPublic(h) {
		return h
	}
	key := strings.ToLower(strings.TrimSuffix(h, "."))
	r.learn(cHost, key)
	return r.out(h, r.placeholder(cHost, key))
}

// Addr redacts an IP address. Unspecified, loopback, multicast and
// broadcast addresses say nothing about a customer and are kept.
func (r *Redactor) Addr(a netip.Addr) string {
	if r == nil || !a.IsValid() {
		return a.String()
	}
	return r.addrText(a.String(), a)
}

func keepAddr(a netip.Addr) bool {
	return a.IsUnspecified() || a.IsLoopback() || a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// addrText redacts address a written as orig.
func (r *Redactor) addrText(orig string, a netip.Addr) string {
	a = a.Unmap()
	if keepAddr(a) {
		return orig
	}
	p := r.placeholder(cIP, a.String())
	if r.fit {
		if m := r.amap.addr(a).String(); utf8.RuneCountInString(m) == utf8.RuneCountInString(orig) {
			return m
		}
	}
	return r.out(orig, p)
}

// AddrPort redacts the address and keeps the port.
func (r *Redactor) AddrPort(ap netip.AddrPort) string {
	if r == nil || !ap.IsValid() {
		return ap.String()
	}
	a := r.Addr(ap.Addr())
	if ap.Addr().Is6() && !ap.Addr().Is4In6() && !strings.HasPrefix(a, "ip-") {
		a = "[" + a + "]"
	}
	return fmt.Sprintf("%s:%d", a, ap.Port())
}

// User redacts a user name; DOMAIN\user and user@domain keep their shape.
func (r *Redactor) User(u string) string {
	if r == nil || u == "" {
		return u
	}
	if d, name, ok := strings.Cut(u, `\`); ok && d != "" && name != "" {
		return r.Domain(d) + `\` + r.User(name)
	}
	if strings.Contains(u, "@") {
		return r.Email(u)
	}
	key := strings.ToLower(strings.TrimSpace(u))
	if keptName(key) {
		return u
	}
	r.learn(cUser, key)
	return r.out(u, r.placeholder(cUser, key))
}

// Domain redacts a Windows (NetBIOS or DNS) domain name.
func (r *Redactor) Domain(d string) string {
	if r == nil || d == "" {
		return d
	}
	key := strings.ToLower(strings.TrimSpace(d))
	if keptName(key) || wellKnownDomain(key) {
		return d
	}
	r.learn(cDomain, key)
	return r.out(d, r.placeholder(cDomain, key))
}

func wellKnownDomain(d string) bool {
	switch d {
	case "nt authority", "authority", "builtin", "nt service", "service", "iis apppool", "apppool", "window manager", "font driver host", "nt virtual machine":
		return true
	}
	return false
}

// Email redacts an e-mail address (or UPN); its local part is learned as a
// user name.
func (r *Redactor) Email(e string) string {
	if r == nil || e == "" {
		return e
	}
	key := strings.ToLower(strings.TrimSpace(e))
	if local, _, ok := strings.Cut(key, "@"); ok {
		r.learn(cUser, local)
	}
	r.learn(cEmail, key)
	return r.out(e, r.placeholder(cEmail, key))
}

// MAC redacts a link-layer address written as text; broadcast and zero
// addresses are kept.
func (r *Redactor) MAC(m string) string {
	if r == nil || m == "" {
		return m
	}
	key := strings.ToLower(strings.ReplaceAll(m, "-", ":"))
	if key == "ff:ff:ff:ff:ff:ff" || key == "00:00:00:00:00:00" {
		return m
	}
	if r.fit {
		if hw, ok := parseMAC(key); ok {
			mm := r.amap.mac(hw)
			s := formatMAC(mm, m)
			r.placeholder(cMAC, key)
			return s
		}
	}
	return r.out(m, r.placeholder(cMAC, key))
}

// CertName redacts a certificate subject or issuer: CN and DNS names as
// hosts, the other attribute values (O, OU, L, …) as names.
func (r *Redactor) CertName(s string) string {
	if r == nil || s == "" {
		return s
	}
	if !strings.Contains(s, "=") {
		if looksLikeHost(s) {
			return r.Host(s)
		}
		return r.Text(s)
	}
	parts := splitRDN(s)
	var b strings.Builder
	for _, p := range parts {
		if p.sep {
			b.WriteString(p.text)
			continue
		}
		k, v, ok := strings.Cut(p.text, "=")
		if !ok {
			b.WriteString(r.Text(p.text))
			continue
		}
		b.WriteString(k)
		b.WriteByte('=')
		switch strings.ToUpper(strings.TrimSpace(k)) {
		case "CN", "DNS", "DC":
			w := strings.TrimPrefix(v, "*.")
			pre := v[:len(v)-len(w)]
			if looksLikeHost(w) {
				b.WriteString(pre + r.Host(w))
			} else if strings.Contains(w, "@") {
				b.WriteString(r.Email(w))
			} else {
				b.WriteString(pre + r.name(w))
			}
		case "E", "EMAIL", "EMAILADDRESS":
			b.WriteString(r.Email(v))
		case "C":
			b.WriteString(v) // a country says little and helps read the chain
		default:
			b.WriteString(r.name(v))
		}
	}
	return b.String()
}

// name redacts a name that is neither host nor user (organisation, …).
func (r *Redactor) name(v string) string {
	if strings.TrimSpace(v) == "" || r.IsPublic(v) || publicOrg(v) {
		return v
	}
	key := strings.ToLower(strings.TrimSpace(v))
	r.learn(cName, key)
	return r.out(v, r.placeholder(cName, key))
}

// publicOrg keeps the names of public certificate authorities.
func publicOrg(v string) bool {
	l := strings.ToLower(v)
	for _, ca := range []string{"microsoft", "digicert", "globalsign", "sectigo", "comodo", "entrust", "let's encrypt", "verisign", "baltimore", "godaddy", "amazon", "google trust"} {
		if strings.Contains(l, ca) {
			return true
		}
	}
	return false
}

type rdn struct {
	text string
	sep  bool
}

// splitRDN splits "CN=a, O=b" into attribute and separator parts (a
// backslash escapes a comma).
func splitRDN(s string) []rdn {
	var out []rdn
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case ',', ';', '+':
			out = append(out, rdn{text: s[start:i]})
			j := i + 1
			for j < len(s) && s[j] == ' ' {
				j++
			}
			out = append(out, rdn{text: s[i:j], sep: true})
			start = j
			i = j - 1
		}
	}
	return append(out, rdn{text: s[start:]})
}

// looksLikeHost reports whether s could be a DNS or NetBIOS name.
func looksLikeHost(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// Value redacts a decoded value of the given kind. Opaque bytes give ""
// (callers drop them); credentials give decode.Hidden.
func (r *Redactor) Value(kind decode.PropKind, s string) string {
	if r == nil || s == "" {
		return s
	}
	out := r.value(kind, s)
	if r.fit && utf8.RuneCountInString(out) != utf8.RuneCountInString(s) {
		out = fitTo(s, out)
	}
	return out
}

func (r *Redactor) value(kind decode.PropKind, s string) string {
	t := strings.TrimSpace(s)
	switch kind {
	case decode.PropCredential:
		if r.fit {
			return strings.Repeat("*", utf8.RuneCountInString(s))
		}
		return decode.Hidden
	case decode.PropOpaque:
		if r.fit {
			return s
		}
		return ""
	case decode.PropIP, decode.PropSockAddr:
		if ap, err := netip.ParseAddrPort(t); err == nil {
			return r.AddrPort(ap)
		}
		if a, err := netip.ParseAddr(t); err == nil {
			return r.addrText(s, a)
		}
	case decode.PropHost:
		if t != s {
			break
		}
		if ap, err := netip.ParseAddrPort(t); err == nil {
			return r.AddrPort(ap)
		}
		if h, port, ok := strings.Cut(t, ":"); ok && looksLikeHost(h) && isDigits(port) {
			return r.Host(h) + ":" + port
		}
		if looksLikeHost(t) {
			return r.Host(t)
		}
	case decode.PropUser:
		if !strings.ContainsAny(t, " /") && t == s {
			return r.User(t)
		}
	case decode.PropDomain:
		if t == s {
			return r.Domain(t)
		}
	case decode.PropEmail:
		if t == s && strings.Contains(t, "@") {
			return r.Email(t)
		}
	case decode.PropMAC:
		if _, ok := parseMAC(strings.ToLower(strings.ReplaceAll(t, "-", ":"))); ok && t == s {
			return r.MAC(t)
		}
	case decode.PropCertName:
		return r.CertName(s)
	}
	return r.Text(s)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// vocabulary returns the matcher of every learned value, longest first,
// or nil when nothing was learned.
func (r *Redactor) vocabulary() *vocabMatcher {
	if !r.vocabDirty {
		return r.vocabM
	}
	r.vocabDirty = false
	r.textCache = [2]map[string]string{}
	r.vocabM = newVocabMatcher(r.vocab)
	return r.vocabM
}

// vocabMatcher finds learned words in text, case-insensitively, at word
// boundaries, the longest word first. Words are bucketed by their first
// two bytes, so a text costs one look-up per word start whatever the size
// of the vocabulary (an alternation regexp of hundreds of words did not).
type vocabMatcher struct {
	byPrefix map[[2]byte][]string // lower-case words, longest first
}

func newVocabMatcher(vocab map[string]class) *vocabMatcher {
	if len(vocab) == 0 {
		return nil
	}
	m := &vocabMatcher{byPrefix: map[[2]byte][]string{}}
	for w := range vocab {
		k := [2]byte{lower(w[0]), lower(w[1])}
		m.byPrefix[k] = append(m.byPrefix[k], w)
	}
	for _, ws := range m.byPrefix {
		sort.Slice(ws, func(i, j int) bool {
			if len(ws[i]) != len(ws[j]) {
				return len(ws[i]) > len(ws[j])
			}
			return ws[i] < ws[j]
		})
	}
	return m
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// FindAllStringSubmatchIndex returns the [start, end) of each learned word
// in s that starts and ends at a word boundary.
func (m *vocabMatcher) FindAllStringSubmatchIndex(s string, _ int) [][]int {
	var out [][]int
	for i := 0; i+1 < len(s); {
		if i > 0 && isWordByte(s[i-1]) {
			i++
			continue
		}
		end := 0
		for _, w := range m.byPrefix[[2]byte{lower(s[i]), lower(s[i+1])}] {
			if len(s)-i >= len(w) && strings.EqualFold(s[i:i+len(w)], w) && (i+len(w) == len(s) || !isWordByte(s[i+len(w)])) {
				end = i + len(w)
				break
			}
		}
		if end == 0 {
			i++
			continue
		}
		out = append(out, []int{i, end})
		i = end
	}
	return out
}
