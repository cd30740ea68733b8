package etl_test

import (
	"maps"
	"testing"

	"github.com/etlscope/etlscope/etl"
)

// TestProviderCounts: runs of one provider and interleaved providers are
// counted alike, and Map includes the run in progress.
func TestProviderCounts(t *testing.T) {
	a, b := etl.MustParseGUID("50b3e73c-9370-461d-bb9f-26f32d68887d"), etl.MustParseGUID("2ed6006e-4729-4609-b423-3ee7bcd678ef")
	var zero etl.GUID
	for _, tc := range []struct {
		name string
		seq  []etl.GUID
		want map[etl.GUID]int
	}{
		{"none", nil, map[etl.GUID]int{}},
		{"one run", []etl.GUID{a, a, a}, map[etl.GUID]int{a: 3}},
		{"interleaved", []etl.GUID{a, b, a, b, b, a}, map[etl.GUID]int{a: 3, b: 3}},
		{"zero GUID first", []etl.GUID{zero, zero, a}, map[etl.GUID]int{zero: 2, a: 1}},
	} {
		var c etl.ProviderCounts
		for _, g := range tc.seq {
			c.Add(g)
		}
		if got := c.Map(); !maps.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
