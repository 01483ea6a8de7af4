package api

import (
	"net/http"
	"strings"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/ttnapi"
	"github.com/frostguard/functions/shared/web"
)

// TTNManagement configures The Things Stack management: connecting an
// organisation's application with an API key, configuring its webhook,
// provisioning sensors' end devices.
type TTNManagement struct {
	Config config.TTNStack
	// HTTP is the client for TTN calls; nil uses one with a 10 s timeout.
	HTTP *http.Client
}

// TTNWebhookID is the id of the webhook we configure in each application.
const TTNWebhookID = "frostguard"

// ttnRequiredRights are what a connected API key must grant: reading
// traffic and setting the webhook for the ingest, writing devices and their
// root keys for provisioning (the Join Server refuses an AppKey without
// RIGHT_APPLICATION_DEVICES_WRITE_KEYS, which would otherwise only show up
// as a failed provisioning much later).
var ttnRequiredRights = []string{
	"RIGHT_APPLICATION_TRAFFIC_READ",
	"RIGHT_APPLICATION_SETTINGS_BASIC",
	"RIGHT_APPLICATION_DEVICES_WRITE",
	"RIGHT_APPLICATION_DEVICES_WRITE_KEYS",
}

func (s *Server) registerTTNManagement(mux *http.ServeMux) {
	const base = "/api/v1/orgs/{orgId}/ttn-connection"
	s.handleOrg(mux, "GET "+base+"/credentials", access.ManageIntegration, s.getTTNCredentials)
	s.handleOrg(mux, "PUT "+base+"/credentials", access.ManageIntegration, s.putTTNCredentials)
	s.handleOrg(mux, "POST "+base+"/configure-webhook", access.ManageIntegration, s.configureTTNWebhook)
	const sensor = "/api/v1/orgs/{orgId}/sensors/{sensorId}/provision"
	s.handleOrg(mux, "GET "+sensor, access.ManageIntegration, s.getSensorProvisioning)
	s.handleOrg(mux, "POST "+sensor, access.ManageIntegration, s.provisionSensor)
	s.handleOrg(mux, "DELETE "+sensor, access.ManageIntegration, s.deprovisionSensor)
	s.registerGateways(mux)
}

var errTTNNotConfigured = apperr.New(apperr.Unavailable, "TTN management is not configured")

// ttnKey is the key sealing API keys; 503 when management is off.
func (s *Server) ttnKey() ([]byte, error) {
	if !s.TTN.Config.Configured() {
		return nil, errTTNNotConfigured
	}
	k, err := s.TTN.Config.Key()
	if err != nil {
		return nil, apperr.Wrap(apperr.Unavailable, err, "TTN management is not configured")
	}
	return k, nil
}

// ttnClient opens the organisation's sealed API key into a client.
func (s *Server) ttnClient(orgID string, creds store.TTNCredentials) (*ttnapi.Client, error) {
	k, err := s.ttnKey()
	if err != nil {
		return nil, err
	}
	apiKey, err := ttnapi.Open(k, creds.SealedKey, []byte(orgID))
	if err != nil {
		// The configured key changed since the API key was stored.
		return nil, apperr.Wrap(apperr.Conflict, err,
			"the stored TTN API key cannot be decrypted any more: connect it again (PUT .../ttn-connection/credentials)")
	}
	return s.newTTNClient(creds.Cluster, string(apiKey)), nil
}

func (s *Server) newTTNClient(cluster, apiKey string) *ttnapi.Client {
	return &ttnapi.Client{Base: s.TTN.Config.ClusterBase(cluster), IdentityBase: s.TTN.Config.IdentityBase(),
		APIKey: apiKey, HTTP: s.TTN.HTTP}
}

func (s *Server) getTTNCredentials(w http.ResponseWriter, r *http.Request, m Member) error {
	c, err := s.DB.TTNManagedConnection(r.Context(), m.OrgID)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, c)
	return nil
}

