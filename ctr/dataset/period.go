package dataset

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParsePeriod reads a period column's value: a whole number (a day, week
// or epoch index as the logs keep it) or a date, 2026-11-30, which counts
// in days since 1970-01-01 so that consecutive days are consecutive
// periods.
func ParsePeriod(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v, nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, fmt.Errorf("%q is neither a whole number nor a date (2006-01-02)", s)
	}
	return d.Unix() / 86400, nil
}
