package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etlscope/etlscope/internal/nettrace"
	"github.com/etlscope/etlscope/report"
)

// TestConversationsStream: `conversations` writes its rows as the tracker
// yields them; in every format the bytes are those of the buffered
// rendering (every row collected, then writeJSON or a whole table), on
// the PktMon capture of packets_test.go (proxy tunnel, copies, a drop,
// snap length), the HCW trace and a gentrace file.
func TestConversationsStream(t *testing.T) {
	pktmon, _ := pktmonTrace(t)
	var gen bytes.Buffer
	if _, err := nettrace.Generate(&gen, nettrace.GenOptions{Size: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	genPath := filepath.Join(tempDir(t), "gen.etl")
	if err := os.WriteFile(genPath, gen.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{pktmon, hcwTrace(t), genPath} {
		s := &streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, Err: &bytes.Buffer{}}
		tr, err := openTrace(path, s)
		if err != nil {
			t.Fatal(err)
		}
		tk, res, err := trackConversations(context.Background(), s, tr)
		if err != nil {
			t.Fatal(err)
		}
		ro := renderOptions(s, tr.Header())
		tr.Close()
		rows := []ConversationJSON{}
		for _, c := range tk.Conversations() {
			rows = append(rows, conversationRow(c, nil))
		}
		if len(rows) == 0 {
			t.Fatalf("%s: %d conversations", path, len(rows))
		}
		for _, f := range report.Formats {
			var want bytes.Buffer
			if f == report.FormatJSON {
				if err := writeJSON(&want, ConversationsJSON{Conversations: rows, Frames: framesJSON(tk.Stats()), Integrity: report.Integrity(&res.Integrity)}); err != nil {
					t.Fatal(err)
				}
			} else {
				tbl := &report.Table{Title: "TCP conversations", Columns: conversationColumns, Shape: conversationShape}
				for _, r := range rows {
					tbl.Add(conversationCells(r, ro)...)
				}
				if err := renderTable(&want, f, tbl, &res.Integrity, ro); err != nil {
					t.Fatal(err)
				}
				if err := writeFrameNote(&want, f, tk.Stats()); err != nil {
					t.Fatal(err)
				}
			}
			_, got, _ := runCLI(t, "conversations", "-o", string(f), path)
			if got != want.String() {
				t.Errorf("%s -o %s: streamed output differs from the buffered one:\n got %q\nwant %q", filepath.Base(path), f, got, want.String())
			}
			if f == report.FormatJSON && !json.Valid([]byte(got)) {
				t.Errorf("%s: invalid JSON", path)
			}
		}
	}
	// No conversations: an empty array.
	var got bytes.Buffer
	doc := ConversationsJSON{Conversations: []ConversationJSON{}}
	if err := writeJSONRows(&got, doc, "conversations", func(func(ConversationJSON) error) error { return nil }); err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	writeJSON(&want, doc)
	if got.String() != want.String() {
		t.Errorf("no rows:\n got %q\nwant %q", got.String(), want.String())
	}
}
