package api

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/lorawan/decoders"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/web"
)

func (s *Server) registerSensors(mux *http.ServeMux) {
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/sensors", access.ReadOrganization, s.listSensors)
	s.handleOrg(mux, "POST /api/v1/orgs/{orgId}/sensors", access.ManageSensors, s.registerSensor)
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/sensors/unclaimed", access.ReadOrganization, s.listUnclaimedDevices)
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/sensors/{sensorId}", access.ReadOrganization, s.getSensor)
	s.handleOrg(mux, "PATCH /api/v1/orgs/{orgId}/sensors/{sensorId}", access.ManageSensors, s.patchSensor)
	s.handleOrg(mux, "DELETE /api/v1/orgs/{orgId}/sensors/{sensorId}", access.ManageSensors, s.deleteSensor)
}

func (s *Server) listSensors(w http.ResponseWriter, r *http.Request, m Member) error {
	unitID, err := QueryUUID(r, "unit_id")
	if err != nil {
		return err
	}
	since, err := QueryTime(r, "updated_since")
	if err != nil {
		return err
	}
	p, err := PageFrom(r)
	if err != nil {
		return err
	}
	if err := s.checkFilters(r.Context(), m.OrgID, idFilter{"unit_id", unitID, []string{store.EntityUnit}}); err != nil {
		return err
	}
	items, err := s.DB.Sensors(r.Context(), m.OrgID, store.SensorFilter{
		UnitID: unitID, UpdatedSince: since, AfterTime: p.After.Time, AfterID: p.After.ID, Limit: p.Limit + 1,
	})
	if err != nil {
		return err
	}
	now := s.Now()
	for i := range items {
		items[i].Online = domain.SensorOnline(items[i].LastSeenAt, items[i].CheckinIntervalSeconds, now)
	}
	web.JSON(w, http.StatusOK, NewList(items, p.Limit, func(x domain.Sensor) Cursor {
		return Cursor{Time: x.CreatedAt, ID: x.ID}
	}))
	return nil
}

func (s *Server) getSensor(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "sensorId")
	if err != nil {
		return err
	}
	x, err := s.DB.Sensor(r.Context(), m.OrgID, id)
	if err != nil {
		return err
	}
	s.writeSensor(w, http.StatusOK, x)
	return nil
}

func (s *Server) writeSensor(w http.ResponseWriter, status int, x domain.Sensor) {
	x.Online = domain.SensorOnline(x.LastSeenAt, x.CheckinIntervalSeconds, s.Now())
	if m, ok := decoders.Resolve(deref(x.Decoder), deref(x.Model)); ok {
		x.ModelID = &m.ID
	}
	web.JSON(w, status, x)
}

// registerSensorRequest is POST .../sensors.
type registerSensorRequest struct {
	DevEUI  string  `json:"dev_eui"`
	Name    *string `json:"name"`
	Model   *string `json:"model"`
	Decoder *string `json:"decoder"`
	Probe   *string `json:"probe"`
	UnitID  *string `json:"unit_id"`
}

func (s *Server) registerSensor(w http.ResponseWriter, r *http.Request, m Member) error {
	var req registerSensorRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	var fe []apperr.FieldError
	devEUI, err := domain.NormalizeDevEUI(req.DevEUI)
	if err != nil {
		fe = append(fe, apperr.FieldError{Field: "dev_eui", Message: err.Error()})
	}
	n := store.NewSensor{DevEUI: devEUI}
	n.Name, fe = sensorText(fe, "name", req.Name)
	n.Model, fe = sensorText(fe, "model", req.Model)
	n.Decoder, fe = sensorText(fe, "decoder", req.Decoder)
	n.Probe, fe = sensorText(fe, "probe", req.Probe)
	if n.Probe != nil {
		if err := decoders.CheckProbe(deref(n.Decoder), deref(n.Model), *n.Probe); err != nil {
			fe = append(fe, apperr.FieldError{Field: "probe", Message: err.Error()})
		}
	}
	if req.UnitID != nil {
		if !domain.IsUUID(*req.UnitID) {
			fe = append(fe, apperr.FieldError{Field: "unit_id", Message: "must be a UUID or null"})
		} else {
			n.UnitID = strings.ToLower(*req.UnitID)
		}
	}
	if len(fe) > 0 {
		return apperr.Validation(fe...)
	}
	x, err := s.DB.RegisterSensor(r.Context(), m.OrgID, n)
	if err != nil {
		return err
	}
	s.writeSensor(w, http.StatusCreated, x)
	return nil
}

