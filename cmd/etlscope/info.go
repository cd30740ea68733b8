package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/etlscope/etlscope/etl"
	"github.com/etlscope/etlscope/etl/decode"
	"github.com/etlscope/etlscope/etl/scan"
	"github.com/etlscope/etlscope/report"
	"github.com/etlscope/etlscope/wintls"
)

type infoOptions struct {
	example bool
	output  string
	redact  bool
}

func newInfoCmd(s *streams) *cobra.Command {
	o := &infoOptions{}
	cmd := &cobra.Command{
		Use:   "info FILE.etl | --example",
		Short: "Show the trace header and how many events each provider wrote",
		Long: `info prints the logfile header (OS version and build, pointer size, CPUs, clock,
start/end time, buffer size, lost events and buffers, logger and file names, time zone)
and the number of records per provider, with the provider name where etlscope knows it.`,
		Args: traceArgs(&o.example),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInfo(cmd.Context(), o, args, s)
		},
	}
	exampleFlag(cmd, &o.example)
	cmd.Flags().StringVarP(&o.output, "output", "o", "table", "output format: "+report.FormatList())
	cmd.Flags().BoolVar(&o.redact, "redact", false, "hide user names in the log file path and the file name")
	return cmd
}

// InfoResult is the JSON document of `etlscope info --output json`.
type InfoResult struct {
	File              string               `json:"file"`
	Size              int64                `json:"size"`
	OS                OSInfo               `json:"os"`
	PointerSize       int                  `json:"pointer_size"`
	CPUs              uint32               `json:"cpus"`
	CPUSpeedMHz       uint32               `json:"cpu_speed_mhz"`
	ClockType         string               `json:"clock_type"`
	PerfFreq          int64                `json:"perf_freq"`
	StartTime         time.Time            `json:"start_time"`
	EndTime           time.Time            `json:"end_time"`
	BootTime          time.Time            `json:"boot_time"`
	BufferSize        uint32               `json:"buffer_size"`
	BuffersWritten    uint32               `json:"buffers_written"`
	EventsLost        uint32               `json:"events_lost"`
	BuffersLost       uint32               `json:"buffers_lost"`
	LogFileMode       string               `json:"log_file_mode"`
	MaximumFileSizeMB uint32               `json:"maximum_file_size_mb"`
	LoggerName        string               `json:"logger_name"`
	LogFileName       string               `json:"log_file_name"`
	TimeZone          TimeZoneInfo         `json:"time_zone"`
	Events            int                  `json:"events"`
	Buffers           int                  `json:"buffers"`
	CompressedBuffers int                  `json:"compressed_buffers"`
	SkippedBuffers    int                  `json:"skipped_buffers"`
	Integrity         report.IntegrityJSON `json:"integrity"`
	integrity         etl.Integrity
	Providers         []ProviderStat `json:"providers"`
}

// OSInfo is the Windows version that wrote the trace.
type OSInfo struct {
	Major uint8  `json:"major"`
	Minor uint8  `json:"minor"`
	Build uint32 `json:"build"`
	Name  string `json:"name"`
}

// TimeZoneInfo is the writer's time zone from the logfile header.
type TimeZoneInfo struct {
	// Name is the zone in words: the Windows zone name and IANA zone
	// when etlscope knows them, else the offset ("UTC+01:00"); never a raw
	// "@tzres.dll,-N" reference.
	Name         string `json:"name"`
	IANA         string `json:"iana,omitempty"`
	BiasMinutes  int32  `json:"bias_minutes"`  // UTC = local time + bias
	StandardName string `json:"standard_name"` // as the header stores it (may be "@tzres.dll,-N")
	DaylightName string `json:"daylight_name"`
}

// ProviderStat counts the records of one provider.
type ProviderStat struct {
	GUID   string `json:"guid"`
	Name   string `json:"name"`
	Events int    `json:"events"`
}

func runInfo(ctx context.Context, o *infoOptions, args []string, s *streams) error {
	format, err := report.ParseFormat(o.output)
	if err != nil {
		return usageError(err)
	}
	t, err := openInput(args, o.example, s)
	if err != nil {
		return err
	}
	defer t.Close()
	defer startProgress(s, t.File, false)()

	var counts etl.ProviderCounts
	noDecode := func(*etl.Event) bool { return false }
	opts := scan.Options{FileOrder: true, NoTimes: true, Decode: noDecode, OnIssue: issueWarner(s, t.Name)}
	res, err := scan.Run(ctx, t.File, opts, func(e *scan.Event) error {
		counts.Add(e.Provider)
		return nil
	})
	if err != nil {
		return badInput(fmt.Errorf("%s: %w", t.Name, err))
	}
	info := buildInfo(t.Name, t.File, counts.Map(), res)
	if o.redact {
		red := s.privacy().newRedactor()
		red.LearnHeader(t.File.Header())
		info.File = "NetTrace.etl (name redacted)"
		info.LogFileName = red.Text(info.LogFileName)
		info.LoggerName = red.Text(info.LoggerName)
	}
	return writeInfo(s.Out, format, info, renderOptions(s, t.Header()))
}

func timeZoneInfo(h etl.Header) TimeZoneInfo {
	tz := TimeZoneInfo{Name: zoneLabel(h), BiasMinutes: h.TimeZoneBias, StandardName: h.TimeZoneStandardName, DaylightName: h.TimeZoneDaylightName}
	if loc := traceZone(h); strings.Contains(loc.String(), "/") {
		tz.IANA = loc.String()
	}
	return tz
}

