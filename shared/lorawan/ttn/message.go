// Package ttn parses The Things Stack (v3) webhook deliveries into lorawan Events. It is pure: no
// I/O, no clock.
//
// Message format: https://www.thethingsindustries.com/docs/integrations/data-formats/
// (TheThingsIndustries/lorawan-stack-docs doc/content/integrations/data-formats/_index.md).
// The Things Stack omits zero-valued scalars ("", 0, false), so f_port/f_cnt are absent when 0.
package ttn

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/frostguard/functions/shared/lorawan"
)

// Kind is the message type of one webhook delivery (the name of its payload field); it is the
// Event's NetworkKind, which namespaces the dedupe key of everything but uplinks.
type Kind string

const (
	KindUplink                   Kind = "uplink"
	KindJoinAccept               Kind = "join_accept"
	KindDownlinkAck              Kind = "downlink_ack"
	KindDownlinkNack             Kind = "downlink_nack"
	KindDownlinkSent             Kind = "downlink_sent"
	KindDownlinkFailed           Kind = "downlink_failed"
	KindDownlinkQueued           Kind = "downlink_queued"
	KindDownlinkQueueInvalidated Kind = "downlink_queue_invalidated"
	KindLocationSolved           Kind = "location_solved"
	KindServiceData              Kind = "service_data"
	// KindUplinkNormalized is the "uplink_normalized" message (one per normalized payload of an
	// uplink that is also delivered as uplink_message): acknowledged, the uplink_message is stored.
	KindUplinkNormalized Kind = "uplink_normalized"
	KindUnknown          Kind = "unknown"
)

// Parser is The Things Stack's webhooks (lorawan.Parser).
type Parser struct{}

var _ lorawan.Parser = Parser{}

// Network is lorawan.NetworkTTN.
func (Parser) Network() lorawan.Network { return lorawan.NetworkTTN }

// Secret reads the webhook secret from the headers a TTN webhook can send. Besides ours
// (X-Webhook-Secret), it reads the forms webhooks configured for the origin send, so an imported
// organisation's TTN applications need no change: X-API-Key (the origin's receiver read it
// first), X-Downlink-Apikey, and an Authorization header carrying the secret bare (the origin's
// provisioning set it without a scheme) or as a Bearer token. Another scheme gives "".
func (Parser) Secret(h http.Header) string {
	if v := lorawan.HeaderSecret(h, "X-Webhook-Secret", "X-API-Key", "X-Downlink-Apikey"); v != "" {
		return v
	}
	if v := strings.TrimSpace(h.Get("Authorization")); !strings.Contains(v, " ") {
		return v
	}
	return ""
}

// Parse parses one delivery's body; see Parse.
func (Parser) Parse(d lorawan.Delivery) (lorawan.Event, error) { return Parse(d.Body) }

// wire mirrors the JSON of an ApplicationUp message; only the fields we use are declared.
type wire struct {
	EndDeviceIDs struct {
		DeviceID       string `json:"device_id"`
		DevEUI         string `json:"dev_eui"`
		ApplicationIDs struct {
			ApplicationID string `json:"application_id"`
		} `json:"application_ids"`
	} `json:"end_device_ids"`
	CorrelationIDs []string `json:"correlation_ids"`
	ReceivedAt     string   `json:"received_at"`

	UplinkMessage            json.RawMessage `json:"uplink_message"`
	UplinkNormalized         json.RawMessage `json:"uplink_normalized"`
	JoinAccept               json.RawMessage `json:"join_accept"`
	DownlinkAck              json.RawMessage `json:"downlink_ack"`
	DownlinkNack             json.RawMessage `json:"downlink_nack"`
	DownlinkSent             json.RawMessage `json:"downlink_sent"`
	DownlinkFailed           json.RawMessage `json:"downlink_failed"`
	DownlinkQueued           json.RawMessage `json:"downlink_queued"`
	DownlinkQueueInvalidated json.RawMessage `json:"downlink_queue_invalidated"`
	LocationSolved           json.RawMessage `json:"location_solved"`
	ServiceData              json.RawMessage `json:"service_data"`
}

