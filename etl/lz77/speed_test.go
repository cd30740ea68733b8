package lz77_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/etlscope/etlscope/etl/lz77"
	"github.com/etlscope/etlscope/internal/sharedtest"
)

// TestSpeedRatio catches a slowdown of Decompress without timing it
// absolutely: on the same buffers, it must stay at least minRatio times as
// fast as the decoder it replaced (one copy call per item, kept as
// OldDecompress). Measured on the 2-core CI machine class (see the README):
// about 1.55x on the real Windows buffers and 1.3x on generated ones
// (compressed by this package's encoder, a different shape).
//
// A shared, noisy machine only ever makes a run slower, so each decoder's
// time is the sum over groups of four buffers (a fraction of a millisecond,
// shorter than a scheduler time slice) of its best time out of several
// interleaved rounds, and a failing comparison is retried before the test
// fails. Skipped with -short and under the race detector (which slows the
// two decoders unequally).
func TestSpeedRatio(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test: skipped with -short")
	}
	if raceEnabled {
		t.Skip("timing test: skipped under the race detector")
	}
	type set struct {
		name     string
		streams  [][]byte
		sizes    []int
		minRatio float64
	}
	var sets []set
	sample := filepath.Join(sharedtest.Dir(), "testdata", "etl", "kernel-dotnet-compressed-x64-win8-9200.etl")
	if data, err := os.ReadFile(sample); sharedtest.Dir() != "" && err == nil {
		s, n := fileStreams(t, data)
		sets = append(sets, set{"real x64 sample", s, n, 1.3})
	} else {
		t.Log("real compressed sample absent: measuring generated buffers only")
	}
	s, n := generatedStreams(t, 4)
	sets = append(sets, set{"generated NetTrace", s, n, 1.1})

	for _, st := range sets {
		var ratio float64
		for attempt := 0; attempt < 3; attempt++ {
			newTime, oldTime := bestTimes(t, st.streams, st.sizes, 4, 5)
			ratio = oldTime.Seconds() / newTime.Seconds()
			t.Logf("%s: Decompress %.2fx the previous decoder (%v vs %v)", st.name, ratio, newTime, oldTime)
			if ratio >= st.minRatio {
				break
			}
		}
		if ratio < st.minRatio {
			t.Errorf("%s: Decompress is %.2fx the previous decoder, want >= %.2fx", st.name, ratio, st.minRatio)
		}
	}
}

// bestTimes decodes the streams in groups of group streams, each group
// rounds times with Decompress and with OldDecompress, alternating, and
// returns for each decoder the sum over the groups of its fastest pass.
// A group is long enough that the branch predictor cannot learn it by heart
// between rounds and short enough to fit in a scheduler time slice.
func bestTimes(t *testing.T, streams [][]byte, sizes []int, group, rounds int) (newTime, oldTime time.Duration) {
	dst := make([]byte, 1<<16)
	decode := func(fn func(dst, src []byte) (int, error), from, to int) time.Duration {
		start := time.Now()
		for i := from; i < to; i++ {
			if _, err := fn(dst[:sizes[i]], streams[i]); err != nil {
				t.Fatal(err)
			}
		}
		return time.Since(start)
	}
	for from := 0; from < len(streams); from += group {
		to := min(from+group, len(streams))
		var bn, bo time.Duration
		for r := 0; r < rounds; r++ {
			if d := decode(lz77.Decompress, from, to); r == 0 || d < bn {
				bn = d
			}
			if d := decode(lz77.OldDecompress, from, to); r == 0 || d < bo {
				bo = d
			}
		}
		newTime += bn
		oldTime += bo
	}
	return newTime, oldTime
}
