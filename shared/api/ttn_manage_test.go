package api

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/domain"
)

// ttnEnv is an api harness whose TTN management talks to a fakeTTN, with
// one organisation (owner, admin, manager) whose connection has a known
// webhook secret.
type ttnEnv struct {
	*harness
	ttn     *fakeTTN
	owner   *testUser
	admin   *testUser
	manager *testUser
	orgID   string
	secret  domain.TTNSecret
}

func newTTNEnv(t *testing.T) *ttnEnv {
	t.Helper()
	h := newHarness(t)
	f := newFakeTTN(t)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	h.srv.TTN = TTNManagement{
		Config: config.TTNStack{Cluster: "eu1", APIBase: f.srv.URL, EncryptionKey: base64.StdEncoding.EncodeToString(key),
			WebhookURL: "https://hooks.example.test/webhooks/ttn"},
		HTTP: &http.Client{Timeout: 300 * time.Millisecond},
	}
	e := &ttnEnv{harness: h, ttn: f, owner: h.user("owner"), admin: h.user("admin"), manager: h.user("manager")}
	e.orgID = h.org("Acme", e.owner)
	h.member(e.orgID, e.admin, access.Admin)
	h.member(e.orgID, e.manager, access.Manager)
	secret, err := domain.NewTTNSecret()
	if err != nil {
		t.Fatal(err)
	}
	e.secret = secret
	h.exec(`INSERT INTO network_connections (organization_id, application_id, secret_hash, secret_last4) VALUES ($1, $2, $3, $4)`,
		e.orgID, "frostguard-acme", secret.Hash[:], secret.Last4)
	return e
}

func (e *ttnEnv) path(suffix string) string { return "/api/v1/orgs/" + e.orgID + suffix }

// connect stores the fake's API key through the api.
func (e *ttnEnv) connect(t *testing.T) {
	t.Helper()
	e.do(e.admin, "PUT", e.path("/ttn-connection/credentials"),
		map[string]any{"application_id": e.ttn.appID, "api_key": e.ttn.apiKey}).must(t, http.StatusOK)
}

func (e *ttnEnv) storedHash(t *testing.T) []byte {
	t.Helper()
	var h []byte
	e.queryRow([]any{&h}, `SELECT secret_hash FROM network_connections WHERE organization_id = $1`, e.orgID)
	return h
}

