package api

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"io"
	"net/http"
	"sync"
)

// The api's contract (OpenAPI 3.1) is openapi.yaml, tested against the
// router: every route documented, every documented route served. The binary
// embeds it gzipped (a tenth of the size, under the 15 MB budget);
// TestEmbeddedOpenAPIIsCurrent fails when the two differ.
//
//go:generate go test -run TestEmbeddedOpenAPIIsCurrent -update-openapi .
//go:embed openapi.yaml.gz
var openapiGzip []byte

// OpenAPI returns the contract, decompressed on first use.
var OpenAPI = sync.OnceValues(func() ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(openapiGzip))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
})

// serveOpenAPI publishes the contract without authentication: it describes
// routes, not data.
func (s *Server) serveOpenAPI(mux *http.ServeMux) {
	const pattern = "GET /api/v1/openapi.yaml"
	s.routes[pattern] = PublicRoute
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		doc, err := OpenAPI()
		if err != nil {
			http.Error(w, "the API document is damaged", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/yaml")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(doc)
	})
}

// PublicRoute marks a route that needs no token.
const PublicRoute = "public"
