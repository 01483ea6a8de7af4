// Package lorawan is the seam between LoRaWAN networks and the rest of FrostGuard: the neutral
// event a network delivers (an uplink to judge and persist, a join, a device status, an
// acknowledgement...) and the shape every network package shares to produce it.
//
// One package per network (shared/lorawan/ttn, shared/lorawan/chirpstack, ...), in the manner of
// go-playground/webhooks: each has a Parser with the same three methods, turns a delivery into an
// Event, and knows nothing of organisations, sensors or the database. Everything after the Event
// (authentication against the stored secret, dedupe, decoding, the alert engine, persistence) is
// one path for every network. docs/ARCHITECTURE.md "Networks and decoders" says how to add one.
//
// The package is pure: no I/O, no clock, no database.
package lorawan

import (
	"encoding/json"
	"strconv"
	"time"
)

// Network names a kind of LoRaWAN network server; it is the kind of an organisation's network
// connection.
type Network string

const (
	NetworkTTN        Network = "ttn"        // The Things Stack (v3) webhooks
	NetworkChirpStack Network = "chirpstack" // ChirpStack v4 HTTP integration
)

// Kind is what a delivery means to us. Networks have more message types than we act on; those
// map to KindOther and are acknowledged without effect (NetworkKind keeps their own name).
type Kind string

const (
	KindUplink Kind = "uplink" // an application uplink: a reading to judge and store
	KindJoin   Kind = "join"   // the device (re)joined the network: it is alive
	KindStatus Kind = "status" // a device status answer (LoRaWAN DevStatusAns): battery, link margin
	KindAck    Kind = "ack"    // a confirmed downlink was acknowledged (or not) by the device
	KindOther  Kind = "other"  // anything else (downlink bookkeeping, logs, locations...): acknowledged
)

// Event is one delivery of a network, parsed. Exactly one of Uplink, Status and Ack is set for
// the kinds that carry one (KindUplink, KindStatus, KindAck); the others carry none.
type Event struct {
	Network Network
	Kind    Kind
	// NetworkKind is the network's own name for the message ("uplink", "join_accept",
	// "downlink_ack" for The Things Stack; "up", "join", "txack"... for ChirpStack). It namespaces
	// the dedupe key of everything but uplinks.
	NetworkKind string
	Device      Device
	// MessageID is the network's id of this message, the same on every retry of it (TTN: the
	// first "as:up:" correlation id; ChirpStack: deduplicationId). "" when the network gave none.
	MessageID string
	// ReceivedAt is when the network handled the message (TTN: the top-level received_at;
	// ChirpStack: time), UTC. Never zero for the kinds we act on; it may be for a message type
	// newer than its parser, which is only acknowledged.
	ReceivedAt time.Time

	Uplink *Uplink
	Status *Status
	Ack    *Ack
}

// Device identifies the end device a delivery is about, in the network's terms.
type Device struct {
	// DevEUI is 16 upper-case hex digits; "" when the network did not send a valid EUI-64.
	DevEUI string
	// ID is the network's name for the device (TTN device_id, ChirpStack deviceName).
	ID string
	// ApplicationID is the network's application (TTN application_id, ChirpStack applicationId).
	ApplicationID string
	// TenantID is the ChirpStack tenant (UUID); "" on networks without tenants.
	TenantID string
	// Profile is the network's device profile name (ChirpStack deviceProfileName), "" if none.
	Profile string
	// Repository is the device's entry in The Things Network's device repository when the network
	// sends it (TTN uplink_message.version_ids); empty otherwise.
	Repository RepositoryIDs
}

// Name is how the device is shown before someone claims it: the network's name, else the EUI.
func (d Device) Name() string {
	if d.ID != "" {
		return d.ID
	}
	return d.DevEUI
}

// RepositoryIDs identify a model in The Things Network's device repository
// (TheThingsNetwork/lorawan-devices: vendor/<brand_id>/<model_id>.yaml).
type RepositoryIDs struct {
	BrandID         string // "dragino", "milesight-iot"...
	ModelID         string // "lht65n", "em300-th"...
	FirmwareVersion string
	HardwareVersion string
}

// Uplink is an application uplink: what a sensor measured, and how it was heard.
type Uplink struct {
	FPort int   // 1..223 for application data; 0 when absent (MAC-only frames)
	FCnt  int64 // the uplink frame counter; 0 when absent
	// Payload is the decrypted FRMPayload (may be empty).
	Payload []byte
	// Decoded is the network's own decoding of Payload (TTN decoded_payload, ChirpStack object)
	// when the network ran a codec: a JSON object, nil when absent or not an object.
	Decoded json.RawMessage
	// ReceivedAt dates the reading (TTN uplink_message.received_at, else the message's; ChirpStack
	// time, which it derives from the gateways' GPS or receive time), UTC.
	ReceivedAt time.Time
	Confirmed  bool
	Radio      Radio
	// Raw is the network's uplink as delivered, kept for audit storage.
	Raw json.RawMessage
}

// Radio is how the uplink was heard: the best gateway's signal, and how many heard it.
type Radio struct {
	// RSSI of the best gateway (highest RSSI, SNR as tie-break), whole dBm; nil when none reported.
	RSSI *int
	SNR  *float64 // that gateway's SNR in dB
	// GatewayCount is the number of distinct gateways that heard the uplink.
	GatewayCount    int
	SpreadingFactor *int  // LoRa spreading factor 5..12; nil for other modulations or when absent
	FrequencyHz     int64 // uplink frequency; 0 when absent
}

// Status is a device status answer (battery and link margin), sent by the network server.
type Status struct {
	// BatteryPercent is 0..100; nil when the device cannot measure it or runs on external power.
	BatteryPercent *float64
	ExternalPower  bool
	// MarginDB is the demodulation margin of the last status request (dB), nil when absent.
	MarginDB *int
}

// Ack says whether the device acknowledged a confirmed downlink.
type Ack struct {
	Acknowledged bool
	FCntDown     int64
}

// DedupeKey identifies a delivery across the network's retries. It is the MessageID, else
// DevEUI (else the device ID) + ":" + FCnt + ":" + ReceivedAt in RFC 3339 with nanoseconds.
// Anything but an uplink is prefixed with its NetworkKind and "/": networks copy the triggering
// uplink's id into joins and downlink events, which must not collide with the uplink's key.
// Keys are unique within one network connection; the store namespaces them by connection.
func (e Event) DedupeKey() string {
	key := e.MessageID
	if key == "" {
		var fcnt int64
		if e.Uplink != nil {
			fcnt = e.Uplink.FCnt
		}
		dev := e.Device.DevEUI
		if dev == "" {
			dev = e.Device.ID
		}
		key = dev + ":" + strconv.FormatInt(fcnt, 10) + ":" + e.ReceivedAt.UTC().Format(time.RFC3339Nano)
	}
	if e.Kind != KindUplink {
		key = e.NetworkKind + "/" + key
	}
	return key
}

// ReadingAt is the time a reading of this event is dated: the uplink's time when there is one,
// else the event's.
func (e Event) ReadingAt() time.Time {
	if e.Uplink != nil && !e.Uplink.ReceivedAt.IsZero() {
		return e.Uplink.ReceivedAt
	}
	return e.ReceivedAt
}
