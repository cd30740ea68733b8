//go:build windows

package trace

import (
	"errors"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"

	"github.com/etlscope/etlscope/wintls"
)

// LocalSystem is the System of this machine.
type LocalSystem struct{}

// IsElevated reports whether the process token is elevated (Run as
// administrator).
func (LocalSystem) IsElevated() (bool, error) {
	return windows.GetCurrentProcessToken().IsElevated(), nil
}

// OSBuild returns the Windows build number from RtlGetVersion, which,
// unlike GetVersionEx, does not depend on the program's manifest.
func (LocalSystem) OSBuild() (uint32, error) {
	return windows.RtlGetVersion().BuildNumber, nil
}

// Edition reads the product type RtlGetVersion reports: a workstation is
// client Windows; a server or domain controller is Windows Server.
func (LocalSystem) Edition() (wintls.Edition, error) {
	switch windows.RtlGetVersion().ProductType {
	case 1: // VER_NT_WORKSTATION
		return wintls.EditionClient, nil
	case 2, 3: // VER_NT_DOMAIN_CONTROLLER, VER_NT_SERVER
		return wintls.EditionServer, nil
	}
	return wintls.EditionUnknown, nil
}

// Is64BitOS reports whether Windows is 64-bit (so 32-bit programs read the
// Wow6432Node keys).
func (LocalSystem) Is64BitOS() (bool, error) {
	switch runtime.GOARCH {
	case "amd64", "arm64":
		return true, nil
	}
	var wow bool
	if err := windows.IsWow64Process(windows.CurrentProcess(), &wow); err != nil {
		return false, fmt.Errorf("IsWow64Process: %w", err)
	}
	return wow, nil
}

// LocalRegistry reads this machine's registry in the 64-bit view (a 32-bit
// etlscope would otherwise be redirected to Wow6432Node). A path under
// SOFTWARE\Wow6432Node\ is read as the 32-bit view of the path without
// it (KEY_WOW64_32KEY), the way Microsoft asks programs to reach the keys
// 32-bit programs see — the same keys `reg query … /reg:32` shows.
type LocalRegistry struct{}

const wowPrefix = `SOFTWARE\Wow6432Node\`

// DWORD reads a REG_DWORD value; ok is false when the key or value does not
// exist.
func (LocalRegistry) DWORD(root, path, name string) (uint32, bool, error) {
	var k registry.Key
	switch root {
	case "HKLM":
		k = registry.LOCAL_MACHINE
	case "HKCU":
		k = registry.CURRENT_USER
	default:
		return 0, false, fmt.Errorf("registry root %q", root)
	}
	view, sub := uint32(registry.WOW64_64KEY), path
	if len(path) > len(wowPrefix) && strings.EqualFold(path[:len(wowPrefix)], wowPrefix) {
		view, sub = registry.WOW64_32KEY, `SOFTWARE\`+path[len(wowPrefix):]
	}
	key, err := registry.OpenKey(k, sub, registry.QUERY_VALUE|view)
	if err != nil {
		if errors.Is(err, registry.ErrNotExist) {
			return 0, false, nil
		}
		return 0, false, fmt.Errorf(`open %s\%s: %w`, root, path, err)
	}
	defer key.Close()
	v, typ, err := key.GetIntegerValue(name)
	switch {
	case errors.Is(err, registry.ErrNotExist):
		return 0, false, nil
	case errors.Is(err, registry.ErrUnexpectedType):
		return 0, false, fmt.Errorf(`%s\%s\%s: %w`, root, path, name, ErrNotDWORD)
	case err != nil:
		return 0, false, fmt.Errorf(`read %s\%s\%s: %w`, root, path, name, err)
	case typ != registry.DWORD:
		return 0, false, fmt.Errorf(`%s\%s\%s: %w (REG_QWORD)`, root, path, name, ErrNotDWORD)
	}
	return uint32(v), true, nil
}
