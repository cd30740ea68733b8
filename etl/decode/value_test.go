package decode

import (
	"encoding/binary"
	"math"
	"testing"
	"unsafe"
)

// TestValueSize: properties are copied by the hundred thousand per trace;
// a Value keeps GUIDs, times and addresses in their payload bytes so that
// it stays at 64 bytes (it was 144 with them decoded up front).
func TestValueSize(t *testing.T) {
	if n := unsafe.Sizeof(Value{}); n > 64 {
		t.Errorf("Value is %d bytes, want at most 64", n)
	}
}

// TestValueKinds: values decoded from their payload bytes render as the
// decoded forms did. The payloads follow the documented layouts: GUID as
// Data1..Data4 little-endian (RFC 4122 as Windows stores it), FILETIME as
// 100 ns ticks since 1601, SOCKADDR_IN/SOCKADDR_IN6 with the port in
// network order.
func TestValueKinds(t *testing.T) {
	guid := []byte{0x3c, 0xe7, 0xb3, 0x50, 0x70, 0x93, 0x1d, 0x46, 0xbb, 0x9f, 0x26, 0xf3, 0x2d, 0x68, 0x88, 0x7d}
	ft := make([]byte, 8)
	binary.LittleEndian.PutUint64(ft, 133547094000000000) // 2024-03-12T09:30:00Z
	sin := []byte{2, 0, 0x01, 0xbb, 52, 97, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0}
	sin6 := make([]byte, 28)
	sin6[0], sin6[2], sin6[3] = 23, 0x01, 0xbb
	sin6[8], sin6[9], sin6[23] = 0x20, 0x01, 1
	tests := []struct {
		name string
		v    Value
		want string
		json any
	}{
		{"guid", guidVal(guid), "50b3e73c-9370-461d-bb9f-26f32d68887d", "50b3e73c-9370-461d-bb9f-26f32d68887d"},
		{"filetime", fileTimeVal(int64(binary.LittleEndian.Uint64(ft))), "2024-03-12T09:30:00Z", nil},
		{"zero filetime", fileTimeVal(0), "", ""},
		{"float", floatVal(1.5), "1.5", 1.5},
		{"infinite float (JSON has no form for it: text)", floatVal(math.Inf(1)), "+Inf", "+Inf"},
		{"sockaddr v4", sockVal(sin), "52.97.0.2:443", "52.97.0.2:443"},
		{"sockaddr v6", sockVal(sin6), "[2001::1]:443", "[2001::1]:443"},
		{"sockaddr short", sockVal([]byte{2, 0, 1}), "020001", "020001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.v.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if tt.json != nil {
				if got := tt.v.JSON(); got != tt.json {
					t.Errorf("JSON() = %v, want %v", got, tt.json)
				}
			}
		})
	}
	if ap, ok := sockVal(sin).AddrPort(); !ok || ap.String() != "52.97.0.2:443" {
		t.Errorf("AddrPort() = %v, %v", ap, ok)
	}
	if _, ok := floatVal(1).AddrPort(); ok {
		t.Error("a float is not a socket address")
	}
	if b := guidVal(guid).Bytes(); b != nil {
		t.Errorf("a GUID's Bytes() = %x, want nil", b)
	}
}
