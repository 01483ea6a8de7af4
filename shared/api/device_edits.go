package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/web"
)

// Devices as the SPA's sensor and gateway screens edit them: a sensor's own
// readings (whatever unit it was in), restoring an unregistered sensor, and
// renaming or moving a gateway.
func (s *Server) registerDeviceEdits(mux *http.ServeMux) {
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/sensors/{sensorId}/readings", access.ReadOrganization, s.sensorReadings)
	s.handleOrg(mux, "POST /api/v1/orgs/{orgId}/sensors/{sensorId}/restore", access.ManageSensors, s.restoreSensor)
	s.handleOrg(mux, "PATCH /api/v1/orgs/{orgId}/gateways/{gatewayId}", access.ManageIntegration, s.patchGateway)
}

// sensorReadingsResponse is GET .../sensors/{sensorId}/readings.
type sensorReadingsResponse struct {
	SensorID   string           `json:"sensor_id"`
	From       time.Time        `json:"from"`
	To         time.Time        `json:"to"`
	Items      []domain.Reading `json:"items"`
	NextCursor string           `json:"next_cursor"`
}

// sensorReadings lists a registered (or unregistered) sensor's raw
// readings in a range, oldest first, paged like a unit's.
func (s *Server) sensorReadings(w http.ResponseWriter, r *http.Request, m Member) error {
	sensorID, err := PathID(r, "sensorId")
	if err != nil {
		return err
	}
	from, to, err := readingsRange(r, s.Now())
	if err != nil {
		return err
	}
	limit, afterTime, afterID, err := readingsPage(r)
	if err != nil {
		return err
	}
	ok, err := s.DB.InOrganization(r.Context(), m.OrgID, sensorID, store.EntitySensor)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.New(apperr.NotFound, "sensor not found")
	}
	items, err := s.DB.Readings(r.Context(), store.ReadingRange{OrgID: m.OrgID, SensorID: sensorID, From: from, To: to}, afterTime, afterID, limit+1)
	if err != nil {
		return err
	}
	page := NewList(items, limit, func(x domain.Reading) Cursor {
		return Cursor{Time: x.RecordedAt, ID: strconv.FormatInt(x.ID, 10)}
	})
	web.JSON(w, http.StatusOK, sensorReadingsResponse{SensorID: sensorID, From: from, To: to,
		Items: page.Items, NextCursor: page.NextCursor})
	return nil
}

func (s *Server) restoreSensor(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "sensorId")
	if err != nil {
		return err
	}
	x, err := s.DB.RestoreSensor(r.Context(), m.OrgID, id)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, x)
	return nil
}

// patchGatewayRequest is PATCH .../gateways/{gatewayId}: null clears.
type patchGatewayRequest struct {
	Name   hierOpt[string] `json:"name"`
	SiteID hierOpt[string] `json:"site_id"`
}

func (req patchGatewayRequest) change() (store.GatewayChange, error) {
	var c store.GatewayChange
	var fe []apperr.FieldError
	switch name := strings.TrimSpace(req.Name.V); {
	case !req.Name.Set:
	case req.Name.Null || name == "":
		c.ClearName = true
	case utf8.RuneCountInString(name) > 50: // TTN's limit, as at registration
		fe = append(fe, apperr.FieldError{Field: "name", Message: "must be at most 50 characters"})
	default:
		c.Name = &name
	}
	switch {
	case !req.SiteID.Set:
	case req.SiteID.Null:
		c.ClearSite = true
	case !domain.IsUUID(req.SiteID.V):
		fe = append(fe, apperr.FieldError{Field: "site_id", Message: "must be a UUID or null"})
	default:
		id := strings.ToLower(req.SiteID.V)
		c.SiteID = &id
	}
	if len(fe) > 0 {
		return c, apperr.Validation(fe...)
	}
	return c, nil
}

// patchGateway renames a gateway or moves it to another site, in
// FrostGuard: its registration in The Things Stack keeps its id, EUI and
// frequency plan (and the name it was registered with).
func (s *Server) patchGateway(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "gatewayId")
	if err != nil {
		return err
	}
	var req patchGatewayRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	c, err := req.change()
	if err != nil {
		return err
	}
	g, err := s.DB.UpdateGateway(r.Context(), m.OrgID, id, c)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, s.gatewayViews(r.Context(), m.OrgID, []store.Gateway{g})[0])
	return nil
}
