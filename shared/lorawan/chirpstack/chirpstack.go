// Package chirpstack parses the deliveries of ChirpStack v4's HTTP integration into lorawan
// Events. It is pure: no I/O, no clock.
//
// ChirpStack POSTs every event of an application to the configured URL with the event type in
// the query (?event=up|join|status|ack|txack|log|location|integration) and the event in the body,
// encoded as the integration is configured: JSON (the protobuf JSON mapping of
// api/proto/integration/integration.proto, camelCase names, default values omitted, bytes in
// base64, 64-bit integers possibly as strings) or Protobuf. We read JSON; a Protobuf body is
// ErrUnsupported with the setting to change. Sources: chirpstack/chirpstack
// api/proto/integration/integration.proto and api/proto/gw/gw.proto, chirpstack/src/integration/
// http.rs (how it posts), chirpstack-docs src/chirpstack/integrations/{http,events}.md.
package chirpstack

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/frostguard/functions/shared/lorawan"
)

// Event types of the ?event= query parameter (ChirpStack v4).
const (
	EventUp          = "up"
	EventJoin        = "join"
	EventStatus      = "status"
	EventAck         = "ack"
	EventTxAck       = "txack"
	EventLog         = "log"
	EventLocation    = "location"
	EventIntegration = "integration"
)

// SecretHeader is the header the organisation's ChirpStack integration is configured to send
// with its secret; "Authorization: Bearer <secret>" is accepted as well.
const SecretHeader = "X-Webhook-Secret"

// Parser is the ChirpStack v4 HTTP integration (lorawan.Parser).
type Parser struct{}

var _ lorawan.Parser = Parser{}

// Network is lorawan.NetworkChirpStack.
func (Parser) Network() lorawan.Network { return lorawan.NetworkChirpStack }

// Secret reads X-Webhook-Secret, else an Authorization: Bearer token.
func (Parser) Secret(h http.Header) string { return lorawan.HeaderSecret(h, SecretHeader) }

// Parse parses one delivery; see Parse.
func (Parser) Parse(d lorawan.Delivery) (lorawan.Event, error) { return Parse(d) }

// Parse turns one delivery into an Event.
//
// Errors (wrapping lorawan.ErrMalformed unless said otherwise): no ?event=; a Protobuf body
// (lorawan.ErrUnsupported); a body that is not a JSON object; for the events we act on or
// acknowledge by name (up, join, status, ack, txack, log, location, integration): a missing or
// invalid deviceInfo.devEui or time, and for up a data field that is not base64. An event type
// ChirpStack may add later is acknowledged as KindOther if its body is a JSON object. Fields of
// an unexpected JSON type that we do not need are ignored rather than rejected.
func Parse(d lorawan.Delivery) (lorawan.Event, error) {
	name := strings.TrimSpace(d.Query.Get("event"))
	if name == "" {
		return lorawan.Event{}, fmt.Errorf("%w: no ?event= in the URL (ChirpStack sends up, join, status...)", lorawan.ErrMalformed)
	}
	if isProtobuf(d.Header.Get("Content-Type")) {
		return lorawan.Event{}, fmt.Errorf("%w: this is ChirpStack's Protobuf encoding; set the HTTP integration's payload encoding to JSON", lorawan.ErrUnsupported)
	}
	if b := bytes.TrimSpace(d.Body); len(b) == 0 || b[0] != '{' {
		return lorawan.Event{}, fmt.Errorf("%w: the body is not a JSON object", lorawan.ErrMalformed)
	}
	var w wireEvent
	if err := json.Unmarshal(d.Body, &w); err != nil {
		var te *json.UnmarshalTypeError
		// encoding/json checks the whole document before decoding: a type error means
		// well-formed JSON with a field of an odd type, which only matters if we need it.
		if !errors.As(err, &te) {
			return lorawan.Event{}, fmt.Errorf("%w: the body is not JSON: %v", lorawan.ErrMalformed, err)
		}
	}

	e := lorawan.Event{
		Network:     lorawan.NetworkChirpStack,
		Kind:        lorawan.KindOther,
		NetworkKind: name,
		Device: lorawan.Device{
			DevEUI:        lorawan.NormalizeEUI(w.DeviceInfo.DevEUI),
			ID:            w.DeviceInfo.DeviceName,
			ApplicationID: w.DeviceInfo.ApplicationID,
			TenantID:      w.DeviceInfo.TenantID,
			Profile:       w.DeviceInfo.DeviceProfileName,
		},
		MessageID: w.DeduplicationID,
	}
	t, timeOK := lorawan.ParseTime(w.Time)
	e.ReceivedAt = t
	if !known(name) {
		// An event type newer than this parser: acknowledge it, but only as what it is.
		return e, nil
	}
	if e.Device.DevEUI == "" {
		return lorawan.Event{}, fmt.Errorf("%w: deviceInfo.devEui is missing or not an EUI-64 (%q)", lorawan.ErrMalformed, clip(w.DeviceInfo.DevEUI))
	}
	if !timeOK {
		return lorawan.Event{}, fmt.Errorf("%w: time is missing or not an RFC 3339 time (%q)", lorawan.ErrMalformed, clip(w.Time))
	}

	switch name {
	case EventUp:
		up, err := uplink(w, d.Body, t)
		if err != nil {
			return lorawan.Event{}, err
		}
		e.Kind, e.Uplink = lorawan.KindUplink, up
	case EventJoin:
		e.Kind = lorawan.KindJoin
	case EventStatus:
		e.Kind, e.Status = lorawan.KindStatus, status(w)
	case EventAck:
		e.Kind, e.Ack = lorawan.KindAck, &lorawan.Ack{Acknowledged: w.Acknowledged, FCntDown: w.FCntDown.value(0, maxUint32)}
	case EventTxAck:
		// A transmission by the gateway has no deduplication id; its downlink id is unique.
		if id := w.DownlinkID.value(0, maxUint32); id > 0 {
			e.MessageID = fmt.Sprint(id)
		}
	}
	return e, nil
}

