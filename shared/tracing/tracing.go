// Package tracing adds X-Ray subsegments around database and provider calls
// inside the segment Lambda records for each invocation (Tracing: Active in
// template.yaml). Spans are made with the OpenTelemetry SDK (maintained;
// about 0.26 MB in a Lambda binary); each ended span is sent at once as an
// X-Ray subsegment document over UDP to the X-Ray daemon Lambda runs
// (AWS_XRAY_DAEMON_ADDRESS), which is what the X-Ray SDKs do. The X-Ray SDK
// for Go is in maintenance mode and would add 17.5 MB to a binary (it links
// aws-sdk-go v1 and gRPC); OpenTelemetry's OTLP exporter would add 12.3 MB
// and needs a collector layer: neither fits the 15 MB budget.
//
// Outside Lambda, or for an invocation X-Ray does not sample, nothing is
// recorded: the global tracer provider stays OpenTelemetry's no-op one.
package tracing

import (
	"context"
	"encoding/hex"
	"net"
	"os"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// tracerName names FrostGuard's instrumentation.
const tracerName = "github.com/frostguard/functions"

// Tracer is the tracer every span of the functions comes from.
func Tracer() trace.Tracer { return otel.Tracer(tracerName) }

// Setup installs the tracer provider when the X-Ray daemon is there (under
// Lambda with active tracing). It returns whether tracing is on.
func Setup(function string) bool {
	addr := os.Getenv("AWS_XRAY_DAEMON_ADDRESS")
	if addr == "" {
		return false
	}
	exp, err := NewExporter(addr)
	if err != nil {
		return false
	}
	otel.SetTracerProvider(NewProvider(exp))
	return true
}

// NewProvider is the provider Setup installs: it records the spans of
// sampled traces only (the Lambda segment's decision) and exports each as it
// ends.
func NewProvider(exp sdktrace.SpanExporter) *sdktrace.TracerProvider {
	return sdktrace.NewTracerProvider(
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.NeverSample())),
		sdktrace.WithSyncer(exp),
	)
}

// headerKey is where aws-lambda-go puts the invocation's trace header.
const headerKey = "x-amzn-trace-id"

// FromLambda returns ctx carrying the invocation's X-Ray segment as the
// remote parent of the spans made under it: the trace header from the
// Lambda context (else _X_AMZN_TRACE_ID).
func FromLambda(ctx context.Context) context.Context {
	header, _ := ctx.Value(headerKey).(string)
	if header == "" {
		header = os.Getenv("_X_AMZN_TRACE_ID")
	}
	sc, ok := ParseHeader(header)
	if !ok {
		return ctx
	}
	return trace.ContextWithRemoteSpanContext(ctx, sc)
}

// ParseHeader reads an X-Ray trace header
// (Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1).
func ParseHeader(h string) (trace.SpanContext, bool) {
	var root, parent string
	sampled := false
	for _, part := range strings.Split(h, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Root":
			root = v
		case "Parent":
			parent = v
		case "Sampled":
			sampled = v == "1"
		}
	}
	fields := strings.Split(root, "-")
	if len(fields) != 3 || fields[0] != "1" || len(fields[1]) != 8 || len(fields[2]) != 24 || len(parent) != 16 {
		return trace.SpanContext{}, false
	}
	var tid trace.TraceID
	var sid trace.SpanID
	if _, err := hex.Decode(tid[:], []byte(fields[1]+fields[2])); err != nil {
		return trace.SpanContext{}, false
	}
	if _, err := hex.Decode(sid[:], []byte(parent)); err != nil {
		return trace.SpanContext{}, false
	}
	cfg := trace.SpanContextConfig{TraceID: tid, SpanID: sid, Remote: true}
	if sampled {
		cfg.TraceFlags = trace.FlagsSampled
	}
	sc := trace.NewSpanContext(cfg)
	return sc, sc.IsValid()
}

// X-Ray's segment attributes, set on spans by the instrumentation here.
const (
	attrNamespace = attribute.Key("xray.namespace") // remote (a provider) or aws
	attrSQL       = attribute.Key("xray.sql")       // the statement (parameterised: no values)
	attrMethod    = attribute.Key("http.method")
	attrURL       = attribute.Key("http.url")
	attrStatus    = attribute.Key("http.status_code")
)

func dialUDP(addr string) (*net.UDPConn, error) {
	a, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	return net.DialUDP("udp", nil, a)
}
