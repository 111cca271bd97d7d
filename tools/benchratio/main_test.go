package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestReportPairsBaselines(t *testing.T) {
	in := `goos: linux
BenchmarkPut/plugin-2          	     100	  20000000 ns/op	 700.00 MB/s
BenchmarkPut/baseline-iocopy-2 	     100	  10000000 ns/op	1000.00 MB/s
BenchmarkAlone-2 	     100	  10 ns/op
BenchmarkLatency/catalyst-2 	       1	  3000000000 ns/op	 3.00 p99-ms	 5.00 allocs/op
BenchmarkLatency/baseline-echo-2 	       1	  3000000000 ns/op	 1.00 p99-ms	 1.00 allocs/op
PASS
`
	var echo, out bytes.Buffer
	results, err := scan(strings.NewReader(in), &echo)
	if err != nil {
		t.Fatal(err)
	}
	if echo.String() != in {
		t.Fatal("input not passed through unchanged")
	}
	report(&out, results)
	got := out.String()
	for _, want := range []string{"BenchmarkPut/plugin", "ratio 2.00×", "ratio 0.70×", "baseline-iocopy", "p99-ms", "ratio 3.00×"} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "allocs/op") {
		t.Errorf("an allocation count got a ratio:\n%s", got)
	}
	if strings.Contains(got, "BenchmarkAlone") {
		t.Errorf("a benchmark without baseline got a ratio:\n%s", got)
	}
}
