//go:build windows && cgo

package deps

import _ "github.com/Velocidex/etw"
