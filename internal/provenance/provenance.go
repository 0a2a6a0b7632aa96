// Package provenance is the record every file shark writes carries of its
// origin, and shark's version. It stands below both the application layer
// (compress) and the model wing (ctr), so that each writes the same keys
// without handing the other a callback.
package provenance

import (
	"os"
	"strconv"
	"time"
)

// Version is shark's version, the same in every face: build.sh sets it
// with -ldflags "-X shark/internal/provenance.Version=...".
var Version = "dev"

// Origin is where a written file comes from.
type Origin struct {
	Step  string // what made it: quantize, train, prune, compress, demo
	Input string // the base name of the file it was made from
	Data  string // the base name of the data file a model was trained or scored on
	// Created is the creation time in Unix seconds: 0 means
	// SOURCE_DATE_EPOCH when it is set, else now.
	Created int64
}

// Record is the provenance of a file of origin o, built here only, so
// that every face writes the same keys.
func Record(o Origin) map[string]string {
	p := map[string]string{"tool": "shark " + Version, "step": o.Step, "created": CreatedTime(o.Created).Format(time.RFC3339)}
	if o.Input != "" {
		p["input"] = o.Input
	}
	if o.Data != "" {
		p["data"] = o.Data
	}
	return p
}

// CreatedTime is the creation time to record: sec if set, else
// SOURCE_DATE_EPOCH (the reproducible-builds convention, so that two runs
// of one command write the same bytes), else now; in UTC.
func CreatedTime(sec int64) time.Time {
	if sec == 0 {
		if v, err := strconv.ParseInt(os.Getenv("SOURCE_DATE_EPOCH"), 10, 64); err == nil {
			sec = v
		}
	}
	if sec == 0 {
		return time.Now().UTC().Truncate(time.Second)
	}
	return time.Unix(sec, 0).UTC()
}