func TestTTNConnectCredentials(t *testing.T) {
	e := newTTNEnv(t)
	t.Run("sufficient rights", func(t *testing.T) {
		var c domain.TTNManagedConnection
		e.do(e.admin, "PUT", e.path("/ttn-connection/credentials"),
			map[string]any{"application_id": "fg-app", "api_key": e.ttn.apiKey, "cluster": "eu1"}).must(t, http.StatusOK).JSON(t, &c)
		if c.ApplicationID == nil || *c.ApplicationID != "fg-app" || c.APIKeyLast4 == nil || *c.APIKeyLast4 != "0001" || c.Cluster == nil || *c.Cluster != "eu1" {
			t.Fatalf("connection %+v", c)
		}
		if len(c.Rights) != len(e.ttn.rights) {
			t.Errorf("rights %v", c.Rights)
		}
		var sealed []byte
		e.queryRow([]any{&sealed}, `SELECT api_key_ciphertext FROM network_connections WHERE organization_id = $1`, e.orgID)
		if len(sealed) == 0 || bytes.Contains(sealed, []byte(e.ttn.apiKey)) {
			t.Errorf("the API key is not stored sealed: %q", sealed)
		}
		res := e.do(e.owner, "GET", e.path("/ttn-connection/credentials"), nil).must(t, http.StatusOK)
		if bytes.Contains(res.Body, []byte(e.ttn.apiKey)) || bytes.Contains(res.Body, []byte("ciphertext")) {
			t.Errorf("GET shows the key: %s", res.Body)
		}
	})
	t.Run("insufficient rights", func(t *testing.T) {
		saved := e.ttn.rights
		e.ttn.rights = []string{"RIGHT_APPLICATION_INFO", "RIGHT_APPLICATION_TRAFFIC_READ"}
		defer func() { e.ttn.rights = saved }()
		res := e.do(e.admin, "PUT", e.path("/ttn-connection/credentials"),
			map[string]any{"application_id": "fg-app", "api_key": e.ttn.apiKey}).must(t, http.StatusBadRequest)
		for _, r := range []string{"RIGHT_APPLICATION_SETTINGS_BASIC", "RIGHT_APPLICATION_DEVICES_WRITE"} {
			if !bytes.Contains(res.Body, []byte(r)) {
				t.Errorf("the error does not name %s: %s", r, res.Body)
			}
		}
	})
	t.Run("all rights", func(t *testing.T) {
		saved := e.ttn.rights
		e.ttn.rights = []string{"RIGHT_APPLICATION_ALL"}
		defer func() { e.ttn.rights = saved }()
		e.connect(t)
	})
	t.Run("bad key is an upstream failure", func(t *testing.T) {
		res := e.do(e.admin, "PUT", e.path("/ttn-connection/credentials"),
			map[string]any{"application_id": "fg-app", "api_key": "NNSXS.WRONG.KEY00000000"}).must(t, http.StatusBadGateway)
		if !bytes.Contains(res.Body, []byte("refused the API key")) {
			t.Errorf("body %s", res.Body)
		}
	})
	t.Run("unknown application", func(t *testing.T) {
		e.do(e.admin, "PUT", e.path("/ttn-connection/credentials"),
			map[string]any{"application_id": "other-app", "api_key": e.ttn.apiKey}).must(t, http.StatusBadRequest)
	})
	t.Run("TTN down", func(t *testing.T) {
		e.ttn.setFail("rights", http.StatusServiceUnavailable)
		defer e.ttn.setFail("rights", 0)
		e.do(e.admin, "PUT", e.path("/ttn-connection/credentials"),
			map[string]any{"application_id": "fg-app", "api_key": e.ttn.apiKey}).must(t, http.StatusBadGateway)
	})
	t.Run("TTN timeout", func(t *testing.T) {
		e.ttn.setFail("rights", failTimeout)
		defer e.ttn.setFail("rights", 0)
		e.do(e.admin, "PUT", e.path("/ttn-connection/credentials"),
			map[string]any{"application_id": "fg-app", "api_key": e.ttn.apiKey}).must(t, http.StatusBadGateway)
	})
	t.Run("validation", func(t *testing.T) {
		for _, body := range []map[string]any{
			{"application_id": "Bad_App", "api_key": e.ttn.apiKey},
			{"application_id": "fg-app", "api_key": "short"},
			{"application_id": "fg-app", "api_key": e.ttn.apiKey, "cluster": "eu2"},
			{"application_id": "fg-app", "api_key": e.ttn.apiKey, "extra": 1},
		} {
			e.do(e.admin, "PUT", e.path("/ttn-connection/credentials"), body).must(t, http.StatusBadRequest)
		}
	})
	t.Run("application id taken", func(t *testing.T) {
		other := e.h2org(t)
		e.exec(`UPDATE network_connections SET application_id = 'frostguard-acme' WHERE organization_id = $1`, e.orgID)
		e.exec(`UPDATE network_connections SET application_id = 'fg-app' WHERE organization_id = $1`, other)
		e.do(e.admin, "PUT", e.path("/ttn-connection/credentials"),
			map[string]any{"application_id": "fg-app", "api_key": e.ttn.apiKey}).must(t, http.StatusConflict)
	})
}

// h2org is a second organisation with its own connection.
func (e *ttnEnv) h2org(t *testing.T) string {
	t.Helper()
	u := e.user("other-owner")
	id := e.org("Other", u)
	s, _ := domain.NewTTNSecret()
	e.exec(`INSERT INTO network_connections (organization_id, application_id, secret_hash, secret_last4) VALUES ($1, $2, $3, $4)`,
		id, "other-"+s.Last4, s.Hash[:], s.Last4)
	return id
}

