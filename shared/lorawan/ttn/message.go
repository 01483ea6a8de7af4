// Package ttn parses The Things Stack (v3) webhook messages and decodes sensor payloads into one
// canonical, unit-normalised Reading. It is pure: no I/O, no database, no network, no user code.
//
// Message format: https://www.thethingsindustries.com/docs/integrations/data-formats/
// (TheThingsIndustries/lorawan-stack-docs doc/content/integrations/data-formats/_index.md).
// The Things Stack omits zero-valued scalars ("", 0, false), so f_port/f_cnt are absent when 0.
package ttn

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// Kind is the message type of one webhook delivery (the name of its payload field).
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
	// uplink that is also delivered as uplink_message). Uplink stays nil: store the uplink_message.
	KindUplinkNormalized Kind = "uplink_normalized"
	KindUnknown          Kind = "unknown"
)

// Message is one webhook delivery.
type Message struct {
	Kind           Kind
	ApplicationID  string    // end_device_ids.application_ids.application_id
	DeviceID       string    // end_device_ids.device_id
	DevEUI         string    // end_device_ids.dev_eui, 16 upper-case hex digits; "" when absent or not an EUI-64
	CorrelationIDs []string  // top-level correlation_ids
	ReceivedAt     time.Time // top-level received_at (nanosecond RFC 3339), UTC
	Uplink         *Uplink   // set for KindUplink only
}

// Uplink is the content of an uplink_message.
type Uplink struct {
	FPort          int            // absent in JSON means 0
	FCnt           int64          // absent means 0
	FRMPayload     []byte         // base64-decoded frm_payload (may be empty)
	DecodedPayload map[string]any // nil when absent or not a JSON object; numbers are float64 (plain json.Unmarshal)
	ReceivedAt     time.Time      // uplink_message.received_at (UTC), else the message's
	// RSSI is that of the best gateway (highest RSSI, SNR as tie-break) from rx_metadata
	// (rssi, else channel_rssi), rounded to whole dBm; nil when no gateway reported one.
	RSSI            *int
	SNR             *float64        // that gateway's snr
	GatewayCount    int             // distinct gateways in rx_metadata (by gateway_id, else eui, else entry)
	SpreadingFactor *int            // settings.data_rate.lora.spreading_factor (5..12), nil otherwise
	Raw             json.RawMessage // the uplink_message object, for audit storage
}

// IsJoin reports a join_accept.
func (m Message) IsJoin() bool { return m.Kind == KindJoinAccept }

// DedupeKey identifies a delivery across retries: the first correlation id starting with "as:up:",
// else DevEUI + ":" + FCnt + ":" + ReceivedAt.UTC().Format(time.RFC3339Nano) (DeviceID when DevEUI is empty).
//
// For kinds other than KindUplink the key is prefixed with the kind and "/" (for example
// "downlink_ack/as:up:01…"): TTN copies the triggering uplink's "as:up:" id into join_accept and
// downlink_* messages, so without the prefix they would collide with that uplink's key.
func (m Message) DedupeKey() string {
	var key string
	for _, id := range m.CorrelationIDs {
		if strings.HasPrefix(id, "as:up:") {
			key = id
			break
		}
	}
	if key == "" {
		dev := m.DevEUI
		if dev == "" {
			dev = m.DeviceID
		}
		var fcnt int64
		if m.Uplink != nil {
			fcnt = m.Uplink.FCnt
		}
		key = dev + ":" + strconv.FormatInt(fcnt, 10) + ":" + m.ReceivedAt.UTC().Format(time.RFC3339Nano)
	}
	if m.Kind != KindUplink {
		key = string(m.Kind) + "/" + key
	}
	return key
}

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
	} `json:"settings"`
}

// Errors returned by Parse (wrapped with detail; test with errors.Is).
var (
	ErrMalformed     = errors.New("ttn: malformed webhook body")
	ErrNoApplication = errors.New("ttn: missing end_device_ids.application_ids.application_id")
	ErrReceivedAt    = errors.New("ttn: missing or invalid received_at")
)

