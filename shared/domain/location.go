package domain

import (
	"sync"
	"time"
)

var locations sync.Map // zone name -> *time.Location

// Location is the IANA zone name as a *time.Location, loaded once per
// process: the zone database is a file beside the binary (ZONEINFO), and
// reading it on every alert or report would be I/O on the hot path. An empty
// or unknown name (names are validated on write, so only a corrupted row)
// is UTC rather than an error that would block a page or a report.
func Location(name string) *time.Location {
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location)
	}
	l, err := time.LoadLocation(name)
	if err != nil || name == "" {
		l = time.UTC
	}
	locations.Store(name, l)
	return l
}
