package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/report"
)

// termWidth is the width terminal tables fit in: the terminal's when the
// output is one, else $COLUMNS, else report.DefaultWidth (80).
func termWidth(s *streams) int {
	if f, ok := s.Out.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
			return w
		}
	}
	if n, err := strconv.Atoi(strings.TrimSpace(os.Getenv("COLUMNS"))); err == nil && n > 0 {
		return n
	}
	return report.DefaultWidth
}

// renderOptions are the report options of a command that read trace h:
// the width, --wide and, with --local, the trace's time zone.
func renderOptions(s *streams, h etl.Header) report.Options {
	o := report.Options{Width: termWidth(s), Wide: s.ui.wide}
	if s.ui.local {
		o.Loc = traceZone(h)
	}
	return o
}

// traceZone is the time zone of the machine that wrote the trace, from the
// logfile header: the IANA zone when the Windows zone name (or its tzres.dll
// MUI reference) is a common one etlscope knows, else a fixed zone from the
// header's bias named like "UTC+01:00". It never shows a raw "@tzres.dll"
// reference.
func traceZone(h etl.Header) *time.Location {
	for _, name := range []string{h.TimeZoneStandardName, h.TimeZoneDaylightName} {
		if z, ok := windowsZone(name); ok {
			if loc, err := time.LoadLocation(z.iana); err == nil {
				return loc
			}
		}
	}
	// Windows bias: UTC = local time + bias (minutes).
	off := -int(h.TimeZoneBias) * 60
	name := "UTC"
	if off != 0 {
		sign, m := "+", off/60
		if m < 0 {
			sign, m = "-", -m
		}
		name = fmt.Sprintf("UTC%s%02d:%02d", sign, m/60, m%60)
	}
	if z, ok := windowsZone(h.TimeZoneStandardName); ok {
		name = z.windows
	} else if n := h.TimeZoneStandardName; n != "" && !strings.HasPrefix(n, "@") {
		name = n
	}
	return time.FixedZone(name, off)
}

// winZone is a Windows time zone: its registry key name and IANA zone.
type winZone struct{ windows, iana string }

// windowsZones are common Windows time zones by the number of their display
// string in tzres.dll: each zone has three resources, display name (N),
// daylight name (N+1) and standard name (N+2), and the header stores
// "@tzres.dll,-(N+2)" and "@tzres.dll,-(N+1)" on systems that use MUI names
// (the TimeZoneInformation registry values of a Pacific machine read
// StandardName "@tzres.dll,-212", DaylightName "@tzres.dll,-211"). IANA names follow the
// CLDR windowsZones mapping of the "001" territory.
var windowsZones = map[int]winZone{
	80:  {"Atlantic Standard Time", "America/Halifax"},
	110: {"Eastern Standard Time", "America/New_York"},
	120: {"SA Pacific Standard Time", "America/Bogota"},
	160: {"Central Standard Time", "America/Chicago"},
	170: {"Central Standard Time (Mexico)", "America/Mexico_City"},
	190: {"Mountain Standard Time", "America/Denver"},
	200: {"US Mountain Standard Time", "America/Phoenix"},
	210: {"Pacific Standard Time", "America/Los_Angeles"},
	220: {"Alaskan Standard Time", "America/Anchorage"},
	230: {"Hawaiian Standard Time", "Pacific/Honolulu"},
	260: {"GMT Standard Time", "Europe/London"},
	270: {"Greenwich Standard Time", "Atlantic/Reykjavik"},
	280: {"Central Europe Standard Time", "Europe/Budapest"},
	290: {"Central European Standard Time", "Europe/Warsaw"},
	300: {"Romance Standard Time", "Europe/Paris"},
	320: {"W. Europe Standard Time", "Europe/Berlin"},
	350: {"FLE Standard Time", "Europe/Kiev"},
	360: {"GTB Standard Time", "Europe/Bucharest"},
	380: {"South Africa Standard Time", "Africa/Johannesburg"},
	390: {"Arab Standard Time", "Asia/Riyadh"},
	420: {"Russian Standard Time", "Europe/Moscow"},
	440: {"Arabian Standard Time", "Asia/Dubai"},
	490: {"India Standard Time", "Asia/Calcutta"},
	560: {"SE Asia Standard Time", "Asia/Bangkok"},
	570: {"China Standard Time", "Asia/Shanghai"},
	600: {"Singapore Standard Time", "Asia/Singapore"},
	630: {"Tokyo Standard Time", "Asia/Tokyo"},
	670: {"AUS Eastern Standard Time", "Australia/Sydney"},
	740: {"New Zealand Standard Time", "Pacific/Auckland"},
	930: {"UTC", "Etc/UTC"},
}

// windowsZone resolves a header time zone name: "@tzres.dll,-112", or the
// English standard or daylight name ("Eastern Standard Time", "Eastern
// Daylight Time", "Coordinated Universal Time").
func windowsZone(name string) (winZone, bool) {
	name = strings.TrimSpace(name)
	if rest, ok := strings.CutPrefix(strings.ToLower(name), "@tzres.dll,-"); ok {
		n, err := strconv.Atoi(rest)
		if err != nil {
			return winZone{}, false
		}
		for base := n; base >= n-2; base-- {
			if z, ok := windowsZones[base]; ok {
				return z, true
			}
		}
		return winZone{}, false
	}
	if name == "Coordinated Universal Time" {
		return windowsZones[930], true
	}
	for _, z := range windowsZones {
		if strings.EqualFold(name, z.windows) || strings.EqualFold(name, strings.Replace(z.windows, "Standard", "Daylight", 1)) {
			return z, true
		}
	}
	return winZone{}, false
}

// zoneLabel names the trace's time zone for info: the Windows name and
// the IANA zone, or the bias; never a raw MUI reference.
func zoneLabel(h etl.Header) string {
	loc := traceZone(h)
	z, known := windowsZone(h.TimeZoneStandardName)
	if !known {
		z, known = windowsZone(h.TimeZoneDaylightName)
	}
	bias := fmt.Sprintf("bias %d min", h.TimeZoneBias)
	switch {
	case known && loc.String() == z.iana:
		return fmt.Sprintf("%s (%s, %s)", z.windows, z.iana, bias)
	case known:
		return fmt.Sprintf("%s (%s)", z.windows, bias)
	}
	return fmt.Sprintf("%s (%s)", loc.String(), bias)
}
