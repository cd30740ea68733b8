package etl

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/etlscope/etlscope/etl/lz77"
)

// compressedFile builds a File holding n compressed buffers (a 72-byte
// header, here left zero, and the MS-XCA stream of the payload; see
// etl/lz77's package documentation for the layout) and their BufferInfos.
// Only what bufferReader.load reads is filled in.
func compressedFile(t *testing.T, n int) (*File, []BufferInfo, [][]byte) {
	t.Helper()
	var data []byte
	var infos []BufferInfo
	var payloads [][]byte
	for i := range n {
		p := bytes.Repeat([]byte(fmt.Sprintf("record %d of buffer %d; ", i, i)), 200)
		c := lz77.Compress(p)
		infos = append(infos, BufferInfo{Index: i, Offset: int64(len(data)), Size: uint32(BufferHeaderSize + len(c)),
			SavedSize: uint32(BufferHeaderSize + len(p)), Compressed: true})
		data = append(data, make([]byte, BufferHeaderSize)...)
		data = append(data, c...)
		payloads = append(payloads, p)
	}
	f := &File{r: bytes.NewReader(data), size: int64(len(data)), maxSize: 1 << 16}
	return f, infos, payloads
}

func checkLoaded(t *testing.T, what string, recs []byte, err error, want []byte) {
	t.Helper()
	if err != nil || !bytes.Equal(recs, want) {
		t.Fatalf("%s: %d bytes, err %v; want the %d payload bytes", what, len(recs), err, len(want))
	}
}

// TestTakeDoesNotWaitForAHelper: a job a helper claimed but has not finished
// (its thread may not be scheduled at all when the other core is busy) is
// loaded by the reader itself, after any later job nobody started.
func TestTakeDoesNotWaitForAHelper(t *testing.T) {
	f, infos, payloads := compressedFile(t, 3)
	p := &prefetcher{f: f, readers: make(chan *bufferReader, 4)} // no helpers running
	j := &loadJob{bi: infos[0]}
	j.state.Store(jobHelping) // claimed by a helper that never finishes
	k := &loadJob{bi: infos[1]}
	busy := &loadJob{bi: infos[2]}
	busy.state.Store(jobHelping)

	recs, _, _, err, br := p.take(j, []*loadJob{nil, busy, k})
	checkLoaded(t, "stuck job", recs, err, payloads[0])
	if br == nil || j.state.Load() != jobTaken {
		t.Errorf("stuck job: state %d, reader %p; want taken over by the reader", j.state.Load(), br)
	}
	if k.state.Load() != jobDone {
		t.Fatalf("later job: state %d, want loaded (done) while the first was busy", k.state.Load())
	}
	checkLoaded(t, "later job", k.recs, k.err, payloads[1])
	if busy.state.Load() != jobHelping {
		t.Errorf("a job a helper works on was touched: state %d", busy.state.Load())
	}
	// The helper finishing late must see that its result is not wanted.
	if j.state.CompareAndSwap(jobHelping, jobDone) {
		t.Error("a helper could still publish a result for a job the reader took over")
	}
	// A job taken from the later ones is then delivered without loading.
	recs, _, _, err, _ = p.take(k, nil)
	checkLoaded(t, "later job taken", recs, err, payloads[1])
}

// TestTakeUsesHelperResult: a finished job is delivered as the helper left
// it, without reading the file again.
func TestTakeUsesHelperResult(t *testing.T) {
	f, infos, _ := compressedFile(t, 1)
	f.r = bytes.NewReader(nil) // any read now fails
	p := &prefetcher{f: f, readers: make(chan *bufferReader, 4)}
	j := &loadJob{bi: infos[0], recs: []byte("helper's"), br: &bufferReader{}}
	j.state.Store(jobDone)
	recs, _, _, err, br := p.take(j, nil)
	if err != nil || string(recs) != "helper's" || br != j.br {
		t.Errorf("got %q, %v, %p; want the helper's result", recs, err, br)
	}
}

// TestPrefetcherHelpers runs real helpers against the reader (run with
// -race): every buffer arrives once, intact, in order, whoever loaded it.
func TestPrefetcherHelpers(t *testing.T) {
	f, infos, payloads := compressedFile(t, 200)
	p := f.newPrefetcher()
	defer p.close()
	var queue []*loadJob
	for i := 0; i < len(infos); i++ {
		for len(queue) < p.ahead && i+len(queue) < len(infos) {
			queue = append(queue, p.announce(infos[i+len(queue)]))
		}
		j := queue[0]
		queue = queue[1:]
		recs, _, _, err, br := p.take(j, queue)
		checkLoaded(t, fmt.Sprintf("buffer %d", i), recs, err, payloads[i])
		p.release(br)
	}
}

// TestPacer drives the pacer with a fake clock: epochs read with helpers
// take helpedCost per buffer, epochs read alone aloneCost. It must settle on
// the cheaper way, use the other for at most the two probe epochs of each
// run, and keep probing (the machine's load may change).
func TestPacer(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		helpedCost, aloneCost time.Duration
		wantHelp              bool
	}{
		{"helpers pay", 30 * time.Microsecond, 50 * time.Microsecond, true},
		{"helpers cost", 60 * time.Microsecond, 50 * time.Microsecond, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var now time.Time
			clock := func() time.Time { return now }
			p := newPacer()
			const epochs = 400
			used, probes := 0, 0
			for e := 0; e < epochs; e++ {
				helped := p.help
				if helped == tc.wantHelp {
					used++
				}
				if p.probing != 0 {
					probes++
				}
				for range pacerEpoch {
					p.tick(65536, clock)
					if helped {
						now = now.Add(tc.helpedCost)
					} else {
						now = now.Add(tc.aloneCost)
					}
				}
			}
			// Runs grow to pacerMaxRun epochs after two probe epochs.
			if worse := epochs - used; worse > 2*epochs/pacerMaxRun+4 {
				t.Errorf("the slower way was used for %d of %d epochs", worse, epochs)
			}
			if probes < epochs/(pacerMaxRun+2) {
				t.Errorf("only %d probe epochs in %d: the pacer stopped probing", probes, epochs)
			}
		})
	}
}
