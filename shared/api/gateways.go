package api

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/ttnapi"
	"github.com/frostguard/functions/shared/web"
)

// Gateways are registered in The Things Stack under a TTN user or
// organisation (the "gateway owner") with that owner's API key, stored on
// the organisation's TTN connection: the application key cannot do it (TTN
// API keys belong to one entity). Reads are open to every member; writes
// are the integration's (owner and admin).
func (s *Server) registerGateways(mux *http.ServeMux) {
	const creds = "/api/v1/orgs/{orgId}/ttn-connection/gateway-credentials"
	s.handleOrg(mux, "GET "+creds, access.ManageIntegration, s.getGatewayCredentials)
	s.handleOrg(mux, "PUT "+creds, access.ManageIntegration, s.putGatewayCredentials)
	const base = "/api/v1/orgs/{orgId}/gateways"
	s.handleOrg(mux, "GET "+base, access.ReadOrganization, s.listGateways)
	s.handleOrg(mux, "POST "+base, access.ManageIntegration, s.registerGateway)
	s.handleOrg(mux, "GET "+base+"/{gatewayId}", access.ReadOrganization, s.getGateway)
	s.handleOrg(mux, "DELETE "+base+"/{gatewayId}", access.ManageIntegration, s.deleteGateway)
}

// gatewayKeyAAD binds a sealed gateway key to its organisation and to its
// column: it cannot be swapped with the application key's ciphertext.
func gatewayKeyAAD(orgID string) []byte { return []byte(orgID + "/gateway-key") }

func (s *Server) getGatewayCredentials(w http.ResponseWriter, r *http.Request, m Member) error {
	o, err := s.DB.TTNGatewayOwner(r.Context(), m.OrgID)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, o)
	return nil
}

// putGatewayCredentialsRequest is PUT .../ttn-connection/gateway-credentials.
type putGatewayCredentialsRequest struct {
	OwnerType string `json:"owner_type"`
	OwnerID   string `json:"owner_id"`
	APIKey    string `json:"api_key"`
}

func (s *Server) putGatewayCredentials(w http.ResponseWriter, r *http.Request, m Member) error {
	k, err := s.ttnKey()
	if err != nil {
		return err
	}
	var req putGatewayCredentialsRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	var fe []apperr.FieldError
	if req.OwnerType != ttnapi.OwnerUser && req.OwnerType != ttnapi.OwnerOrganization {
		fe = append(fe, apperr.FieldError{Field: "owner_type", Message: "must be user or organization"})
	}
	// TTN user ids may be 2 characters long, every other id at least 3.
	ownerID, minLen := strings.TrimSpace(req.OwnerID), 3
	if req.OwnerType == ttnapi.OwnerUser {
		minLen = 2
	}
	if len(ownerID) < minLen || len(ownerID) > 36 || !ttnIDPattern.MatchString(ownerID) {
		fe = append(fe, apperr.FieldError{Field: "owner_id",
			Message: "must be a The Things Stack user or organisation id (lower-case letters, digits and single dashes)"})
	}
	apiKey := strings.TrimSpace(req.APIKey)
	if len(apiKey) < 16 || len(apiKey) > 256 || strings.ContainsAny(apiKey, " \t\r\n") {
		fe = append(fe, apperr.FieldError{Field: "api_key", Message: "must be a The Things Stack API key (NNSXS....)"})
	}
	if len(fe) > 0 {
		return apperr.Validation(fe...)
	}
	owner := ttnapi.Owner{Kind: req.OwnerType, ID: ownerID}
	// 404 without a connection, before TTN is called.
	if _, err := s.DB.TTNGatewayOwner(r.Context(), m.OrgID); err != nil {
		return err
	}
	// The rights live on the Identity Server; the cluster does not matter.
	rights, err := s.newTTNClient(s.TTN.Config.Cluster, apiKey).OwnerRights(r.Context(), owner)
	switch {
	case ttnapi.HasStatus(err, http.StatusNotFound):
		return apperr.Validation(apperr.FieldError{Field: "owner_id", Message: "is not a " + owner.Kind + " of The Things Stack"})
	case ttnapi.HasStatus(err, http.StatusUnauthorized) || ttnapi.HasStatus(err, http.StatusForbidden):
		return apperr.Wrap(apperr.BadGateway, err,
			"The Things Stack refused the API key: check that it is valid, not expired, and a key of the %s %s", owner.Kind, owner.ID)
	case err != nil:
		return err
	}
	if missing := ttnapi.MissingGatewayRights(rights, owner.Kind); len(missing) > 0 {
		return apperr.Validation(apperr.FieldError{Field: "api_key", Message: "lacks the rights " + strings.Join(missing, ", ")})
	}
	sealed, err := ttnapi.Seal(k, []byte(apiKey), gatewayKeyAAD(m.OrgID))
	if err != nil {
		return apperr.Wrap(apperr.Internal, err, "could not encrypt the API key")
	}
	o, err := s.DB.SetTTNGatewayCredentials(r.Context(), m.OrgID, store.GatewayCredentials{
		OwnerType: owner.Kind, OwnerID: owner.ID, SealedKey: sealed, Last4: apiKey[len(apiKey)-4:], Rights: rights})
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, o)
	return nil
}

