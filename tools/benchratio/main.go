// Command benchratio reads `go test -bench` output on stdin, passes it
// through, and then prints every benchmark beside the baseline measured in
// the same run, as a ratio.
//
// A baseline is a sub-benchmark whose last name element starts with
// "baseline" (BenchmarkX/baseline-iocopy); every other sub-benchmark of the
// same parent (BenchmarkX/catalyst) is compared with it. Time is compared as
// candidate/baseline (1.30× = 30% slower); throughput (MB/s, or any custom
// unit ending in "/s") as candidate/baseline too (0.70× = 70% of the
// baseline's rate); so are latencies reported in a custom unit ending in
// "-ms" (p99-ms: 2.00× = twice the baseline's latency).
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
)

type result struct {
	name    string
	metrics map[string]float64 // unit → value
}

// A benchmark line: name, iterations, then value/unit pairs.
var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

func main() {
	results, err := scan(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchratio:", err)
		os.Exit(1)
	}
	report(os.Stdout, results)
}

func scan(r io.Reader, echo io.Writer) ([]result, error) {
	var out []result
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(echo, line)
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		res := result{name: m[1], metrics: map[string]float64{}}
		fields := strings.Fields(m[2])
		for i := 0; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			res.metrics[fields[i+1]] = v
		}
		out = append(out, res)
	}
	return out, sc.Err()
}

func report(w io.Writer, results []result) {
	baselines := map[string]result{}
	for _, r := range results {
		parent, leaf := split(r.name)
		if strings.HasPrefix(leaf, "baseline") {
			baselines[parent] = r
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "=== ratios against the baseline of the same run ===")
	printed := 0
	for _, r := range results {
		parent, leaf := split(r.name)
		base, ok := baselines[parent]
		if !ok || strings.HasPrefix(leaf, "baseline") {
			continue
		}
		_, baseLeaf := split(base.name)
		for unit, v := range r.metrics {
			bv, ok := base.metrics[unit]
			if !ok || bv == 0 || !compared(unit) {
				continue
			}
			rate := ""
			if unit == "ns/op" {
				rate = fmt.Sprintf("  (%.4g/s vs %.4g/s)", 1e9/v, 1e9/bv)
			}
			fmt.Fprintf(w, "%-60s %14.4g %-10s vs %-22s %14.4g  ratio %.2f×%s\n",
				r.name, v, unit, baseLeaf, bv, v/bv, rate)
			printed++
		}
	}
	if printed == 0 {
		fmt.Fprintln(w, "(no benchmark had a baseline)")
	}
}

// compared says which units get a ratio: time, rates and latencies, not
// allocation counts.
func compared(unit string) bool {
	return unit == "ns/op" || strings.HasSuffix(unit, "/s") || strings.HasSuffix(unit, "-ms")
}

func split(name string) (parent, leaf string) {
	i := strings.LastIndex(name, "/")
	if i < 0 {
		return name, ""
	}
	return name[:i], name[i+1:]
}
