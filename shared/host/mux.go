package host

import (
	"net/http"

	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/errreport"
	"github.com/frostguard/functions/shared/web"
)

// Version is stamped at build time (-ldflags "-X ...shared/host.Version=...").
var Version = "dev"

// NewMux starts a function's router with the routes every function has:
// GET /healthz (with the function's checks, if any) and a JSON 404.
func NewMux(function string, checks ...web.HealthCheck) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", web.Health(function, Version, checks...))
	mux.Handle("/", web.NotFound())
	return mux
}

// WebhookMux serves a webhook both at its HTTP API path and at the root of
// its Function URL.
func WebhookMux(function, path string, h http.Handler) *http.ServeMux {
	mux := NewMux(function)
	mux.Handle("POST "+path, h)
	mux.Handle("POST /{$}", h)
	return mux
}

// Standard wraps a function's router in the middleware every function uses.
// Error reporting is innermost: inside web.Recover, which still logs a panic
// and answers 500 after errreport has reported it, and inside web.RequestID,
// whose id the reports carry.
func Standard(function string, c config.Common, h http.Handler, origins ...string) http.Handler {
	return web.Standard(errreport.Middleware(h), web.Options{Function: function, MaxBodyBytes: c.MaxBodyBytes, AllowedOrigins: origins})
}
