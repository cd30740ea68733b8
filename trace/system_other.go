//go:build !windows

package trace

import "github.com/etlscope/etlscope/wintls"

// LocalSystem is the System of this machine; off Windows it refuses.
type LocalSystem struct{}

// IsElevated returns ErrNotWindows.
func (LocalSystem) IsElevated() (bool, error) { return false, ErrNotWindows }

// OSBuild returns ErrNotWindows.
func (LocalSystem) OSBuild() (uint32, error) { return 0, ErrNotWindows }

// Edition returns ErrNotWindows.
func (LocalSystem) Edition() (wintls.Edition, error) { return wintls.EditionUnknown, ErrNotWindows }

// Is64BitOS returns ErrNotWindows.
func (LocalSystem) Is64BitOS() (bool, error) { return false, ErrNotWindows }

// LocalRegistry is the registry of this machine; off Windows it refuses.
type LocalRegistry struct{}

// DWORD returns ErrNotWindows.
func (LocalRegistry) DWORD(root, path, name string) (uint32, bool, error) {
	return 0, false, ErrNotWindows
}
