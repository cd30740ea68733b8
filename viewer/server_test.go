package viewer

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/etlscope/etlscope/diagnose"
	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/decode"
	"github.com/etlscope/etlscope/internal/nettrace"
)

const testToken = "test-token"

// writeTrace writes data to a temporary .etl file.
func writeTrace(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "NetTrace.etl")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// serve opens path and serves it on a test server.
func serve(t *testing.T, path string, o Options) *httptest.Server {
	t.Helper()
	tr, err := Open(path, o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Handler(tr, testToken))
	t.Cleanup(func() {
		srv.Close()
		tr.Close()
	})
	return srv
}

// get requests path (with the token unless it already has a query) and
// decodes the JSON answer into v when v is not nil.
func get(t *testing.T, srv *httptest.Server, path string, v any) int {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	resp, err := http.Get(srv.URL + path + sep + "token=" + testToken)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: %v\n%s", path, err, body)
		}
	}
	return resp.StatusCode
}

// referenceRows decodes every event of data as `events` does, in order.
func referenceRows(t *testing.T, data []byte) []Row {
	t.Helper()
	f, err := etl.NewFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	dec := decode.New()
	dec.SetOSBuild(f.Header().OSBuild)
	var out []Row
	for ev, err := range f.Events(etl.ReadOptions{}) {
		if err != nil {
			continue
		}
		dec.Observe(ev)
		d := dec.Decode(ev)
		out = append(out, Row{Index: len(out), Time: formatTime(ev.Time), Provider: providerLabel(d), ID: ev.ID, PID: ev.PID, Level: ev.Level, Description: d.Description()})
	}
	return out
}

func TestAccessControl(t *testing.T) {
	srv := serve(t, writeTrace(t, nettrace.HCW2012(t)), Options{})
	for _, tc := range []struct {
		name   string
		method string
		url    string
		header map[string]string
		want   int
	}{
		{"page without token", "GET", "/", nil, http.StatusUnauthorized},
		{"api without token", "GET", "/api/events", nil, http.StatusUnauthorized},
		{"asset without token", "GET", "/static/app.js", nil, http.StatusUnauthorized},
		{"wrong token", "GET", "/api/summary?token=nope", nil, http.StatusUnauthorized},
		{"token in header", "GET", "/api/summary", map[string]string{"X-Etlscope-Token": testToken}, http.StatusOK},
		{"page with token", "GET", "/?token=" + testToken, nil, http.StatusOK},
		{"asset with token", "GET", "/static/app.js?token=" + testToken, nil, http.StatusOK},
		{"post is refused", "POST", "/api/events?token=" + testToken, nil, http.StatusMethodNotAllowed},
		{"delete is refused", "DELETE", "/api/events?token=" + testToken, nil, http.StatusMethodNotAllowed},
		{"foreign host (DNS rebinding)", "GET", "/api/summary?token=" + testToken, map[string]string{"Host": "evil.example:80"}, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL+tc.url, nil)
			for k, v := range tc.header {
				if k == "Host" {
					req.Host = v
				} else {
					req.Header.Set(k, v)
				}
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if got := resp.Header.Get("Content-Security-Policy"); !strings.Contains(got, "default-src 'none'") || strings.Contains(got, "http") || strings.Contains(got, "unsafe") {
				t.Errorf("CSP %q", got)
			}
		})
	}
}

// The page references only its own server: no absolute URL to anywhere.
func TestAssetsStayLocal(t *testing.T) {
	for _, name := range []string{"assets/index.html", "assets/app.js", "assets/style.css"} {
		b, err := assets.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"http://", "https://", "//cdn", "innerHTML", "eval(", "setInterval", "EventSource"} {
			if bytes.Contains(b, []byte(bad)) {
				t.Errorf("%s contains %q", name, bad)
			}
		}
	}
}

