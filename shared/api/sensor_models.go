package api

import (
	"math"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/web"
)

// Battery thresholds are a setting of each sensor model (issue 14: 2.5 V
// and 10 % were hard-coded for every device, whatever its battery).
func (s *Server) registerSensorModels(mux *http.ServeMux) {
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/sensor-models", access.ReadOrganization, s.listSensorModels)
	s.handleOrg(mux, "PUT /api/v1/orgs/{orgId}/sensor-models", access.ManageSensors, s.saveSensorModel)
	s.handleOrg(mux, "DELETE /api/v1/orgs/{orgId}/sensor-models/{sensorModelId}", access.ManageSensors, s.deleteSensorModel)
}

type sensorModelRequest struct {
	Model             *string  `json:"model"`
	LowBatteryVolts   *float64 `json:"low_battery_volts"`
	LowBatteryPercent *int     `json:"low_battery_percent"`
}

// validate returns the settings to save, reporting every invalid field.
func (req sensorModelRequest) validate() (domain.SensorModel, error) {
	var out domain.SensorModel
	var fe []apperr.FieldError
	bad := func(field, msg string) { fe = append(fe, apperr.FieldError{Field: field, Message: msg}) }
	switch {
	case req.Model == nil || strings.TrimSpace(*req.Model) == "":
		bad("model", "is required")
	case utf8.RuneCountInString(strings.TrimSpace(*req.Model)) > domain.MaxSensorModelLen:
		bad("model", "must be at most 100 characters")
	case strings.ContainsFunc(*req.Model, unicode.IsControl):
		bad("model", "must not contain control characters")
	default:
		out.Model = strings.TrimSpace(*req.Model)
	}
	switch v := req.LowBatteryVolts; {
	case v == nil:
		bad("low_battery_volts", "is required")
	case !(*v >= domain.MinLowBatteryVolts && *v <= domain.MaxLowBatteryVolts):
		bad("low_battery_volts", "must be between 1 and 4.5 V")
	default:
		out.LowBatteryVolts = math.Round(*v*1000) / 1000
	}
	switch p := req.LowBatteryPercent; {
	case p == nil:
		bad("low_battery_percent", "is required")
	case *p < 1 || *p > 80:
		bad("low_battery_percent", "must be between 1 and 80")
	default:
		out.LowBatteryPercent = *p
	}
	if len(fe) > 0 {
		return out, apperr.Validation(fe...)
	}
	return out, nil
}

func (s *Server) listSensorModels(w http.ResponseWriter, r *http.Request, m Member) error {
	items, err := s.DB.SensorModels(r.Context(), m.OrgID)
	if err != nil {
		return err
	}
	if items == nil {
		items = []domain.SensorModel{}
	}
	web.JSON(w, http.StatusOK, map[string]any{"items": items,
		"defaults": map[string]any{"low_battery_volts": domain.DefaultLowBatteryVolts, "low_battery_percent": domain.DefaultLowBatteryPercent}})
	return nil
}

func (s *Server) saveSensorModel(w http.ResponseWriter, r *http.Request, m Member) error {
	var req sensorModelRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	in, err := req.validate()
	if err != nil {
		return err
	}
	out, err := s.DB.SaveSensorModel(r.Context(), m.OrgID, in)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) deleteSensorModel(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "sensorModelId")
	if err != nil {
		return err
	}
	if err := s.DB.DeleteSensorModel(r.Context(), m.OrgID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
