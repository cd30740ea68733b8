package etl

import (
	"runtime"
	"sync/atomic"
	"time"
)

// Decompressing ahead on other cores must pay off or stay out of the way:
// when the other cores are busy (another process, or the rest of the
// command), waiting for a helper goroutine whose thread the OS has not
// scheduled made reading slower than on one core. So the reader never
// waits for a helper. Every buffer is a job that whoever claims it first
// loads: a helper (ahead of the reader) or the reader itself when it
// arrives at a job nobody started. When it arrives at a job a helper is
// still working on, it loads a later job nobody started instead and comes
// back; when there is none, it takes the job over and loads it itself (the
// helper's result is then dropped). The reader thus loads each buffer at
// most once and never blocks, so it does no more work than on one core,
// and every buffer a helper finishes in time is saved work.
//
// Handing buffers to helpers still costs something: waking a parked
// goroutine is a system call, and a runnable helper takes CPU time from the
// reader when every core is busy. Whether that pays depends on the machine,
// its load and the data, so a pacer measures it as the read goes on (see
// pacer).

// Job states. A job moves from jobPending to jobHelping (a helper claimed
// it) or jobTaken (the reader did), and from jobHelping to jobDone (the
// helper finished; its result is in the job) or jobTaken (the reader took
// it over). The reader also marks jobs it loaded ahead jobDone.
const (
	jobPending int32 = iota
	jobHelping
	jobDone
	jobTaken
)

// loadJob is one buffer to load (read and decompress).
type loadJob struct {
	state atomic.Int32
	bi    BufferInfo
	// Set by whoever loaded the job, read by the reader after it saw
	// jobDone (the atomic state orders the accesses).
	br    *bufferReader
	recs  []byte
	base  int64
	short bool
	err   error
}

// prefetcher runs the helper goroutines and keeps the buffer memory they
// and the reader share. Memory stays bounded: a reader holds at most the
// jobs it announced, each with at most one bufferReader, plus one per
// helper.
type prefetcher struct {
	f       *File
	jobs    chan *loadJob
	readers chan *bufferReader // idle bufferReaders for reuse
	ahead   int                // how many buffers the file-order reader announces ahead
	pace    pacer
}

// newPrefetcher starts GOMAXPROCS-1 helpers (at least one). Call close
// when done.
func (f *File) newPrefetcher() *prefetcher {
	helpers := max(runtime.GOMAXPROCS(0)-1, 1)
	ahead := 2 * (helpers + 1)
	p := &prefetcher{
		f:       f,
		jobs:    make(chan *loadJob, ahead),
		readers: make(chan *bufferReader, ahead+helpers+1),
		ahead:   ahead,
		pace:    newPacer(),
	}
	for range helpers {
		go p.help()
	}
	return p
}

// close stops the helpers once they have finished their current job.
func (p *prefetcher) close() { close(p.jobs) }

func (p *prefetcher) help() {
	for j := range p.jobs {
		if !j.state.CompareAndSwap(jobPending, jobHelping) {
			continue // the reader got there first
		}
		br := p.reader()
		j.recs, j.base, j.short, j.err = br.load(&j.bi)
		j.br = br
		if !j.state.CompareAndSwap(jobHelping, jobDone) {
			p.release(br) // the reader took the job over
		}
	}
}

// announce returns the job for bi and, when the pacer says helping pays,
// offers it to the helpers. When they have enough queued work the offer is
// dropped; the reader loads a buffer nobody took itself.
func (p *prefetcher) announce(bi BufferInfo) *loadJob {
	j := &loadJob{bi: bi}
	if p.pace.help {
		select {
		case p.jobs <- j:
		default:
		}
	}
	return j
}

// reader returns an idle bufferReader.
func (p *prefetcher) reader() *bufferReader {
	select {
	case br := <-p.readers:
		return br
	default:
		return &bufferReader{r: p.f.r, size: p.f.size, maxSize: p.f.maxSize}
	}
}

// release returns a bufferReader whose buffer is no longer used.
func (p *prefetcher) release(br *bufferReader) {
	select {
	case p.readers <- br:
	default:
	}
}

// take returns job j loaded, without waiting: the helper's result when it
// is done, otherwise the reader loads it now. While a helper is still
// working on j, the reader first loads the first unclaimed job of later
// (which it will need soon) and looks again. The returned bufferReader
// holds the records until the caller releases it.
func (p *prefetcher) take(j *loadJob, later []*loadJob) (recs []byte, base int64, short bool, err error, br *bufferReader) {
	p.pace.tick(int64(j.bi.SavedSize), time.Now)
	for {
		switch j.state.Load() {
		case jobDone:
			return j.recs, j.base, j.short, j.err, j.br
		case jobPending:
			if j.state.CompareAndSwap(jobPending, jobTaken) {
				return p.loadNow(j)
			}
		case jobHelping:
			if k := p.claimNext(later); k != nil {
				k.recs, k.base, k.short, k.err, k.br = p.loadNow(k)
				k.state.Store(jobDone)
				continue
			}
			if j.state.CompareAndSwap(jobHelping, jobTaken) {
				return p.loadNow(j)
			}
		}
	}
}

// claimNext claims the first job of later that nobody started.
func (p *prefetcher) claimNext(later []*loadJob) *loadJob {
	for _, k := range later {
		if k != nil && k.state.CompareAndSwap(jobPending, jobTaken) {
			return k
		}
	}
	return nil
}

func (p *prefetcher) loadNow(j *loadJob) ([]byte, int64, bool, error, *bufferReader) {
	br := p.reader()
	recs, base, short, err := br.load(&j.bi)
	return recs, base, short, err, br
}

// The pacer reads epochs of pacerEpoch buffers, each either with helpers or
// alone, and measures how long each takes per decompressed byte. It probes
// both ways (helped, then alone), keeps the faster for a run of epochs and
// probes again; a choice that keeps winning is kept for longer runs, up to
// pacerMaxRun epochs. The slower way is thus used for at most two epochs in
// every run, so reading is never much slower than the better of the two,
// whatever the other cores are doing.
const (
	pacerEpoch  = 128
	pacerMaxRun = 32
)

type pacer struct {
	help    bool      // offer buffers to helpers in this epoch
	n       int       // buffers so far in this epoch
	bytes   int64     // their decompressed size
	start   time.Time // when the epoch began
	probing int       // 2: probing helped, 1: probing alone, 0: keeping a choice
	rate    [2]float64
	left    int // epochs left before probing again
	run     int // length of the next run
	last    bool
}

func newPacer() pacer { return pacer{help: true, probing: 2, run: 2} }

// tick counts one buffer of the given decompressed size; now is time.Now
// (a parameter for tests).
func (p *pacer) tick(size int64, now func() time.Time) {
	if p.n == 0 {
		p.start = now()
	}
	p.n++
	p.bytes += size
	if p.n < pacerEpoch {
		return
	}
	d := now().Sub(p.start)
	perByte := float64(d) / float64(max(p.bytes, 1))
	p.n, p.bytes = 0, 0
	switch p.probing {
	case 2:
		p.rate[1] = perByte
		p.probing, p.help = 1, false
	case 1:
		p.rate[0] = perByte
		helped := p.rate[1] < p.rate[0]
		if helped == p.last {
			p.run = min(2*p.run, pacerMaxRun)
		} else {
			p.run = 2
		}
		p.last = helped
		p.probing, p.help, p.left = 0, helped, p.run
	default:
		if p.left--; p.left <= 0 {
			p.probing, p.help = 2, true
		}
	}
}
