package api

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/web"
)

func (s *Server) registerSites(mux *http.ServeMux) {
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/sites", access.ReadOrganization, s.listSites)
	s.handleOrg(mux, "POST /api/v1/orgs/{orgId}/sites", access.ManageSites, s.createSite)
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/sites/{siteId}", access.ReadOrganization, s.getSite)
	s.handleOrg(mux, "PATCH /api/v1/orgs/{orgId}/sites/{siteId}", access.ManageSites, s.patchSite)
	s.handleOrg(mux, "DELETE /api/v1/orgs/{orgId}/sites/{siteId}", access.ManageSites, s.deleteSite)
	s.handleOrg(mux, "POST /api/v1/orgs/{orgId}/sites/{siteId}/restore", access.ManageSites, s.restoreSite)
}

// siteInput is the body of POST (name required) and PATCH (any subset;
// null clears an optional field).
type siteInput struct {
	Name         hierOpt[string]  `json:"name"`
	AddressLine1 hierOpt[string]  `json:"address_line1"`
	AddressLine2 hierOpt[string]  `json:"address_line2"`
	City         hierOpt[string]  `json:"city"`
	Region       hierOpt[string]  `json:"region"`
	PostalCode   hierOpt[string]  `json:"postal_code"`
	Country      hierOpt[string]  `json:"country"`
	Timezone     hierOpt[string]  `json:"timezone"`
	Latitude     hierOpt[float64] `json:"latitude"`
	Longitude    hierOpt[float64] `json:"longitude"`
}

var hierCountryPattern = regexp.MustCompile(`^[A-Z]{2}$`)

// apply merges the input into site, returning every invalid field.
func (in siteInput) apply(site *domain.Site, create bool) []apperr.FieldError {
	var fe []apperr.FieldError
	hierName(&fe, in.Name, create, &site.Name)
	hierText(&fe, "address_line1", in.AddressLine1, hierMaxName, &site.AddressLine1)
	hierText(&fe, "address_line2", in.AddressLine2, hierMaxName, &site.AddressLine2)
	hierText(&fe, "city", in.City, hierMaxName, &site.City)
	hierText(&fe, "region", in.Region, hierMaxName, &site.Region)
	hierText(&fe, "postal_code", in.PostalCode, 20, &site.PostalCode)
	if in.Country.Set {
		c := strings.ToUpper(strings.TrimSpace(in.Country.V))
		switch {
		case in.Country.Null || c == "":
			site.Country = nil
		case !hierCountryPattern.MatchString(c):
			fe = append(fe, apperr.FieldError{Field: "country", Message: "must be an ISO 3166-1 alpha-2 code, e.g. US"})
		default:
			site.Country = &c
		}
	}
	if in.Timezone.Set {
		switch tz := in.Timezone.V; {
		case in.Timezone.Null:
			site.Timezone = nil
		case !domain.IsIANAZone(tz):
			fe = append(fe, apperr.FieldError{Field: "timezone", Message: "must be an IANA time zone, e.g. Europe/Paris, or null for the organization's"})
		default:
			site.Timezone = &tz
		}
	}
	hierCoordinate(&fe, "latitude", in.Latitude, 90, &site.Latitude)
	hierCoordinate(&fe, "longitude", in.Longitude, 180, &site.Longitude)
	return fe
}

func hierCoordinate(fe *[]apperr.FieldError, field string, o hierOpt[float64], max float64, dst **float64) {
	switch {
	case !o.Set:
	case o.Null:
		*dst = nil
	case o.V < -max || o.V > max:
		*fe = append(*fe, apperr.FieldError{Field: field, Message: fmt.Sprintf("must be between %g and %g", -max, max)})
	default:
		v := o.V
		*dst = &v
	}
}

func (s *Server) listSites(w http.ResponseWriter, r *http.Request, m Member) error {
	f, p, err := hierList(r)
	if err != nil {
		return err
	}
	sites, err := s.DB.ListSites(r.Context(), m.OrgID, f)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, NewList(sites, p.Limit, func(x domain.Site) Cursor { return Cursor{Time: x.CreatedAt, ID: x.ID} }))
	return nil
}

func (s *Server) createSite(w http.ResponseWriter, r *http.Request, m Member) error {
	var in siteInput
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	var site domain.Site
	if err := hierValidation(in.apply(&site, true)); err != nil {
		return err
	}
	site, err := s.DB.CreateSite(r.Context(), m.OrgID, site)
	if err != nil {
		return err
	}
	hierCreated(w, r, site.ID, site)
	return nil
}

func (s *Server) getSite(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "siteId")
	if err != nil {
		return err
	}
	site, err := s.DB.GetSite(r.Context(), m.OrgID, id)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, site)
	return nil
}

func (s *Server) patchSite(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "siteId")
	if err != nil {
		return err
	}
	var in siteInput
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	site, err := s.DB.UpdateSite(r.Context(), m.OrgID, id, func(site *domain.Site) error {
		return hierValidation(in.apply(site, false))
	})
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, site)
	return nil
}

func (s *Server) deleteSite(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "siteId")
	if err != nil {
		return err
	}
	if err := s.DB.DeleteSite(r.Context(), m.OrgID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) restoreSite(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "siteId")
	if err != nil {
		return err
	}
	site, err := s.DB.RestoreSite(r.Context(), m.OrgID, id)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, site)
	return nil
}
