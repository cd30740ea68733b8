package redact

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// addrMap maps real addresses to stand-ins for a rewritten trace: IPv4
// addresses to addresses whose dotted text has the same length (so a text
// copy of the address in an event can be replaced in place by the same
// stand-in as the packet's), IPv6 addresses to fd00::/8 (unique local),
// MACs to locally administered 02:00:00:xx:xx:xx.
type addrMap struct {
	v4    map[netip.Addr]netip.Addr
	v6    map[netip.Addr]netip.Addr
	byLen map[int]int // next index per IPv4 text length
	n6    uint64
	macs  map[[6]byte][6]byte
}

func newAddrMap() *addrMap {
	return &addrMap{v4: map[netip.Addr]netip.Addr{}, v6: map[netip.Addr]netip.Addr{}, byLen: map[int]int{}, macs: map[[6]byte][6]byte{}}
}

// addr returns the stand-in of a (addresses kept by keepAddr map to
// themselves).
func (m *addrMap) addr(a netip.Addr) netip.Addr {
	a = a.Unmap()
	if keepAddr(a) {
		return a
	}
	if a.Is4() {
		if b, ok := m.v4[a]; ok {
			return b
		}
		l := len(a.String())
		b := v4WithLen(l, m.byLen[l])
		m.byLen[l]++
		m.v4[a] = b
		return b
	}
	if b, ok := m.v6[a]; ok {
		return b
	}
	m.n6++
	var raw [16]byte
	raw[0] = 0xfd
	n := m.n6
	for i := 15; i >= 8 && n > 0; i-- {
		raw[i] = byte(n)
		n >>= 8
	}
	b := netip.AddrFrom16(raw)
	m.v6[a] = b
	return b
}

// v4WithLen returns the i-th IPv4 address whose text is l characters long
// (7 to 15): 10.x.y.z where possible, 0.x.y.z or 240.x.y.z (never routed)
// otherwise. Past the last one the sequence wraps.
func v4WithLen(l, i int) netip.Addr {
	// Digit counts of the four octets: the first one fixed, the other
	// three spread l-3-first over 1..3 digits each.
	first, fd := 10, 2
	rest := l - 3 - fd
	if rest < 3 {
		first, fd, rest = 0, 1, l-4
	} else if rest > 9 {
		first, fd, rest = 240, 3, l-6
	}
	_ = fd
	// Pick digit counts for octets 2..4: as even as possible, larger last.
	d := [3]int{1, 1, 1}
	for k := 2; rest > 3 && k >= 0; {
		if d[k] < 3 {
			d[k]++
			rest--
		} else {
			k--
		}
	}
	var o [3]int
	n := i + 1 // x.0.0.0 is a network (or the unspecified) address
	for k := 2; k >= 0; k-- {
		lo, hi := 0, 9
		switch d[k] {
		case 2:
			lo, hi = 10, 99
		case 3:
			lo, hi = 100, 255
		}
		span := hi - lo + 1
		o[k] = lo + n%span
		n /= span
	}
	return netip.AddrFrom4([4]byte{byte(first), byte(o[0]), byte(o[1]), byte(o[2])})
}

// mac returns the stand-in of a link-layer address; broadcast and
// multicast (group bit) addresses are kept.
func (m *addrMap) mac(hw [6]byte) [6]byte {
	if hw[0]&1 != 0 || hw == [6]byte{} {
		return hw
	}
	if b, ok := m.macs[hw]; ok {
		return b
	}
	n := len(m.macs) + 1
	b := [6]byte{0x02, 0, 0, byte(n >> 16), byte(n >> 8), byte(n)}
	m.macs[hw] = b
	return b
}

func parseMAC(s string) ([6]byte, bool) {
	var hw [6]byte
	parts := strings.Split(s, ":")
	if len(parts) != 6 {
		return hw, false
	}
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 16, 8)
		if err != nil || len(p) != 2 {
			return hw, false
		}
		hw[i] = byte(v)
	}
	return hw, true
}

// formatMAC writes hw in the style of orig (separator and case).
func formatMAC(hw [6]byte, orig string) string {
	sep := ":"
	if strings.Contains(orig, "-") {
		sep = "-"
	}
	f := "%02x"
	if strings.ToUpper(orig) == orig {
		f = "%02X"
	}
	parts := make([]string, 6)
	for i, b := range hw {
		parts[i] = fmt.Sprintf(f, b)
	}
	return strings.Join(parts, sep)
}

func addrFromSlice(b []byte) (netip.Addr, bool) {
	a, ok := netip.AddrFromSlice(b)
	return a.Unmap(), ok
}
