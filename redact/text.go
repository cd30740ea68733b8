package redact

import (
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"
)

// seg is a piece of text being redacted; done pieces are replacements no
// later stage may touch.
type seg struct {
	s    string
	done bool
}

// stage is one pattern of Text: pre is a cheap test that the pattern can
// match at all; fn returns the replacement of match m (submatch indexes
// into s) and false to leave it.
type stage struct {
	re  matcher // nil: the learned vocabulary
	pre func(string) bool
	fn  func(r *Redactor, s string, m []int, prev, next byte) (string, bool)
}

func contains(sub string) func(string) bool {
	return func(s string) bool { return strings.Contains(s, sub) }
}

// containsFold returns a test that s holds one of the lower-case words,
// in any case: a cheap filter before a case-insensitive pattern.
func containsFold(words ...string) func(string) bool {
	return func(s string) bool {
		for i := 0; i < len(s); i++ {
			c := s[i] | 0x20
			for _, w := range words {
				if c == w[0] && len(s)-i >= len(w) && strings.EqualFold(s[i:i+len(w)], w) {
					return true
				}
			}
		}
		return false
	}
}

// both is the conjunction of two filters.
func both(a, b func(string) bool) func(string) bool {
	return func(s string) bool { return a(s) && b(s) }
}

// hexRun reports whether s holds n hex digits in a row.
func hexRun(n int) func(string) bool {
	return func(s string) bool {
		run := 0
		for i := 0; i < len(s); i++ {
			if isHexByte(s[i]) {
				if run++; run >= n {
					return true
				}
			} else {
				run = 0
			}
		}
		return false
	}
}

// digitDotDigit reports whether s holds a digit, a dot and a digit in a
// row, which every dotted IPv4 address does.
func digitDotDigit(s string) bool {
	for i := 1; i+1 < len(s); i++ {
		if s[i] == '.' && s[i-1] >= '0' && s[i-1] <= '9' && s[i+1] >= '0' && s[i+1] <= '9' {
			return true
		}
	}
	return false
}

// twoColons reports whether s holds two colons, which every IPv6 address
// does.
func twoColons(s string) bool {
	i := strings.IndexByte(s, ':')
	return i >= 0 && strings.IndexByte(s[i+1:], ':') >= 0
}

