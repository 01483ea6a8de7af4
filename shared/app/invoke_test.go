package app_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/frostguard/functions/shared/app"
	"github.com/frostguard/functions/shared/testenv"
)

// expectedStatus is what each sample event answers in this test, where
// DATABASE_URL points at a closed port and tokens are placeholders: every
// answer is the function's own (e2e runs the uplinks against a database).
var expectedStatus = map[string]int{
	"api/healthz.json":                 200,
	"api/get-me.json":                  401, // placeholder token
	"reports/healthz.json":             200,
	"reports/haccp-pdf.json":           401, // placeholder token
	"stripe-checkout/healthz.json":     200,
	"stripe-checkout/checkout.json":    401, // placeholder token
	"stripe-webhook/healthz.json":      200,
	"stripe-webhook/unsigned.json":     400, // Stripe-Signature is always required
	"stripe-webhook/function-url.json": 400, // its signature is a sample, it does not verify
	"telnyx-webhook/healthz.json":      200,
	"telnyx-webhook/unsigned.json":     401,
	// voice-page call events, with a sample signature that does not verify
	"telnyx-webhook/call-gather-ended.json":            401,
	"telnyx-webhook/call-hangup.json":                  401,
	"telnyx-webhook/call-initiated.json":               401,
	"telnyx-webhook/call-answered.json":                401,
	"telnyx-webhook/call-machine-detection-ended.json": 401,
	"ttn-webhook/healthz.json":                         200,
	"ttn-webhook/uplink.json":                          503, // the database is unreachable: retryable
	"ttn-webhook/base64-body.json":                     503,
	"chirpstack-webhook/healthz.json":                  200,
	"chirpstack-webhook/up.json":                       503, // the database is unreachable: retryable
	"chirpstack-webhook/status-function-url.json":      503,
	"realtime/connect-no-token.json":                   401, // refused before the database is asked
	"realtime/subscribe-malformed.json":                200, // answered with an error message to the client
	"realtime/disconnect.json":                         200, // the row expires if it cannot be deleted
}

// TestEventsThroughEachLambdaHandler feeds every events/<function>/*.json
// through that function's Lambda handler in-process, exactly what
// `sam local invoke -e` or `frostguard invoke` does.
func TestEventsThroughEachLambdaHandler(t *testing.T) {
	files, err := filepath.Glob("../../events/*/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no events found (%v)", err)
	}
	for _, file := range files {
		fn := filepath.Base(filepath.Dir(file))
		name := filepath.Base(file)
		t.Run(fn+"/"+name, func(t *testing.T) {
			built, err := app.Build(fn, testenv.Environment(nil))
			if err != nil {
				t.Fatal(err)
			}
			if built.Job != nil || built.CustomResource != nil {
				// The sweeper needs a database (see e2e); the migrations
				// need one and a CloudFormation response URL (shared/deploy).
				return
			}
			event, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "test"})
			out, err := built.LambdaHandler().Invoke(ctx, event)
			if err != nil {
				t.Fatalf("invoke: %v", err)
			}
			want, ok := expectedStatus[fn+"/"+name]
			if !ok {
				t.Fatalf("no expected status for %s/%s: add it to expectedStatus", fn, name)
			}
			if built.WebSocket != nil {
				var res events.APIGatewayProxyResponse
				if err := json.Unmarshal(out, &res); err != nil || res.StatusCode != want {
					t.Fatalf("status %d (%v), want %d: %s", res.StatusCode, err, want, out)
				}
				if res.Body != "" && !json.Valid([]byte(res.Body)) {
					t.Errorf("body is not JSON: %q", res.Body)
				}
				return
			}
			var res events.APIGatewayV2HTTPResponse
			if err := json.Unmarshal(out, &res); err != nil {
				t.Fatalf("not an API Gateway v2 response: %s", out)
			}
			if res.StatusCode != want {
				t.Errorf("status %d, want %d: %s", res.StatusCode, want, res.Body)
			}
			if res.Headers["X-Frostguard-Function"] != fn {
				t.Errorf("answered by %q", res.Headers["X-Frostguard-Function"])
			}
			if !strings.HasPrefix(res.Headers["Content-Type"], "application/json") || !json.Valid([]byte(res.Body)) {
				t.Errorf("body is not JSON: %q %q", res.Headers["Content-Type"], res.Body)
			}
		})
	}
}

func TestBuildRejectsUnknownFunctionsAndBadConfig(t *testing.T) {
	if _, err := app.Build("nope", testenv.Environment(nil)); err == nil {
		t.Error("built an unknown function")
	}
	env := testenv.Environment(nil)
	delete(env, "STRIPE_WEBHOOK_SECRET")
	if _, err := app.Build(app.StripeWebhook, env); err == nil || !strings.Contains(err.Error(), "STRIPE_WEBHOOK_SECRET") {
		t.Errorf("err = %v", err)
	}
}
