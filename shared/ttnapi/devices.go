package ttnapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
)

// Registry steps of an end device, in registration order (deletion runs
// them in reverse), as The Things Stack recommends.
const (
	StepIS = "identity_server"
	StepJS = "join_server"
	StepNS = "network_server"
	StepAS = "application_server"
)

// Steps lists the registries in registration order.
var Steps = []string{StepIS, StepJS, StepNS, StepAS}

// Device is an OTAA end device to register.
type Device struct {
	ApplicationID string
	DeviceID      string
	DevEUI        string // 16 upper-case hex digits
	JoinEUI       string // 16 hex digits (zeros when the vendor gives none)
	AppKey        string // 32 hex digits (root key, LoRaWAN 1.0.x)
	// FrequencyPlanID is TTN's plan, e.g. EU_863_870_TTN.
	FrequencyPlanID string
	// ServerHost is the cluster's host name, which the Identity Server and
	// Join Server records name as the device's NS/AS/JS addresses.
	ServerHost string
}

// LoRaWAN versions registered: 1.0.3 is what almost every commercial sensor
// speaks; a device that differs is re-registered from the TTN console.
const (
	lorawanVersion    = "MAC_V1_0_3"
	lorawanPHYVersion = "PHY_V1_0_3_REV_A"
)

// FrequencyPlans is the default frequency plan of each cluster.
var FrequencyPlans = map[string]string{
	"eu1":  "EU_863_870_TTN",
	"nam1": "US_902_928_FSB_2",
	"au1":  "AU_915_928_FSB_2",
}

// HostOf is the host name of a base URL.
func HostOf(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	return u.Host
}

// NewAppKey generates a random AppKey (32 upper-case hex digits).
func NewAppKey() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return strings.ToUpper(hex.EncodeToString(b[:])), nil
}

// deviceIDs is ttnpb.EndDeviceIdentifiers.
type deviceIDs struct {
	DeviceID       string         `json:"device_id"`
	ApplicationIDs applicationIDs `json:"application_ids"`
	DevEUI         string         `json:"dev_eui,omitempty"`
	JoinEUI        string         `json:"join_eui,omitempty"`
}

func (d Device) ids() deviceIDs {
	return deviceIDs{DeviceID: d.DeviceID, ApplicationIDs: applicationIDs{d.ApplicationID}, DevEUI: d.DevEUI, JoinEUI: d.JoinEUI}
}

type key struct {
	Key string `json:"key"`
}

// endDevice holds the ttnpb.EndDevice fields the four registries take.
type endDevice struct {
	IDs                      deviceIDs `json:"ids"`
	NetworkServerAddress     string    `json:"network_server_address,omitempty"`
	ApplicationServerAddress string    `json:"application_server_address,omitempty"`
	JoinServerAddress        string    `json:"join_server_address,omitempty"`
	RootKeys                 *struct {
		AppKey key `json:"app_key"`
	} `json:"root_keys,omitempty"`
	FrequencyPlanID   string `json:"frequency_plan_id,omitempty"`
	LoRaWANVersion    string `json:"lorawan_version,omitempty"`
	LoRaWANPHYVersion string `json:"lorawan_phy_version,omitempty"`
	SupportsJoin      bool   `json:"supports_join,omitempty"`
}

type deviceBody struct {
	EndDevice endDevice  `json:"end_device"`
	FieldMask *fieldMask `json:"field_mask,omitempty"`
}

// Device field masks per registry (the registries reject fields they do
// not store).
var (
	jsFieldMask = []string{"application_server_address", "ids.dev_eui", "ids.device_id", "ids.join_eui",
		"network_server_address", "root_keys.app_key.key"}
	nsFieldMask = []string{"frequency_plan_id", "ids.dev_eui", "ids.device_id", "ids.join_eui",
		"lorawan_phy_version", "lorawan_version", "supports_join"}
	asFieldMask = []string{"ids.dev_eui", "ids.device_id", "ids.join_eui"}
)

// RegisterStep registers the device in one registry. The Identity Server
// step is a create (409 if the device exists); the others are PUTs, which
// create or overwrite.
func (c *Client) RegisterStep(ctx context.Context, step string, d Device) error {
	app, dev := esc(d.ApplicationID), esc(d.DeviceID)
	switch step {
	case StepIS:
		return c.do(ctx, http.MethodPost, true, "/applications/"+app+"/devices", deviceBody{EndDevice: endDevice{
			IDs: d.ids(), NetworkServerAddress: d.ServerHost, ApplicationServerAddress: d.ServerHost,
			JoinServerAddress: d.ServerHost,
		}}, nil)
	case StepJS:
		ed := endDevice{IDs: d.ids(), NetworkServerAddress: d.ServerHost, ApplicationServerAddress: d.ServerHost}
		ed.RootKeys = &struct {
			AppKey key `json:"app_key"`
		}{AppKey: key{d.AppKey}}
		return c.do(ctx, http.MethodPut, false, "/js/applications/"+app+"/devices/"+dev,
			deviceBody{EndDevice: ed, FieldMask: &fieldMask{jsFieldMask}}, nil)
	case StepNS:
		return c.do(ctx, http.MethodPut, false, "/ns/applications/"+app+"/devices/"+dev, deviceBody{EndDevice: endDevice{
			IDs: d.ids(), FrequencyPlanID: d.FrequencyPlanID, LoRaWANVersion: lorawanVersion,
			LoRaWANPHYVersion: lorawanPHYVersion, SupportsJoin: true,
		}, FieldMask: &fieldMask{nsFieldMask}}, nil)
	case StepAS:
		return c.do(ctx, http.MethodPut, false, "/as/applications/"+app+"/devices/"+dev,
			deviceBody{EndDevice: endDevice{IDs: d.ids()}, FieldMask: &fieldMask{asFieldMask}}, nil)
	}
	panic("ttnapi: unknown registry step " + step)
}

// DeleteStep removes the device from one registry; a device that registry
// does not know counts as removed.
func (c *Client) DeleteStep(ctx context.Context, step, appID, deviceID string) error {
	app, dev := esc(appID), esc(deviceID)
	var path string
	identity := false
	switch step {
	case StepIS:
		path, identity = "/applications/"+app+"/devices/"+dev, true
	case StepJS:
		path = "/js/applications/" + app + "/devices/" + dev
	case StepNS:
		path = "/ns/applications/" + app + "/devices/" + dev
	case StepAS:
		path = "/as/applications/" + app + "/devices/" + dev
	default:
		panic("ttnapi: unknown registry step " + step)
	}
	err := c.do(ctx, http.MethodDelete, identity, path, nil, nil)
	if HasStatus(err, http.StatusNotFound) {
		return nil
	}
	return err
}

// CreateDevice registers d in every registry, in order, stopping at the
// first failure; done lists the steps that succeeded (a create the Identity
// Server answers 409 for counts as done).
func (c *Client) CreateDevice(ctx context.Context, d Device) (done []string, err error) {
	for _, step := range Steps {
		err := c.RegisterStep(ctx, step, d)
		if err != nil && !(step == StepIS && HasStatus(err, http.StatusConflict)) {
			return done, err
		}
		done = append(done, step)
	}
	return done, nil
}

// DeleteDevice removes the device from every registry, in reverse order.
func (c *Client) DeleteDevice(ctx context.Context, appID, deviceID string) error {
	for i := len(Steps) - 1; i >= 0; i-- {
		if err := c.DeleteStep(ctx, Steps[i], appID, deviceID); err != nil {
			return err
		}
	}
	return nil
}