type wireUplink struct {
	FPort          int64           `json:"f_port"`
	FCnt           int64           `json:"f_cnt"`
	FRMPayload     string          `json:"frm_payload"`
	DecodedPayload json.RawMessage `json:"decoded_payload"`
	ReceivedAt     string          `json:"received_at"`
	Confirmed      bool            `json:"confirmed"`
	RxMetadata     []struct {
		GatewayIDs struct {
			GatewayID string `json:"gateway_id"`
			EUI       string `json:"eui"`
		} `json:"gateway_ids"`
		RSSI        *float64 `json:"rssi"`
		ChannelRSSI *float64 `json:"channel_rssi"`
		SNR         *float64 `json:"snr"`
	} `json:"rx_metadata"`
	Settings struct {
		DataRate struct {
			LoRa struct {
				SpreadingFactor int64 `json:"spreading_factor"`
			} `json:"lora"`
		} `json:"data_rate"`
		// The Things Stack sends uint64 values as JSON strings ("868100000").
		Frequency json.RawMessage `json:"frequency"`
	} `json:"settings"`
	VersionIDs struct {
		BrandID         string `json:"brand_id"`
		ModelID         string `json:"model_id"`
		HardwareVersion string `json:"hardware_version"`
		FirmwareVersion string `json:"firmware_version"`
	} `json:"version_ids"`
}

// Errors returned by Parse (each wraps lorawan.ErrMalformed; test with errors.Is).
var (
	ErrNoApplication = fmt.Errorf("%w: missing end_device_ids.application_ids.application_id", lorawan.ErrMalformed)
	ErrReceivedAt    = fmt.Errorf("%w: missing or invalid received_at", lorawan.ErrMalformed)
)

// Parse turns a webhook body into an Event. Malformed JSON (or a body that is not a JSON object),
// a missing end_device_ids.application_ids.application_id, a missing/invalid received_at, or an
// uplink_message whose frm_payload is not base64 is an error wrapping lorawan.ErrMalformed (the
// handler answers 400); every message kind TTN sends is accepted (a join_accept is a join, a
// downlink_ack/nack an ack, the others and unknown kinds KindOther). Optional fields of an
// unexpected JSON type are ignored rather than rejected. Never panics on any input.
//
// The message id is the first "as:up:" correlation id: TTN keeps it on every retry of a
// delivery, and copies it into the join_accept and downlink messages an uplink triggers (the
// Event's dedupe key namespaces those by kind).
func Parse(body []byte) (lorawan.Event, error) {
	var w wire
	if err := json.Unmarshal(body, &w); err != nil {
		var te *json.UnmarshalTypeError
		// encoding/json validates the whole document before decoding, so a type error means
		// well-formed JSON with an odd optional field; a non-object top level is malformed.
		if !errors.As(err, &te) || te.Field == "" {
			return lorawan.Event{}, fmt.Errorf("%w: %v", lorawan.ErrMalformed, err)
		}
	}
	e := lorawan.Event{
		Network: lorawan.NetworkTTN,
		Kind:    lorawan.KindOther,
		Device: lorawan.Device{
			DevEUI:        lorawan.NormalizeEUI(w.EndDeviceIDs.DevEUI),
			ID:            w.EndDeviceIDs.DeviceID,
			ApplicationID: w.EndDeviceIDs.ApplicationIDs.ApplicationID,
		},
	}
	if strings.TrimSpace(e.Device.ApplicationID) == "" {
		return lorawan.Event{}, ErrNoApplication
	}
	t, ok := lorawan.ParseTime(w.ReceivedAt)
	if !ok {
		return lorawan.Event{}, ErrReceivedAt
	}
	e.ReceivedAt = t
	for _, id := range w.CorrelationIDs {
		if strings.HasPrefix(id, "as:up:") {
			e.MessageID = id
			break
		}
	}

	var kind Kind
	switch {
	case present(w.UplinkMessage):
		kind = KindUplink
		up, repo, err := parseUplink(w.UplinkMessage, t)
		if err != nil {
			return lorawan.Event{}, err
		}
		e.Kind, e.Uplink, e.Device.Repository = lorawan.KindUplink, up, repo
	case present(w.UplinkNormalized):
		kind = KindUplinkNormalized
	case present(w.JoinAccept):
		kind, e.Kind = KindJoinAccept, lorawan.KindJoin
	case present(w.DownlinkAck):
		kind, e.Kind, e.Ack = KindDownlinkAck, lorawan.KindAck, &lorawan.Ack{Acknowledged: true}
	case present(w.DownlinkNack):
		kind, e.Kind, e.Ack = KindDownlinkNack, lorawan.KindAck, &lorawan.Ack{Acknowledged: false}
	case present(w.DownlinkSent):
		kind = KindDownlinkSent
	case present(w.DownlinkFailed):
		kind = KindDownlinkFailed
	case present(w.DownlinkQueued):
		kind = KindDownlinkQueued
	case present(w.DownlinkQueueInvalidated):
		kind = KindDownlinkQueueInvalidated
	case present(w.LocationSolved):
		kind = KindLocationSolved
	case present(w.ServiceData):
		kind = KindServiceData
	default:
		kind = KindUnknown
	}
	e.NetworkKind = string(kind)
	return e, nil
}

