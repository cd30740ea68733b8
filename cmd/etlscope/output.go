package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// writeJSON writes v as indented JSON without HTML escaping.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeJSONCompact writes v as one line of JSON without HTML escaping and
// without a trailing newline.
func writeJSONCompact(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
	return err
}

// writeJSONRows writes doc as writeJSON does, with the rows rows emits
// spliced, one by one as they come, into the array under key, which doc
// holds empty: a long listing is never held whole. The bytes are those
// writeJSON writes for doc with the rows in the array.
func writeJSONRows[T any](w io.Writer, doc any, key string, rows func(emit func(T) error) error) error {
	var frame bytes.Buffer
	if err := writeJSON(&frame, doc); err != nil {
		return err
	}
	// At depth 1 in writeJSON's indentation; a quote inside a JSON string
	// is escaped, so the marker cannot come from a value.
	marker := []byte("\n  " + strconv.Quote(key) + ": []")
	at := bytes.Index(frame.Bytes(), marker)
	if at < 0 {
		return fmt.Errorf("json: no empty %q array in the document", key)
	}
	at += len(marker) - 1 // before the "]"
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(frame.Bytes()[:at])
	// Elements sit at depth 2.
	var elem bytes.Buffer
	enc := json.NewEncoder(&elem)
	enc.SetEscapeHTML(false)
	enc.SetIndent("    ", "  ")
	n := 0
	err := rows(func(v T) error {
		elem.Reset()
		if err := enc.Encode(v); err != nil {
			return err
		}
		if n == 0 {
			bw.WriteString("\n    ")
		} else {
			bw.WriteString(",\n    ")
		}
		n++
		_, err := bw.Write(bytes.TrimSuffix(elem.Bytes(), []byte("\n")))
		return err
	})
	if err != nil {
		return err
	}
	if n > 0 {
		bw.WriteString("\n  ")
	}
	bw.Write(frame.Bytes()[at:])
	return bw.Flush()
}
