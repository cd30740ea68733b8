//go:build !windows || !cgo

package trace

import "context"

// Watch returns ErrWatchUnsupported: this build has no live ETW consumer
// (it needs Windows and cgo).
func Watch(ctx context.Context, o WatchOptions) error {
	return ErrWatchUnsupported
}

// LiveWatch tells whether this build has the live ETW consumer.
const LiveWatch = false
