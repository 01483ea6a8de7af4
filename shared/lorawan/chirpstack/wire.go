package chirpstack

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
)

// wireEvent holds the fields of every ChirpStack integration event that we read (UplinkEvent,
// JoinEvent, StatusEvent, AckEvent, TxAckEvent, LogEvent, LocationEvent, IntegrationEvent share
// deviceInfo and time). Names are the protobuf JSON (lowerCamelCase) names ChirpStack emits.
type wireEvent struct {
	DeduplicationID string     `json:"deduplicationId"`
	Time            string     `json:"time"`
	DeviceInfo      deviceInfo `json:"deviceInfo"`

	// UplinkEvent
	FCnt      jsonInt         `json:"fCnt"`
	FPort     jsonInt         `json:"fPort"`
	Confirmed bool            `json:"confirmed"`
	Data      string          `json:"data"`
	Object    json.RawMessage `json:"object"`
	RxInfo    []rxInfo        `json:"rxInfo"`
	TxInfo    txInfo          `json:"txInfo"`

	// StatusEvent
	Margin                  *jsonInt `json:"margin"`
	ExternalPowerSource     bool     `json:"externalPowerSource"`
	BatteryLevelUnavailable bool     `json:"batteryLevelUnavailable"`
	BatteryLevel            *float64 `json:"batteryLevel"`

	// AckEvent, TxAckEvent
	Acknowledged bool    `json:"acknowledged"`
	FCntDown     jsonInt `json:"fCntDown"`
	DownlinkID   jsonInt `json:"downlinkId"`
}

type deviceInfo struct {
	TenantID          string `json:"tenantId"`
	ApplicationID     string `json:"applicationId"`
	DeviceProfileName string `json:"deviceProfileName"`
	DeviceName        string `json:"deviceName"`
	DevEUI            string `json:"devEui"`
}

// rxInfo is gw.UplinkRxInfo.
type rxInfo struct {
	GatewayID string   `json:"gatewayId"`
	RSSI      *float64 `json:"rssi"`
	SNR       *float64 `json:"snr"`
}

// txInfo is gw.UplinkTxInfo.
type txInfo struct {
	Frequency  jsonInt `json:"frequency"`
	Modulation struct {
		LoRa struct {
			SpreadingFactor jsonInt `json:"spreadingFactor"`
		} `json:"lora"`
	} `json:"modulation"`
}

// jsonInt is a protobuf JSON integer: a JSON number or a decimal string (the mapping allows
// both, and writes 64-bit integers as strings). Anything else, or a fraction, is absent.
type jsonInt struct {
	v  int64
	ok bool
}

func (n *jsonInt) UnmarshalJSON(b []byte) error {
	b = bytes.Trim(b, `"`)
	if v, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		*n = jsonInt{v, true}
		return nil
	}
	if f, err := strconv.ParseFloat(string(b), 64); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<62 {
		*n = jsonInt{int64(f), true}
		return nil
	}
	*n = jsonInt{} // null, a word, a fraction: absent rather than an error
	return nil
}

// value returns the integer when present and within [lo, hi], else 0.
func (n jsonInt) value(lo, hi int64) int64 {
	if !n.ok || n.v < lo || n.v > hi {
		return 0
	}
	return n.v
}