// gatewayKey returns the organisation's gateway owner and opened key.
func (s *Server) gatewayKey(ctx context.Context, orgID string) (store.GatewayCredentials, string, error) {
	k, err := s.ttnKey()
	if err != nil {
		return store.GatewayCredentials{}, "", err
	}
	creds, err := s.DB.TTNGatewayKey(ctx, orgID)
	if err != nil {
		return creds, "", err
	}
	apiKey, err := ttnapi.Open(k, creds.SealedKey, gatewayKeyAAD(orgID))
	if err != nil {
		return creds, "", apperr.Wrap(apperr.Conflict, err,
			"the stored TTN gateway key cannot be decrypted any more: connect it again (PUT .../ttn-connection/gateway-credentials)")
	}
	if creds.Cluster == "" {
		creds.Cluster = s.TTN.Config.Cluster
	}
	return creds, string(apiKey), nil
}

// registerGatewayRequest is POST .../gateways.
type registerGatewayRequest struct {
	GatewayID       string  `json:"gateway_id"`
	GatewayEUI      string  `json:"gateway_eui"`
	Name            *string `json:"name"`
	FrequencyPlanID string  `json:"frequency_plan_id"`
	SiteID          *string `json:"site_id"`
}

// frequencyPlanPattern is the shape of TTN's plan ids (EU_863_870_TTN);
// TTN itself checks that the plan exists.
var frequencyPlanPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

func (req registerGatewayRequest) validate() (store.NewGateway, error) {
	var fe []apperr.FieldError
	n := store.NewGateway{GatewayID: strings.TrimSpace(req.GatewayID), FrequencyPlanID: strings.TrimSpace(req.FrequencyPlanID)}
	// The Things Stack's rule for every id but a user's: 3 to 36 characters.
	if len(n.GatewayID) < 3 || len(n.GatewayID) > 36 || !ttnIDPattern.MatchString(n.GatewayID) {
		fe = append(fe, apperr.FieldError{Field: "gateway_id",
			Message: "must be 3 to 36 lower-case letters, digits and single dashes, starting and ending with a letter or digit"})
	}
	eui, err := domain.NormalizeDevEUI(req.GatewayEUI)
	if err != nil {
		fe = append(fe, apperr.FieldError{Field: "gateway_eui", Message: err.Error()})
	}
	n.GatewayEUI = eui
	if !frequencyPlanPattern.MatchString(n.FrequencyPlanID) {
		fe = append(fe, apperr.FieldError{Field: "frequency_plan_id", Message: "must be a The Things Stack frequency plan id, e.g. EU_863_870_TTN"})
	}
	if req.Name != nil {
		name := strings.TrimSpace(*req.Name)
		switch {
		case utf8.RuneCountInString(name) > 50: // TTN's limit
			fe = append(fe, apperr.FieldError{Field: "name", Message: "must be at most 50 characters"})
		case name != "":
			n.Name = &name
		}
	}
	if req.SiteID != nil {
		if !domain.IsUUID(*req.SiteID) {
			fe = append(fe, apperr.FieldError{Field: "site_id", Message: "must be a UUID or null"})
		} else {
			id := strings.ToLower(*req.SiteID)
			n.SiteID = &id
		}
	}
	if len(fe) > 0 {
		return n, apperr.Validation(fe...)
	}
	return n, nil
}

