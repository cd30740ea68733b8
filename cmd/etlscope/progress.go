package main

import (
	"fmt"
	"io"
	"time"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/internal/tick"
)

// startProgress shows how far the reading of f has come on stderr, once
// every quarter second, when stderr is a terminal, --quiet is off and the
// command's own output does not go to the same terminal while it runs
// (streaming is true for commands that print as they read). It uses no
// colour, so NO_COLOR is respected. Call the returned function when done.
func startProgress(s *streams, f *etl.File, streaming bool) func() {
	if s.ui.quiet || !isTerminal(s.Err) || (streaming && isTerminal(s.Out)) || f.Size() < 32<<20 {
		return func() {}
	}
	return progressLoop(s.Err, f, 250*time.Millisecond)
}

func progressLoop(w io.Writer, f *etl.File, every time.Duration) func() {
	start := time.Now()
	return tick.Every(every, func() bool {
		st := f.Stats()
		total := st.BytesRead
		pct := 0.0
		if total > 0 {
			pct = 100 * float64(st.BytesDone) / float64(total)
		}
		rate := float64(st.BytesDone) / (1 << 20) / time.Since(start).Seconds()
		fmt.Fprintf(w, "\rreading %3.0f%% (%d of %d MB, %.0f MB/s, %d events)", pct, st.BytesDone>>20, total>>20, rate, st.Records)
		return true
	}, func() { fmt.Fprint(w, "\r\033[K") })
}
