package api

import (
	"net/http"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/web"
)

func (s *Server) registerAreas(mux *http.ServeMux) {
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/areas", access.ReadOrganization, s.listAreas)
	s.handleOrg(mux, "POST /api/v1/orgs/{orgId}/areas", access.ManageSites, s.createArea)
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/areas/{areaId}", access.ReadOrganization, s.getArea)
	s.handleOrg(mux, "PATCH /api/v1/orgs/{orgId}/areas/{areaId}", access.ManageSites, s.patchArea)
	s.handleOrg(mux, "DELETE /api/v1/orgs/{orgId}/areas/{areaId}", access.ManageSites, s.deleteArea)
	s.handleOrg(mux, "POST /api/v1/orgs/{orgId}/areas/{areaId}/restore", access.ManageSites, s.restoreArea)
}

// areaInput is the body of POST (site_id and name required) and PATCH (any
// subset; a new site_id moves the area and its units to that site).
type areaInput struct {
	SiteID      hierOpt[string] `json:"site_id"`
	Name        hierOpt[string] `json:"name"`
	Description hierOpt[string] `json:"description"`
	SortOrder   hierOpt[int]    `json:"sort_order"`
}

func (in areaInput) apply(a *domain.Area, create bool) []apperr.FieldError {
	var fe []apperr.FieldError
	hierParentID(&fe, "site_id", in.SiteID, create, &a.SiteID)
	hierName(&fe, in.Name, create, &a.Name)
	hierText(&fe, "description", in.Description, hierMaxText, &a.Description)
	hierSortOrder(&fe, in.SortOrder, &a.SortOrder)
	return fe
}

func (s *Server) listAreas(w http.ResponseWriter, r *http.Request, m Member) error {
	f, p, err := hierList(r)
	if err != nil {
		return err
	}
	if f.SiteID, err = QueryUUID(r, "site_id"); err != nil {
		return err
	}
	if err := s.checkFilters(r.Context(), m.OrgID, idFilter{"site_id", f.SiteID, []string{store.EntitySite}}); err != nil {
		return err
	}
	areas, err := s.DB.ListAreas(r.Context(), m.OrgID, f)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, NewList(areas, p.Limit, func(x domain.Area) Cursor { return Cursor{Time: x.CreatedAt, ID: x.ID} }))
	return nil
}

func (s *Server) createArea(w http.ResponseWriter, r *http.Request, m Member) error {
	var in areaInput
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	var a domain.Area
	if err := hierValidation(in.apply(&a, true)); err != nil {
		return err
	}
	a, err := s.DB.CreateArea(r.Context(), m.OrgID, a)
	if err != nil {
		return err
	}
	hierCreated(w, r, a.ID, a)
	return nil
}

func (s *Server) getArea(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "areaId")
	if err != nil {
		return err
	}
	a, err := s.DB.GetArea(r.Context(), m.OrgID, id)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) patchArea(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "areaId")
	if err != nil {
		return err
	}
	var in areaInput
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	a, err := s.DB.UpdateArea(r.Context(), m.OrgID, id, func(a *domain.Area) error {
		return hierValidation(in.apply(a, false))
	})
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) deleteArea(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "areaId")
	if err != nil {
		return err
	}
	if err := s.DB.DeleteArea(r.Context(), m.OrgID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) restoreArea(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "areaId")
	if err != nil {
		return err
	}
	a, err := s.DB.RestoreArea(r.Context(), m.OrgID, id)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, a)
	return nil
}