func TestTTNConfigureWebhook(t *testing.T) {
	e := newTTNEnv(t)
	// Before a key is connected there is nothing to configure with.
	e.do(e.admin, "POST", e.path("/ttn-connection/configure-webhook"), nil).must(t, http.StatusConflict)
	e.connect(t)
	for run := 1; run <= 2; run++ { // re-running is idempotent: same webhook, new secret
		var c domain.TTNManagedConnection
		e.do(e.admin, "POST", e.path("/ttn-connection/configure-webhook"), nil).must(t, http.StatusOK).JSON(t, &c)
		wh := e.ttn.webhook(TTNWebhookID)
		if wh == nil || wh["base_url"] != "https://hooks.example.test/webhooks/ttn" {
			t.Fatalf("run %d: webhook %v", run, wh)
		}
		sent, _ := dig(wh, "headers."+domain.TTNWebhookHeader).(string)
		if sent == "" || sent == e.secret.Value {
			t.Fatalf("run %d: header secret %q", run, sent)
		}
		want := domain.HashTTNSecret(sent)
		if !bytes.Equal(e.storedHash(t), want[:]) {
			t.Fatalf("run %d: the stored hash is not the hash of the secret sent to TTN", run)
		}
		if c.WebhookID == nil || *c.WebhookID != TTNWebhookID || c.WebhookConfiguredAt == nil || c.SecretLast4 != sent[len(sent)-4:] {
			t.Errorf("run %d: connection %+v", run, c)
		}
		if bytes.Contains(e.do(e.admin, "GET", e.path("/ttn-connection/credentials"), nil).Body, []byte(sent)) {
			t.Errorf("the secret is readable")
		}
	}
	if n := len(e.ttn.webhooks); n != 1 {
		t.Errorf("%d webhooks on TTN, want 1", n)
	}
}

func TestTTNConfigureWebhookFailureKeepsOldSecret(t *testing.T) {
	for _, mode := range []int{http.StatusInternalServerError, failTimeout, http.StatusForbidden} {
		e := newTTNEnv(t)
		e.connect(t)
		before := e.storedHash(t)
		e.ttn.setFail("webhook", mode)
		e.do(e.admin, "POST", e.path("/ttn-connection/configure-webhook"), nil).must(t, http.StatusBadGateway)
		if !bytes.Equal(e.storedHash(t), before) || !bytes.Equal(before, e.secret.Hash[:]) {
			t.Errorf("mode %d: the old secret no longer matches", mode)
		}
		e.ttn.setFail("webhook", 0)
		e.do(e.admin, "POST", e.path("/ttn-connection/configure-webhook"), nil).must(t, http.StatusOK)
	}
}

func TestTTNManagementAccess(t *testing.T) {
	e := newTTNEnv(t)
	e.connect(t)
	other := e.h2org(t)
	sensorID := e.sensor(t, "70B3D57ED0000001")
	routes := []struct{ method, path string }{
		{"GET", "/ttn-connection/credentials"},
		{"PUT", "/ttn-connection/credentials"},
		{"POST", "/ttn-connection/configure-webhook"},
		{"GET", "/sensors/" + sensorID + "/provision"},
		{"POST", "/sensors/" + sensorID + "/provision"},
		{"DELETE", "/sensors/" + sensorID + "/provision"},
	}
	for _, rt := range routes {
		body := any(nil)
		if rt.method == "PUT" {
			body = map[string]any{"application_id": "fg-app", "api_key": e.ttn.apiKey}
		}
		// manager: 403; another organisation's member: 404.
		e.do(e.manager, rt.method, e.path(rt.path), body).must(t, http.StatusForbidden)
		outsider := e.user("outsider")
		e.member(other, outsider, access.Owner)
		e.do(outsider, rt.method, e.path(rt.path), body).must(t, http.StatusNotFound)
		// an id of another organisation in my organisation's path: 404.
		if rt.path != "/ttn-connection/credentials" && rt.path != "/ttn-connection/configure-webhook" {
			otherSensor := e.sensorIn(t, other, "70B3D57ED00000F1")
			e.do(e.admin, rt.method, e.path("/sensors/"+otherSensor+"/provision"), body).must(t, http.StatusNotFound)
		}
	}
	if calls := e.ttn.callLog(); len(calls) != 1 { // only connect's rights check
		t.Errorf("denied requests reached TTN: %v", calls)
	}
}

func TestTTNManagementNotConfigured(t *testing.T) {
	e := newTTNEnv(t)
	e.connect(t)
	sensorID := e.sensor(t, "70B3D57ED0000002")
	e.srv.TTN.Config.EncryptionKey = ""
	for _, rt := range []struct{ method, path string }{
		{"PUT", "/ttn-connection/credentials"},
		{"POST", "/ttn-connection/configure-webhook"},
		{"POST", "/sensors/" + sensorID + "/provision"},
		{"DELETE", "/sensors/" + sensorID + "/provision"},
	} {
		res := e.do(e.admin, rt.method, e.path(rt.path), map[string]any{}).must(t, http.StatusServiceUnavailable)
		if !bytes.Contains(res.Body, []byte("TTN management is not configured")) {
			t.Errorf("%s %s: %s", rt.method, rt.path, res.Body)
		}
	}
}
