package domain

import (
	"time"
)

// Reading is one stored sensor reading, as charts and tables show it.
type Reading struct {
	// ID is the position of the reading for pagination only.
	ID             int64     `json:"-"`
	RecordedAt     time.Time `json:"recorded_at"`
	SensorID       *string   `json:"sensor_id"`
	TemperatureC   *float64  `json:"temperature_c"`
	Humidity       *float64  `json:"humidity"`
	BatteryPercent *int      `json:"battery_percent"`
	BatteryVolts   *float64  `json:"battery_volts"`
	DoorOpen       *bool     `json:"door_open"`
	RSSI           *int      `json:"rssi"`
	SNR            *float64  `json:"snr"`
	Source         string    `json:"source"`
}

// ReadingBucket aggregates a unit's temperature readings over one bucket.
// Readings without a temperature (door-only payloads) are not counted.
type ReadingBucket struct {
	BucketStart time.Time `json:"bucket_start"`
	MinC        float64   `json:"min_c"`
	AvgC        float64   `json:"avg_c"`
	MaxC        float64   `json:"max_c"`
	Count       int       `json:"count"`
}

// LatestReading is a unit's newest processed reading, from the unit row.
type LatestReading struct {
	UnitID        string     `json:"unit_id"`
	UnitName      string     `json:"unit_name"`
	SiteID        string     `json:"site_id"`
	AreaID        string     `json:"area_id"`
	Status        string     `json:"status"`
	LastReadingAt *time.Time `json:"last_reading_at"`
	LastTempC     *float64   `json:"last_temp_c"`
	DoorOpen      bool       `json:"door_open"`
	// CreatedAt orders the list (cursor); not part of the JSON.
	CreatedAt time.Time `json:"-"`
}

// ReadingBucketSizes are the bucket widths the readings API offers, by name.
var ReadingBucketSizes = map[string]time.Duration{
	"5m": 5 * time.Minute,
	"1h": time.Hour,
	"1d": 24 * time.Hour,
}

// BucketOrigin aligns 5-minute buckets (PostgreSQL date_bin's origin; hours
// and days follow the site's clock instead): a bucket of
// width w starts at BucketOrigin + k*w, so the same hour or day always has
// the same bucket whatever range is asked for.
var BucketOrigin = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// BucketCount is how many buckets of width w the half-open range [from, to)
// touches, counting partial buckets at either end. It bounds the size of a
// bucketed answer before the query runs.
func BucketCount(from, to time.Time, w time.Duration) int64 {
	if w <= 0 || !from.Before(to) {
		return 0
	}
	first := binIndex(from, w)
	last := binIndex(to.Add(-time.Nanosecond), w)
	return last - first + 1
}

// binIndex is the index of the bucket holding t (floor division, also
// before the origin).
func binIndex(t time.Time, w time.Duration) int64 {
	// Seconds, not nanoseconds: time.Duration overflows past ~292 years.
	d := t.Unix() - BucketOrigin.Unix()
	ws := int64(w / time.Second)
	q := d / ws
	if d%ws < 0 {
		q--
	}
	return q
}
