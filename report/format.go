package report

import (
	"fmt"
	"strings"
)

// Format is an output format accepted by every command that prints tables
// (--output).
type Format string

// The output formats.
const (
	FormatTable    Format = "table"
	FormatJSON     Format = "json"
	FormatCSV      Format = "csv"
	FormatMarkdown Format = "markdown"
	FormatHTML     Format = "html"
)

// Formats lists every output format, in the order help texts show them.
var Formats = []Format{FormatTable, FormatJSON, FormatCSV, FormatMarkdown, FormatHTML}

// ParseFormat parses an --output value. "md" is accepted for markdown.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case FormatTable, FormatJSON, FormatCSV, FormatMarkdown, FormatHTML:
		return f, nil
	case "md":
		return FormatMarkdown, nil
	case "":
		return FormatTable, nil
	}
	return "", fmt.Errorf("unknown output format %q (want one of %s)", s, FormatList())
}

// FormatList returns the formats as "table|json|csv|markdown|html".
func FormatList() string {
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return strings.Join(names, "|")
}
