// Package realtimefn assembles the realtime function (the live channel's
// WebSocket API integration) from the shared packages: its main and the
// one-port local server call New. It imports only what this function needs,
// so the function's binary carries nothing else.
package realtimefn

import (
	"net/http"

	"github.com/frostguard/functions/shared/auth"
	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/host"
	"github.com/frostguard/functions/shared/realtime"
	"github.com/frostguard/functions/shared/realtime/localgateway"
	"github.com/frostguard/functions/shared/store"
)

// New builds the `realtime` function's handler.
func New(cfg *config.Realtime) (host.WebSocketHandler, error) {
	db, err := store.Open(cfg.DatabaseURL, cfg.DBMaxConns)
	if err != nil {
		return nil, err
	}
	v, err := auth.NewStackAuthVerifier(cfg.Auth)
	if err != nil {
		return nil, err
	}
	s := &realtime.Socket{DB: db, Verifier: v}
	return s.Handle, nil
}

// Local serves h as `make dev` does: /ws and the management API.
func Local(h host.WebSocketHandler) http.Handler { return localgateway.Mux(h) }
