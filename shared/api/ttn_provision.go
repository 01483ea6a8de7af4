package api

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/ttnapi"
	"github.com/frostguard/functions/shared/web"
)

func (s *Server) getSensorProvisioning(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "sensorId")
	if err != nil {
		return err
	}
	p, err := s.DB.SensorProvisioning(r.Context(), m.OrgID, id)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, p)
	return nil
}

// provisionRequest is POST .../sensors/{sensorId}/provision (the body is
// optional).
type provisionRequest struct {
	JoinEUI *string `json:"join_eui"`
	AppKey  *string `json:"app_key"`
}

// provisionResponse is the sensor's provisioning state; AppKey is set only
// when the api generated it, and is never readable again.
type provisionResponse struct {
	domain.SensorProvisioning
	JoinEUI         string `json:"join_eui"`
	FrequencyPlanID string `json:"frequency_plan_id"`
	AppKey          string `json:"app_key,omitempty"`
}

var appKeyPattern = regexp.MustCompile(`^[0-9A-F]{32}$`)

// busy reports whether another run holds the sensor's provisioning.
func (s *Server) provisioningBusy(p domain.SensorProvisioning) bool {
	if p.Status != domain.ProvisioningPending && p.Status != domain.ProvisioningDeprovisioning {
		return false
	}
	return p.UpdatedAt != nil && s.Now().Sub(*p.UpdatedAt) < store.ProvisioningStale
}

var errProvisioningBusy = apperr.New(apperr.Conflict, "this sensor's TTN provisioning is already running, retry in a moment")

// ttnDeviceID is the device's id in TTN: the one TTN already reported in
// uplinks, else the console's own convention eui-<deveui>.
func ttnDeviceID(p domain.SensorProvisioning) string {
	if p.TTNDeviceID != nil && *p.TTNDeviceID != "" {
		return *p.TTNDeviceID
	}
	return "eui-" + strings.ToLower(p.DevEUI)
}

// provisionSensor registers the sensor's end device in TTN's four
// registries. Each registry that accepts it is recorded at once, so a
// failure half-way leaves the sensor 'failed' with the registries it is in,
// and the next run continues from there.
func (s *Server) provisionSensor(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "sensorId")
	if err != nil {
		return err
	}
	var req provisionRequest
	body, err := web.ReadBody(r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := web.Unmarshal(body, &req); err != nil {
			return err
		}
	}
	joinEUI, appKey := "0000000000000000", ""
	var fe []apperr.FieldError
	if req.JoinEUI != nil {
		v, err := domain.NormalizeDevEUI(*req.JoinEUI)
		if err != nil {
			fe = append(fe, apperr.FieldError{Field: "join_eui", Message: err.Error()})
		}
		joinEUI = v
	}
	if req.AppKey != nil {
		appKey = strings.ToUpper(strings.NewReplacer(" ", "", "-", "", ":", "").Replace(*req.AppKey))
		if !appKeyPattern.MatchString(appKey) {
			fe = append(fe, apperr.FieldError{Field: "app_key", Message: "must be 32 hexadecimal digits"})
		}
	}
	if len(fe) > 0 {
		return apperr.Validation(fe...)
	}
	ctx := r.Context()
	cur, err := s.DB.SensorProvisioning(ctx, m.OrgID, id)
	if err != nil {
		return err
	}
	// After the lookup: another tenant's sensor is a 404 whatever the configuration.
	if _, err := s.ttnKey(); err != nil {
		return err
	}
	switch {
	case cur.Status == domain.ProvisioningProvisioned:
		return apperr.New(apperr.Conflict, "the sensor is already provisioned in TTN (deprovision it to register it again)")
	case s.provisioningBusy(cur):
		return errProvisioningBusy
	}
	creds, err := s.DB.TTNAPIKey(ctx, m.OrgID)
	if err != nil {
		return err
	}
	client, err := s.ttnClient(m.OrgID, creds)
	if err != nil {
		return err
	}
	p, err := s.DB.BeginSensorProvisioning(ctx, m.OrgID, cur, domain.ProvisioningPending, ttnDeviceID(cur))
	if err != nil {
		return err
	}
	dev := ttnapi.Device{ApplicationID: creds.ApplicationID, DeviceID: *p.TTNDeviceID, DevEUI: p.DevEUI,
		JoinEUI: joinEUI, AppKey: appKey, FrequencyPlanID: ttnapi.FrequencyPlans[creds.Cluster],
		ServerHost: ttnapi.HostOf(client.Base)}
	done := map[string]bool{}
	for _, st := range p.Steps {
		done[st] = true
	}
	steps := append([]string(nil), p.Steps...)
	keyUnseen, generated := p.KeyUnseen, ""
	// Once the run has begun its outcome is recorded even if the caller
	// hangs up: an abandoned 'pending' would block retries for minutes.
	rec := context.WithoutCancel(ctx)
	for _, step := range ttnapi.Steps {
		// The Join Server step is redone when a key is given, or when the key
		// it holds was generated and never shown: PUT overwrites it.
		if done[step] && !(step == ttnapi.StepJS && (appKey != "" || keyUnseen)) {
			continue
		}
		if step == ttnapi.StepJS && dev.AppKey == "" {
			if generated, err = ttnapi.NewAppKey(); err != nil {
				return apperr.Wrap(apperr.Internal, err, "could not generate an AppKey")
			}
			dev.AppKey = generated
		}
		err := client.RegisterStep(ctx, step, dev)
		if err != nil && !(step == ttnapi.StepIS && ttnapi.HasStatus(err, http.StatusConflict)) {
			msg := step + ": " + apperr.From(err).Message
			if _, rerr := s.DB.RecordSensorProvisioning(rec, m.OrgID, id, steps, domain.ProvisioningFailed, &msg, keyUnseen); rerr != nil {
				return rerr
			}
			return err
		}
		if step == ttnapi.StepJS {
			keyUnseen = generated != ""
		}
		if !done[step] {
			done[step] = true
			steps = append(steps, step)
		}
		if _, err := s.DB.RecordSensorProvisioning(rec, m.OrgID, id, steps, domain.ProvisioningPending, nil, keyUnseen); err != nil {
			return err
		}
	}
	// The response shows the generated key: from here on it is seen.
	p, err = s.DB.RecordSensorProvisioning(rec, m.OrgID, id, steps, domain.ProvisioningProvisioned, nil, false)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, provisionResponse{SensorProvisioning: p, JoinEUI: joinEUI,
		FrequencyPlanID: dev.FrequencyPlanID, AppKey: generated})
	return nil
}

