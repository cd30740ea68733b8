package scan

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/etlscope/etlscope/etl"
)

// Trace is an open trace file.
type Trace struct {
	*etl.File
	// Name is what to call the trace in messages: the path, or "stdin".
	Name    string
	cleanup func() error
}

// Close closes the file and removes the spool file of a trace read from
// standard input.
func (t *Trace) Close() error {
	err := t.File.Close()
	if t.cleanup != nil {
		if cerr := t.cleanup(); err == nil {
			err = cerr
		}
	}
	return err
}

// Open opens the trace at path; "-" reads it from stdin, spooled to a
// temporary file when stdin cannot be read at random offsets (a pipe). When
// the file is not an ETL trace, the error says what it is when it can tell
// (a pcapng capture, a .cab, an image).
func Open(path string, stdin io.Reader) (*Trace, error) {
	if path != "-" {
		f, err := etl.Open(path)
		if err != nil {
			return nil, explain(path, err)
		}
		return &Trace{File: f, Name: path}, nil
	}
	if fh, ok := stdin.(*os.File); ok {
		if st, err := fh.Stat(); err == nil && st.Mode().IsRegular() {
			f, err := etl.NewFile(fh, st.Size())
			if err != nil {
				return nil, explainReader("stdin", fh, err)
			}
			return &Trace{File: f, Name: "stdin"}, nil
		}
	}
	tmp, err := os.CreateTemp("", "etlscope-stdin-*.etl")
	if err != nil {
		return nil, fmt.Errorf("stdin: spool to a temporary file: %w", err)
	}
	remove := func() error { tmp.Close(); return os.Remove(tmp.Name()) }
	n, err := io.Copy(tmp, stdin)
	if err != nil {
		remove()
		return nil, fmt.Errorf("stdin: spool to %s: %w", tmp.Name(), err)
	}
	f, err := etl.NewFile(tmp, n)
	if err != nil {
		err = explainReader("stdin", tmp, err)
		remove()
		return nil, err
	}
	return &Trace{File: f, Name: "stdin", cleanup: remove}, nil
}

// explain adds what the file looks like to an open error of a file that is
// not an ETL trace.
func explain(path string, err error) error {
	var fe *etl.FormatError
	if !errors.As(err, &fe) {
		return err
	}
	fh, oerr := os.Open(path)
	if oerr != nil {
		return err
	}
	defer fh.Close()
	return explainReader(path, fh, err)
}

func explainReader(name string, r io.ReaderAt, err error) error {
	var fe *etl.FormatError
	if !errors.As(err, &fe) {
		return fmt.Errorf("%s: %w", name, err)
	}
	var head [16]byte
	n, _ := r.ReadAt(head[:], 0)
	if what := Sniff(head[:n]); what != "" {
		return fmt.Errorf("%s: not an ETL trace: this is %s", name, what)
	}
	if !errors.Is(err, fe) && errors.Unwrap(err) != nil {
		return err // already names the file
	}
	return fmt.Errorf("%s: %w", name, err)
}

// Sniff names a few file types that people hand to etlscope by mistake,
// from their first bytes; "" when it cannot tell.
func Sniff(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte{0x0a, 0x0d, 0x0d, 0x0a}):
		return "a pcapng capture: open it in Wireshark (etlscope reads the .etl that netsh trace wrote)"
	case bytes.HasPrefix(b, []byte{0xd4, 0xc3, 0xb2, 0xa1}), bytes.HasPrefix(b, []byte{0xa1, 0xb2, 0xc3, 0xd4}),
		bytes.HasPrefix(b, []byte{0x4d, 0x3c, 0xb2, 0xa1}), bytes.HasPrefix(b, []byte{0xa1, 0xb2, 0x3c, 0x4d}):
		return "a pcap capture: open it in Wireshark (etlscope reads the .etl that netsh trace wrote)"
	case bytes.HasPrefix(b, []byte("MSCF")):
		return "a .cab archive: netsh trace writes NetTrace.cab next to NetTrace.etl; give etlscope the .etl"
	case bytes.HasPrefix(b, []byte("PK\x03\x04")):
		return "a zip archive: extract the .etl first"
	case bytes.HasPrefix(b, []byte{0x1f, 0x8b}):
		return "a gzip file: decompress it first"
	case bytes.HasPrefix(b, []byte("\x89PNG")):
		return "a PNG image"
	case bytes.HasPrefix(b, []byte{0xff, 0xd8, 0xff}):
		return "a JPEG image"
	case bytes.HasPrefix(b, []byte("%PDF")):
		return "a PDF document"
	case bytes.HasPrefix(b, []byte("GMBU")):
		return "a Network Monitor capture (.cap): open it in Wireshark"
	case bytes.HasPrefix(b, []byte("<?xml")), bytes.HasPrefix(b, []byte{0xef, 0xbb, 0xbf, '<'}):
		return "an XML file"
	}
	return ""
}
