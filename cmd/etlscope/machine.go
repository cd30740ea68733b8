package main

import (
	"context"
	"runtime"

	"github.com/etlscope/etlscope/trace"
)

// machine is what the Windows commands (capture, doctor, watch) need from
// the machine they run on: netsh and other programs, the OS version, the
// registry, a live ETW session. run uses the real one; tests inject fakes
// through streams instead of replacing package variables.
type machine struct {
	runner   trace.Runner
	system   trace.System
	registry trace.Registry
	goos     string
	// analyze runs after a successful capture (the analyze command).
	analyze func(ctx context.Context, path string, o *captureOptions, s *streams) error
	// sessionEnding reports the console closing, logoff and shutdown.
	sessionEnding func() (ended <-chan struct{}, stop func())
	// watch runs the live session of the watch command.
	watch func(ctx context.Context, o trace.WatchOptions) error
}

// realMachine returns the machine etlscope runs on.
func realMachine() *machine {
	return &machine{
		runner:        trace.ExecRunner{},
		system:        trace.LocalSystem{},
		registry:      trace.LocalRegistry{},
		goos:          runtime.GOOS,
		analyze:       analyzeCaptured,
		sessionEnding: sessionEndSignal,
		watch:         trace.Watch,
	}
}

// machine returns the machine the commands act on (the real one unless a
// test gave another).
func (s *streams) machine() *machine {
	if s.mach == nil {
		s.mach = realMachine()
	}
	return s.mach
}
