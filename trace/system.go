package trace

import (
	"errors"

	"github.com/etlscope/etlscope/wintls"
)

// System answers the questions capture and doctor ask the OS.
type System interface {
	IsElevated() (bool, error)
	OSBuild() (uint32, error) // the Windows build number, e.g. 9200, 17763
	// Edition tells client from server Windows (build 9200 is Windows 8
	// and Server 2012, which KB3140245 treats differently).
	Edition() (wintls.Edition, error)
	Is64BitOS() (bool, error)
}

// ErrNotWindows is returned by the System and Registry of non-Windows
// builds. Commands wrap it with what the user can do instead.
var ErrNotWindows = errors.New("this command runs on Windows only")
