package trace

import (
	"context"
	"strings"
	"testing"
)

// fakeRegistry maps "ROOT\path\name" to values.
type fakeRegistry map[string]uint32

func (r fakeRegistry) DWORD(root, path, name string) (uint32, bool, error) {
	v, ok := r[root+`\`+path+`\`+name]
	return v, ok, nil
}

func TestDoctor(t *testing.T) {
	dsp := `HKLM\` + winHTTPPath + `\DefaultSecureProtocols`
	dspWow := `HKLM\` + winHTTPPathWow + `\DefaultSecureProtocols`
	tls12 := `HKLM\` + schannelPath + `TLS 1.2\Client\`
	tests := []struct {
		name    string
		build   uint32
		reg     fakeRegistry
		hotfix  string
		problem bool
		fix     []string // substrings the fix must contain
		noFix   []string
	}{
		{"2012 without KB or registry", 9200, fakeRegistry{}, "KB123\n", true, []string{"KB3140245", "DefaultSecureProtocols"}, []string{"SCHANNEL"}},
		{"2012 with KB and both keys", 9200, fakeRegistry{dsp: 0xA80, dspWow: 0xA80}, "HotFixID\nKB3140245\n", false, nil, nil},
		{"2012 with keys but no KB", 9200, fakeRegistry{dsp: 0xA80, dspWow: 0xA80}, "", true, []string{"KB3140245"}, nil},
		{"2012 with only the native key", 9200, fakeRegistry{dsp: 0xA80}, "KB3140245", true, []string{"Wow6432Node"}, nil},
		{"Windows 7 needs SCHANNEL too", 7601, fakeRegistry{dsp: 0x800, dspWow: 0x800}, "KB3140245", true, []string{`TLS 1.2\Client" /v Enabled`}, nil},
		{"Windows 10 defaults", 17763, fakeRegistry{}, "", false, nil, nil},
		{"Windows 10 with a mask lacking TLS 1.2", 17763, fakeRegistry{dsp: 0xA0}, "", true, []string{"DefaultSecureProtocols"}, []string{"KB3140245"}},
		{"Windows 10 with TLS 1.2 client disabled", 19041, fakeRegistry{tls12 + "Enabled": 0}, "", true, []string{`TLS 1.2\Client" /v Enabled /t REG_DWORD /d 1`}, []string{"DefaultSecureProtocols"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &fakeRunner{outputs: map[string]string{"wmic qfe get HotFixID": tt.hotfix}}
			d, err := Doctor(context.Background(), fakeSystem{build: tt.build}, tt.reg, r)
			if err != nil {
				t.Fatal(err)
			}
			if d.Problem != tt.problem {
				t.Errorf("problem %v, want %v: %+v", d.Problem, tt.problem, d.Checks)
			}
			fix := strings.Join(d.Fix, "\n")
			for _, s := range tt.fix {
				if !strings.Contains(fix, s) {
					t.Errorf("fix lacks %q:\n%s", s, fix)
				}
			}
			for _, s := range tt.noFix {
				if strings.Contains(fix, s) {
					t.Errorf("fix should not mention %q:\n%s", s, fix)
				}
			}
			asked := fmtArgv(r.calls)
			if (tt.build <= 9200) != strings.Contains(asked, `"wmic" "qfe" "get" "HotFixID"`) {
				t.Errorf("hotfix query %q for build %d", asked, tt.build)
			}
		})
	}
}
