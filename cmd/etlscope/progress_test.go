package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/internal/nettrace"
)

// syncBuffer is a bytes.Buffer safe for the progress goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestProgressLoop(t *testing.T) {
	data := nettrace.HCW2012(t)
	f, err := etl.NewFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	stop := progressLoop(&out, f, time.Millisecond)
	for range f.Events(etl.ReadOptions{}) {
	}
	// Wait (under load, generously) for a tick after the end.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && !strings.Contains(out.String(), "reading 100% ("); {
		time.Sleep(time.Millisecond)
	}
	stop()
	s := out.String()
	if !strings.Contains(s, "reading 100% (") || !strings.HasSuffix(s, "\r\033[K") {
		t.Errorf("progress output %q", s)
	}
	// Not a terminal: nothing at all.
	var quiet bytes.Buffer
	startProgress(&streams{Out: &quiet, Err: &quiet}, f, false)()
	if quiet.Len() != 0 {
		t.Errorf("progress on a non-terminal: %q", quiet.String())
	}
}
