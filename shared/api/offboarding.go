package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/web"
)

// Offboarding (owners): an export of everything the organisation holds,
// built by the sweeper (shared/offboard) and e-mailed to the requester, and
// the organisation's deletion after a grace period.
func (s *Server) registerOffboarding(mux *http.ServeMux) {
	s.handleOrg(mux, "POST /api/v1/orgs/{orgId}/exports", access.Offboard, s.requestExport)
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/exports/{exportId}", access.Offboard, s.getExport)
	s.handleOrg(mux, "POST /api/v1/orgs/{orgId}/deletion", access.Offboard, s.requestDeletion)
	s.handleOrg(mux, "DELETE /api/v1/orgs/{orgId}/deletion", access.Offboard, s.cancelDeletion)
}

// exportLinkTTL: the export's page signs a fresh download link each time.
const exportLinkTTL = time.Hour

type exportAnswer struct {
	store.OrganizationExport
	Download *exportDownload `json:"download,omitempty"`
}

type exportDownload struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (s *Server) requestExport(w http.ResponseWriter, r *http.Request, m Member) error {
	if m.Email == "" {
		return apperr.New(apperr.Invalid, "your account has no e-mail address to send the export link to")
	}
	e, err := s.DB.RequestExport(r.Context(), m.OrgID, m.UserID, m.Email)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusAccepted, exportAnswer{OrganizationExport: e})
	return nil
}

func (s *Server) getExport(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "exportId")
	if err != nil {
		return err
	}
	e, err := s.DB.Export(r.Context(), m.OrgID, id)
	if err != nil {
		return err
	}
	ans := exportAnswer{OrganizationExport: e}
	if e.Status == "ready" && e.S3Key != "" {
		files, err := s.files()
		if err != nil {
			return err
		}
		get, err := files.PresignGet(r.Context(), e.S3Key, exportLinkTTL)
		if err != nil {
			return err
		}
		ans.Download = &exportDownload{URL: get.URL, ExpiresAt: get.Expires.UTC()}
	}
	web.JSON(w, http.StatusOK, ans)
	return nil
}

func (s *Server) requestDeletion(w http.ResponseWriter, r *http.Request, m Member) error {
	var in struct {
		ConfirmName string `json:"confirm_name"`
	}
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	org, err := s.DB.Organization(r.Context(), m.OrgID)
	if err != nil {
		return err
	}
	if strings.TrimSpace(in.ConfirmName) != org.Name {
		return apperr.Validation(apperr.FieldError{Field: "confirm_name", Message: "must be the organisation's name, exactly"})
	}
	d, err := s.DB.RequestDeletion(r.Context(), m.OrgID, m.UserID, s.Now(), domain.OrganizationDeletionGrace)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusAccepted, d)
	return nil
}

func (s *Server) cancelDeletion(w http.ResponseWriter, r *http.Request, m Member) error {
	ok, err := s.DB.CancelDeletion(r.Context(), m.OrgID)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.New(apperr.NotFound, "no deletion is pending")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
