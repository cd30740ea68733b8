package trace

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// progressEvery is how often progress lines are written.
var progressEvery = time.Second

// progress writes what is happening, the elapsed time and the size of
// file on one line, rewritten every progressEvery, until the returned
// function is called. It writes nothing when w is nil.
func progress(w io.Writer, what, file string) func() {
	if w == nil {
		return func() {}
	}
	stop := make(chan struct{})
	finished := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(finished)
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-stop:
				fmt.Fprint(w, "\r\033[K")
				return
			case <-t.C:
				size := ""
				if st, err := os.Stat(file); err == nil {
					size = fmt.Sprintf(", %s %.1f MB", filepath.Base(file), float64(st.Size())/(1<<20))
				}
				fmt.Fprintf(w, "\r\033[K%s: %s%s", what, time.Since(start).Round(time.Second), size)
			}
		}
	}()
	return func() { close(stop); <-finished }
}

// watchFull calls notice with msg once, when file has grown to limit
// bytes, checking every progressEvery until the returned function is
// called. It does nothing when notice is nil.
func watchFull(notice func(string), file string, limit int64, msg string) func() {
	if notice == nil {
		return func() {}
	}
	stop := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if st, err := os.Stat(file); err == nil && st.Size() >= limit {
					notice(msg)
					return
				}
			}
		}
	}()
	return func() { close(stop); <-finished }
}
