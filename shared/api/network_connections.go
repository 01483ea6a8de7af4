package api

import (
	"net/http"
	"strings"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/web"
)

// An organisation's connections to LoRaWAN networks other than TTN (whose routes are
// .../ttn-connection): a sensor registered in the organisation receives readings from whichever
// of them delivers its uplinks.
func (s *Server) registerNetworkConnections(mux *http.ServeMux) {
	const chirpStack = "/api/v1/orgs/{orgId}/network-connections/chirpstack"
	s.handleOrg(mux, "GET "+chirpStack, access.ManageIntegration, s.getChirpStackConnection)
	s.handleOrg(mux, "PUT "+chirpStack, access.ManageIntegration, s.putChirpStackConnection)
	s.handleOrg(mux, "DELETE "+chirpStack, access.ManageIntegration, s.deleteChirpStackConnection)
}

func (s *Server) getChirpStackConnection(w http.ResponseWriter, r *http.Request, m Member) error {
	c, err := s.DB.ChirpStackConnection(r.Context(), m.OrgID)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, c)
	return nil
}

// putChirpStackRequest is PUT .../network-connections/chirpstack (the body is optional).
type putChirpStackRequest struct {
	TenantID      *string `json:"tenant_id"`
	ApplicationID *string `json:"application_id"`
}

// chirpStackConnectionAnswer is the connection with its new secret, shown this once.
type chirpStackConnectionAnswer struct {
	domain.ChirpStackConnection
	Secret string `json:"secret"`
}

// putChirpStackConnection creates the organisation's ChirpStack connection, or rotates its
// secret (and replaces its binding): every call answers a new secret, the previous one stops
// working at once.
func (s *Server) putChirpStackConnection(w http.ResponseWriter, r *http.Request, m Member) error {
	body, err := web.ReadBody(r)
	if err != nil {
		return err
	}
	var req putChirpStackRequest
	if len(strings.TrimSpace(string(body))) > 0 {
		if err := web.Unmarshal(body, &req); err != nil {
			return err
		}
	}
	var fe []apperr.FieldError
	binding := domain.ChirpStackBinding{}
	for _, f := range []struct {
		name string
		in   *string
		out  **string
	}{{"tenant_id", req.TenantID, &binding.TenantID}, {"application_id", req.ApplicationID, &binding.ApplicationID}} {
		if f.in == nil || strings.TrimSpace(*f.in) == "" {
			continue
		}
		id := strings.ToLower(strings.TrimSpace(*f.in))
		if !domain.IsUUID(id) {
			fe = append(fe, apperr.FieldError{Field: f.name, Message: "must be the ChirpStack " + strings.TrimSuffix(f.name, "_id") + "'s id (a UUID), or null for any"})
			continue
		}
		*f.out = &id
	}
	if len(fe) > 0 {
		return apperr.Validation(fe...)
	}
	secret, err := domain.NewChirpStackSecret()
	if err != nil {
		return apperr.Wrap(apperr.Internal, err, "could not generate a webhook secret")
	}
	c, created, err := s.DB.PutChirpStackConnection(r.Context(), m.OrgID, binding, secret)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	web.JSON(w, status, chirpStackConnectionAnswer{ChirpStackConnection: c, Secret: secret.Value})
	return nil
}

func (s *Server) deleteChirpStackConnection(w http.ResponseWriter, r *http.Request, m Member) error {
	if err := s.DB.DeleteChirpStackConnection(r.Context(), m.OrgID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
