package host

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/frostguard/functions/shared/logging"
	"github.com/frostguard/functions/shared/web"
)

// probe records what the handler saw.
type probe struct {
	signature, requestID, lambdaID, body, path string
}

func (p *probe) handler() http.Handler {
	return web.Standard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		// The v2 adapter splits header values on commas; Stripe-Signature
		// has to be joined back (docs/ARCHITECTURE.md "Layers").
		p.signature = strings.Join(r.Header.Values("Stripe-Signature"), ",")
		p.requestID = logging.RequestID(r.Context())
		p.body = string(b)
		p.path = r.URL.Path
		w.WriteHeader(http.StatusAccepted)
	}), web.Options{Function: "t"})
}

func TestLambdaHTTPFunctionURLEvent(t *testing.T) {
	var p probe
	fn := LambdaHTTP(p.handler())
	body := `{"id":"evt_1","data":{"x":"é"}}`
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: "/",
		Headers:         map[string]string{"stripe-signature": "t=1700000000,v1=abc,v1=def", "content-type": "application/json"},
		Body:            base64.StdEncoding.EncodeToString([]byte(body)),
		IsBase64Encoded: true,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "gw-req-1", DomainName: "abc.lambda-url.eu-west-1.on.aws",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/"},
		},
	}
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "lambda-1"})
	res, err := fn(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusAccepted {
		t.Errorf("status %d", res.StatusCode)
	}
	if p.signature != "t=1700000000,v1=abc,v1=def" {
		t.Errorf("signature header = %q", p.signature)
	}
	if p.body != body {
		t.Errorf("body = %q", p.body)
	}
	if p.requestID != "gw-req-1" || res.Headers[web.RequestIDHeader] != "gw-req-1" {
		t.Errorf("request id: handler saw %q, response %q", p.requestID, res.Headers[web.RequestIDHeader])
	}
	if p.path != "/" {
		t.Errorf("path = %q", p.path)
	}
	if ev.Headers["x-request-id"] != "" {
		t.Error("the caller's event headers were modified")
	}
}

func TestLambdaHTTPHandlerWritingNothingStillAnswers(t *testing.T) {
	h := web.Standard(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), web.Options{Function: "t"})
	res, err := LambdaHTTP(h)(context.Background(), events.APIGatewayV2HTTPRequest{
		RawPath:        "/x",
		RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/x"}},
	})
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("status %d err %v", res.StatusCode, err)
	}
}

func TestLambdaSchedulePassesErrors(t *testing.T) {
	boom := errors.New("boom")
	var sawLambdaID bool
	fn := LambdaSchedule(func(ctx context.Context) error {
		sawLambdaID = true
		return boom
	})
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "l"})
	if err := fn(ctx, events.EventBridgeEvent{DetailType: "Scheduled Event"}); !errors.Is(err, boom) || !sawLambdaID {
		t.Fatalf("err = %v", err)
	}
}

func TestServeDrainsOnCancel(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	}()
	res, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil || res.StatusCode != 204 {
		t.Fatalf("%v %v", res, err)
	}
	res.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("server did not stop")
	}
}

func TestRunEveryKeepsGoingAfterAFailure(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	runs := 0
	RunEvery(ctx, time.Millisecond, func(context.Context) error {
		runs++
		if runs == 3 {
			cancel()
		}
		return errors.New("fails every time")
	})
	if runs != 3 {
		t.Fatalf("runs = %d", runs)
	}
}
