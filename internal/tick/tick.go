// Package tick runs a function at a fixed interval on its own goroutine
// until it is stopped: the progress lines and file watches of etlscope's
// long-running commands.
package tick

import "time"

// Every calls fn every d, on a goroutine of its own, until fn returns
// false or the returned stop function is called. stop calls final (when
// not nil) on that goroutine unless fn ended the loop, and returns once
// the goroutine is done, so nothing is written after it returns.
func Every(d time.Duration, fn func() bool, final func()) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-quit:
				if final != nil {
					final()
				}
				return
			case <-t.C:
				if !fn() {
					return
				}
			}
		}
	}()
	return func() { close(quit); <-done }
}
