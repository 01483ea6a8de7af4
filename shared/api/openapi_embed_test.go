package api

import (
	"bytes"
	"compress/gzip"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
)

var updateOpenAPI = flag.Bool("update-openapi", false, "rewrite openapi.yaml.gz from openapi.yaml")

// openapiSource is the document as edited (the tests read the source; the
// binary serves the embedded copy).
func openapiSource(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEmbeddedOpenAPIIsCurrent: the gzipped copy the binary serves is the
// document in the repository (`go generate ./shared/api` refreshes it).
func TestEmbeddedOpenAPIIsCurrent(t *testing.T) {
	src := openapiSource(t)
	if *updateOpenAPI {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(src)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("openapi.yaml.gz", buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	onDisk, err := os.ReadFile("openapi.yaml.gz")
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(onDisk))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, src) {
		t.Fatal("openapi.yaml.gz is stale: run `go generate ./shared/api`")
	}

	// And the route serves exactly that document.
	srv := New(nil, nil)
	mux := http.NewServeMux()
	srv.Register(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/openapi.yaml", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/yaml" || !bytes.Equal(rec.Body.Bytes(), src) {
		t.Errorf("GET /api/v1/openapi.yaml: %d %q, %d bytes (want %d)", rec.Code, rec.Header().Get("Content-Type"), rec.Body.Len(), len(src))
	}
}