// registerGateway registers the gateway in TTN. The row is recorded
// pending before TTN is called, so a run that dies is visible; the outcome
// then settles it: registered; deleted when TTN refused a first attempt
// (nothing was created); failed when TTN's outcome is unknown (timeout,
// 5xx), kept until a retry (the same request again) or a delete settles it.
func (s *Server) registerGateway(w http.ResponseWriter, r *http.Request, m Member) error {
	var req registerGatewayRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	n, err := req.validate()
	if err != nil {
		return err
	}
	ctx := r.Context()
	creds, apiKey, err := s.gatewayKey(ctx, m.OrgID)
	if err != nil {
		return err
	}
	n.Cluster = creds.Cluster
	g, retry, err := s.DB.BeginGatewayRegistration(ctx, m.OrgID, n, s.Now().Add(-store.GatewayStale))
	if err != nil {
		return err
	}
	// From here the outcome is recorded even if the caller hangs up.
	rec := context.WithoutCancel(ctx)
	s.Cache.Delete(rec, gatewayStatusKey(m.OrgID, g.GatewayID))
	client := s.newTTNClient(g.Cluster, apiKey)
	name := ""
	if g.Name != nil {
		name = *g.Name
	}
	err = client.RegisterGateway(ctx, ttnapi.Owner{Kind: creds.OwnerType, ID: creds.OwnerID}, ttnapi.Gateway{
		GatewayID: g.GatewayID, EUI: g.GatewayEUI, Name: name, FrequencyPlanID: g.FrequencyPlanID,
		ServerAddress: ttnapi.HostOf(client.Base)})
	discard := !retry && !ttnapi.MayHaveApplied(err)
	if ttnapi.HasStatus(err, http.StatusConflict) {
		discard, err = settleGatewayConflict(ctx, client, g, retry, err)
	}
	if err != nil {
		if discard {
			if derr := s.DB.DiscardGateway(rec, m.OrgID, g.ID); derr != nil {
				return derr
			}
			return err
		}
		e := apperr.From(err)
		msg := e.Message
		if _, rerr := s.DB.RecordGateway(rec, m.OrgID, g.ID, store.GatewayFailed, &msg); rerr != nil {
			return rerr
		}
		return &apperr.Error{Code: e.Code, Details: e.Details, Cause: err, Message: msg +
			" (the gateway is kept as failed: register it again to finish, or delete it)"}
	}
	g, err = s.DB.RecordGateway(rec, m.OrgID, g.ID, store.GatewayRegistered, nil)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusCreated, s.gatewayViews(ctx, m.OrgID, []store.Gateway{g})[0])
	return nil
}

// settleGatewayConflict handles TTN's 409 on a registration: it returns
// err nil when the gateway is ours after all, and whether the row is to be
// discarded. A retry may meet the gateway its own earlier, unanswered
// attempt created: if our key reads it with the EUI asked, the
// registration is done. Otherwise the id or EUI is someone else's (or a
// deleted gateway's: TTN never releases a deleted gateway's id).
func settleGatewayConflict(ctx context.Context, client *ttnapi.Client, g store.Gateway, retry bool, conflict error) (discard bool, err error) {
	if !retry {
		return true, gatewayTaken(conflict)
	}
	got, err := client.GetGateway(ctx, g.GatewayID)
	switch {
	case err == nil && got.EUI == g.GatewayEUI:
		return false, nil
	case err == nil:
		// Ours, but not as asked: keep the row so that a delete removes it from TTN.
		return false, &apperr.Error{Code: apperr.Conflict, Cause: conflict,
			Message: "The Things Stack already has this gateway under your owner with EUI " + got.EUI +
				" (an earlier attempt or the console registered it): register it with that EUI, or delete it",
			Details: []apperr.FieldError{{Field: "gateway_eui", Message: "differs from the gateway's EUI in The Things Stack"}}}
	case ttnapi.HasStatus(err, http.StatusNotFound) || ttnapi.HasStatus(err, http.StatusForbidden):
		return true, gatewayTaken(conflict)
	}
	return false, err
}

