package billing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/auth"
	"github.com/frostguard/functions/shared/billing"
	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/orgroute"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/testenv"
	"github.com/frostguard/functions/shared/web"
)

const frontend = "https://app.frostguard.test"

var prices = config.StripePrices{PriceStarter: "price_starter_t", PricePro: "price_pro_t", PriceHACCP: "price_haccp_t"}

// stripeCall is one request the handler sent to Stripe.
type stripeCall struct {
	Method, Path, IdempotencyKey string
	Form                         url.Values
}

// stripeSpy is a reverse proxy in front of stripe-mock that records every
// call (stripe-mock itself keeps no state) and can answer a Stripe error.
type stripeSpy struct {
	mu    sync.Mutex
	calls []stripeCall
	fail  string // a Stripe error type to answer with, "" to proxy
}

func newStripeSpy(t *testing.T) (*stripeSpy, string) {
	target, err := url.Parse(testenv.Require(t, "STRIPE_MOCK_URL"))
	if err != nil {
		t.Fatal(err)
	}
	spy := &stripeSpy{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		spy.mu.Lock()
		spy.calls = append(spy.calls, stripeCall{r.Method, r.URL.Path, r.Header.Get("Idempotency-Key"), form})
		fail := spy.fail
		spy.mu.Unlock()
		if fail != "" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error":{"type":"`+fail+`","message":"No such price: 'price_pro_t' for sk_test_secret"}}`)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return spy, srv.URL
}

func (s *stripeSpy) callsTo(path string) []stripeCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []stripeCall
	for _, c := range s.calls {
		if c.Path == path {
			out = append(out, c)
		}
	}
	return out
}

type checkoutHarness struct {
	t      *testing.T
	db     *store.DB
	signer *auth.DevSigner
	spy    *stripeSpy
	h      http.Handler // with Stripe
	noKey  http.Handler // without a Stripe key
	seq    int
}

func newCheckoutHarness(t *testing.T) *checkoutHarness {
	t.Helper()
	spy, base := newStripeSpy(t)
	db, _ := testenv.OpenDB(t)
	signer, err := auth.NewDevSigner("https://issuer.test", "test-project")
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
	v, err := auth.NewVerifier(ctx, auth.VerifierOptions{JWKSURL: keys.URL, Issuer: "https://issuer.test", Audience: "test-project"})
	if err != nil {
		t.Fatal(err)
	}
	sc, err := billing.NewStripe(config.Stripe{SecretKey: "sk_test_123", APIBase: base})
	if err != nil {
		t.Fatal(err)
	}
	build := func(c *billing.CheckoutHandler) http.Handler {
		mux := http.NewServeMux()
		c.Register(mux)
		mux.Handle("/", web.NotFound())
		return web.Standard(mux, web.Options{Function: "stripe-checkout"})
	}
	return &checkoutHarness{t: t, db: db, signer: signer, spy: spy,
		h:     build(&billing.CheckoutHandler{Guard: orgroute.Guard{DB: db, Verifier: v}, DB: db, Stripe: sc, Prices: prices, FrontendURL: frontend + "/"}),
		noKey: build(&billing.CheckoutHandler{Guard: orgroute.Guard{DB: db, Verifier: v}, DB: db, Prices: prices, FrontendURL: frontend}),
	}
}

type user struct{ token, id, email string }

func (h *checkoutHarness) user(name string) user {
	h.t.Helper()
	h.seq++
	sub := testenv.NewSubject()
	u := user{email: name + "@example.test"}
	tok, err := h.signer.Mint(auth.Identity{Subject: sub, Email: u.email, Name: name}, time.Hour)
	if err != nil {
		h.t.Fatal(err)
	}
	u.token = tok
	usr, err := h.db.EnsureUser(context.Background(), sub, u.email, name)
	if err != nil {
		h.t.Fatal(err)
	}
	u.id = usr.ID
	return u
}

func (h *checkoutHarness) exec(sql string, args ...any) {
	h.t.Helper()
	if _, err := testenv.Pool(h.db).Exec(context.Background(), sql, args...); err != nil {
		h.t.Fatalf("%v\n%s", err, sql)
	}
}

// org creates an organisation on a trial with owner, plus one member per
// other role; it returns the id and the members by role.
func (h *checkoutHarness) org(name string) (string, map[access.Role]user) {
	h.t.Helper()
	h.seq++
	var id string
	if err := testenv.Pool(h.db).QueryRow(context.Background(), `INSERT INTO organizations (name, slug, trial_ends_at)
		VALUES ($1, $2, now() + interval '14 days') RETURNING id`, name, "org-"+strings.ToLower(name)+"-"+time.Now().Format("150405000000")).Scan(&id); err != nil {
		h.t.Fatal(err)
	}
	h.exec(`INSERT INTO subscriptions (organization_id, status, trial_ends_at) VALUES ($1, 'trial', now() + interval '14 days')`, id)
	members := map[access.Role]user{}
	for _, role := range access.Roles {
		u := h.user(name + "-" + string(role))
		h.exec(`INSERT INTO memberships (organization_id, user_id, role, status, accepted_at) VALUES ($1, $2, $3, 'active', now())`, id, u.id, role)
		members[role] = u
	}
	return id, members
}

type answer struct {
	Status int
	Body   []byte
}

func (a answer) code() string {
	var e web.ErrorBody
	_ = json.Unmarshal(a.Body, &e)
	return string(e.Error.Code)
}

func (a answer) must(t *testing.T, want int) answer {
	t.Helper()
	if a.Status != want {
		t.Fatalf("status %d, want %d: %s", a.Status, want, a.Body)
	}
	return a
}

func (a answer) session(t *testing.T) billing.SessionResponse {
	t.Helper()
	var s billing.SessionResponse
	if err := json.Unmarshal(a.Body, &s); err != nil {
		t.Fatalf("%v: %s", err, a.Body)
	}
	return s
}

func (h *checkoutHarness) post(handler http.Handler, u *user, path string, body any) answer {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req := httptest.NewRequest(http.MethodPost, path, rd)
	req.Header.Set("Content-Type", "application/json")
	if u != nil {
		req.Header.Set("Authorization", "Bearer "+u.token)
	}
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	return answer{rec.Code, rec.Body.Bytes()}
}

func checkoutPath(org string) string { return "/api/v1/orgs/" + org + "/billing/checkout" }
func portalPath(org string) string   { return "/api/v1/orgs/" + org + "/billing/portal" }

func (h *checkoutHarness) storedCustomer(org string) string {
	h.t.Helper()
	var id *string
	if err := testenv.Pool(h.db).QueryRow(context.Background(), `SELECT stripe_customer_id FROM organizations WHERE id = $1`, org).Scan(&id); err != nil {
		h.t.Fatal(err)
	}
	if id == nil {
		return ""
	}
	return *id
}