// macSeparated reports whether s holds a hex pair followed by ':' or '-',
// the start of every MAC address.
func macSeparated(s string) bool {
	for i := 2; i < len(s); i++ {
		if (s[i] == ':' || s[i] == '-') && isHexByte(s[i-1]) && isHexByte(s[i-2]) {
			return true
		}
	}
	return false
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// stages are the redaction passes over free text, in order; built on
// first use (compiling their patterns is most of the package's start-up
// cost, which commands that never redact should not pay).
var stages = sync.OnceValue(func() []stage {
	var (
		urlRE    = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]{1,15})://([^/?#\s"'<>]+)`)
		authRE   = regexp.MustCompile(`(?i)\b(Basic|Bearer|Negotiate|NTLM|Digest|Kerberos)\s+([A-Za-z0-9+/=._~-]{6,}|[A-Za-z0-9+/=._~,"\s-]*=\S*)`)
		headerRE = regexp.MustCompile(`(?i)\b(authorization|proxy-authorization|cookie|set-cookie|x-api-key)\s*:\s*(\S[^\r\n]*)`)
		paramRE  = regexp.MustCompile(`(?i)\b(access_token|id_token|refresh_token|token|sig|code|password|passwd|pwd|secret|apikey|api_key|client_secret)=([^&\s"';]+)`)
		emailRE  = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+`)
		pathRE   = regexp.MustCompile(`(?i)(\\Users\\|\\Documents and Settings\\|/Users/|/home/|\\Profiles\\)([^\\/\x00"'<>|:*?\r\n\t]+)`)
		uncRE    = regexp.MustCompile(`(?:^|[^\\])\\\\([A-Za-z0-9][A-Za-z0-9._-]{0,62})\\`)
		duserRE  = regexp.MustCompile(`([A-Za-z0-9][A-Za-z0-9._-]{0,14})\\([A-Za-z0-9][A-Za-z0-9._$-]{0,63})`)
		macRE    = regexp.MustCompile(`\b[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5}\b`)
		ipv6RE   = regexp.MustCompile(`(?i)(?:[0-9a-f]{0,4}:){2,7}(?:[0-9a-f]{0,4}|\d{1,3}(?:\.\d{1,3}){3})(?:%[0-9a-z]+)?`)
		ipv4RE   = regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}\b`)
		hexRE    = regexp.MustCompile(`\b[0-9A-Fa-f]{24,}\b`)
	)
	return []stage{
		// Credentials first: nothing of them may survive into later stages.
		{headerRE, contains(":"), func(r *Redactor, s string, m []int, _, _ byte) (string, bool) {
			return s[m[0]:m[4]] + r.out(s[m[4]:m[5]], "(hidden)"), true
		}},
		{authRE, containsFold("basic", "bearer", "negotiate", "ntlm", "digest", "kerberos"), func(r *Redactor, s string, m []int, _, _ byte) (string, bool) {
			return s[m[2]:m[3]] + " " + r.out(s[m[4]:m[5]], "(hidden)"), true
		}},
		{paramRE, both(contains("="), containsFold("token", "sig", "code", "passw", "pwd", "secret", "apikey", "api_key")), func(r *Redactor, s string, m []int, _, _ byte) (string, bool) {
			return s[m[0]:m[4]] + r.out(s[m[4]:m[5]], "(hidden)"), true
		}},
		// URL authorities: user info and host.
		{urlRE, contains("://"), func(r *Redactor, s string, m []int, _, _ byte) (string, bool) {
			return s[m[2]:m[3]] + "://" + r.authority(s[m[4]:m[5]]), true
		}},
		{emailRE, contains("@"), func(r *Redactor, s string, m []int, _, _ byte) (string, bool) {
			return r.Email(s[m[0]:m[1]]), true
		}},
		{pathRE, containsFold("users", "documents and settings", "home", "profiles"), func(r *Redactor, s string, m []int, _, _ byte) (string, bool) {
			name := s[m[4]:m[5]]
			if keptProfile(name) {
				return "", false
			}
			return s[m[2]:m[3]] + r.User(name), true
		}},
		{uncRE, contains(`\\`), func(r *Redactor, s string, m []int, _, _ byte) (string, bool) {
			h := s[m[2]:m[3]]
			if a, err := netip.ParseAddr(h); err == nil {
				return s[m[0]:m[2]] + r.addrText(h, a) + `\`, true
			}
			return s[m[0]:m[2]] + r.Host(h) + `\`, true
		}},
		// Learned vocabulary: hosts, users, domains, machine names.
		{nil, nil, func(r *Redactor, s string, m []int, prev, next byte) (string, bool) {
			if isWordByte(prev) || isWordByte(next) {
				return "", false
			}
			w := s[m[0]:m[1]]
			switch r.vocab[strings.ToLower(w)] {
			case cHost:
				return r.Host(w), true
			case cUser:
				return r.User(w), true
			case cDomain:
				return r.Domain(w), true
			case cEmail:
				return r.Email(w), true
			case cName:
				return r.name(w), true
			}
			return "", false
		}},
		{duserRE, contains(`\`), func(r *Redactor, s string, m []int, prev, next byte) (string, bool) {
			if prev == '\\' || prev == ':' || prev == '/' || isWordByte(prev) || next == '\\' || next == '/' {
				return "", false
			}
			d, u := s[m[2]:m[3]], s[m[4]:m[5]]
			if wellKnownDomain(strings.ToLower(d)) || isFileName(u) || strings.EqualFold(d, "device") {
				return "", false
			}
			return r.Domain(d) + `\` + r.User(u), true
		}},
		{macRE, macSeparated, func(r *Redactor, s string, m []int, _, _ byte) (string, bool) {
			return r.MAC(s[m[0]:m[1]]), true
		}},
		{ipv6RE, twoColons, func(r *Redactor, s string, m []int, prev, next byte) (string, bool) {
			if isHexByte(prev) || prev == ':' || isHexByte(next) || next == ':' {
				return "", false
			}
			t := s[m[0]:m[1]]
			host, _, _ := strings.Cut(t, "%")
			a, err := netip.ParseAddr(host)
			if err != nil || !a.Is6() {
				return "", false
			}
			return r.addrText(t, a), true
		}},
		{ipv4RE, digitDotDigit, func(r *Redactor, s string, m []int, _, _ byte) (string, bool) {
			t := s[m[0]:m[1]]
			a, err := netip.ParseAddr(t)
			if err != nil {
				return "", false
			}
			return r.addrText(t, a), true
		}},
		{matchFunc(findHosts), contains("."), func(r *Redactor, s string, m []int, prev, next byte) (string, bool) {
			t := s[m[0]:m[1]]
			if isFileName(t) || r.IsPublic(t) || !knownTLD(t) || next == '(' {
				return "", false
			}
			return r.Host(t), true
		}},
		{hexRE, hexRun(24), func(r *Redactor, s string, m []int, _, _ byte) (string, bool) {
			t := s[m[0]:m[1]]
			if r.fit {
				return strings.Repeat("0", len(t)), true
			}
			return "(hex redacted)", true
		}},
	}
})

func isHexByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// keptProfile lists profile folder names that are not users.
func keptProfile(n string) bool {
	switch strings.ToLower(n) {
	case "public", "default", "default user", "all users", "defaultapppool", "localservice", "networkservice", "systemprofile":
		return true
	}
	return false
}

// authority redacts "user:password@host:port".
func (r *Redactor) authority(a string) string {
	var out string
	if ui, hp, ok := strings.Cut(a, "@"); ok {
		if u, _, hasPw := strings.Cut(ui, ":"); hasPw {
			out = r.User(u) + ":" + r.out(ui[len(u)+1:], "(hidden)") + "@"
		} else {
			out = r.User(ui) + "@"
		}
		a = hp
	}
	host, port := a, ""
	if strings.HasPrefix(a, "[") {
		if i := strings.IndexByte(a, ']'); i > 0 {
			host, port = a[1:i], a[i+1:]
			if addr, err := netip.ParseAddr(host); err == nil {
				return out + "[" + r.addrText(host, addr) + "]" + port
			}
		}
	} else if i := strings.LastIndexByte(a, ':'); i >= 0 && isDigits(a[i+1:]) {
		host, port = a[:i], a[i:]
	}
	return out + r.Host(host) + port
}

// Text redacts free text (descriptions, messages, evidence): learned
// vocabulary everywhere, and by pattern credentials in Authorization
// headers and URLs, e-mail addresses, DOMAIN\user, profile paths, UNC
// hosts, MAC, IPv6 and IPv4 addresses, DNS names and long hex strings.
// File names (powershell.exe, proxy.pac) and public names are kept.
func (r *Redactor) Text(s string) string {
	if r == nil || s == "" {
		return s
	}
	if r.vocabDirty {
		r.vocabulary() // rebuilds it and empties the cache
	}
	c := &r.textCache[b2i(r.fit)]
	if out, ok := (*c)[s]; ok {
		return out
	}
	out := r.text(s)
	if *c == nil || len(*c) >= maxTextCache {
		*c = make(map[string]string, 1024)
	}
	(*c)[s] = out
	return out
}

// maxTextCache bounds the memo of Text: descriptions repeat (the same
// event with the same values), so most calls are answered from it.
const maxTextCache = 1 << 14

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// text is Text without the memo.
func (r *Redactor) text(s string) string {
	segs := []seg{{s: s}}
	all := stages()
	for i := range all {
		st := &all[i]
		re := st.re
		if re == nil {
			v := r.vocabulary()
			if v == nil {
				continue
			}
			re = v
		}
		segs = r.apply(segs, st, re)
	}
	if len(segs) == 1 {
		return segs[0].s
	}
	var b strings.Builder
	for _, g := range segs {
		b.WriteString(g.s)
	}
	out := b.String()
	if r.fit && utf8.RuneCountInString(out) != utf8.RuneCountInString(s) {
		// A replacement could not keep the length: blank the whole text
		// rather than shift what follows.
		return strings.Repeat("_", utf8.RuneCountInString(s))
	}
	return out
}

func (r *Redactor) apply(segs []seg, st *stage, re matcher) []seg {
	var out []seg
	changed := false
	for i, g := range segs {
		if g.done || (st.pre != nil && !st.pre(g.s)) {
			out = append(out, g)
			continue
		}
		ms := re.FindAllStringSubmatchIndex(g.s, -1)
		if ms == nil {
			out = append(out, g)
			continue
		}
		last := 0
		for _, m := range ms {
			var prev, next byte
			if m[0] > 0 {
				prev = g.s[m[0]-1]
			} else if i > 0 && segs[i-1].s != "" {
				p := segs[i-1].s
				prev = p[len(p)-1]
			}
			if m[1] < len(g.s) {
				next = g.s[m[1]]
			} else if i+1 < len(segs) && segs[i+1].s != "" {
				next = segs[i+1].s[0]
			}
			rep, ok := st.fn(r, g.s, m, prev, next)
			if !ok {
				continue
			}
			if m[0] > last {
				out = append(out, seg{s: g.s[last:m[0]]})
			}
			out = append(out, seg{s: rep, done: true})
			last = m[1]
			changed = true
		}
		if last < len(g.s) {
			out = append(out, seg{s: g.s[last:]})
		}
	}
	if !changed {
		return segs
	}
	return out
}

// isFileName reports whether m looks like a file name (x.exe, proxy.pac,
// Exchange.asmx, …) rather than a host.
func isFileName(m string) bool {
	i := strings.LastIndexByte(m, '.')
	if i < 0 {
		return false
	}
	switch strings.ToLower(m[i+1:]) {
	case "exe", "dll", "sys", "etl", "cab", "ps1", "psm1", "xml", "json", "txt", "log", "msc", "cmd", "bat", "pac", "dat",
		"asmx", "aspx", "ashx", "asp", "svc", "htm", "html", "js", "css", "crl", "crt", "cer", "p7b", "p7c", "der", "pem", "pfx",
		"zip", "msi", "msu", "config", "ini", "php", "jsp", "png", "gif", "jpg", "ico", "mui", "tmp", "evtx", "pdb", "manifest":
		return true
	}
	return false
}

// knownTLD reports whether the last label of name is a top-level domain a
// host would use, so that Microsoft.Windows.Security.Schannel and
// System.Net.Http stay readable.
func knownTLD(name string) bool {
	i := strings.LastIndexByte(name, '.')
	t := strings.ToLower(name[i+1:])
	if len(t) == 2 {
		return true
	}
	switch t {
	case "com", "net", "org", "edu", "gov", "mil", "int", "info", "biz", "local", "lan", "corp", "internal", "intranet",
		"home", "arpa", "cloud", "app", "dev", "online", "site", "tech", "pro", "name", "mobi", "asia", "xyz", "group",
		"company", "office", "global", "network", "services", "solutions", "systems", "test", "example", "invalid",
		"localdomain", "domain", "ad", "priv", "private":
		return true
	}
	return false
}

// matcher finds the matches of a pattern; *regexp.Regexp is one.
type matcher interface {
	FindAllStringSubmatchIndex(s string, n int) [][]int
}

// matchFunc makes a hand-written matcher of f.
type matchFunc func(string) [][]int

func (f matchFunc) FindAllStringSubmatchIndex(s string, _ int) [][]int { return f(s) }

// findHosts finds DNS names in s: two or more dot-separated labels (1-63
// letters, digits and inner hyphens, RFC 1035 §2.3.1) whose last label
// starts with a letter and has at most 24 characters (a top-level domain).
// It is what the pattern \b(?:label\.)+tld\b matches, written as a
// linear scan: a regular expression with bounded repeats backtracks on
// long descriptions.
func findHosts(s string) [][]int {
	var out [][]int
	for i := 0; i < len(s); {
		if !isNameByte(s[i]) || (i > 0 && isWordByte(s[i-1])) {
			i++
			continue
		}
		j := i
		for j < len(s) && (isNameByte(s[j]) || s[j] == '.') {
			j++
		}
		if m := hostIn(s[i:j]); m > 0 {
			out = append(out, []int{i, i + m})
		}
		i = j + 1
	}
	return out
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'
}

// hostIn returns the length of the DNS name that starts tok (a run of name
// bytes and dots), 0 when there is none.
func hostIn(tok string) int {
	end, labels := 0, 0
	best := 0
	for start := 0; start <= len(tok); {
		k := strings.IndexByte(tok[start:], '.')
		lab := tok[start:]
		if k >= 0 {
			lab = tok[start : start+k]
		}
		if !validLabel(lab) {
			break
		}
		labels++
		end = start + len(lab)
		if labels >= 2 && isTLD(lab) {
			best = end
		}
		if k < 0 {
			break
		}
		start += k + 1
	}
	return best
}

func validLabel(l string) bool {
	if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	return true
}

func isTLD(l string) bool {
	c := l[0] | 0x20
	return c >= 'a' && c <= 'z' && len(l) <= 24
}