// patchSensorRequest is PATCH .../sensors/{sensorId}. Raw values tell an
// absent field (leave alone) from null (clear; for unit_id: unassign).
type patchSensorRequest struct {
	Name    json.RawMessage `json:"name"`
	Model   json.RawMessage `json:"model"`
	Decoder json.RawMessage `json:"decoder"`
	Probe   json.RawMessage `json:"probe"`
	UnitID  json.RawMessage `json:"unit_id"`
}

func (s *Server) patchSensor(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "sensorId")
	if err != nil {
		return err
	}
	var req patchSensorRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	var c store.SensorChanges
	var fe []apperr.FieldError
	c.Name, c.ClearName, fe = sensorPatchText(fe, "name", req.Name)
	c.Model, c.ClearModel, fe = sensorPatchText(fe, "model", req.Model)
	c.Decoder, c.ClearDecoder, fe = sensorPatchText(fe, "decoder", req.Decoder)
	// The probe is checked against the model the sensor has after the change, by the store.
	c.Probe, c.ClearProbe, fe = sensorPatchText(fe, "probe", req.Probe)
	if req.UnitID != nil {
		var v *string
		switch {
		case json.Unmarshal(req.UnitID, &v) != nil || (v != nil && !domain.IsUUID(*v)):
			fe = append(fe, apperr.FieldError{Field: "unit_id", Message: "must be a UUID (assign) or null (unassign)"})
		case v == nil:
			c.Unassign = true
		default:
			lower := strings.ToLower(*v)
			c.UnitID = &lower
		}
	}
	if len(fe) > 0 {
		return apperr.Validation(fe...)
	}
	x, err := s.DB.UpdateSensor(r.Context(), m.OrgID, id, c)
	if err != nil {
		return err
	}
	s.writeSensor(w, http.StatusOK, x)
	return nil
}

func (s *Server) deleteSensor(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "sensorId")
	if err != nil {
		return err
	}
	if err := s.DB.DeleteSensor(r.Context(), m.OrgID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listUnclaimedDevices(w http.ResponseWriter, r *http.Request, m Member) error {
	p, err := PageFrom(r)
	if err != nil {
		return err
	}
	items, err := s.DB.UnclaimedDevices(r.Context(), m.OrgID, p.After.Time, p.After.ID, p.Limit+1)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, NewList(items, p.Limit, func(d domain.UnclaimedDevice) Cursor {
		return Cursor{Time: d.LastSeenAt, ID: d.ID}
	}))
	return nil
}

// decoderName is the shape of a payload decoder's name: a sensor model registry id
// ("dragino/lht65n", GET /api/v1/sensor-models) or a legacy decoder name ("dragino_lht65").
var decoderName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}(/[a-z0-9][a-z0-9_.-]{0,63})?$`)

// probeName is the shape of a probe's name (sensors.probe's check).
var probeName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

const sensorTextMax = 100

// sensorText validates an optional text field of a sensor: blank means
// none; names and models are free text up to 100 characters, decoders are
// decoder names.
func sensorText(fe []apperr.FieldError, field string, v *string) (*string, []apperr.FieldError) {
	if v == nil {
		return nil, fe
	}
	t := strings.TrimSpace(*v)
	switch {
	case t == "":
		return nil, fe
	case field == "decoder" && !decoderName.MatchString(strings.ToLower(t)):
		return nil, append(fe, apperr.FieldError{Field: field, Message: "must be a decoder name: a sensor model id (GET /api/v1/sensor-models) or lower-case letters, digits, '_', '.', '-' (at most 64)"})
	case field == "probe" && !probeName.MatchString(t):
		return nil, append(fe, apperr.FieldError{Field: field, Message: "must be a probe of the sensor's model (GET /api/v1/sensor-models lists them)"})
	case !utf8.ValidString(t) || utf8.RuneCountInString(t) > sensorTextMax:
		return nil, append(fe, apperr.FieldError{Field: field, Message: "must be at most 100 characters"})
	}
	switch field {
	case "decoder":
		t = decoders.CanonicalName(strings.ToLower(t))
	case "model":
		// "<vendor>/<model>" ids are stored canonical; free text as typed.
		t = decoders.CanonicalName(t)
	}
	return &t, fe
}

// sensorPatchText is sensorText for a PATCH field: absent leaves the value
// alone, null or blank clears it.
func sensorPatchText(fe []apperr.FieldError, field string, raw json.RawMessage) (*string, bool, []apperr.FieldError) {
	if raw == nil {
		return nil, false, fe
	}
	var v *string
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, false, append(fe, apperr.FieldError{Field: field, Message: "must be a string or null"})
	}
	t, fe := sensorText(fe, field, v)
	return t, t == nil, fe
}
