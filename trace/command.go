package trace

import "strings"

// Command is one program invocation of the sequence.
type Command struct {
	Name string
	Args []string
}

// String returns the command line as it would be typed at a Windows
// prompt; arguments are quoted the way Go passes them to Windows programs
// (spaces: the whole argument in double quotes).
func (c Command) String() string {
	var b strings.Builder
	b.WriteString(c.Name)
	for _, a := range c.Args {
		b.WriteByte(' ')
		b.WriteString(quoteArg(a))
	}
	return b.String()
}

// quoteArg quotes a for the Windows command-line convention
// (CommandLineToArgvW): backslashes are literal except before a double
// quote.
func quoteArg(a string) string {
	if a != "" && !strings.ContainsAny(a, " \t\"") {
		return a
	}
	var b strings.Builder
	b.WriteByte('"')
	slashes := 0
	for i := 0; i < len(a); i++ {
		switch a[i] {
		case '\\':
			slashes++
		case '"':
			b.WriteString(strings.Repeat(`\`, slashes+1))
			slashes = 0
		default:
			slashes = 0
		}
		b.WriteByte(a[i])
	}
	b.WriteString(strings.Repeat(`\`, slashes))
	b.WriteByte('"')
	return b.String()
}

func netsh(args ...string) Command { return Command{Name: "netsh", Args: args} }
