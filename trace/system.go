package trace

import "errors"

// System answers the questions capture and doctor ask the OS.
type System interface {
	IsElevated() (bool, error)
	OSBuild() (uint32, error) // the Windows build number, e.g. 9200, 17763
	Is64BitOS() (bool, error)
}

// ErrNotWindows is returned by the System and Registry of non-Windows
// builds. Commands wrap it with what the user can do instead.
var ErrNotWindows = errors.New("this command runs on Windows only")
