package api

import (
	_ "embed"
	"net/http"
)

// OpenAPI is the api's contract (OpenAPI 3.1), tested against the router:
// every route documented, every documented route served.
//
//go:embed openapi.yaml
var OpenAPI []byte

// serveOpenAPI publishes the contract without authentication: it describes
// routes, not data.
func (s *Server) serveOpenAPI(mux *http.ServeMux) {
	const pattern = "GET /api/v1/openapi.yaml"
	s.routes[pattern] = PublicRoute
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(OpenAPI)
	})
}

// PublicRoute marks a route that needs no token.
const PublicRoute = "public"
