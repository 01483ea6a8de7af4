package testenv

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"
)

// ReportLatencies adds the given percentiles (0.5 -> "p50-ms") of the
// measured durations to a benchmark's result, in milliseconds: the one
// definition the benchmarks share (nearest rank, so p99 of 100 samples is
// the 99th).
func ReportLatencies(b *testing.B, took []time.Duration, percentiles ...float64) {
	b.Helper()
	if len(took) == 0 {
		return
	}
	sorted := slices.Clone(took)
	slices.Sort(sorted)
	for _, p := range percentiles {
		i := max(int(math.Ceil(p*float64(len(sorted))))-1, 0)
		b.ReportMetric(float64(sorted[i].Microseconds())/1000, fmt.Sprintf("p%g-ms", p*100))
	}
}
