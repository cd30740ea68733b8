// Command benchinfo times `etlscope info` on one file against `dd` reading
// the same file, on one core against two, with the second core idle and
// busy, and against the Python dissect.etl parser when it is installed. It
// is run by hand, not in CI (the numbers in the README come from it):
//
//	go build -o /tmp/etlscope ./cmd/etlscope
//	go run ./internal/tools/benchinfo -etlscope /tmp/etlscope -file ../shared/testdata/etl/kernel-dotnet-compressed-x64-win8-9200.etl
//
// -etlscope takes a comma-separated list of binaries (say, before and
// after a change) to time side by side.
//
// Each case runs -n times, the cases interleaved round by round so that
// a noisy neighbour hurts them alike; the table shows the fastest and the
// median run and the ratios of the fastest runs. The file should sit in
// the page cache (the first round is a warm-up and is not counted).
//
// On a shared machine other jobs make every run slower; on Linux, as root,
// giving the benchmark's session priority keeps the numbers steady:
//
//	setsid sh -c 'echo -20 > /proc/self/autogroup; exec nice -n -20 benchinfo ...'
//
// "busy" cases run a spinning process pinned to the last CPU with taskset
// (when taskset exists; otherwise unpinned), so one core is taken by
// something else while etlscope runs.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// pyScript reads every record with dissect.etl and counts them per
// provider, the work `etlscope info` does.
const pyScript = `
import collections, sys
from dissect.etl import ETL
with open(sys.argv[1], "rb") as fh:
    counts = collections.Counter()
    for rec in ETL(fh):
        try:
            counts[rec.header.provider_id] += 1
        except Exception:
            counts[None] += 1
print(sum(counts.values()), "records")
`

type benchCase struct {
	name  string
	busy  bool
	cmd   func() *exec.Cmd
	times []time.Duration
}

func main() {
	etlscope := flag.String("etlscope", "", "etlscope binaries to time, comma-separated (required)")
	file := flag.String("file", "", "ETL file (required)")
	n := flag.Int("n", 15, "timed runs per case")
	spin := flag.Bool("spin", false, "internal: spin until killed")
	flag.Parse()
	if *spin {
		for {
		}
	}
	if *etlscope == "" || *file == "" {
		fmt.Fprintln(os.Stderr, "benchinfo: -etlscope and -file are required")
		os.Exit(1)
	}
	info := func(bin, procs string) func() *exec.Cmd {
		return func() *exec.Cmd {
			c := exec.Command(bin, "info", "--quiet", *file)
			c.Env = append(os.Environ(), "GOMAXPROCS="+procs)
			return c
		}
	}
	cases := []*benchCase{
		{name: "dd", cmd: func() *exec.Cmd { return exec.Command("dd", "if="+*file, "of=/dev/null", "bs=1M") }},
	}
	bins := strings.Split(*etlscope, ",")
	for _, bin := range bins {
		for _, busy := range []bool{false, true} {
			for _, procs := range []string{"1", "2"} {
				cases = append(cases, &benchCase{name: infoName(bin, procs, busy), busy: busy, cmd: info(bin, procs)})
			}
		}
	}
	if exec.Command("python3", "-c", "import dissect.etl").Run() == nil {
		cases = append(cases, &benchCase{name: "python dissect.etl", cmd: func() *exec.Cmd {
			return exec.Command("python3", "-c", pyScript, *file)
		}})
	} else {
		fmt.Println("python dissect.etl: not installed (pip install dissect.etl), not measured")
	}
	for round := 0; round <= *n; round++ {
		for _, c := range cases {
			d, err := run(c)
			if err != nil {
				fmt.Fprintf(os.Stderr, "benchinfo: %s: %v\n", c.name, err)
				os.Exit(1)
			}
			if round > 0 {
				c.times = append(c.times, d)
			}
		}
	}
	fmt.Printf("%s, %d runs per case, %d CPUs (%s)\n", *file, *n, runtime.NumCPU(), runtime.GOARCH)
	best := map[string]time.Duration{}
	for _, c := range cases {
		slices.Sort(c.times)
		best[c.name] = c.times[0]
		fmt.Printf("%-48s fastest %9v  median %9v\n", c.name, c.times[0].Round(time.Microsecond), c.times[len(c.times)/2].Round(time.Microsecond))
	}
	ratio := func(a, b string) {
		if best[a] > 0 && best[b] > 0 {
			fmt.Printf("%-90s %.2f\n", a+" / "+b, best[a].Seconds()/best[b].Seconds())
		}
	}
	for _, bin := range bins {
		ratio(infoName(bin, "1", false), "dd")
		ratio(infoName(bin, "2", false), "dd")
		ratio(infoName(bin, "2", false), infoName(bin, "1", false))
		ratio(infoName(bin, "2", true), infoName(bin, "1", true))
		ratio("python dissect.etl", infoName(bin, "1", false))
		ratio("python dissect.etl", infoName(bin, "2", false))
	}
}

// infoName names an info case.
func infoName(bin, procs string, busy bool) string {
	name := filepath.Base(bin) + " info GOMAXPROCS=" + procs
	if busy {
		name += ", other core busy"
	}
	return name
}

// run times one run of c, with a spinning process on the last CPU for the
// busy cases.
func run(c *benchCase) (time.Duration, error) {
	if c.busy {
		self, err := os.Executable()
		if err != nil {
			return 0, err
		}
		var sp *exec.Cmd
		if _, err := exec.LookPath("taskset"); err == nil {
			sp = exec.Command("taskset", "-c", fmt.Sprint(runtime.NumCPU()-1), self, "-spin")
		} else {
			sp = exec.Command(self, "-spin")
		}
		if err := sp.Start(); err != nil {
			return 0, err
		}
		defer func() {
			sp.Process.Kill()
			sp.Wait()
		}()
		time.Sleep(20 * time.Millisecond) // let it start spinning
	}
	cmd := c.cmd()
	var out strings.Builder
	cmd.Stdout = &out
	cmd.Stderr = &out
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%v: %s", err, out.String())
	}
	return d, nil
}
