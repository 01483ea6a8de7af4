package domain

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sensor is a registered LoRaWAN device with its last known health.
type Sensor struct {
	ID      string  `json:"id"`
	DevEUI  string  `json:"dev_eui"`
	Name    *string `json:"name"`
	Model   *string `json:"model"`
	Decoder *string `json:"decoder"`
	// Probe is which of the model's probes measures the unit (null: the model's default).
	Probe *string `json:"probe"`
	// ModelID is the sensor model registry's id of the model its decoder and model fields
	// choose (GET /api/v1/sensor-models), null when the registry does not know it.
	ModelID        *string    `json:"model_id"`
	UnitID         *string    `json:"unit_id"`
	UnitName       *string    `json:"unit_name"`
	BatteryPercent *int       `json:"battery_percent"`
	BatteryVoltage *float64   `json:"battery_voltage"`
	RSSI           *int       `json:"rssi"`
	SNR            *float64   `json:"snr"`
	LastSeenAt     *time.Time `json:"last_seen_at"`
	Online         bool       `json:"online"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`

	// CheckinIntervalSeconds is the assigned unit's check-in interval
	// (nil when unassigned): Online is derived from it.
	CheckinIntervalSeconds *int `json:"-"`
}

// Battery thresholds of a sensor model without saved settings: a sensor is
// low below this voltage or at or below this percentage.
const (
	DefaultLowBatteryVolts   = 2.5
	DefaultLowBatteryPercent = 10
	MinLowBatteryVolts       = 1.0
	MaxLowBatteryVolts       = 4.5
	MaxSensorModelLen        = 100
)

// SensorModel is a sensor model of an organisation with its battery
// thresholds: saved ones (ID set), or the defaults.
type SensorModel struct {
	ID                *string    `json:"id"`
	Model             string     `json:"model"`
	Sensors           int        `json:"sensors"` // live sensors of this model
	LowBatteryVolts   float64    `json:"low_battery_volts"`
	LowBatteryPercent int        `json:"low_battery_percent"`
	Default           bool       `json:"default"`
	UpdatedAt         *time.Time `json:"updated_at"`
}

// UnclaimedDevice is a device that uplinked through one of the
// organisation's network connections without being registered as a sensor.
// The ttn_ JSON names are the contract's from before other networks: they
// hold the network's device name and the connection of any network.
type UnclaimedDevice struct {
	ID              string    `json:"id"`
	DevEUI          string    `json:"dev_eui"`
	TTNDeviceID     *string   `json:"ttn_device_id"`     // the network's name of the device
	TTNConnectionID string    `json:"ttn_connection_id"` // the connection that heard it
	Network         string    `json:"network"`           // its kind: ttn, chirpstack
	FirstSeenAt     time.Time `json:"first_seen_at"`
	LastSeenAt      time.Time `json:"last_seen_at"`
	UplinkCount     int64     `json:"uplink_count"`
}

// ErrDevEUI is returned by NormalizeDevEUI for anything that is not a DevEUI.
var ErrDevEUI = errors.New("must be 16 hexadecimal digits (separators -, : and spaces are allowed)")

// NormalizeDevEUI returns the canonical form of a LoRaWAN DevEUI: 16 upper
// case hex digits. People copy DevEUIs from labels and consoles in every
// notation ("70-b3-d5...", "70:B3:D5...", "70 B3 D5 ..."), so separators and
// lower case are accepted; the database stores one form only, which is what
// makes the global uniqueness index meaningful.
func NormalizeDevEUI(s string) (string, error) {
	var b strings.Builder
	b.Grow(16)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-' || c == ':' || c == ' ':
			continue
		case c >= '0' && c <= '9', c >= 'A' && c <= 'F':
		case c >= 'a' && c <= 'f':
			c -= 'a' - 'A'
		default:
			return "", ErrDevEUI
		}
		if b.Len() == 16 {
			return "", ErrDevEUI
		}
		b.WriteByte(c)
	}
	if b.Len() != 16 {
		return "", ErrDevEUI
	}
	return b.String(), nil
}

// MayRegisterSensor reports whether an organisation whose plan allows limit
// sensors, and which has registered ones, may register one more. Every
// registration counts, installed in a unit or on a shelf: otherwise a trial
// could hold any number of DevEUIs.
func MayRegisterSensor(registered, limit int) bool {
	return registered+1 <= limit
}

// SensorLimitMessage explains a refused registration to the customer.
func SensorLimitMessage(registered, limit int, plan string) string {
	return fmt.Sprintf("the %s plan allows %d sensors and %d are registered: remove one, or upgrade the plan",
		plan, limit, registered)
}

// unassignedOnlineWindow is how recent an unassigned sensor's last uplink
// must be for it to count as online: it has no unit to say how often it
// should report.
const unassignedOnlineWindow = 15 * time.Minute

// SensorOnline reports whether a sensor last seen at lastSeen is online at
// now: seen within three check-in intervals of its unit (a single lost
// uplink is normal on LoRaWAN), or within 15 minutes when unassigned.
func SensorOnline(lastSeen *time.Time, checkinIntervalSeconds *int, now time.Time) bool {
	if lastSeen == nil {
		return false
	}
	window := unassignedOnlineWindow
	if checkinIntervalSeconds != nil && *checkinIntervalSeconds > 0 {
		window = 3 * time.Duration(*checkinIntervalSeconds) * time.Second
	}
	return now.Sub(*lastSeen) <= window
}
