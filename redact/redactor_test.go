package redact

import (
	"net/netip"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/etlscope/etlscope/etl/decode"
)

func TestText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"ipv4", "connect to 10.1.2.3:443 failed", "connect to ip-1:443 failed"},
		{"ipv6", "from fe80::1c2d:3e4f:5a6b:7c8d%12 to 2001:db8:1::20", "from ip-1 to ip-2"},
		{"mac", "adapter 00-15-5D-01-02-03 up", "adapter mac-1 up"},
		{"time is not ipv6", "at 10:30:45 local", "at 10:30:45 local"},
		{"fqdn", "resolved mail.contoso.com", "resolved host-1"},
		{"public kept", "GET https://outlook.office365.com/EWS/Exchange.asmx", "GET https://outlook.office365.com/EWS/Exchange.asmx"},
		{"file names kept", `loaded proxy.pac and powershell.exe`, `loaded proxy.pac and powershell.exe`},
		{"namespaces kept", "Microsoft.Windows.Security.Schannel", "Microsoft.Windows.Security.Schannel"},
		{"profile path", `C:\Users\jdoe\AppData\x.txt`, `C:\Users\user-1\AppData\x.txt`},
		{"device path", `\Device\HarddiskVolume3\Users\Jane Doe\Desktop\a.ps1`, `\Device\HarddiskVolume3\Users\user-1\Desktop\a.ps1`},
		{"domain user", `logon CONTOSO\jdoe ok`, `logon domain-1\user-1 ok`},
		{"nt authority kept", `NT AUTHORITY\SYSTEM`, `NT AUTHORITY\SYSTEM`},
		{"email", "mail jane.doe@contoso.com now", "mail email-1 now"},
		{"basic", "Authorization: Basic dXNlcjpwYXNz", "Authorization: (hidden)"},
		{"bearer", "token Bearer eyJhbGciOi.abc.def", "token Bearer (hidden)"},
		{"url userinfo", "http://bob:pw@proxy.contoso.com:8080/x", "http://user-1:(hidden)@host-1:8080/x"},
		{"unc", `\\FS01\share\a.txt`, `\\host-1\share\a.txt`},
		{"hex", "blob 0123456789abcdef0123456789abcdef", "blob (hex redacted)"},
		{"loopback kept", "127.0.0.1 and ::1", "127.0.0.1 and ::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NewRedactor().Text(tt.in); got != tt.want {
				t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestVocabulary(t *testing.T) {
	r := NewRedactor()
	r.Value(decode.PropHost, "EXCH01")
	r.Value(decode.PropUser, `CONTOSO\jdoe`)
	got := r.Text("server exch01 said hello to jdoe of contoso; bobcat and exch01x stay")
	want := "server host-1 said hello to user-1 of domain-1; bobcat and exch01x stay"
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if r.Host("Exch01") != "host-1" {
		t.Error("placeholders must not depend on case")
	}
}

func TestKeyedPlaceholders(t *testing.T) {
	a := New(Options{Key: []byte("k1")})
	b := New(Options{Key: []byte("k1")})
	b.Host("other.contoso.com")
	if a.Host("mail.contoso.com") != b.Host("mail.contoso.com") {
		t.Error("keyed placeholders differ between runs")
	}
	c := New(Options{Key: []byte("k2")})
	if a.Host("mail.contoso.com") == c.Host("mail.contoso.com") {
		t.Error("different keys give the same placeholder")
	}
	if !strings.HasPrefix(a.Host("mail.contoso.com"), "host-") || len(a.Host("mail.contoso.com")) != len("host-")+8 {
		t.Errorf("keyed placeholder %q", a.Host("mail.contoso.com"))
	}
}

func TestPublicConfigurable(t *testing.T) {
	r := New(Options{Public: []string{".contoso.com"}})
	if r.Host("mail.contoso.com") != "mail.contoso.com" {
		t.Error("suffix allowlist ignored")
	}
	r = New(Options{NoDefaultPublic: true})
	if r.Host("outlook.office365.com") == "outlook.office365.com" {
		t.Error("NoDefaultPublic kept a default public name")
	}
}

func TestFitKeepsLength(t *testing.T) {
	r := NewRedactor()
	r.fit = true
	r.Value(decode.PropUser, "bo")
	for _, s := range []string{
		`C:\Users\bob\x`, "52.97.1.2;10.0.0.5;", "mail.contoso.com", "fe80::1", `CONTOSO\jdoe`,
		"Authorization: Basic dXNlcjpwYXNz", "a@b.cd", "00:15:5d:01:02:03",
	} {
		got := r.Text(s)
		if utf8.RuneCountInString(got) != utf8.RuneCountInString(s) {
			t.Errorf("fit Text(%q) = %q: length changed", s, got)
		}
		if got == s {
			t.Errorf("fit Text(%q) left it unchanged", s)
		}
	}
	// A text IPv4 address becomes the same stand-in as its binary copy.
	a := netip.MustParseAddr("52.97.1.2")
	if got, want := r.Text("52.97.1.2"), r.amap.addr(a).String(); got != want {
		t.Errorf("text stand-in %q, binary stand-in %q", got, want)
	}
}

func TestV4WithLen(t *testing.T) {
	for l := 7; l <= 15; l++ {
		seen := map[netip.Addr]bool{}
		for i := 0; i < 50; i++ {
			a := v4WithLen(l, i)
			if len(a.String()) != l || seen[a] {
				t.Fatalf("v4WithLen(%d, %d) = %v", l, i, a)
			}
			seen[a] = true
		}
	}
}

func TestNilRedactor(t *testing.T) {
	var r *Redactor
	if r.Text("10.0.0.1") != "10.0.0.1" || r.Host("x.contoso.com") != "x.contoso.com" || r.User("u") != "u" {
		t.Error("nil Redactor changed a value")
	}
}
