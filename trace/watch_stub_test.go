//go:build !windows || !cgo

package trace

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestWatchStub(t *testing.T) {
	// On this (non-Windows or cgo-less) build Watch must say what it needs.
	err := Watch(context.Background(), WatchOptions{Emit: func(*LiveEvent) {}})
	if !errors.Is(err, ErrWatchUnsupported) || !strings.Contains(err.Error(), "needs Windows and a cgo build") {
		t.Errorf("Watch = %v", err)
	}
}
