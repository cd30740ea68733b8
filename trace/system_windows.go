//go:build windows

package trace

import (
	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// LocalSystem is the System of this machine.
type LocalSystem struct{}

// IsElevated reports whether the process token is elevated.
func (LocalSystem) IsElevated() (bool, error) {
	return windows.GetCurrentProcessToken().IsElevated(), nil
}

// OSBuild returns the Windows build number (RtlGetVersion, which is not
// subject to the manifest-based version lie of GetVersionEx).
func (LocalSystem) OSBuild() (uint32, error) {
	return windows.RtlGetVersion().BuildNumber, nil
}

// LocalRegistry reads this machine's registry.
type LocalRegistry struct{}

// DWORD reads a REG_DWORD value; ok is false when the key or value does not
// exist.
func (LocalRegistry) DWORD(root, path, name string) (uint32, bool, error) {
	k := registry.LOCAL_MACHINE
	if root == "HKCU" {
		k = registry.CURRENT_USER
	}
	key, err := registry.OpenKey(k, path, registry.QUERY_VALUE)
	if err != nil {
		if err == registry.ErrNotExist {
			return 0, false, nil
		}
		return 0, false, err
	}
	defer key.Close()
	v, _, err := key.GetIntegerValue(name)
	if err != nil {
		if err == registry.ErrNotExist {
			return 0, false, nil
		}
		return 0, false, err
	}
	return uint32(v), true, nil
}