// deprovisionSensor removes the end device from TTN's registries in
// reverse order. Every registry is asked, whatever the record says (a
// device TTN does not know counts as removed), so a device registered by
// hand in the console is removed too.
func (s *Server) deprovisionSensor(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "sensorId")
	if err != nil {
		return err
	}
	ctx := r.Context()
	cur, err := s.DB.SensorProvisioning(ctx, m.OrgID, id)
	if err != nil {
		return err
	}
	// After the lookup: another tenant's sensor is a 404 whatever the configuration.
	if _, err := s.ttnKey(); err != nil {
		return err
	}
	if s.provisioningBusy(cur) {
		return errProvisioningBusy
	}
	creds, err := s.DB.TTNAPIKey(ctx, m.OrgID)
	if err != nil {
		return err
	}
	client, err := s.ttnClient(m.OrgID, creds)
	if err != nil {
		return err
	}
	p, err := s.DB.BeginSensorProvisioning(ctx, m.OrgID, cur, domain.ProvisioningDeprovisioning, ttnDeviceID(cur))
	if err != nil {
		return err
	}
	remaining := append([]string(nil), p.Steps...)
	rec := context.WithoutCancel(ctx)
	for i := len(ttnapi.Steps) - 1; i >= 0; i-- {
		step := ttnapi.Steps[i]
		if err := client.DeleteStep(ctx, step, creds.ApplicationID, *p.TTNDeviceID); err != nil {
			msg := "removing from " + step + ": " + apperr.From(err).Message
			if _, rerr := s.DB.RecordSensorProvisioning(rec, m.OrgID, id, remaining, domain.ProvisioningFailed, &msg, p.KeyUnseen); rerr != nil {
				return rerr
			}
			return err
		}
		remaining = without(remaining, step)
		if _, err := s.DB.RecordSensorProvisioning(rec, m.OrgID, id, remaining, domain.ProvisioningDeprovisioning, nil, p.KeyUnseen); err != nil {
			return err
		}
	}
	p, err = s.DB.RecordSensorProvisioning(rec, m.OrgID, id, nil, domain.ProvisioningNone, nil, false)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, p)
	return nil
}

func without(list []string, x string) []string {
	out := list[:0]
	for _, v := range list {
		if v != x {
			out = append(out, v)
		}
	}
	return out
}
