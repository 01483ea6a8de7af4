package api

import (
	"net/http"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/web"
)

func (s *Server) registerUnits(mux *http.ServeMux) {
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/units", access.ReadOrganization, s.listUnits)
	s.handleOrg(mux, "POST /api/v1/orgs/{orgId}/units", access.ManageUnits, s.createUnit)
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/units/{unitId}", access.ReadOrganization, s.getUnit)
	s.handleOrg(mux, "PATCH /api/v1/orgs/{orgId}/units/{unitId}", access.ManageUnits, s.patchUnit)
	s.handleOrg(mux, "DELETE /api/v1/orgs/{orgId}/units/{unitId}", access.ManageUnits, s.deleteUnit)
	s.handleOrg(mux, "POST /api/v1/orgs/{orgId}/units/{unitId}/restore", access.ManageUnits, s.restoreUnit)
}

var unitStatusNames = func() []string {
	out := make([]string, len(domain.UnitStatuses))
	for i, st := range domain.UnitStatuses {
		out[i] = string(st)
	}
	return out
}()

func (s *Server) listUnits(w http.ResponseWriter, r *http.Request, m Member) error {
	f, p, err := hierList(r)
	if err != nil {
		return err
	}
	if f.SiteID, err = QueryUUID(r, "site_id"); err != nil {
		return err
	}
	if f.AreaID, err = QueryUUID(r, "area_id"); err != nil {
		return err
	}
	if f.Status, err = QueryEnum(r, "status", unitStatusNames...); err != nil {
		return err
	}
	if err := s.checkFilters(r.Context(), m.OrgID, idFilter{"site_id", f.SiteID, []string{store.EntitySite}},
		idFilter{"area_id", f.AreaID, []string{store.EntityArea}}); err != nil {
		return err
	}
	units, err := s.DB.ListUnits(r.Context(), m.OrgID, f)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, NewList(units, p.Limit, func(x domain.Unit) Cursor { return Cursor{Time: x.CreatedAt, ID: x.ID} }))
	return nil
}

func (s *Server) createUnit(w http.ResponseWriter, r *http.Request, m Member) error {
	var in unitInput
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	u, fe := in.newUnit()
	if err := hierValidation(fe); err != nil {
		return err
	}
	u, err := s.DB.CreateUnit(r.Context(), m.OrgID, u)
	if err != nil {
		return err
	}
	hierCreated(w, r, u.ID, u)
	return nil
}

func (s *Server) getUnit(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "unitId")
	if err != nil {
		return err
	}
	u, err := s.DB.GetUnit(r.Context(), m.OrgID, id)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, u)
	return nil
}

func (s *Server) patchUnit(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "unitId")
	if err != nil {
		return err
	}
	var in unitInput
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	u, err := s.DB.UpdateUnit(r.Context(), m.OrgID, id, func(u *domain.Unit) error {
		return hierValidation(in.apply(u, false, nil))
	})
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, u)
	return nil
}

func (s *Server) deleteUnit(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "unitId")
	if err != nil {
		return err
	}
	if err := s.DB.DeleteUnit(r.Context(), m.OrgID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) restoreUnit(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "unitId")
	if err != nil {
		return err
	}
	u, err := s.DB.RestoreUnit(r.Context(), m.OrgID, id)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, u)
	return nil
}
