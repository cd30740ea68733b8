package trace

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"time"
)

// wait blocks until the capture should stop: the reproduction command
// ended, the duration passed, a line was read, or ctx was cancelled (the
// only case that returns err).
func wait(ctx context.Context, r Runner, o *Options) (runOut []byte, runErr, err error) {
	done := progress(o.Progress, "capturing", o.Output)
	defer done()
	interrupted := func() error { return fmt.Errorf("%w: %w", ErrInterrupted, context.Cause(ctx)) }
	if ctx.Err() != nil { // Ctrl-C while the trace was starting
		return nil, nil, interrupted()
	}
	if o.Run != "" {
		rctx := ctx
		if o.Duration > 0 {
			var cancel context.CancelFunc
			rctx, cancel = context.WithTimeout(ctx, o.Duration)
			defer cancel()
		}
		c := runCommand(o)
		out, rerr := r.Run(rctx, c.Name, c.Args...)
		out = capOutput(out)
		switch {
		case ctx.Err() != nil:
			return out, nil, interrupted()
		case rctx.Err() != nil:
			return out, fmt.Errorf("the reproduction command was still running after %s; it was stopped", o.Duration), nil
		case rerr != nil:
			return out, fmt.Errorf("the reproduction command failed: %w", rerr), nil
		}
		return out, nil, nil
	}
	if o.Duration > 0 {
		t := time.NewTimer(o.Duration)
		defer t.Stop()
		select {
		case <-t.C:
			return nil, nil, nil
		case <-ctx.Done():
			return nil, nil, interrupted()
		}
	}
	if o.Enter == nil {
		<-ctx.Done()
		return nil, nil, interrupted()
	}
	line := make(chan error, 1)
	go func() {
		_, err := bufio.NewReader(o.Enter).ReadString('\n')
		line <- err
	}()
	select {
	case rerr := <-line:
		if rerr != nil {
			return nil, nil, errors.New("standard input closed before Enter was pressed (in scripts use --duration or --run)")
		}
		return nil, nil, nil
	case <-ctx.Done():
		return nil, nil, interrupted()
	}
}

// maxRunOutput bounds what is kept of the reproduction command's output.
const maxRunOutput = 64 << 10

func capOutput(b []byte) []byte {
	if len(b) <= maxRunOutput {
		return b
	}
	return append(b[:maxRunOutput:maxRunOutput], "\n… (output cut)\n"...)
}
