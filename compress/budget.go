package compress

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseBudget reads a budget as every face writes it: a share of the
// tables' fp32 bytes ("30%", returned as 0.3) or a size with a unit
// ("1.5MB", "800KiB", returned in bytes). A bare number is refused: 30
// could be either.
func ParseBudget(s string) (share float64, bytes int64, err error) {
	s = strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || !(v > 0 && v <= 1000) {
			return 0, 0, fmt.Errorf("%q: want a percentage above 0, e.g. 30%%", s)
		}
		return v / 100, 0, nil
	}
	for _, u := range sizeUnits {
		if p, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
			if err != nil || !(v > 0) || v*u.mul > 1<<62 {
				return 0, 0, fmt.Errorf("%q: want a positive size, e.g. 1.5MB or 800KiB", s)
			}
			return 0, int64(v * u.mul), nil
		}
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return 0, 0, fmt.Errorf("%q has no unit: write %s%% for a share of the tables' fp32 bytes, or %sMB (%sMiB, %sB) for a size", s, s, s, s, s)
	}
	return 0, 0, fmt.Errorf("%q: want a percentage (30%%) or a size with a unit (1.5MB, 800KiB, 2GiB)", s)
}

var sizeUnits = []struct {
	suffix string
	mul    float64
}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}}