func buildInfo(path string, f *etl.File, counts map[etl.GUID]int, scanned *scan.Result) *InfoResult {
	h := f.Header()
	st := f.Stats()
	res := &InfoResult{
		File:              path,
		Size:              st.BytesRead,
		OS:                OSInfo{Major: h.OSMajor, Minor: h.OSMinor, Build: h.OSBuild, Name: wintls.Lookup(h.OSBuild, wintls.EditionUnknown).Name},
		PointerSize:       h.PointerSize,
		CPUs:              h.NumberOfProcessors,
		CPUSpeedMHz:       h.CPUSpeedMHz,
		ClockType:         clockName(h.ClockType),
		PerfFreq:          h.PerfFreq,
		StartTime:         h.StartTime.UTC(),
		EndTime:           h.EndTime.UTC(),
		BootTime:          h.BootTime.UTC(),
		BufferSize:        h.BufferSize,
		BuffersWritten:    h.BuffersWritten,
		EventsLost:        h.EventsLost,
		BuffersLost:       h.BuffersLost,
		LogFileMode:       fmt.Sprintf("%#08x", h.LogFileMode),
		MaximumFileSizeMB: h.MaximumFileSize,
		LoggerName:        h.LoggerName,
		LogFileName:       h.LogFileName,
		TimeZone:          timeZoneInfo(h),
		Events:            st.Records,
		Buffers:           st.Buffers,
		CompressedBuffers: st.CompressedBuffers,
		SkippedBuffers:    st.SkippedBuffers,
		Integrity:         report.Integrity(&scanned.Integrity),
		integrity:         scanned.Integrity,
	}
	for g, n := range counts {
		res.Providers = append(res.Providers, ProviderStat{GUID: g.String(), Name: decode.ProviderName(g), Events: n})
	}
	sort.Slice(res.Providers, func(i, j int) bool {
		a, b := res.Providers[i], res.Providers[j]
		if a.Events != b.Events {
			return a.Events > b.Events
		}
		return a.GUID < b.GUID
	})
	return res
}

func clockName(c uint32) string {
	switch c {
	case 1:
		return "QPC"
	case 2:
		return "system time"
	case 3:
		return "CPU cycle counter"
	}
	return "unknown (" + strconv.FormatUint(uint64(c), 10) + ")"
}

// writeInfo renders the header and the providers. CSV output is one
// table, the providers; the header fields come first as "# field: value"
// comment lines and the integrity note last, like every CSV of etlscope.
func writeInfo(w io.Writer, format report.Format, res *InfoResult, o report.Options) error {
	if format == report.FormatJSON {
		return writeJSON(w, res)
	}
	hdr := &report.Table{Title: "Trace header", Columns: []string{"field", "value"}}
	tf := func(t time.Time) string {
		if t.IsZero() || t.Year() < 1980 {
			return ""
		}
		return report.FormatTime(t, o.Loc)
	}
	hdr.Add("file", res.File)
	hdr.Add("os", fmt.Sprintf("%s (%d.%d build %d)", res.OS.Name, res.OS.Major, res.OS.Minor, res.OS.Build))
	hdr.Add("pointer size", strconv.Itoa(res.PointerSize))
	hdr.Add("cpus", strconv.FormatUint(uint64(res.CPUs), 10))
	hdr.Add("clock", fmt.Sprintf("%s (frequency %d Hz)", res.ClockType, res.PerfFreq))
	hdr.Add("start time", tf(res.StartTime))
	hdr.Add("end time", tf(res.EndTime))
	hdr.Add("boot time", tf(res.BootTime))
	hdr.Add("time zone", res.TimeZone.Name)
	hdr.Add("logger", res.LoggerName)
	hdr.Add("log file name", res.LogFileName)
	hdr.Add("log file mode", res.LogFileMode)
	hdr.Add("buffer size", strconv.FormatUint(uint64(res.BufferSize), 10))
	hdr.Add("buffers", fmt.Sprintf("%d read (%d compressed, %d skipped), %d written per header", res.Buffers, res.CompressedBuffers, res.SkippedBuffers, res.BuffersWritten))
	hdr.Add("events", strconv.Itoa(res.Events))
	hdr.Add("lost", fmt.Sprintf("%d events, %d buffers", res.EventsLost, res.BuffersLost))
	if format == report.FormatCSV {
		for _, r := range hdr.Rows {
			if _, err := fmt.Fprintf(w, "# %s: %s\n", r[0], strings.ReplaceAll(r[1], "\n", " ")); err != nil {
				return err
			}
		}
	} else {
		if err := hdr.RenderOpts(w, format, o); err != nil {
			return err
		}
		if format == report.FormatTable || format == report.FormatMarkdown {
			fmt.Fprintln(w)
		}
	}
	pt := &report.Table{Title: "Providers", Columns: []string{"provider", "guid", "events"},
		Shape: report.Shape{Drop: []string{"guid"}, Fixed: []string{"events"}}}
	for _, p := range res.Providers {
		pt.Add(p.Name, p.GUID, strconv.Itoa(p.Events))
	}
	if err := pt.RenderOpts(w, format, o); err != nil {
		return err
	}
	if format == report.FormatTable {
		fmt.Fprintln(w)
	}
	return report.WriteIntegrity(w, format, &res.integrity)
}
