package viewer

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/etlscope/etlscope/internal/nettrace"
)

// chromium returns the headless browser, or skips the test.
func chromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping the browser test in -short mode")
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("skipping: chromium not installed (Debian package chromium; .ci/run installs it)")
	return ""
}

// dumpDOM loads u in headless Chromium and returns the DOM after the
// page's load-time requests have been answered. The profile is fresh and
// every background service is off, so the browser requests nothing but u.
func dumpDOM(t *testing.T, bin, u string) *html.Node {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=5000", "--dump-dom", u)
	cmd.Env = append(cmd.Environ(), "DBUS_SESSION_BUS_ADDRESS=disabled:")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	doc, err := html.Parse(strings.NewReader(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	if byID(doc, "verdicts") == nil || byID(doc, "events") == nil {
		t.Fatalf("chromium did not render the page:\n%s", out)
	}
	return doc
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func walk(n *html.Node, fn func(*html.Node)) {
	fn(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

func text(n *html.Node) string {
	var b strings.Builder
	walk(n, func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	})
	return b.String()
}

func byID(doc *html.Node, id string) *html.Node {
	var found *html.Node
	walk(doc, func(n *html.Node) {
		if v, _ := attr(n, "id"); v == id && found == nil {
			found = n
		}
	})
	return found
}

// pageRows returns the event rows: the cells of every element carrying
// data-event-index. It fails when such an element is not an event row.
func pageRows(t *testing.T, doc *html.Node) [][]string {
	t.Helper()
	var rows [][]string
	walk(doc, func(n *html.Node) {
		if _, ok := attr(n, "data-event-index"); !ok {
			return
		}
		if n.Data != "tr" || n.Parent == nil || n.Parent.Parent == nil {
			t.Errorf("data-event-index on <%s>, not on an event row", n.Data)
			return
		}
		if id, _ := attr(n.Parent.Parent, "id"); id != "events" {
			t.Errorf("data-event-index outside the event table")
		}
		var cells []string
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode && c.Data == "td" {
				cells = append(cells, text(c))
			}
		}
		idx, _ := attr(n, "data-event-index")
		if len(cells) != 6 || cells[0] != idx {
			t.Errorf("row %s: cells %q", idx, cells)
		}
		rows = append(rows, cells)
	})
	return rows
}

// TestPageInBrowser loads the page in headless Chromium, as a user opening
// the printed URL would, and checks what the load-time requests render:
// the verdicts, the rows, a filter from the URL and a filter error.
func TestPageInBrowser(t *testing.T) {
	bin := chromium(t)
	data := nettrace.HCW2012(t)
	tr, err := Open(writeTrace(t, data), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() }) // after the parallel subtests
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: Handler(tr, testToken)}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	base := "http://" + ln.Addr().String() + "/?token=" + testToken
	ref := referenceRows(t, data)

	t.Run("verdicts and rows", func(t *testing.T) {
		t.Parallel()
		doc := dumpDOM(t, bin, base)
		var kinds []string
		walk(byID(doc, "verdicts"), func(n *html.Node) {
			if k, ok := attr(n, "data-kind"); ok {
				kinds = append(kinds, k)
			}
		})
		d, err := tr.Diagnosis(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(kinds) != len(d.Verdicts) {
			t.Fatalf("%d verdicts on the page, want %d", len(kinds), len(d.Verdicts))
		}
		vt := text(byID(doc, "verdicts"))
		for i, v := range d.Verdicts {
			if kinds[i] != string(v.Kind) || !strings.Contains(vt, v.Title) {
				t.Errorf("verdict %d: kind %s; want %s %q", i, kinds[i], v.Kind, v.Title)
			}
		}
		rows := pageRows(t, doc)
		if want := min(len(ref), 200); len(rows) != want {
			t.Fatalf("%d rows, want %d", len(rows), want)
		}
		for i, r := range rows {
			if r[5] != ref[i].Description || r[2] != ref[i].Provider {
				t.Errorf("row %d: %q, want %q %q", i, r, ref[i].Provider, ref[i].Description)
			}
		}
	})
	t.Run("filter from the URL", func(t *testing.T) {
		t.Parallel()
		doc := dumpDOM(t, bin, base+"&filter="+url.QueryEscape(`provider == "Microsoft-Windows-WebIO" && id in (728,729,730)`))
		rows := pageRows(t, doc)
		n := 0
		for _, r := range ref {
			if r.Provider == "Microsoft-Windows-WebIO" && (r.ID == 728 || r.ID == 729) {
				n++
			}
		}
		if len(rows) != n || n == 0 {
			t.Fatalf("%d rows, want %d", len(rows), n)
		}
		for _, r := range rows {
			if r[2] != "Microsoft-Windows-WebIO" || !strings.Contains(r[5], "EnabledProtocols 0xa0") {
				t.Errorf("row %q does not match the filter", r)
			}
		}
		if v, _ := attr(byID(doc, "filter"), "value"); v == "" {
			// The input's value is a property; its text shows in the
			// range line instead.
			if !strings.Contains(text(byID(doc, "range")), "matching") {
				t.Errorf("range line %q", text(byID(doc, "range")))
			}
		}
		if fe := byID(doc, "filter-error"); fe == nil || text(fe) != "" {
			t.Errorf("filter error shown for a good filter: %q", text(fe))
		}
	})
	t.Run("filter error", func(t *testing.T) {
		t.Parallel()
		doc := dumpDOM(t, bin, base+"&filter="+url.QueryEscape(`id == 728 &&`))
		fe := byID(doc, "filter-error")
		if fe == nil {
			t.Fatal("no filter error box")
		}
		if _, hidden := attr(fe, "hidden"); hidden || !strings.Contains(text(fe), "column 13") {
			t.Errorf("filter error box (hidden %v): %q", hidden, text(fe))
		}
		if rows := pageRows(t, doc); len(rows) != 0 {
			t.Errorf("%d rows shown for a filter that does not compile", len(rows))
		}
		if !strings.Contains(text(byID(doc, "verdicts")), "EnabledProtocols 0xa0") {
			t.Error("verdicts missing when the filter is wrong")
		}
	})
}
