package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/auth"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/testenv"
	"github.com/frostguard/functions/shared/web"
)

// harness is an api served in-process against a fresh, migrated database,
// with tokens signed by a local key whose JWKS an httptest server publishes:
// the whole path (JWT verification included) is the production one.
type harness struct {
	t      *testing.T
	db     *store.DB
	srv    *Server
	h      http.Handler
	signer *auth.DevSigner
}

const (
	testIssuer  = "https://issuer.test"
	testProject = "test-project"
)

func newHarness(t *testing.T) *harness {
	t.Helper()
	db, _ := testenv.OpenDB(t)
	signer, v := newTestVerifier(t)
	srv := New(db, v)
	mux := http.NewServeMux()
	srv.Register(mux)
	srv.RegisterReports(mux) // the reports function's routes, on the same /api/v1
	mux.Handle("/", web.NotFound())
	return &harness{t: t, db: db, srv: srv, h: web.Standard(mux, web.Options{Function: "api"}), signer: signer}
}

// newTestVerifier is a dev signer and a verifier that trusts it through a
// local JWKS endpoint, as production trusts Stack Auth's.
func newTestVerifier(t testing.TB) (*auth.DevSigner, *auth.Verifier) {
	t.Helper()
	signer, err := auth.NewDevSigner(testIssuer, testProject)
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := signer.JWKS()
	if err != nil {
		t.Fatal(err)
	}
	keys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(jwks) }))
	t.Cleanup(keys.Close)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	v, err := auth.NewVerifier(ctx, auth.VerifierOptions{JWKSURL: keys.URL, Issuer: testIssuer, Audience: testProject})
	if err != nil {
		t.Fatal(err)
	}
	return signer, v
}

// testUser is a signed-in user: its token, and its users.id once it has
// called the api (or been created by a fixture).
type testUser struct {
	Token   string
	Subject string
	Email   string
	ID      string
}

var userSeq int

// user mints a token for a new user and creates the user row.
func (h *harness) user(name string) *testUser {
	h.t.Helper()
	userSeq++
	u := &testUser{Subject: testenv.NewSubject(), Email: name + "@example.test"}
	tok, err := h.signer.Mint(auth.Identity{Subject: u.Subject, Email: u.Email, Name: name}, time.Hour)
	if err != nil {
		h.t.Fatal(err)
	}
	u.Token = tok
	usr, err := h.db.EnsureUser(context.Background(), u.Subject, u.Email, name)
	if err != nil {
		h.t.Fatal(err)
	}
	u.ID = usr.ID
	return u
}

// exec runs SQL for fixtures, failing the test on error.
func (h *harness) exec(sql string, args ...any) {
	h.t.Helper()
	if _, err := testenv.Pool(h.db).Exec(context.Background(), sql, args...); err != nil {
		h.t.Fatalf("%v\n%s", err, sql)
	}
}

// queryRow scans one row for fixtures and assertions.
func (h *harness) queryRow(dst []any, sql string, args ...any) {
	h.t.Helper()
	if err := testenv.Pool(h.db).QueryRow(context.Background(), sql, args...).Scan(dst...); err != nil {
		h.t.Fatalf("%v\n%s", err, sql)
	}
}

// org creates an organisation (with its trial subscription) owned by owner.
func (h *harness) org(name string, owner *testUser) string {
	h.t.Helper()
	var id string
	h.queryRow([]any{&id}, `INSERT INTO organizations (name, slug, trial_ends_at) VALUES ($1, $2, now() + interval '14 days') RETURNING id`,
		name, "org-"+time.Now().Format("150405000000")+string(rune('a'+userSeq%26)))
	h.exec(`INSERT INTO subscriptions (organization_id, status, trial_ends_at) VALUES ($1, 'trial', now() + interval '14 days')`, id)
	h.member(id, owner, access.Owner)
	userSeq++
	return id
}

// member adds user to org with role.
func (h *harness) member(orgID string, u *testUser, role access.Role) {
	h.t.Helper()
	h.exec(`INSERT INTO memberships (organization_id, user_id, role, status, accepted_at) VALUES ($1, $2, $3, 'active', now())`, orgID, u.ID, role)
}

// unitFixture is a site, an area and a unit (0..5 °C) in one organisation.
type unitFixture struct{ SiteID, AreaID, UnitID string }

func (h *harness) unit(orgID string) unitFixture {
	h.t.Helper()
	var f unitFixture
	h.queryRow([]any{&f.SiteID}, `INSERT INTO sites (organization_id, name) VALUES ($1, 'Site') RETURNING id`, orgID)
	h.queryRow([]any{&f.AreaID}, `INSERT INTO areas (organization_id, site_id, name) VALUES ($1, $2, 'Area') RETURNING id`, orgID, f.SiteID)
	h.queryRow([]any{&f.UnitID}, `INSERT INTO units (organization_id, site_id, area_id, name, temp_min_c, temp_max_c)
		VALUES ($1, $2, $3, 'Cooler', 0, 5) RETURNING id`, orgID, f.SiteID, f.AreaID)
	return f
}

// response is an api answer.
type response struct {
	Status int
	Body   []byte
	Header http.Header
}

// JSON decodes the body into v, failing the test on error.
func (r response) JSON(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("body is not the expected JSON (%v): %s", err, r.Body)
	}
}

// ErrorCode is the code of an error response ("" if none).
func (r response) ErrorCode() string {
	var e web.ErrorBody
	_ = json.Unmarshal(r.Body, &e)
	return string(e.Error.Code)
}

// do sends a request as u (nil: no token). body is marshalled to JSON unless
// it is a string (sent as is).
func (h *harness) do(u *testUser, method, path string, body any) response {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if u != nil {
		req.Header.Set("Authorization", "Bearer "+u.Token)
	}
	rec := httptest.NewRecorder()
	h.h.ServeHTTP(rec, req)
	return response{Status: rec.Code, Body: rec.Body.Bytes(), Header: rec.Header()}
}

// must fails the test unless the response has status want.
func (r response) must(t *testing.T, want int) response {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d: %s", r.Status, want, r.Body)
	}
	return r
}

func identity(sub, email, name string) auth.Identity {
	return auth.Identity{Subject: sub, Email: email, Name: name}
}

// quietLogs drops the access log during a benchmark: one line per request
// would be most of what the benchmark measures and prints.
func quietLogs(b *testing.B) {
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	b.Cleanup(func() { slog.SetDefault(prev) })
}

// benchSubject is the Stack Auth user id of the benchmarks' owner.
const benchSubject = "b0b0b0b0-0000-4000-8000-00000000be0c"