func TestVerdictsAreAnalyzes(t *testing.T) {
	data := nettrace.HCW2012(t)
	path := writeTrace(t, data)
	srv := serve(t, path, Options{})
	var got diagnosis
	if code := get(t, srv, "/api/verdicts", &got); code != 200 {
		t.Fatalf("status %d", code)
	}
	f, err := etl.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a, err := diagnose.Analyze(context.Background(), f, path, diagnose.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Verdicts) != len(a.Verdicts) || len(a.Verdicts) == 0 {
		t.Fatalf("%d verdicts, analyze has %d", len(got.Verdicts), len(a.Verdicts))
	}
	for i, v := range a.Verdicts {
		g := got.Verdicts[i]
		if g.Title != v.Title || g.Kind != v.Kind || g.Severity != v.Severity || g.Detail != v.Detail {
			t.Errorf("verdict %d: got %q (%s, %s), want %q (%s, %s)", i, g.Title, g.Kind, g.Severity, v.Title, v.Kind, v.Severity)
		}
	}
	if got.Result != diagnose.ResultProblem || got.Result != a.Result || !strings.Contains(got.Verdicts[0].Title, "EnabledProtocols 0xa0") {
		t.Errorf("first verdict %q; want the EnabledProtocols 0xa0 problem", got.Verdicts[0].Title)
	}
}

