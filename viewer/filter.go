package viewer

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/etlscope/etlscope/etl/scan"
	"github.com/etlscope/etlscope/filters"
)

// filterJob scans the trace once for one filter and keeps the indices of
// the matching events (4 bytes per match), so its pages are read back
// through the position index.
type filterJob struct {
	expr string

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change
	matches []uint32
	done    bool
	err     error
}

// filterJob returns the job for flt, starting it when it is new.
func (t *Trace) filterJob(flt *filters.Filter) *filterJob {
	t.filterMu.Lock()
	defer t.filterMu.Unlock()
	for i, j := range t.filters {
		if j.expr == flt.String() {
			t.filters = append(append(t.filters[:i:i], t.filters[i+1:]...), j)
			return j
		}
	}
	j := &filterJob{expr: flt.String(), changed: make(chan struct{})}
	if len(t.filters) >= maxFilterJobs {
		t.filters = t.filters[1:] // a running scan ends with the trace; its result is dropped
	}
	t.filters = append(t.filters, j)
	ctx, cancel := context.WithCancel(context.Background())
	stop := context.AfterFunc(t.ctxDone(), cancel)
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		defer stop()
		defer cancel()
		j.run(ctx, t, flt)
	}()
	return j
}

// run reads the trace through the read pipeline, in the order of the
// index, decoding every event like `events -f`: the same decoder, the same
// filter, credential events dropped under --redact.
func (j *filterJob) run(ctx context.Context, t *Trace, flt *filters.Filter) {
	var pending []uint32
	flush := func(done bool, err error) {
		j.mu.Lock()
		j.matches = append(j.matches, pending...)
		j.done, j.err = done, err
		j.publishLocked()
		j.mu.Unlock()
		pending = pending[:0]
	}
	tr, err := openTrace(t.path)
	if err != nil {
		flush(true, err)
		return
	}
	defer tr.Close()
	fileOrder, err := t.ix.order(ctx)
	if err != nil {
		flush(true, err)
		return
	}
	opts := scan.Options{FileOrder: fileOrder, Filter: flt, Decoder: t.newDecoder()}
	last := 0
	_, err = scan.Run(ctx, tr.File, opts, func(e *scan.Event) error {
		if t.red != nil && isCredentialEvent(e.Event) {
			return nil
		}
		pending = append(pending, uint32(e.Index))
		// Publish in batches: after 256 matches or 4096 events.
		if len(pending) >= 256 || e.Index-last >= 4096 {
			last = e.Index
			flush(false, nil)
		}
		return nil
	})
	if err != nil {
		err = fmt.Errorf("%s: %w", t.path, err)
	}
	flush(true, err)
}

// slice waits until matches [start, start+limit) are known (or the scan is
// over) and returns their event indices, the matches known so far and
// whether the scan is complete.
func (j *filterJob) slice(ctx context.Context, start, limit int) ([]int, int, bool, error) {
	for {
		j.mu.Lock()
		n, done, ch := len(j.matches), j.done, j.changed
		if n >= start+limit || done {
			var out []int
			for k := start; k < min(n, start+limit); k++ {
				out = append(out, int(j.matches[k]))
			}
			j.mu.Unlock()
			return out, n, done, nil
		}
		j.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, 0, false, ctx.Err()
		case <-ch:
		}
	}
}

func (j *filterJob) error() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if errors.Is(j.err, context.Canceled) {
		return nil
	}
	return j.err
}

// publishLocked wakes the waiters; j.mu is held.
func (j *filterJob) publishLocked() {
	close(j.changed)
	j.changed = make(chan struct{})
}
