package testenv

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/frostguard/functions/shared/devstack"
)

// ServeJWKS serves a JSON Web Key Set on loopback for the test (what Stack
// Auth publishes): the api verifies the test's tokens against it. It
// returns the server's URL.
func ServeJWKS(t testing.TB, jwks []byte) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(jwks)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// DevIdentity loads fresh dev secrets (the signing key of the test's tokens
// among them) and serves their JWKS: what devstack.Environment needs to
// build every function the way `make dev` does.
func DevIdentity(t testing.TB) (secrets devstack.Secrets, jwksURL string) {
	t.Helper()
	secrets, err := devstack.LoadSecrets(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := secrets.Signer.JWKS()
	if err != nil {
		t.Fatal(err)
	}
	return secrets, ServeJWKS(t, jwks)
}
