package originimport

import (
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// One reading, converted (mapping.go lists every table; readings.go streams them).

// ---------------------------------------------------------------------------
// sensor_readings (the per-row conversion; readings.go streams them)
// ---------------------------------------------------------------------------

// readingColumns are the columns a reading is copied into (the rest keep
// their defaults: id from the sequence).
var readingColumns = []string{"organization_id", "unit_id", "sensor_id", "recorded_at", "received_at",
	"temperature_c", "humidity", "battery_percent", "rssi", "source", "raw"}

// originReading is one origin sensor_readings row, as readings.go reads it.
type originReading struct {
	id, device pgtype.UUID
	temp       pgtype.Float8
	humidity   pgtype.Float8
	battery    pgtype.Int4
	signal     pgtype.Int4
	raw        pgtype.Text
	recorded   time.Time
	received   pgtype.Timestamptz
	source     pgtype.Text
}

// fields are the scan targets of originReadingColumns.
func (o *originReading) fields() []any {
	return []any{&o.id, &o.device, &o.temp, &o.humidity, &o.battery, &o.signal, &o.raw, &o.recorded, &o.received, &o.source}
}

// originReadingColumns is what is read of each origin reading, in
// originReading's order (a column the origin lacks reads as NULL).
var originReadingColumns = []string{"id", "device_id", "temperature::float8", "humidity::float8", "battery", "signal_strength",
	"raw_payload", "recorded_at", "received_at", "source"}

// readingRow is one of our readings, in readingColumns' order.
type readingRow struct {
	unit, sensor       pgtype.UUID
	recorded, received time.Time
	temp, humidity     pgtype.Float8
	battery, rssi      pgtype.Int2
	source             string
	raw                []byte
}

// unitStream converts one unit's readings in time order: the temperature
// rule's memory (series) and the dedupe of a sensor's repeated reading.
type unitStream struct {
	unit   pgtype.UUID
	norm   *Normaliser
	lastAt time.Time
	seen   map[[16]byte]bool
	series map[seriesKey]string
	stats  *copyStats
	// window is [first, last) of the months we keep partitions for: a
	// reading outside lands in sensor_readings_default
	window [2]time.Time
	// retention is the first month the plan keeps raw readings
	retention time.Time
}

type seriesKey struct {
	device [16]byte
	source string
}

// convert maps one origin reading to ours. keep is false for an exact
// duplicate (the same sensor at the same instant: the origin stored TTN's
// redeliveries again; our unique index keeps one).
func (s *unitStream) convert(o *originReading, sensors map[[16]byte]bool) (r readingRow, keep bool) {
	r = readingRow{unit: s.unit, recorded: o.recorded, received: o.recorded, source: readingSource(o.source.String, o.device.Valid)}
	if o.received.Valid {
		r.received = o.received.Time
	}
	if o.device.Valid && sensors[o.device.Bytes] {
		r.sensor = o.device
		if s.repeated(o) {
			s.stats.Duplicates++
			return r, false
		}
	} else if o.device.Valid {
		s.stats.Foreign++
	}
	if o.recorded.Before(s.window[0]) || !o.recorded.Before(s.window[1]) {
		s.stats.Outside++
	}
	if o.recorded.Before(s.retention) {
		s.stats.Retired++
	}
	if o.humidity.Valid && o.humidity.Float64 >= 0 && o.humidity.Float64 <= 100 {
		r.humidity = pgtype.Float8{Float64: round2(o.humidity.Float64), Valid: true}
	}
	if o.battery.Valid && o.battery.Int32 >= 0 && o.battery.Int32 <= 100 {
		r.battery = pgtype.Int2{Int16: int16(o.battery.Int32), Valid: true}
	}
	if o.signal.Valid && o.signal.Int32 >= math.MinInt16 && o.signal.Int32 <= math.MaxInt16 {
		r.rssi = pgtype.Int2{Int16: int16(o.signal.Int32), Valid: true}
	}
	if !o.temp.Valid {
		return r, true
	}
	n := s.norm.Normalise(s.seriesOf(o, r.source), o.recorded, o.temp.Float64, o.raw.String)
	s.stats.Scales[verdict{n.Scale, n.Evidence}]++
	if n.C != nil {
		r.temp = pgtype.Float8{Float64: *n.C, Valid: true}
	}
	if !n.Trivial() {
		// what the origin held and what the rule made of it, for audit
		r.raw = fmt.Appendf(nil, `{"origin":{"id":%q,"temperature":%s,"scale":%q,"evidence":%q}}`,
			uuidString(o.id), strconv.FormatFloat(o.temp.Float64, 'f', -1, 64), n.Scale, n.Evidence)
	}
	return r, true
}

// repeated reports whether the sensor's reading at this instant was seen
// already (and remembers it).
func (s *unitStream) repeated(o *originReading) bool {
	if o.recorded.Equal(s.lastAt) {
		if s.seen[o.device.Bytes] {
			return true
		}
	} else {
		s.lastAt = o.recorded
		clear(s.seen)
	}
	s.seen[o.device.Bytes] = true
	return false
}

// seriesOf names the series of a reading for the temperature rule: its
// device and source.
func (s *unitStream) seriesOf(o *originReading, source string) string {
	k := seriesKey{o.device.Bytes, source}
	key, ok := s.series[k]
	if !ok {
		key = hex.EncodeToString(k.device[:]) + "|" + k.source
		s.series[k] = key
	}
	return key
}

// warm feeds a reading copied by an earlier run to the stream's memory (the
// temperature rule's anchors, the dedupe of its instant) without counting
// or copying it.
func (s *unitStream) warm(o *originReading, sensors map[[16]byte]bool) {
	if o.device.Valid && sensors[o.device.Bytes] {
		s.repeated(o)
	}
	if o.temp.Valid {
		s.norm.Normalise(s.seriesOf(o, readingSource(o.source.String, o.device.Valid)), o.recorded, o.temp.Float64, o.raw.String)
	}
}

// readingSource maps the origin's source column to ours (import had no
// equivalent; an unknown or absent one is ttn with a device, api without).
func readingSource(origin string, hasDevice bool) string {
	switch origin {
	case "ttn", "manual", "api":
		return origin
	case "import":
		return "api"
	}
	if hasDevice {
		return "ttn"
	}
	return "api"
}
