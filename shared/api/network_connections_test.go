package api

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/ingest"
	"github.com/frostguard/functions/shared/lorawan"
	"github.com/frostguard/functions/shared/lorawan/chirpstack"
	"github.com/frostguard/functions/shared/lorawan/ttn"
	"github.com/frostguard/functions/shared/web"
)

// deliverUplink posts one uplink of devEUI at `at` to a LoRaWAN webhook (the real ingest
// handler for the network's parser) and returns the status and body.
func deliverUplink(h *harness, network lorawan.Parser, header, secret, devEUI string, at time.Time) (int, string) {
	h.t.Helper()
	handler := web.Standard(&ingest.Handler{Network: network, DB: h.db}, web.Options{Function: "webhook"})
	var target, body string
	stamp := at.UTC().Format(time.RFC3339Nano)
	switch network.Network() {
	case lorawan.NetworkChirpStack:
		target = "/webhooks/chirpstack?event=up"
		body = fmt.Sprintf(`{"deduplicationId":"%d","time":%q,"deviceInfo":{"devEui":%q,"deviceName":"probe",
			"tenantId":"52f14cd4-c6f1-4fbd-8f87-4025e1d49242","applicationId":"17c82e96-be03-4f38-aef3-f83d48582d97"},
			"fCnt":%d,"fPort":2,"object":{"TempC_SHT":3.5}}`, at.UnixNano(), stamp, strings.ToLower(devEUI), at.Unix()%1000)
	default:
		target = "/webhooks/ttn"
		body = fmt.Sprintf(`{"end_device_ids":{"device_id":"probe","dev_eui":%q,"application_ids":{"application_id":"net-conn-app"}},
			"correlation_ids":["as:up:%d"],"received_at":%q,"uplink_message":{"f_port":2,"f_cnt":%d,
			"decoded_payload":{"TempC_SHT":3.5},"received_at":%q}}`, devEUI, at.UnixNano(), stamp, at.Unix()%1000, stamp)
	}
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(header, secret)
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// PUT creates the organisation's ChirpStack connection and answers its secret, once per call
// (each call rotates it); GET never shows it; DELETE ends it. Owner and admin only; audited
// without the secret. The secret admits the organisation's deliveries at the webhook, and a
// sensor receives readings from whichever of the organisation's connections delivers them.
func TestChirpStackConnection(t *testing.T) {
	h := newAuditHarness(t)
	owner, admin, manager, other := h.user("owner"), h.user("admin"), h.user("manager"), h.user("other")
	org := h.org("Alpha", owner)
	h.org("Beta", other)
	h.member(org, admin, access.Admin)
	h.member(org, manager, access.Manager)
	path := "/api/v1/orgs/" + org + "/network-connections/chirpstack"

	h.do(owner, http.MethodGet, path, nil).must(t, 404)
	h.do(manager, http.MethodPut, path, nil).must(t, 403)
	h.do(other, http.MethodPut, path, nil).must(t, 404)

	var first chirpStackConnectionAnswer
	h.do(admin, http.MethodPut, path, nil).must(t, 201).JSON(t, &first)
	if !strings.HasPrefix(first.Secret, "fgcs_") || first.SecretLast4 != first.Secret[len(first.Secret)-4:] || !first.IsActive ||
		first.TenantID != nil || first.ApplicationID != nil || len(first.SecretHeaders) != 2 {
		t.Fatalf("created %+v", first)
	}
	get := h.do(owner, http.MethodGet, path, nil).must(t, 200)
	if strings.Contains(string(get.Body), first.Secret) || strings.Contains(string(get.Body), `"secret"`) {
		t.Fatalf("GET shows the secret: %s", get.Body)
	}
	h.do(manager, http.MethodGet, path, nil).must(t, 403)
	h.do(other, http.MethodGet, path, nil).must(t, 404)

	// The organisation's sensor, heard through TTN and through ChirpStack: both are its readings.
	u := h.unit(org)
	const eui = "A84041000181C0DE"
	h.exec(`INSERT INTO sensors (organization_id, unit_id, dev_eui, model) VALUES ($1, $2, $3, 'Dragino LHT65')`, org, u.UnitID, eui)
	ttnHash := sha256.Sum256([]byte("fgttn_net_conn_secret"))
	h.exec(`INSERT INTO network_connections (organization_id, application_id, secret_hash, secret_last4) VALUES ($1, 'net-conn-app', $2, 'cret')`, org, ttnHash[:])
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	if code, body := deliverUplink(h, ttn.Parser{}, "X-Webhook-Secret", "fgttn_net_conn_secret", eui, t0); code != 200 {
		t.Fatalf("TTN: %d %s", code, body)
	}
	if code, body := deliverUplink(h, chirpstack.Parser{}, "Authorization", "Bearer "+first.Secret, eui, t0.Add(5*time.Minute)); code != 200 {
		t.Fatalf("ChirpStack: %d %s", code, body)
	}
	var ttnReadings, csReadings int
	h.queryRow([]any{&ttnReadings, &csReadings}, `SELECT count(*) FILTER (WHERE source = 'ttn'), count(*) FILTER (WHERE source = 'chirpstack')
		FROM sensor_readings WHERE organization_id = $1`, org)
	if ttnReadings != 1 || csReadings != 1 {
		t.Fatalf("readings: %d from TTN, %d from ChirpStack", ttnReadings, csReadings)
	}

	// Each PUT rotates: the old secret stops working at once. The binding is validated.
	h.do(owner, http.MethodPut, path, map[string]any{"tenant_id": "not-a-uuid"}).must(t, 400)
	h.do(owner, http.MethodPut, path, map[string]any{"tenant": "x"}).must(t, 400)
	var second chirpStackConnectionAnswer
	h.do(owner, http.MethodPut, path, map[string]any{"tenant_id": "52F14CD4-C6F1-4FBD-8F87-4025E1D49242",
		"application_id": "17c82e96-be03-4f38-aef3-f83d48582d97"}).must(t, 200).JSON(t, &second)
	if second.Secret == first.Secret || second.TenantID == nil || *second.TenantID != "52f14cd4-c6f1-4fbd-8f87-4025e1d49242" ||
		second.ApplicationID == nil || !second.SecretRotatedAt.After(first.SecretRotatedAt) {
		t.Fatalf("rotated %+v", second)
	}
	if code, _ := deliverUplink(h, chirpstack.Parser{}, "X-Webhook-Secret", first.Secret, eui, t0.Add(10*time.Minute)); code != 401 {
		t.Errorf("the rotated-away secret: %d", code)
	}
	if code, body := deliverUplink(h, chirpstack.Parser{}, "X-Webhook-Secret", second.Secret, eui, t0.Add(15*time.Minute)); code != 200 {
		t.Errorf("the new secret: %d %s", code, body)
	}

	// Another organisation cannot bind the same ChirpStack application.
	beta := h.org("Gamma", other)
	conflict := h.do(other, http.MethodPut, "/api/v1/orgs/"+beta+"/network-connections/chirpstack",
		map[string]any{"application_id": "17c82e96-be03-4f38-aef3-f83d48582d97"})
	if conflict.Status != 409 || !strings.Contains(string(conflict.Body), "application_id") {
		t.Errorf("the same application in another organisation: %d %s", conflict.Status, conflict.Body)
	}

	// Audited, without the secrets.
	var puts int
	var all string
	h.queryRow([]any{&puts}, `SELECT count(*) FROM audit_log WHERE organization_id = $1 AND action = 'PUT /api/v1/orgs/{orgId}/network-connections/chirpstack'`, org)
	h.queryRow([]any{&all}, `SELECT coalesce(string_agg(a::text, ' '), '') FROM audit_log a`)
	if puts != 2 || strings.Contains(all, first.Secret) || strings.Contains(all, second.Secret) {
		t.Errorf("%d PUTs audited; secret in the audit log: %v", puts, strings.Contains(all, "fgcs_"))
	}

	h.do(manager, http.MethodDelete, path, nil).must(t, 403)
	h.do(owner, http.MethodDelete, path, nil).must(t, 204)
	h.do(owner, http.MethodGet, path, nil).must(t, 404)
	h.do(owner, http.MethodDelete, path, nil).must(t, 404)
	if code, _ := deliverUplink(h, chirpstack.Parser{}, "X-Webhook-Secret", second.Secret, eui, t0.Add(20*time.Minute)); code != 401 {
		t.Errorf("the deleted connection's secret: %d", code)
	}
	var deletes int
	h.queryRow([]any{&deletes}, `SELECT count(*) FROM audit_log WHERE organization_id = $1 AND action = 'DELETE /api/v1/orgs/{orgId}/network-connections/chirpstack'`, org)
	if deletes != 1 {
		t.Errorf("%d DELETEs audited", deletes)
	}
}
