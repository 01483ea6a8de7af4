// Package catalog names the functions of the collection and their routes:
// the single source of truth that template.yaml, each function's router and
// the one-port local server are tested against. It imports nothing heavy,
// so every function binary can use it.
package catalog

import "strings"

// Route is an API Gateway HTTP API route key: "METHOD /path", where the path
// uses API Gateway's syntax ({param}, {proxy+}) and METHOD may be ANY.
type Route struct {
	Method string
	Path   string
}

func (r Route) String() string { return r.Method + " " + r.Path }

// MuxPattern is the route as a net/http ServeMux pattern.
func (r Route) MuxPattern() string {
	path := strings.Replace(r.Path, "{proxy+}", "{proxy...}", 1)
	if r.Method == "ANY" {
		return path
	}
	return r.Method + " " + path
}

// Function describes one deployed Lambda function.
type Function struct {
	Name string
	// LogicalID is the function's resource name in template.yaml.
	LogicalID string
	// Routes are its HTTP API routes.
	Routes []Route
	// FunctionURL is true for the webhooks, which providers may call directly.
	FunctionURL bool
	// Schedule is the EventBridge schedule expression of a scheduled function.
	Schedule string
	// CustomResource is the logical id of the CloudFormation custom resource
	// that invokes the function during a deploy (the database migrations).
	CustomResource string
	// NoDatabaseSchema is true for the one function that runs before the
	// schema is at its version (it brings it there); every other function
	// is deployed only after the migrations (DependsOn in template.yaml).
	NoDatabaseSchema bool
	// WebSocketRoutes are its route keys on the WebSocket API (the live
	// channel): $connect, $disconnect, the actions, $default.
	WebSocketRoutes []string
}

// HTTP reports whether the function serves HTTP (routes, Function URL).
func (f Function) HTTP() bool { return len(f.Routes) > 0 || f.FunctionURL }

// Function names, as in functions/<name>.
const (
	API            = "api"
	Reports        = "reports"
	StripeCheckout = "stripe-checkout"
	StripeWebhook  = "stripe-webhook"
	TelnyxWebhook  = "telnyx-webhook"
	TTNWebhook     = "ttn-webhook"
	// ChirpStackWebhook receives a ChirpStack v4 HTTP integration's events.
	ChirpStackWebhook = "chirpstack-webhook"
	AlertSweeper      = "alert-sweeper"
	Migrate           = "migrate"
	Realtime          = "realtime"
)

// The live channel on the one-port local server: the WebSocket endpoint
// (in AWS, the WebSocket API's own URL) and the management API the
// publishers post to (in AWS, https://{api}.execute-api.{region}.amazonaws.com/{stage}).
const (
	LocalWebSocketPath  = "/ws"
	LocalManagementPath = "/_realtime"
)

// MigrationsResource is the custom resource through which a deploy runs the
// migrate function.
const MigrationsResource = "DatabaseMigrations"

// Functions is every function of the collection.
var Functions = []Function{
	{Name: API, LogicalID: "ApiFunction", Routes: []Route{
		{"GET", "/healthz"},
		{"ANY", "/api/v1/{proxy+}"},
	}},
	// Reports (HACCP, daily log, exceptions, manual entries) render PDFs of
	// up to a year of readings: their own function, with more memory and
	// time than the api's interactive routes, and the only binary that
	// carries the PDF library. Members reach them under their organisation,
	// inspector-link holders under /api/v1/inspect.
	{Name: Reports, LogicalID: "ReportsFunction", Routes: []Route{
		{"GET", "/api/v1/orgs/{orgId}/reports/{report}"},
		{"GET", "/api/v1/inspect/reports/{report}"},
	}},
	{Name: StripeCheckout, LogicalID: "StripeCheckoutFunction", Routes: []Route{
		{"POST", "/api/v1/orgs/{orgId}/billing/checkout"},
		{"POST", "/api/v1/orgs/{orgId}/billing/portal"},
	}},
	{Name: StripeWebhook, LogicalID: "StripeWebhookFunction", FunctionURL: true, Routes: []Route{
		{"POST", "/webhooks/stripe"},
	}},
	{Name: TelnyxWebhook, LogicalID: "TelnyxWebhookFunction", FunctionURL: true, Routes: []Route{
		{"POST", "/webhooks/telnyx"},
	}},
	{Name: TTNWebhook, LogicalID: "TtnWebhookFunction", FunctionURL: true, Routes: []Route{
		{"POST", "/webhooks/ttn"},
	}},
	{Name: ChirpStackWebhook, LogicalID: "ChirpstackWebhookFunction", FunctionURL: true, Routes: []Route{
		{"POST", "/webhooks/chirpstack"},
	}},
	{Name: AlertSweeper, LogicalID: "AlertSweeperFunction", Schedule: "rate(1 minute)"},
	// Brings the database to the embedded schema version during every
	// deploy, before the other functions are updated.
	{Name: Migrate, LogicalID: "MigrateFunction", CustomResource: MigrationsResource, NoDatabaseSchema: true},
	// The live channel: the WebSocket API's integration (handshake,
	// disconnect, subscribe/unsubscribe actions). Events are posted to the
	// connections by the functions that change things, not by this one.
	{Name: Realtime, LogicalID: "RealtimeFunction", WebSocketRoutes: []string{"$connect", "$disconnect", "subscribe", "unsubscribe", "$default"}},
}

// Lookup returns the named function.
func Lookup(name string) (Function, bool) {
	for _, f := range Functions {
		if f.Name == name {
			return f, true
		}
	}
	return Function{}, false
}
