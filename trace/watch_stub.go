//go:build !windows || !cgo

package trace

import (
	"context"
	"errors"
)

// Watch needs a Windows build with cgo (the live ETW consumer is C).
func Watch(ctx context.Context, o WatchOptions) error {
	return errors.New("watch needs Windows and a cgo build of etlscope (CGO_ENABLED=1 with a C compiler); use capture + analyze instead")
}