// Pages of the generated 4-CPU trace, read through checkpoints 7 events
// apart, equal one full decoding in order.
func TestEventPages(t *testing.T) {
	var b bytes.Buffer
	if _, err := nettrace.Generate(&b, nettrace.GenOptions{Size: 1 << 20, CPUs: 4}); err != nil {
		t.Fatal(err)
	}
	want := referenceRows(t, b.Bytes())
	srv := serve(t, writeTrace(t, b.Bytes()), Options{Every: 7})
	var got []Row
	for start := 0; ; start += 333 {
		var p Page
		if code := get(t, srv, "/api/events?start="+itoa(start)+"&limit=333", &p); code != 200 {
			t.Fatalf("status %d", code)
		}
		if !p.Complete && len(p.Rows) < 333 {
			t.Fatalf("start %d: short page of %d rows before the end", start, len(p.Rows))
		}
		got = append(got, p.Rows...)
		if len(p.Rows) == 0 {
			if p.Total != len(want) {
				t.Errorf("total %d, want %d", p.Total, len(want))
			}
			break
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("row %d: got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestFilter(t *testing.T) {
	data := nettrace.HCW2012(t)
	srv := serve(t, writeTrace(t, data), Options{Every: 3})
	all := referenceRows(t, data)
	var want []Row
	for _, r := range all {
		if strings.Contains(strings.ToLower(r.Description), "enabledprotocols") {
			want = append(want, r)
		}
	}
	if len(want) < 2 {
		t.Fatalf("fixture has %d EnabledProtocols events", len(want))
	}
	var p Page
	q := url.QueryEscape(`description.contains("EnabledProtocols")`)
	if code := get(t, srv, "/api/events?limit=1000&filter="+q, &p); code != 200 {
		t.Fatalf("status %d", code)
	}
	if !p.Complete || p.Total != len(want) || len(p.Rows) != len(want) {
		t.Fatalf("filter: %d rows, total %d complete %v; want %d", len(p.Rows), p.Total, p.Complete, len(want))
	}
	for i := range want {
		if p.Rows[i] != want[i] {
			t.Errorf("row %d: %+v, want %+v", i, p.Rows[i], want[i])
		}
	}
	// The second page of a one-row-per-page listing is the second match.
	var p2 Page
	get(t, srv, "/api/events?start=1&limit=1&filter="+q, &p2)
	if len(p2.Rows) != 1 || p2.Rows[0] != want[1] {
		t.Errorf("second page %+v, want %+v", p2.Rows, want[1])
	}
}

func TestFilterError(t *testing.T) {
	srv := serve(t, writeTrace(t, nettrace.HCW2012(t)), Options{})
	var resp struct {
		FilterError *filterError `json:"filter_error"`
	}
	code := get(t, srv, "/api/events?filter="+url.QueryEscape(`id == 728 &&`), &resp)
	if code != http.StatusBadRequest || resp.FilterError == nil {
		t.Fatalf("status %d, %+v", code, resp)
	}
	if resp.FilterError.Column != 13 || !strings.Contains(resp.FilterError.Message, "column 13") {
		t.Errorf("filter error %+v; want column 13 (the end of the 12-character filter)", resp.FilterError)
	}
}

func TestEventDetail(t *testing.T) {
	data := nettrace.HCW2012(t)
	srv := serve(t, writeTrace(t, data), Options{Every: 2})
	all := referenceRows(t, data)
	idx := -1
	for _, r := range all {
		if r.ID == 728 && r.Provider == "Microsoft-Windows-WebIO" {
			idx = r.Index
			break
		}
	}
	var d Detail
	if code := get(t, srv, "/api/event/"+itoa(idx), &d); code != 200 {
		t.Fatalf("status %d", code)
	}
	if d.Row != all[idx] {
		t.Errorf("row %+v, want %+v", d.Row, all[idx])
	}
	props := map[string]string{}
	for _, p := range d.Properties {
		props[p.Name] = p.Value
	}
	if !strings.HasPrefix(props["EnabledProtocols"], "0xa0") {
		t.Errorf("EnabledProtocols = %q; properties %v", props["EnabledProtocols"], props)
	}
	header := map[string]string{}
	for _, f := range d.Header {
		header[f.Name] = f.Value
	}
	if header["provider_guid"] != "50b3e73c-9370-461d-bb9f-26f32d68887d" || header["id"] != "728" || header["offset"] == "" {
		t.Errorf("header %v", header)
	}
	// The EnabledProtocols value 0xa0 (little-endian a0 00 00 00) is in
	// the hex dump.
	if !strings.Contains(d.Hex, "a0 00 00 00") {
		t.Errorf("hex dump lacks the mask:\n%s", d.Hex)
	}
	if code := get(t, srv, "/api/event/"+itoa(len(all)), nil); code != http.StatusNotFound {
		t.Errorf("past the end: status %d", code)
	}
}

func TestRedact(t *testing.T) {
	data := nettrace.HCW2012(t)
	srv := serve(t, writeTrace(t, data), Options{Redact: true})
	var bodies []string
	for _, p := range []string{"/api/verdicts", "/api/summary", "/api/events?limit=1000", "/api/conversations"} {
		var v any
		get(t, srv, p, &v)
		b, _ := json.Marshal(v)
		bodies = append(bodies, string(b))
	}
	all := referenceRows(t, data)
	for i := range all {
		var d Detail
		get(t, srv, "/api/event/"+itoa(i), &d)
		b, _ := json.Marshal(d)
		bodies = append(bodies, string(b))
	}
	text := strings.Join(bodies, "\n")
	// outlook.office365.com is a public service name, kept by design
	// (redact.DefaultPublic); the machine's own names and addresses go.
	for _, secret := range []string{"52.97.1.2", "10.0.0.5", "CONTOSO", "admin", "Secret!", "NetTrace.etl\""} {
		if strings.Contains(text, secret) {
			t.Errorf("redacted output contains %q", secret)
		}
	}
	if !strings.Contains(text, credentialsHidden) || !strings.Contains(text, "outlook.office365.com") {
		t.Errorf("redacted output lacks the hidden credentials or the public name")
	}
}

func TestConversationsAndLocate(t *testing.T) {
	srv := serve(t, writeTrace(t, nettrace.HCW2012(t)), Options{Every: 4})
	var resp struct {
		Conversations []conversation `json:"conversations"`
		Total         int            `json:"total"`
	}
	get(t, srv, "/api/conversations", &resp)
	if len(resp.Conversations) != 1 || resp.Total != 1 {
		t.Fatalf("%d conversations, total %d", len(resp.Conversations), resp.Total)
	}
	c := resp.Conversations[0]
	if c.Server != "52.97.1.2:443" || c.ClientMax != "TLS 1.0" || !strings.Contains(c.Outcome, "alert 70") || c.PID != "4321" {
		t.Errorf("conversation %+v", c)
	}
	var loc struct{ Index int }
	if code := get(t, srv, "/api/locate?time="+url.QueryEscape(c.FirstSeen), &loc); code != 200 {
		t.Fatalf("locate: status %d", code)
	}
	var d Detail
	get(t, srv, "/api/event/"+itoa(loc.Index), &d)
	if d.Provider != "Microsoft-Windows-NDIS-PacketCapture" || d.Time != c.FirstSeen {
		t.Errorf("first packet of the conversation: event %d %s at %s, want a packet at %s", loc.Index, d.Provider, d.Time, c.FirstSeen)
	}
}