// putTTNCredentialsRequest is PUT .../ttn-connection/credentials.
type putTTNCredentialsRequest struct {
	ApplicationID string  `json:"application_id"`
	APIKey        string  `json:"api_key"`
	Cluster       *string `json:"cluster"`
}

func (s *Server) putTTNCredentials(w http.ResponseWriter, r *http.Request, m Member) error {
	k, err := s.ttnKey()
	if err != nil {
		return err
	}
	var req putTTNCredentialsRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	var fe []apperr.FieldError
	appID := strings.TrimSpace(req.ApplicationID)
	if len(appID) < 3 || len(appID) > 36 || !ttnIDPattern.MatchString(appID) {
		fe = append(fe, apperr.FieldError{Field: "application_id",
			Message: "must be 3 to 36 lower-case letters, digits and single dashes, starting and ending with a letter or digit"})
	}
	apiKey := strings.TrimSpace(req.APIKey)
	if len(apiKey) < 16 || len(apiKey) > 256 || strings.ContainsAny(apiKey, " \t\r\n") {
		fe = append(fe, apperr.FieldError{Field: "api_key", Message: "must be a The Things Stack API key (NNSXS....)"})
	}
	cluster := s.TTN.Config.Cluster
	if req.Cluster != nil {
		cluster = *req.Cluster
		if !config.ValidTTNCluster(cluster) {
			fe = append(fe, apperr.FieldError{Field: "cluster", Message: "must be eu1, nam1 or au1"})
		}
	}
	if len(fe) > 0 {
		return apperr.Validation(fe...)
	}
	rights, err := s.newTTNClient(cluster, apiKey).Rights(r.Context(), appID)
	if apperr.CodeOf(err) == apperr.NotFound {
		return apperr.Validation(apperr.FieldError{Field: "application_id", Message: "is not an application of The Things Stack (" + cluster + ")"})
	}
	if err != nil {
		return err
	}
	if missing := ttnapi.MissingRights(rights, ttnRequiredRights); len(missing) > 0 {
		return apperr.Validation(apperr.FieldError{Field: "api_key",
			Message: "lacks the rights " + strings.Join(missing, ", ")})
	}
	sealed, err := ttnapi.Seal(k, []byte(apiKey), []byte(m.OrgID))
	if err != nil {
		return apperr.Wrap(apperr.Internal, err, "could not encrypt the API key")
	}
	c, err := s.DB.SetTTNCredentials(r.Context(), m.OrgID, store.TTNCredentials{
		ApplicationID: appID, Cluster: cluster, SealedKey: sealed, Last4: apiKey[len(apiKey)-4:], Rights: rights,
	})
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, c)
	return nil
}

// configureTTNWebhook points the application's webhook at our ttn-webhook
// with a new secret: the secret rotates on TTN and here in one operation,
// and a TTN failure leaves the old secret in force on both sides.
func (s *Server) configureTTNWebhook(w http.ResponseWriter, r *http.Request, m Member) error {
	if _, err := s.ttnKey(); err != nil {
		return err
	}
	if s.TTN.Config.WebhookURL == "" {
		return apperr.New(apperr.Unavailable, "TTN management is not configured (no webhook URL)")
	}
	secret, err := domain.NewTTNSecret()
	if err != nil {
		return apperr.Wrap(apperr.Internal, err, "could not generate a webhook secret")
	}
	c, err := s.DB.ConfigureTTNWebhook(r.Context(), m.OrgID, TTNWebhookID, secret, func(creds store.TTNCredentials) error {
		client, err := s.ttnClient(m.OrgID, creds)
		if err != nil {
			return err
		}
		return client.SetWebhook(r.Context(), creds.ApplicationID, TTNWebhookID, ttnapi.Webhook{
			BaseURL: s.TTN.Config.WebhookURL,
			Headers: map[string]string{domain.TTNWebhookHeader: secret.Value},
			// ttn-webhook tells uplinks from join-accepts by their body.
		})
	})
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, c)
	return nil
}
