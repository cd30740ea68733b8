package redact

import (
	"regexp"
	"strings"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/decode"
	"github.com/etlscope/etlscope/tlswire"
)

// LearnHeader learns from the logfile header: the user and machine names
// in the log file's path.
func (r *Redactor) LearnHeader(h etl.Header) {
	if r == nil {
		return
	}
	r.Value(decode.PropPath, h.LogFileName)
	r.Value(decode.PropText, h.LoggerName)
}

// Learn learns the vocabulary of one decoded event: host names, users,
// domains, addresses, certificate names, by the kind of each property; and
// whatever the patterns find in free text. Call it for every event of a
// trace before rendering anything, so that a name is replaced in the
// first line that mentions it too.
func (r *Redactor) Learn(d *decode.Decoded) {
	if r == nil {
		return
	}
	for _, p := range d.Properties {
		switch p.Kind {
		case decode.PropPlain, decode.PropOpaque, decode.PropCredential:
			if p.Kind == decode.PropCredential {
				if s := p.Value.Str(); s != "" && s != decode.Hidden {
					r.learn(cName, s) // a password echoed in free text is replaced too
				}
			}
			continue
		}
		if ap, ok := p.Value.AddrPort(); ok {
			if ap.IsValid() {
				r.Addr(ap.Addr())
			}
			continue
		}
		if s := p.Value.Str(); s != "" {
			r.Value(p.Kind, s)
		}
	}
}

var httpHostRE = regexp.MustCompile(`(?im)^(?:host|x-forwarded-host|x-anchormailbox|x-ms-exchange-[a-z-]*):\s*([^\r\n]+)`)

// LearnFrame learns from a captured frame: MAC and IP addresses, the SNI
// of a ClientHello that fits the segment, DNS, LLMNR and mDNS names, and
// HTTP Host headers.
func (r *Redactor) LearnFrame(data []byte, link layers.LinkType) {
	if r == nil {
		return
	}
	if link == layers.LinkTypeEthernet && len(data) >= 12 {
		for _, off := range []int{6, 0} {
			hw := [6]byte(data[off : off+6])
			if hw[0]&1 == 0 && hw != [6]byte{} {
				r.placeholder(cMAC, strings.ToLower(formatMAC(hw, "a:")))
			}
		}
	}
	l, ok := parseLayout(data, link)
	if !ok || l.ipv == 0 {
		return
	}
	src, dst := l.addrs(data)
	for _, b := range [][]byte{src, dst} {
		if a, ok := addrFromSlice(b); ok {
			r.Addr(a)
		}
	}
	if l.payload < 0 || l.payload >= l.end {
		return
	}
	p := data[l.payload:l.end]
	sp, dp := l.ports(data)
	switch l.proto {
	case 17:
		if isNamePort(sp) || isNamePort(dp) {
			var dns layers.DNS
			if err := dns.DecodeFromBytes(p, gopacket.NilDecodeFeedback); err == nil {
				for _, q := range dns.Questions {
					r.learnDNSName(string(q.Name))
				}
				for _, a := range append(append(dns.Answers, dns.Authorities...), dns.Additionals...) {
					r.learnDNSName(string(a.Name))
					if a.CNAME != nil {
						r.learnDNSName(string(a.CNAME))
					}
					if a.IP != nil {
						if ip, ok := addrFromSlice(a.IP); ok {
							r.Addr(ip)
						}
					}
				}
			}
		}
	case 6:
		if len(p) > 9 && p[0] == 22 && p[5] == 1 {
			n := int(p[6])<<16 | int(p[7])<<8 | int(p[8])
			if 9+n <= len(p) {
				if ch, err := tlswire.ParseClientHello(p[5 : 9+n]); err == nil && ch.SNI != "" {
					r.Host(ch.SNI)
				}
			}
		}
		if len(p) > 16 && (p[0] >= 'A' && p[0] <= 'Z') {
			for _, m := range httpHostRE.FindAllSubmatch(p, 8) {
				r.Value(decode.PropHost, strings.TrimSpace(string(m[1])))
			}
		}
	}
}

func (r *Redactor) learnDNSName(n string) {
	n = strings.TrimSuffix(n, ".")
	if n == "" || strings.HasSuffix(n, ".arpa") || strings.HasPrefix(n, "_") {
		return
	}
	r.Host(n)
}

// isNamePort reports whether port carries DNS-format names: DNS (53),
// mDNS (5353), LLMNR (5355).
func isNamePort(p uint16) bool { return p == 53 || p == 5353 || p == 5355 }