// Parse parses a webhook body. Malformed JSON (or a body that is not a JSON object), a missing
// end_device_ids.application_ids.application_id, a missing/invalid received_at, or an
// uplink_message whose frm_payload is not base64 is an error (the handler answers 400); every
// message kind TTN sends is accepted (unknown kinds -> KindUnknown, no error). Optional fields of
// an unexpected JSON type are ignored rather than rejected. Never panics on any input.
func Parse(body []byte) (Message, error) {
	var w wire
	if err := json.Unmarshal(body, &w); err != nil {
		var te *json.UnmarshalTypeError
		// encoding/json validates the whole document before decoding, so a type error means
		// well-formed JSON with an odd optional field; a non-object top level is malformed.
		if !errors.As(err, &te) || te.Field == "" {
			return Message{}, errors.Join(ErrMalformed, err)
		}
	}
	m := Message{
		ApplicationID:  w.EndDeviceIDs.ApplicationIDs.ApplicationID,
		DeviceID:       w.EndDeviceIDs.DeviceID,
		DevEUI:         normalizeEUI(w.EndDeviceIDs.DevEUI),
		CorrelationIDs: w.CorrelationIDs,
	}
	if strings.TrimSpace(m.ApplicationID) == "" {
		return Message{}, ErrNoApplication
	}
	t, ok := parseTime(w.ReceivedAt)
	if !ok {
		return Message{}, ErrReceivedAt
	}
	m.ReceivedAt = t

	switch {
	case present(w.UplinkMessage):
		m.Kind = KindUplink
		up, err := parseUplink(w.UplinkMessage, t)
		if err != nil {
			return Message{}, err
		}
		m.Uplink = up
	case present(w.UplinkNormalized):
		m.Kind = KindUplinkNormalized
	case present(w.JoinAccept):
		m.Kind = KindJoinAccept
	case present(w.DownlinkAck):
		m.Kind = KindDownlinkAck
	case present(w.DownlinkNack):
		m.Kind = KindDownlinkNack
	case present(w.DownlinkSent):
		m.Kind = KindDownlinkSent
	case present(w.DownlinkFailed):
		m.Kind = KindDownlinkFailed
	case present(w.DownlinkQueued):
		m.Kind = KindDownlinkQueued
	case present(w.DownlinkQueueInvalidated):
		m.Kind = KindDownlinkQueueInvalidated
	case present(w.LocationSolved):
		m.Kind = KindLocationSolved
	case present(w.ServiceData):
		m.Kind = KindServiceData
	default:
		m.Kind = KindUnknown
	}
	return m, nil
}

func parseUplink(raw json.RawMessage, msgTime time.Time) (*Uplink, error) {
	var wu wireUplink
	if err := json.Unmarshal(raw, &wu); err != nil {
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) || te.Field == "" { // uplink_message is not an object
			return nil, errors.Join(ErrMalformed, err)
		}
	}
	up := &Uplink{
		FCnt:       wu.FCnt,
		ReceivedAt: msgTime,
		Raw:        raw,
	}
	if wu.FPort > 0 && wu.FPort <= 255 {
		up.FPort = int(wu.FPort)
	}
	if up.FCnt < 0 {
		up.FCnt = 0
	}
	if wu.FRMPayload != "" {
		b, err := decodeBase64(wu.FRMPayload)
		if err != nil {
			return nil, errors.Join(ErrMalformed, errors.New("uplink_message.frm_payload is not base64"))
		}
		up.FRMPayload = b
	}
	if present(wu.DecodedPayload) {
		var dp map[string]any
		if json.Unmarshal(wu.DecodedPayload, &dp) == nil && dp != nil {
			up.DecodedPayload = dp
		}
	}
	if t, ok := parseTime(wu.ReceivedAt); ok {
		up.ReceivedAt = t
	}

	// Best gateway: highest RSSI (rssi, else channel_rssi), SNR as tie-break.
	seen := make(map[string]struct{}, len(wu.RxMetadata))
	bestRSSI, bestSNR, found := 0.0, math.Inf(-1), false
	var bestSNRPtr *float64
	for i, md := range wu.RxMetadata {
		id := md.GatewayIDs.GatewayID
		if id == "" {
			id = md.GatewayIDs.EUI
		}
		if id == "" {
			id = "#" + strconv.Itoa(i)
		}
		seen[id] = struct{}{}
		r := md.RSSI
		if r == nil {
			r = md.ChannelRSSI
		}
		if r == nil || *r < -250 || *r > 50 { // absent or not a plausible dBm value
			continue
		}
		var snrp *float64
		snr := math.Inf(-1)
		if md.SNR != nil && *md.SNR >= -50 && *md.SNR <= 50 {
			v := *md.SNR
			snrp, snr = &v, v
		}
		if !found || *r > bestRSSI || (*r == bestRSSI && snr > bestSNR) {
			found, bestRSSI, bestSNR, bestSNRPtr = true, *r, snr, snrp
		}
	}
	up.GatewayCount = len(seen)
	if found {
		r := int(math.Round(bestRSSI))
		up.RSSI = &r
		up.SNR = bestSNRPtr
	}
	if sf := wu.Settings.DataRate.LoRa.SpreadingFactor; sf >= 5 && sf <= 12 {
		v := int(sf)
		up.SpreadingFactor = &v
	}
	return up, nil
}

// present reports a JSON value that is neither absent nor null.
func present(r json.RawMessage) bool {
	return len(r) > 0 && string(r) != "null"
}

func parseTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.IsZero() {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// decodeBase64 accepts the standard alphabet (what The Things Stack emits) padded or not, and
// the URL-safe alphabet, as protobuf JSON parsers do.
func decodeBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("invalid base64")
}

// normalizeEUI strips ':', '-' and spaces and upper-cases; anything that is then not 16 hex
// digits is treated as absent.
func normalizeEUI(s string) string {
	if s == "" {
		return ""
	}
	var b [16]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ':' || c == '-' || c == ' ':
			continue
		case c >= '0' && c <= '9', c >= 'A' && c <= 'F':
		case c >= 'a' && c <= 'f':
			c -= 'a' - 'A'
		default:
			return ""
		}
		if n == len(b) {
			return ""
		}
		b[n] = c
		n++
	}
	if n != len(b) {
		return ""
	}
	return string(b[:])
}
