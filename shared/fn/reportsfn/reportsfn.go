// Package reportsfn assembles the reports function: the HACCP report routes
// of the api, served by their own binary (the only one linking the PDF
// renderer) with the memory and time a year-long report needs.
package reportsfn

import (
	"net/http"

	"github.com/frostguard/functions/shared/api"
	"github.com/frostguard/functions/shared/catalog"
	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/host"
	"github.com/frostguard/functions/shared/objects"
)

// New builds the `reports` function's handler.
func New(cfg *config.Reports) (http.Handler, error) {
	srv, err := api.Open(cfg.Common, cfg.Auth)
	if err != nil {
		return nil, err
	}
	srv.Files = objects.Open(cfg.Storage, cfg.AssetsBucket)
	mux := host.NewMux(catalog.Reports)
	srv.RegisterReports(mux)
	// The same layers as the api: reads pass subscription enforcement, and
	// the audit trail records nothing for them, but a route added here later
	// gets both without anyone remembering.
	return host.Standard(catalog.Reports, cfg.Common, srv.Audit(srv.EnforceSubscriptions(mux)), cfg.FrontendURL), nil
}
