package e2e

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/app"
	"github.com/frostguard/functions/shared/catalog"
	"github.com/frostguard/functions/shared/devstack"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/testenv"
)

// alarmStack is the whole collection as deployed (app.NewLocal: the real
// webhooks, api and sweeper built from one environment), over a fresh
// database with the demo seed, SMS and e-mail going to fakes of Telnyx and
// Resend, and the api's tokens verified against a local JWKS.
type alarmStack struct {
	t      *testing.T
	db     *store.DB
	local  *app.Local
	seed   devstack.SeedFile
	telnyx *fakeTelnyx
	calls  *testenv.TelnyxCalls // Telnyx Call Control, on the same base URL
	priv   ed25519.PrivateKey   // signs Telnyx webhooks
	// srv serves the collection on a real port: the live channel's /ws,
	// and the management API the publishers post to.
	srv *httptest.Server
}

func newAlarmStack(t *testing.T) *alarmStack {
	t.Helper()
	db, dsn := testenv.OpenDB(t)
	secrets, keys := testenv.DevIdentity(t)
	s := &alarmStack{t: t, db: db, telnyx: &fakeTelnyx{}, calls: testenv.NewTelnyxCalls(t, "KEY_test")}
	s.telnyx.calls = s.calls
	telnyxSrv := httptest.NewServer(s.telnyx)
	t.Cleanup(telnyxSrv.Close)
	resend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/emails" || r.Header.Get("Authorization") != "Bearer re_test" || r.Header.Get("Idempotency-Key") == "" {
			w.WriteHeader(http.StatusUnprocessableEntity)
			return
		}
		fmt.Fprint(w, `{"id":"49a3999c-0ce1-4ea6-ab68-afcd6dc2e794"}`)
	}))
	t.Cleanup(resend.Close)
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	s.priv = priv
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.local.Handler.ServeHTTP(w, r) }))
	t.Cleanup(s.srv.Close)
	env := testenv.Environment(map[string]string{
		"DATABASE_URL": dsn, "TELNYX_PUBLIC_KEY": base64.StdEncoding.EncodeToString(pub),
		"TELNYX_API_KEY": "KEY_test", "TELNYX_API_BASE": telnyxSrv.URL, "TELNYX_FROM_NUMBER": "+15555550199",
		"TELNYX_CONNECTION_ID": "1684641123236054244",
		"RESEND_API_KEY":       "re_test", "RESEND_API_BASE": resend.URL,
		"REALTIME_MANAGEMENT_ENDPOINT": s.srv.URL + catalog.LocalManagementPath,
	})
	for _, k := range []string{"STACK_AUTH_PROJECT_ID", "STRIPE_WEBHOOK_SECRET"} {
		delete(env, k) // devstack.Environment fills the dev identity in
	}
	env = devstack.Environment(env, secrets, keys)
	var err error
	if s.seed, err = devstack.Seed(context.Background(), db, secrets, devstack.SeedOptions{Environment: env, TokenTTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if s.local, err = app.NewLocal(env, nil); err != nil {
		t.Fatal(err)
	}
	return s
}

// do sends a request to the collection.
func (s *alarmStack) do(method, path, body string, headers map[string]string) (int, string) {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	s.local.Handler.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// api calls an organisation route of the api as the seeded owner.
func (s *alarmStack) api(method, orgPath, body string) (int, string) {
	return s.do(method, "/api/v1/orgs/"+s.seed.OrgID+orgPath, body, map[string]string{"Authorization": "Bearer " + s.seed.Token})
}

// uplink posts a TTN uplink of the seeded application: devEUI's
// decoded_payload, measured at.
func (s *alarmStack) uplink(devEUI string, fcnt int, at time.Time, decoded string) {
	s.t.Helper()
	ts := at.UTC().Format(time.RFC3339Nano)
	body := fmt.Sprintf(`{"end_device_ids":{"device_id":"dev-%s","dev_eui":%q,"application_ids":{"application_id":%q}},
		"correlation_ids":["as:up:%s-%d"],"received_at":%q,
		"uplink_message":{"f_port":2,"f_cnt":%d,"decoded_payload":%s,"received_at":%q}}`,
		devEUI, devEUI, s.seed.TTNApplicationID, devEUI, fcnt, ts, fcnt, decoded, ts)
	if code, res := s.do(http.MethodPost, "/webhooks/ttn", body, map[string]string{"X-Webhook-Secret": s.seed.TTNWebhookSecret}); code != http.StatusOK {
		s.t.Fatalf("uplink %s %d: %d %s", devEUI, fcnt, code, res)
	}
}

// telnyxSigned returns the headers of a Telnyx webhook delivery of body.
func (s *alarmStack) telnyxSigned(body string) map[string]string {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	return map[string]string{"telnyx-timestamp": ts,
		"telnyx-signature-ed25519": base64.StdEncoding.EncodeToString(ed25519.Sign(s.priv, []byte(ts+"|"+body)))}
}

// sweep runs the alert-sweeper once, as its schedule does.
func (s *alarmStack) sweep() {
	s.t.Helper()
	if err := s.local.Jobs[app.AlertSweeper](context.Background()); err != nil {
		s.t.Fatalf("sweeper: %v", err)
	}
}

func (s *alarmStack) row(dst []any, sql string, args ...any) {
	s.t.Helper()
	if err := testenv.Pool(s.db).QueryRow(context.Background(), sql, args...).Scan(dst...); err != nil {
		s.t.Fatalf("%v\n%s", err, sql)
	}
}

func (s *alarmStack) exec(sql string, args ...any) {
	s.t.Helper()
	if _, err := testenv.Pool(s.db).Exec(context.Background(), sql, args...); err != nil {
		s.t.Fatalf("%v\n%s", err, sql)
	}
}

// smsTo lists the texts Telnyx was asked to send to a number.
func (s *alarmStack) smsTo(number string) []string {
	var out []string
	for _, m := range s.telnyx.messages() {
		if m["to"] == number {
			out = append(out, m["text"].(string))
		}
	}
	return out
}
