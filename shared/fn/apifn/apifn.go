// Package apifn assembles the api function from the shared packages:
// its main and the one-port local server call New. It imports only what
// this function needs, so the function's binary carries nothing else.
package apifn

import (
	"net/http"

	"github.com/frostguard/functions/shared/api"
	"github.com/frostguard/functions/shared/cache"
	"github.com/frostguard/functions/shared/catalog"
	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/host"
	"github.com/frostguard/functions/shared/objects"
	"github.com/frostguard/functions/shared/realtime"
)

// New builds the `api` function's handler.
func New(cfg *config.API) (http.Handler, error) {
	srv, err := api.Open(cfg.Common, cfg.Auth)
	if err != nil {
		return nil, err
	}
	srv.Files = objects.Open(cfg.Storage, cfg.AssetsBucket)
	if srv.Cache, err = cache.Open(cfg.RedisURL); err != nil {
		return nil, err
	}
	srv.SiteContext = cfg.SiteContext
	srv.FrontendURL = cfg.FrontendURL
	srv.PlatformAdmins = cfg.PlatformAdminSubjects
	srv.TTN = api.TTNManagement{Config: cfg.TTNStack}
	srv.Live = realtime.Configured(srv.DB, cfg.Live)
	mux := host.NewMux(catalog.API, srv.SweeperCheck())
	srv.Register(mux)
	// Subscription enforcement wraps the mux itself: it looks routes up to
	// tell writes from reads and leaves other tenants' 404s alone. The audit
	// trail is outermost: it records what enforcement let through.
	return host.Standard(catalog.API, cfg.Common, srv.Audit(srv.EnforceSubscriptions(mux)), cfg.FrontendURL), nil
}
