package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/frostguard/functions/shared/apperr"
)

func decodeError(t *testing.T, rec *httptest.ResponseRecorder) ErrorDetail {
	t.Helper()
	var body ErrorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("error body is not the JSON envelope: %q", rec.Body.String())
	}
	return body.Error
}

func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func echoJSON() http.Handler {
	return HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		var v struct {
			Name string `json:"name"`
		}
		if err := DecodeJSON(r, &v); err != nil {
			return err
		}
		JSON(w, http.StatusOK, v)
		return nil
	})
}

func TestStandardChain(t *testing.T) {
	h := Standard(echoJSON(), Options{Function: "api", MaxBodyBytes: 64})
	cases := []struct {
		name, body, contentType string
		status                  int
		code                    apperr.Code
	}{
		{"ok", `{"name":"walk-in"}`, "application/json", 200, ""},
		{"empty body", ``, "application/json", 400, apperr.Invalid},
		{"syntax error", `{"name":`, "application/json", 400, apperr.Invalid},
		{"wrong type", `{"name":3}`, "application/json", 400, apperr.Invalid},
		{"unknown field", `{"nme":"x"}`, "application/json", 400, apperr.Invalid},
		{"trailing data", `{"name":"x"} {}`, "application/json", 400, apperr.Invalid},
		{"not json", `name=x`, "application/x-www-form-urlencoded", 415, apperr.UnsupportedMedia},
		{"too large", `{"name":"` + strings.Repeat("x", 100) + `"}`, "application/json", 413, apperr.TooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", tc.contentType)
			rec := serve(h, req)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if rec.Header().Get(FunctionHeader) != "api" || rec.Header().Get(RequestIDHeader) == "" {
				t.Errorf("missing function or request id header: %v", rec.Header())
			}
			if tc.code != "" {
				e := decodeError(t, rec)
				if e.Code != tc.code || e.Message == "" || e.RequestID != rec.Header().Get(RequestIDHeader) {
					t.Errorf("error = %+v", e)
				}
			}
		})
	}
}

func TestBodyLimitWithoutContentLength(t *testing.T) {
	// A chunked body has no Content-Length: the limit must bite while reading.
	h := Standard(HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		_, err := ReadBody(r)
		return err
	}), Options{Function: "x", MaxBodyBytes: 10})
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(strings.Repeat("a", 11)))
	req.ContentLength = -1
	if rec := serve(h, req); rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", rec.Code)
	}
}

func TestRecoverAnswersJSON500WithoutDetails(t *testing.T) {
	h := Standard(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("secret internals") }), Options{Function: "x"})
	rec := serve(h, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != 500 {
		t.Fatalf("status %d", rec.Code)
	}
	if e := decodeError(t, rec); e.Code != apperr.Internal || strings.Contains(rec.Body.String(), "secret") {
		t.Errorf("body %s", rec.Body)
	}
}

func TestInternalCauseIsNotShown(t *testing.T) {
	h := HandlerFunc(func(http.ResponseWriter, *http.Request) error {
		return apperr.Wrap(apperr.Unavailable, errString("dial tcp 10.0.0.5:5432: password=x"), "the database is unavailable")
	})
	rec := serve(Standard(h, Options{Function: "x"}), httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != 503 || rec.Header().Get("Retry-After") == "" || strings.Contains(rec.Body.String(), "10.0.0.5") {
		t.Fatalf("status %d headers %v body %s", rec.Code, rec.Header(), rec.Body)
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestStatusIsAlwaysWritten(t *testing.T) {
	// The Lambda adapter rejects a response without a status code.
	rec := serve(Standard(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), Options{Function: "x"}),
		httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
}

func TestRequestID(t *testing.T) {
	h := Standard(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), Options{Function: "x"})
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set(RequestIDHeader, "abc-123")
	if got := serve(h, req).Header().Get(RequestIDHeader); got != "abc-123" {
		t.Errorf("kept id = %q", got)
	}
	req.Header.Set(RequestIDHeader, "<script>")
	if got := serve(h, req).Header().Get(RequestIDHeader); got == "<script>" || len(got) != 24 {
		t.Errorf("malformed id not replaced: %q", got)
	}
}

func TestCORS(t *testing.T) {
	h := Standard(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), Options{Function: "x", AllowedOrigins: []string{"https://app.example"}})
	pre := httptest.NewRequest(http.MethodOptions, "/api/v1/me", nil)
	pre.Header.Set("Origin", "https://app.example")
	pre.Header.Set("Access-Control-Request-Method", "PATCH")
	rec := serve(h, pre)
	if rec.Code != 204 || rec.Header().Get("Access-Control-Allow-Origin") != "https://app.example" ||
		!strings.Contains(rec.Header().Get("Access-Control-Allow-Headers"), "X-Stack-Access-Token") {
		t.Errorf("preflight: %d %v", rec.Code, rec.Header())
	}
	evil := httptest.NewRequest(http.MethodGet, "/", nil)
	evil.Header.Set("Origin", "https://evil.example")
	if got := serve(h, evil).Header().Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("foreign origin allowed: %q", got)
	}
}

func FuzzUnmarshal(f *testing.F) {
	for _, s := range []string{`{"name":"x"}`, `{`, `[]`, `{"name":1}`, `{"name":"x"}{}`, "\xff", `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var v struct {
			Name string `json:"name"`
		}
		err := Unmarshal(b, &v)
		if err != nil && apperr.CodeOf(err) != apperr.Invalid {
			t.Fatalf("a parse failure must be Invalid, got %v", err)
		}
	})
}

func FuzzValidRequestID(f *testing.F) {
	for _, s := range []string{"abc", "", "<x>", strings.Repeat("a", 65)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if validRequestID(s) && (len(s) > 64 || strings.ContainsAny(s, "<>\"' \n\r")) {
			t.Fatalf("accepted %q", s)
		}
	})
}

func TestOnServerErrorHook(t *testing.T) {
	type call struct {
		status int
		err    error
	}
	var calls []call
	OnServerError = func(r *http.Request, status int, err error) { calls = append(calls, call{status, err}) }
	t.Cleanup(func() { OnServerError = nil })

	cause := errString("pool exhausted")
	for _, err := range []error{
		apperr.Wrap(apperr.Unavailable, cause, "try later"), // 503: called
		apperr.New(apperr.NotFound, "nope"),                 // 4xx: not called
		apperr.New(apperr.Internal, "internal"),             // 500: called
	} {
		serve(HandlerFunc(func(http.ResponseWriter, *http.Request) error { return err }), httptest.NewRequest(http.MethodGet, "/", nil))
	}
	// A panic answered by Recover goes through Error too.
	serve(Recover(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("x") })), httptest.NewRequest(http.MethodGet, "/", nil))
	if len(calls) != 3 {
		t.Fatalf("%d calls, want 3: %+v", len(calls), calls)
	}
	if calls[0].status != 503 || !errors.Is(calls[0].err, cause) || calls[1].status != 500 || calls[2].status != 500 {
		t.Errorf("calls %+v", calls)
	}
}