// gatewayTaken is our 409 for TTN's: it names the field TTN found taken.
func gatewayTaken(conflict error) error {
	if strings.Contains(strings.ToLower(apperr.From(conflict).Message), "eui") {
		return &apperr.Error{Code: apperr.Conflict, Cause: conflict,
			Message: "The Things Stack already has a gateway with this EUI",
			Details: []apperr.FieldError{{Field: "gateway_eui", Message: "is already taken in The Things Stack"}}}
	}
	return &apperr.Error{Code: apperr.Conflict, Cause: conflict,
		Message: "The Things Stack already has a gateway with this id, or had one (TTN never releases a deleted gateway's id)",
		Details: []apperr.FieldError{{Field: "gateway_id", Message: "is already taken in The Things Stack"}}}
}

func (s *Server) listGateways(w http.ResponseWriter, r *http.Request, m Member) error {
	p, err := PageFrom(r)
	if err != nil {
		return err
	}
	items, err := s.DB.Gateways(r.Context(), m.OrgID, p.After.Time, p.After.ID, p.Limit+1)
	if err != nil {
		return err
	}
	if len(items) > p.Limit {
		// The extra row only says that a next page exists: no status for it.
		views := s.gatewayViews(r.Context(), m.OrgID, items[:p.Limit])
		views = append(views, gatewayView{Gateway: items[p.Limit]})
		web.JSON(w, http.StatusOK, NewList(views, p.Limit, gatewayCursor))
		return nil
	}
	web.JSON(w, http.StatusOK, NewList(s.gatewayViews(r.Context(), m.OrgID, items), p.Limit, gatewayCursor))
	return nil
}

func gatewayCursor(v gatewayView) Cursor { return Cursor{Time: v.CreatedAt, ID: v.ID} }

func (s *Server) getGateway(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "gatewayId")
	if err != nil {
		return err
	}
	g, err := s.DB.Gateway(r.Context(), m.OrgID, id)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, s.gatewayViews(r.Context(), m.OrgID, []store.Gateway{g})[0])
	return nil
}

// deleteGateway deregisters the gateway from TTN, then soft-deletes it. A
// gateway TTN does not know counts as deregistered, so deleting a failed
// registration settles it whatever TTN had done. If TTN fails the row keeps
// its status with the error, and deleting again continues.
func (s *Server) deleteGateway(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "gatewayId")
	if err != nil {
		return err
	}
	ctx := r.Context()
	cur, err := s.DB.Gateway(ctx, m.OrgID, id)
	if err != nil {
		return err
	}
	// After the lookup: another tenant's gateway is a 404 whatever the configuration.
	if (cur.ProvisioningStatus == store.GatewayPending || cur.ProvisioningStatus == store.GatewayDeregistering) &&
		!cur.ProvisioningUpdatedAt.Before(s.Now().Add(-store.GatewayStale)) {
		return store.ErrGatewayBusy
	}
	_, apiKey, err := s.gatewayKey(ctx, m.OrgID)
	if err != nil {
		return err
	}
	g, err := s.DB.BeginGatewayDeletion(ctx, m.OrgID, cur)
	if err != nil {
		return err
	}
	rec := context.WithoutCancel(ctx)
	if err := s.newTTNClient(g.Cluster, apiKey).DeleteGateway(ctx, g.GatewayID); err != nil {
		back := cur.ProvisioningStatus
		if back != store.GatewayRegistered {
			back = store.GatewayFailed // a dead run's pending: TTN's state is unknown
		}
		msg := "deleting from The Things Stack: " + apperr.From(err).Message
		if _, rerr := s.DB.RecordGateway(rec, m.OrgID, g.ID, back, &msg); rerr != nil {
			return rerr
		}
		return err
	}
	if err := s.DB.DeleteGateway(rec, m.OrgID, g.ID); err != nil {
		return err
	}
	s.Cache.Delete(rec, gatewayStatusKey(m.OrgID, g.GatewayID))
	w.WriteHeader(http.StatusNoContent)
	return nil
}