func parseUplink(raw json.RawMessage, msgTime time.Time) (*lorawan.Uplink, lorawan.RepositoryIDs, error) {
	var wu wireUplink
	if err := json.Unmarshal(raw, &wu); err != nil {
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) || te.Field == "" { // uplink_message is not an object
			return nil, lorawan.RepositoryIDs{}, fmt.Errorf("%w: uplink_message: %v", lorawan.ErrMalformed, err)
		}
	}
	up := &lorawan.Uplink{
		FCnt:       max(wu.FCnt, 0),
		ReceivedAt: msgTime,
		Confirmed:  wu.Confirmed,
		Raw:        raw,
	}
	if wu.FPort > 0 && wu.FPort <= 255 {
		up.FPort = int(wu.FPort)
	}
	if wu.FRMPayload != "" {
		b, err := lorawan.DecodeBase64(wu.FRMPayload)
		if err != nil {
			return nil, lorawan.RepositoryIDs{}, fmt.Errorf("%w: uplink_message.frm_payload is not base64", lorawan.ErrMalformed)
		}
		up.Payload = b
	}
	if isObject(wu.DecodedPayload) {
		up.Decoded = wu.DecodedPayload
	}
	if t, ok := lorawan.ParseTime(wu.ReceivedAt); ok {
		up.ReceivedAt = t
	}
	rx := make([]lorawan.GatewayRx, len(wu.RxMetadata))
	for i, md := range wu.RxMetadata {
		id := md.GatewayIDs.GatewayID
		if id == "" {
			id = md.GatewayIDs.EUI
		}
		r := md.RSSI
		if r == nil {
			r = md.ChannelRSSI
		}
		rx[i] = lorawan.GatewayRx{ID: id, RSSI: r, SNR: md.SNR}
	}
	up.Radio.RSSI, up.Radio.SNR, up.Radio.GatewayCount = lorawan.SummarizeReception(rx)
	if sf := wu.Settings.DataRate.LoRa.SpreadingFactor; sf >= 5 && sf <= 12 {
		v := int(sf)
		up.Radio.SpreadingFactor = &v
	}
	up.Radio.FrequencyHz = frequency(wu.Settings.Frequency)
	v := wu.VersionIDs
	repo := lorawan.RepositoryIDs{BrandID: v.BrandID, ModelID: v.ModelID, HardwareVersion: v.HardwareVersion, FirmwareVersion: v.FirmwareVersion}
	return up, repo, nil
}

// frequency reads a uint64 of protobuf JSON (a string, or a number), 0 when absent or not one.
func frequency(raw json.RawMessage) int64 {
	s := strings.Trim(string(raw), `"`)
	f, err := strconv.ParseInt(s, 10, 64)
	if err != nil || f < 0 || f > 1<<32 {
		return 0
	}
	return f
}

// present reports a JSON value that is neither absent nor null.
func present(r json.RawMessage) bool {
	return len(r) > 0 && string(r) != "null"
}

// isObject reports a JSON object (the decoded object of a payload formatter).
func isObject(r json.RawMessage) bool {
	for _, c := range r {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c == '{'
	}
	return false
}
