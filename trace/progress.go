package trace

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/etlscope/etlscope/internal/tick"
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
	start := time.Now()
	return tick.Every(progressEvery, func() bool {
		size := ""
		if st, err := os.Stat(file); err == nil {
			size = fmt.Sprintf(", %s %.1f MB", filepath.Base(file), float64(st.Size())/(1<<20))
		}
		fmt.Fprintf(w, "\r\033[K%s: %s%s", what, time.Since(start).Round(time.Second), size)
		return true
	}, func() { fmt.Fprint(w, "\r\033[K") })
}

// watchFull calls notice with msg once, when file has grown to limit
// bytes, checking every progressEvery until the returned function is
// called. It does nothing when notice is nil.
func watchFull(notice func(string), file string, limit int64, msg string) func() {
	if notice == nil {
		return func() {}
	}
	return tick.Every(progressEvery, func() bool {
		if st, err := os.Stat(file); err == nil && st.Size() >= limit {
			notice(msg)
			return false
		}
		return true
	}, nil)
}
