// Package trace is etlscope's Windows side. One concept per file:
//
//   - capture.go: the netsh sequence Microsoft's HCW article describes —
//     WinHTTP tracing on (best effort), netsh trace start
//     scenario=InternetClient, reproduce, netsh trace stop — leaving the
//     machine as it found it on every path: errors, timeouts, Ctrl-C and
//     console close, logoff or shutdown (wait.go, progress.go);
//   - netsh.go: what netsh prints, parsed; command.go: command lines as
//     typed at a Windows prompt;
//   - doctor.go and hotfix.go: the read-only TLS configuration check;
//   - watch*.go: the live ETW view;
//   - system_*.go, exec_*.go, runner.go: the only code that touches the
//     machine, behind the System, Registry and Runner interfaces, so the
//     sequences and their failure paths are tested on any OS.
package trace
