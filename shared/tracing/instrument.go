package tracing

import (
	"context"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// PGX is a pgx tracer: one subsegment per query or batch (a round trip),
// with the parameterised statement (values are never in it).
type PGX struct{}

var (
	_ pgx.QueryTracer = PGX{}
	_ pgx.BatchTracer = PGX{}
)

// TraceQueryStart starts the query's span.
func (PGX) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	if !trace.SpanContextFromContext(ctx).IsSampled() {
		return ctx
	}
	ctx, _ = Tracer().Start(ctx, "PostgreSQL", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attrNamespace.String("remote"), attrSQL.String(data.SQL)))
	return ctx
}

// TraceQueryEnd ends it.
func (PGX) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	end(ctx, data.Err)
}

// TraceBatchStart starts a batch's span (one round trip for all its queries).
func (PGX) TraceBatchStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchStartData) context.Context {
	if !trace.SpanContextFromContext(ctx).IsSampled() {
		return ctx
	}
	ctx, _ = Tracer().Start(ctx, "PostgreSQL", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attrNamespace.String("remote"), attrSQL.String("batch")))
	return ctx
}

// TraceBatchQuery records nothing: the batch's span covers it.
func (PGX) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

// TraceBatchEnd ends the batch's span.
func (PGX) TraceBatchEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchEndData) {
	end(ctx, data.Err)
}

func end(ctx context.Context, err error) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// Transport wraps base (nil: http.DefaultTransport) so that each request to
// a provider is a subsegment named after its host, with the method, the URL
// without its query (tokens travel there) and the status.
func Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return transport{base}
}

type transport struct{ base http.RoundTripper }

func (t transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if !trace.SpanContextFromContext(ctx).IsSampled() {
		return t.base.RoundTrip(req)
	}
	u := *req.URL
	u.RawQuery, u.User, u.Fragment = "", nil, ""
	ctx, span := Tracer().Start(ctx, req.URL.Hostname(), trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attrNamespace.String("remote"), attrMethod.String(req.Method), attrURL.String(u.String())))
	defer span.End()
	res, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
		return res, err
	}
	span.SetAttributes(attrStatus.Int(res.StatusCode))
	return res, nil
}

// Client is an http.Client with Transport and the given timeout.
func Client(timeout time.Duration) *http.Client {
	return &http.Client{Transport: Transport(nil), Timeout: timeout}
}
