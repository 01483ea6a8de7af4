package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/logging"
	"github.com/frostguard/functions/shared/metrics"
)

// Middleware wraps a handler.
type Middleware func(http.Handler) http.Handler

// Chain applies middleware so that the first one listed runs first.
func Chain(h http.Handler, mw ...Middleware) http.Handler {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

// FunctionHeader names the function that answered: it makes the one-port
// local server and the deployed API debuggable in the same way.
const FunctionHeader = "X-Frostguard-Function"

// Options configure Standard.
type Options struct {
	Function     string
	MaxBodyBytes int64
	// AllowedOrigins enables CORS for browser callers (api, stripe-checkout).
	AllowedOrigins []string
}

// Standard is the middleware every function uses, outermost first: request
// id, access log, panic recovery, CORS, body limit.
func Standard(h http.Handler, o Options) http.Handler {
	mw := []Middleware{RequestID, AccessLog(o.Function), Recover}
	if len(o.AllowedOrigins) > 0 {
		mw = append(mw, CORS(o.AllowedOrigins))
	}
	mw = append(mw, BodyLimit(o.MaxBodyBytes))
	return Chain(h, mw...)
}

// RequestIDHeader carries the request id in and out.
const RequestIDHeader = "X-Request-Id"

// RequestID takes a well-formed incoming X-Request-Id (API Gateway's id is
// put there by the Lambda runtime) or makes one, puts it in the context for
// logs and echoes it in the response.
func RequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set(RequestIDHeader, id)
		next.ServeHTTP(w, r.WithContext(logging.WithRequestID(r.Context(), id)))
	})
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		ok := c == '-' || c == '_' || c == '.' || c == '=' ||
			(c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !ok {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// StatusRecorder is a ResponseWriter that remembers what the handler wrote:
// its status (a body written without one is a 200) and size. OnWrite, when
// set, sees each chunk of the body. The access log, the audit trail and error
// reporting each wrap a request's writer in one.
type StatusRecorder struct {
	http.ResponseWriter
	Status  int
	Bytes   int
	OnWrite func([]byte)
}

func (w *StatusRecorder) WriteHeader(code int) {
	if w.Status == 0 {
		w.Status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *StatusRecorder) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	if w.OnWrite != nil {
		w.OnWrite(b)
	}
	n, err := w.ResponseWriter.Write(b)
	w.Bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *StatusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// AccessLog logs one line per request and makes sure a status code is always
// written: the Lambda proxy adapter fails an invocation whose handler wrote
// nothing, where net/http would have answered 200.
func AccessLog(function string) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			w.Header().Set(FunctionHeader, function)
			sw := &StatusRecorder{ResponseWriter: w}
			next.ServeHTTP(sw, r)
			if sw.Status == 0 {
				sw.WriteHeader(http.StatusOK)
			}
			level := slog.LevelInfo
			if sw.Status >= 500 {
				level = slog.LevelError
			}
			slog.Log(r.Context(), level, "request",
				"method", r.Method, "path", r.URL.Path, "status", sw.Status,
				"bytes", sw.Bytes, "duration_ms", float64(time.Since(start).Microseconds())/1000)
			metrics.Request(r.Context(), function, sw.Status)
		})
	}
}

// Recover turns a panic into a logged 500 with the JSON envelope.
func Recover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				slog.ErrorContext(r.Context(), "panic", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				Error(w, r, apperr.New(apperr.Internal, "internal error"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// BodyLimit answers 413 for bodies over max bytes, early when Content-Length
// says so and otherwise when the handler reads past the limit.
func BodyLimit(max int64) Middleware {
	if max <= 0 {
		max = 1 << 20
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > max {
				Error(w, r, apperr.New(apperr.TooLarge, "request body is larger than %d bytes", max))
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, max)
			next.ServeHTTP(w, r)
		})
	}
}

// The CORS policy, one list for the middleware (local runs) and for
// template.yaml's HttpApi CorsConfiguration, which API Gateway applies in AWS
// (shared/app's template test compares them).
var (
	CORSAllowMethods  = []string{"GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"}
	CORSAllowHeaders  = []string{"Authorization", "Content-Type", "X-Stack-Access-Token", RequestIDHeader}
	CORSExposeHeaders = []string{RequestIDHeader, FunctionHeader}
)

// CORSMaxAgeSeconds is how long a browser may cache a preflight answer.
const CORSMaxAgeSeconds = 600

// CORS admits browser calls from the listed origins and answers preflights.
func CORS(origins []string) Middleware {
	allowed := map[string]bool{}
	for _, o := range origins {
		allowed[strings.TrimRight(o, "/")] = true
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			origin := r.Header.Get("Origin")
			if origin == "" || !allowed[origin] {
				next.ServeHTTP(w, r)
				return
			}
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Add("Vary", "Origin")
			h.Set("Access-Control-Expose-Headers", strings.Join(CORSExposeHeaders, ", "))
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				h.Set("Access-Control-Allow-Methods", strings.Join(CORSAllowMethods, ", "))
				h.Set("Access-Control-Allow-Headers", strings.Join(CORSAllowHeaders, ", "))
				h.Set("Access-Control-Max-Age", strconv.Itoa(CORSMaxAgeSeconds))
				w.WriteHeader(http.StatusNoContent)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// HealthCheck judges one dependency for GET /healthz: what is wrong, in
// words (nil when all is well). It must be quick and bounded by ctx.
type HealthCheck func(ctx context.Context) (problems []string)

// healthCheckTimeout bounds all of a function's checks together.
const healthCheckTimeout = 2 * time.Second

// Health answers GET /healthz: 200 with "status" "ok", or "degraded" and the
// "reasons" the checks found. The answer stays 200 when degraded: the
// process is alive (nothing routes traffic on it), and monitors read the
// status. Without checks it opens no connection: a liveness probe must not
// fail because a dependency is slow, and it must stay cheap.
func Health(function, version string, checks ...HealthCheck) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var reasons []string
		if len(checks) > 0 {
			ctx, cancel := context.WithTimeout(r.Context(), healthCheckTimeout)
			for _, c := range checks {
				reasons = append(reasons, c(ctx)...)
			}
			cancel()
		}
		if len(reasons) == 0 {
			JSON(w, http.StatusOK, map[string]string{"status": "ok", "function": function, "version": version})
			return
		}
		JSON(w, http.StatusOK, map[string]any{"status": "degraded", "function": function, "version": version, "reasons": reasons})
	})
}
