package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestView runs the view command as a user would: the URL is the first
// line of output, the injected opener gets it (no real browser in tests),
// requests need the token, and cancelling (what SIGINT/SIGTERM do) ends
// the command with exit status 0.
func TestView(t *testing.T) {
	for _, noBrowser := range []bool{false, true} {
		pr, pw := io.Pipe()
		var opened []string
		o := &viewOptions{addr: "127.0.0.1:0", noBrowser: noBrowser, open: func(u string) error { opened = append(opened, u); return nil }}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		var errb strings.Builder
		go func() {
			done <- runView(ctx, o, hcwTrace(t), &streams{In: strings.NewReader(""), Out: pw, Err: &errb})
			pw.Close()
		}()
		line, err := bufio.NewReader(pr).ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		u := strings.TrimSpace(line)
		if !strings.HasPrefix(u, "http://127.0.0.1:") || !strings.Contains(u, "/?token=") {
			t.Fatalf("first line %q is not the URL", line)
		}
		go io.Copy(io.Discard, pr)
		for _, tc := range []struct {
			url  string
			want int
		}{
			{u, http.StatusOK},
			{strings.Replace(u, "/?token=", "/api/events?token=", 1), http.StatusOK},
			{u[:strings.Index(u, "?")] + "api/events", http.StatusUnauthorized},
		} {
			resp, err := http.Get(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("GET %s: %d, want %d", tc.url, resp.StatusCode, tc.want)
			}
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("view ended with %v, want success", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("view did not stop after the signal")
		}
		if noBrowser && len(opened) != 0 || !noBrowser && (len(opened) != 1 || opened[0] != u) {
			t.Errorf("no-browser %v: opener got %q", noBrowser, opened)
		}
	}
}

func TestViewRefusesOtherAddresses(t *testing.T) {
	code, _, errs := runCLI(t, "view", "--no-browser", "--addr", "0.0.0.0:0", hcwTrace(t))
	if code != exitUsage || !strings.Contains(errs, "loopback") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	code, _, _ = runCLI(t, "view", "--no-browser", "/nonexistent.etl")
	if code != exitBadInput {
		t.Errorf("missing file: exit %d, want %d", code, exitBadInput)
	}
}

// TestViewManifest: `view --manifest` decodes the providers the manifest
// describes, as `events --manifest` does; a manifest that cannot be read
// is a usage error before the server starts.
func TestViewManifest(t *testing.T) {
	trace, manifest := contosoTrace(t)
	if code, _, errs := runCLI(t, "view", "--no-browser", "--manifest", manifest+".missing", trace); code != exitUsage || !strings.Contains(errs, "manifest") {
		t.Errorf("missing manifest: exit %d %s", code, errs)
	}
	for _, withManifest := range []bool{false, true} {
		o := &viewOptions{addr: "127.0.0.1:0", noBrowser: true}
		if withManifest {
			o.manifests = []string{manifest}
		}
		pr, pw := io.Pipe()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- runView(ctx, o, trace, &streams{In: strings.NewReader(""), Out: pw, Err: io.Discard})
			pw.Close()
		}()
		line, err := bufio.NewReader(pr).ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		go io.Copy(io.Discard, pr)
		u := strings.Replace(strings.TrimSpace(line), "/?token=", "/api/events?token=", 1)
		var body string
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			resp, err := http.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if body = string(b); strings.Contains(body, "0e4b2a9c") || strings.Contains(body, "Contoso-Agent") {
				break
			}
		}
		decoded := strings.Contains(body, "Contoso-Agent") && strings.Contains(body, "contoso.example")
		if decoded != withManifest {
			t.Errorf("manifest %v: decoded %v:\n%.1500s", withManifest, decoded, body)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("view ended with %v", err)
		}
	}
}
