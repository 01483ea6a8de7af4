package api

import (
	"net/http"

	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/web"
)

func (s *Server) registerMe(mux *http.ServeMux) {
	s.handleUser(mux, "GET /api/v1/me", s.getMe)
}

// meResponse is GET /api/v1/me.
type meResponse struct {
	ID          string              `json:"id"`
	Email       string              `json:"email,omitempty"`
	DisplayName string              `json:"display_name,omitempty"`
	Memberships []domain.Membership `json:"memberships"`
}

func (s *Server) getMe(w http.ResponseWriter, r *http.Request, c Caller) error {
	ms, err := s.DB.Memberships(r.Context(), c.UserID)
	if err != nil {
		return err
	}
	if ms == nil {
		ms = []domain.Membership{}
	}
	web.JSON(w, http.StatusOK, meResponse{ID: c.UserID, Email: c.Email, DisplayName: c.Name, Memberships: ms})
	return nil
}