func known(name string) bool {
	switch name {
	case EventUp, EventJoin, EventStatus, EventAck, EventTxAck, EventLog, EventLocation, EventIntegration:
		return true
	}
	return false
}

const maxUint32 = 1<<32 - 1

func uplink(w wireEvent, body []byte, at time.Time) (*lorawan.Uplink, error) {
	up := &lorawan.Uplink{
		FPort:      int(w.FPort.value(0, 255)),
		FCnt:       w.FCnt.value(0, maxUint32),
		ReceivedAt: at,
		Confirmed:  w.Confirmed,
		Raw:        json.RawMessage(body),
	}
	if w.Data != "" {
		b, err := lorawan.DecodeBase64(w.Data)
		if err != nil {
			return nil, fmt.Errorf("%w: data is not base64", lorawan.ErrMalformed)
		}
		up.Payload = b
	}
	if obj := bytes.TrimSpace(w.Object); len(obj) > 0 && obj[0] == '{' {
		up.Decoded = w.Object
	}
	rx := make([]lorawan.GatewayRx, len(w.RxInfo))
	for i, r := range w.RxInfo {
		rx[i] = lorawan.GatewayRx{ID: strings.ToLower(r.GatewayID), RSSI: r.RSSI, SNR: r.SNR}
	}
	up.Radio.RSSI, up.Radio.SNR, up.Radio.GatewayCount = lorawan.SummarizeReception(rx)
	if sf := w.TxInfo.Modulation.LoRa.SpreadingFactor.value(0, 12); sf >= 5 {
		v := int(sf)
		up.Radio.SpreadingFactor = &v
	}
	up.Radio.FrequencyHz = w.TxInfo.Frequency.value(0, maxUint32)
	return up, nil
}

func status(w wireEvent) *lorawan.Status {
	s := &lorawan.Status{ExternalPower: w.ExternalPowerSource}
	// The LoRaWAN DevStatusAns margin is a 6-bit signed value in dB.
	if w.Margin != nil && w.Margin.ok && w.Margin.v >= -32 && w.Margin.v <= 31 {
		m := int(w.Margin.v)
		s.MarginDB = &m
	}
	// battery_level is a percentage (ChirpStack scales the DevStatusAns byte 1..254 to 0..100);
	// it means nothing when the device says it cannot measure it or is on external power.
	if !w.BatteryLevelUnavailable && !w.ExternalPowerSource && w.BatteryLevel != nil &&
		*w.BatteryLevel >= 0 && *w.BatteryLevel <= 100 {
		v := *w.BatteryLevel
		s.BatteryPercent = &v
	}
	return s
}

// isProtobuf reports ChirpStack's Protobuf encoding by its Content-Type: ChirpStack sends
// application/octet-stream for Protobuf and application/json for JSON (src/integration/http.rs).
func isProtobuf(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/octet-stream" || mt == "application/protobuf" || mt == "application/x-protobuf")
}

// clip bounds an echoed value in an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
