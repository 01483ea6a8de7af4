// Package app assembles the whole collection in one process: the one-port
// local server (`make dev`), `frostguard invoke` and the tests. The function
// binaries never import it: each imports only its own shared/fn package.
package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/frostguard/functions/shared/catalog"
	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/fn/apifn"
	"github.com/frostguard/functions/shared/fn/checkoutfn"
	"github.com/frostguard/functions/shared/fn/chirpstackwebhookfn"
	"github.com/frostguard/functions/shared/fn/migratefn"
	"github.com/frostguard/functions/shared/fn/realtimefn"
	"github.com/frostguard/functions/shared/fn/reportsfn"
	"github.com/frostguard/functions/shared/fn/stripewebhookfn"
	"github.com/frostguard/functions/shared/fn/sweeperfn"
	"github.com/frostguard/functions/shared/fn/telnyxwebhookfn"
	"github.com/frostguard/functions/shared/fn/ttnwebhookfn"
	"github.com/frostguard/functions/shared/host"
	"github.com/frostguard/functions/shared/web"
)

// Built is a function assembled from a configuration: an HTTP handler, a
// scheduled job or a CloudFormation custom-resource handler.
type Built struct {
	Function       Function
	HTTP           http.Handler
	Job            host.Job
	CustomResource cfn.CustomResourceFunction
	WebSocket      host.WebSocketHandler
}

// LambdaHandler is the handler the Lambda runtime would invoke.
func (b Built) LambdaHandler() lambda.Handler {
	if b.Job != nil {
		return lambda.NewHandler(host.LambdaSchedule(b.Job))
	}
	if b.CustomResource != nil {
		return lambda.NewHandler(host.LambdaCustomResource(b.CustomResource))
	}
	if b.WebSocket != nil {
		return lambda.NewHandler(host.LambdaWebSocket(b.Function.Name, b.WebSocket))
	}
	return lambda.NewHandler(host.LambdaHTTP(b.HTTP))
}

// Build assembles the named function with its configuration parsed from
// environment, exactly as its main does under Lambda.
func Build(name string, environment map[string]string) (Built, error) {
	fn, ok := Lookup(name)
	if !ok {
		return Built{}, fmt.Errorf("unknown function %q", name)
	}
	var b Built
	var err error
	switch name {
	case API:
		b.HTTP, err = build(environment, apifn.New)
	case Reports:
		b.HTTP, err = build(environment, reportsfn.New)
	case StripeCheckout:
		b.HTTP, err = build(environment, checkoutfn.New)
	case StripeWebhook:
		b.HTTP, err = build(environment, stripewebhookfn.New)
	case TelnyxWebhook:
		b.HTTP, err = build(environment, telnyxwebhookfn.New)
	case TTNWebhook:
		b.HTTP, err = build(environment, ttnwebhookfn.New)
	case ChirpStackWebhook:
		b.HTTP, err = build(environment, chirpstackwebhookfn.New)
	case AlertSweeper:
		b.Job, err = build(environment, sweeperfn.New)
	case Migrate:
		b.CustomResource, err = build(environment, migratefn.New)
	case Realtime:
		b.WebSocket, err = build(environment, realtimefn.New)
	}
	if err != nil {
		return Built{}, fmt.Errorf("%s: %w", name, err)
	}
	b.Function = fn
	return b, nil
}

func build[R any, T any, P interface {
	*T
	config.Config
}](environment map[string]string, ctor func(P) (R, error)) (R, error) {
	cfg := P(new(T))
	if err := config.Parse(cfg, environment); err != nil {
		var zero R
		return zero, err
	}
	return ctor(cfg)
}

// Local is every function served behind one port, with the same routes as
// the HTTP API in template.yaml (docs/ARCHITECTURE.md "Local development"), plus the scheduled jobs the
// caller should run every minute.
type Local struct {
	Handler http.Handler
	Jobs    map[string]host.Job
}

// NewLocal builds every function from one environment and routes the
// catalog's routes to them. extra routes (dev-only endpoints such as the
// local JWKS) are mounted as given.
func NewLocal(environment map[string]string, extra map[string]http.Handler) (*Local, error) {
	mux := http.NewServeMux()
	local := &Local{Handler: mux, Jobs: map[string]host.Job{}}
	health := map[string]http.Handler{}
	for _, fn := range Functions {
		b, err := Build(fn.Name, environment)
		if err != nil {
			return nil, err
		}
		if b.Job != nil {
			local.Jobs[fn.Name] = b.Job
			continue
		}
		if b.WebSocket != nil {
			// The WebSocket API and its management API, as deployed,
			// behind the same port (lambda invocations in-process).
			live := realtimefn.Local(host.LambdaWebSocket(fn.Name, b.WebSocket))
			mux.Handle("GET "+catalog.LocalWebSocketPath, live)
			mux.Handle(catalog.LocalManagementPath+"/", live)
			continue
		}
		if !fn.HTTP() {
			continue // the migrations: `frostguard dev` applies them itself
		}
		health[fn.Name] = b.HTTP
		for _, r := range fn.Routes {
			if r.Path == "/healthz" {
				continue // answered below, for every function at once
			}
			mux.Handle(r.MuxPattern(), b.HTTP)
		}
	}
	mux.Handle("GET /healthz", web.Standard(localHealth(health), web.Options{Function: "local"}))
	for pattern, h := range extra {
		mux.Handle(pattern, h)
	}
	mux.Handle("/", web.Standard(web.NotFound(), web.Options{Function: "local"}))
	return local, nil
}

// localHealth asks every function's own /healthz and reports them together:
// 503 when one does not answer 200, "degraded" (200) when one reports itself
// degraded.
func localHealth(fns map[string]http.Handler) http.Handler {
	names := make([]string, 0, len(fns))
	for n := range fns {
		names = append(names, n)
	}
	sort.Strings(names)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, code := "ok", http.StatusOK
		each := map[string]json.RawMessage{}
		for _, n := range names {
			rec := httptest.NewRecorder()
			req := httptest.NewRequestWithContext(r.Context(), http.MethodGet, "/healthz", nil)
			fns[n].ServeHTTP(rec, req)
			each[n] = json.RawMessage(rec.Body.Bytes())
			var own struct{ Status string }
			switch {
			case rec.Code != http.StatusOK:
				status, code = "degraded", http.StatusServiceUnavailable
			case json.Unmarshal(rec.Body.Bytes(), &own) != nil || own.Status != "ok":
				status = "degraded"
			}
		}
		web.JSON(w, code, map[string]any{"status": status, "version": host.Version, "functions": each})
	})
}

// RunJobs runs every scheduled job now and then every minute until ctx ends,
// as EventBridge would.
func (l *Local) RunJobs(ctx context.Context) {
	for _, job := range l.Jobs {
		go host.RunEvery(ctx, every, job)
	}
}

var every = time.Minute

// The catalog, under the names the rest of the tooling uses.
type (
	Function = catalog.Function
	Route    = catalog.Route
)

const (
	API               = catalog.API
	Reports           = catalog.Reports
	StripeCheckout    = catalog.StripeCheckout
	StripeWebhook     = catalog.StripeWebhook
	TelnyxWebhook     = catalog.TelnyxWebhook
	TTNWebhook        = catalog.TTNWebhook
	ChirpStackWebhook = catalog.ChirpStackWebhook
	AlertSweeper      = catalog.AlertSweeper
	Migrate           = catalog.Migrate
	Realtime          = catalog.Realtime
)

// Functions is every function of the collection.
var Functions = catalog.Functions

// Lookup returns the named function.
func Lookup(name string) (Function, bool) { return catalog.Lookup(name) }
