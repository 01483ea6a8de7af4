package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/frostguard/functions/shared/auth"
)

type countingVerifier struct {
	inner TokenVerifier
	calls atomic.Int32
}

func (c *countingVerifier) Verify(ctx context.Context, tok string) (auth.Claims, error) {
	c.calls.Add(1)
	return c.inner.Verify(ctx, tok)
}

// The audit trail, subscription enforcement and the route each need the
// caller: a write verifies its token once, not once per layer.
func TestAWriteVerifiesItsTokenOnce(t *testing.T) {
	h := newHarness(t)
	owner := h.user("owner")
	org := h.org("Memo", owner)
	u := h.unit(org)
	counter := &countingVerifier{inner: h.srv.Verifier}
	h.srv.Verifier = counter
	mux := http.NewServeMux()
	h.srv.Register(mux)
	handler := h.srv.Audit(h.srv.EnforceSubscriptions(mux))

	req := httptest.NewRequest(http.MethodPatch, "/api/v1/orgs/"+org+"/units/"+u.UnitID, strings.NewReader(`{"name":"Walk-in 2"}`))
	req.Header.Set("Authorization", "Bearer "+owner.Token)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if n := counter.calls.Load(); n != 1 {
		t.Errorf("the token was verified %d times for one request", n)
	}
	var audited int
	h.queryRow([]any{&audited}, `SELECT count(*) FROM audit_log WHERE entity_id = $1 AND actor_user_id = $2`, u.UnitID, owner.ID)
	if audited != 1 {
		t.Errorf("%d audit rows for the write", audited)
	}

	// A bad token is refused by the route, still verified once, and not audited.
	counter.calls.Store(0)
	req = httptest.NewRequest(http.MethodPatch, "/api/v1/orgs/"+org+"/units/"+u.UnitID, strings.NewReader(`{"name":"x"}`))
	req.Header.Set("Authorization", "Bearer nope")
	rec = httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized || counter.calls.Load() != 1 {
		t.Errorf("bad token: status %d, %d verifications", rec.Code, counter.calls.Load())
	}
}
