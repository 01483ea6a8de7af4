// Package logging sets up structured JSON logs (log/slog). Request-scoped
// identifiers travel in the context and are added to every record logged
// with that context, so handlers just call slog.InfoContext(ctx, ...).
package logging

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	lambdaRequestIDKey
)

// WithRequestID returns ctx carrying the HTTP request id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// RequestID is the request id carried by ctx, or "".
func RequestID(ctx context.Context) string {
	s, _ := ctx.Value(requestIDKey).(string)
	return s
}

// WithLambdaRequestID returns ctx carrying the Lambda invocation id.
func WithLambdaRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, lambdaRequestIDKey, id)
}

// LambdaRequestID is the Lambda invocation id carried by ctx, or "".
func LambdaRequestID(ctx context.Context) string {
	s, _ := ctx.Value(lambdaRequestIDKey).(string)
	return s
}

// Setup installs the default logger for a function: JSON on stdout, every
// record tagged with the function name.
func Setup(function string, level slog.Leveler) *slog.Logger {
	l := New(os.Stdout, function, level)
	slog.SetDefault(l)
	return l
}

// New builds the logger Setup installs, writing to w.
func New(w io.Writer, function string, level slog.Leveler) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: redact})
	return slog.New(contextHandler{h}).With("function", function)
}

// contextHandler adds the ids found in the context to each record.
type contextHandler struct{ slog.Handler }

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	if id := LambdaRequestID(ctx); id != "" {
		r.AddAttrs(slog.String("lambda_request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return contextHandler{h.Handler.WithAttrs(attrs)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{h.Handler.WithGroup(name)}
}

// sensitive names attributes whose values never reach a log line, whatever
// the caller passed: a defence against someone logging a header map or a
// config struct by mistake.
var sensitive = []string{"authorization", "secret", "password", "token", "api_key", "apikey", "signature", "dsn", "cookie", "database_url"}

func redact(_ []string, a slog.Attr) slog.Attr {
	key := strings.ToLower(a.Key)
	for _, s := range sensitive {
		if strings.Contains(key, s) {
			return slog.String(a.Key, "[redacted]")
		}
	}
	return a
}
