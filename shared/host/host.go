// Package host runs a function either under AWS Lambda or as a plain
// net/http server, so that the same http.Handler (or scheduled job) is what
// production, `make dev`, `sam local` and the tests all exercise.
package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/errreport"
	"github.com/frostguard/functions/shared/logging"
	"github.com/frostguard/functions/shared/metrics"
	"github.com/frostguard/functions/shared/tracing"
	"github.com/frostguard/functions/shared/web"
)

// Job is a scheduled unit of work (the alert-sweeper).
type Job func(ctx context.Context) error

// InLambda reports whether the process was started by the Lambda runtime
// (or the Runtime Interface Emulator).
func InLambda() bool { return os.Getenv("AWS_LAMBDA_RUNTIME_API") != "" }

// flushTimeout bounds the wait for error reports at the end of an invocation.
const flushTimeout = 2 * time.Second

// LambdaHTTP adapts h to API Gateway HTTP API (payload 2.0) and Function URL
// events, which share one shape. Error reports are flushed before the
// invocation returns (Lambda freezes the process right after).
func LambdaHTTP(h http.Handler) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	adapter := httpadapter.NewV2(h)
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			ctx = logging.WithLambdaRequestID(ctx, lc.AwsRequestID)
		}
		ctx = tracing.FromLambda(ctx)
		// Carry API Gateway's request id into the handler so that our logs
		// and the gateway's access logs share one id.
		if ev.RequestContext.RequestID != "" && headerValue(ev.Headers, web.RequestIDHeader) == "" {
			headers := make(map[string]string, len(ev.Headers)+1)
			for k, v := range ev.Headers {
				headers[k] = v
			}
			headers["x-request-id"] = ev.RequestContext.RequestID
			ev.Headers = headers
		}
		defer errreport.Flush(flushTimeout)
		return adapter.ProxyWithContext(ctx, ev)
	}
}

func headerValue(h map[string]string, name string) string {
	for k, v := range h {
		if http.CanonicalHeaderKey(k) == name {
			return v
		}
	}
	return ""
}

// LambdaSchedule adapts a job to EventBridge scheduled events. A failed run
// is reported, and reports flushed, before the invocation returns.
func LambdaSchedule(job Job) func(context.Context, events.EventBridgeEvent) error {
	return func(ctx context.Context, ev events.EventBridgeEvent) error {
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			ctx = logging.WithLambdaRequestID(ctx, lc.AwsRequestID)
		}
		ctx = tracing.FromLambda(ctx)
		defer errreport.Flush(flushTimeout)
		err := job(ctx)
		errreport.JobError(ctx, err)
		return err
	}
}

// Setup parses cfg from the environment, installs the logger and turns on
// error reporting when SENTRY_DSN is set; on a configuration error it prints
// the error (which names every variable at fault) and exits, so a bad
// deployment fails at its first cold start.
func Setup(function string, cfg config.Config) {
	if err := config.Load(cfg); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", function, err)
		os.Exit(2)
	}
	logging.Setup(function, cfg.Base().LogLevel)
	metrics.SetupStdout(function, cfg.Base().Stage)
	if InLambda() {
		tracing.Setup(function)
	}
	if _, err := errreport.Init(cfg.Base().SentryDSN, function, cfg.Base().Stage, Version); err != nil {
		fmt.Fprintf(os.Stderr, "%s: configuration: %v\n", function, err)
		os.Exit(2)
	}
}

// Fatal reports a start-up failure and exits.
func Fatal(function string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", function, err)
	os.Exit(1)
}

// ServeHTTP runs h under Lambda, or locally on $PORT (default 3000).
func ServeHTTP(h http.Handler) {
	if InLambda() {
		lambda.Start(LambdaHTTP(h))
		return
	}
	addr := net.JoinHostPort(envOr("HOST", "127.0.0.1"), envOr("PORT", "3000"))
	if err := ListenAndServe(SignalContext(), addr, h); err != nil {
		slog.Error("server stopped", "err", err)
		os.Exit(1)
	}
}

// ServeSchedule runs job under Lambda, or locally once a minute until
// interrupted (the EventBridge schedule's rate).
func ServeSchedule(job Job) {
	if InLambda() {
		lambda.Start(LambdaSchedule(job))
		return
	}
	RunEvery(SignalContext(), time.Minute, job)
}

// RunEvery runs job now and then every interval until ctx ends. A failed run
// is logged and reported, and the next one still happens.
func RunEvery(ctx context.Context, interval time.Duration, job Job) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := job(ctx); err != nil && ctx.Err() == nil {
			slog.ErrorContext(ctx, "scheduled run failed", "err", err)
			errreport.JobError(ctx, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SignalContext ends on SIGINT or SIGTERM.
func SignalContext() context.Context {
	ctx, _ := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	return ctx
}

// ListenAndServe serves h on addr until ctx ends, then drains in-flight
// requests for up to 10 seconds.
func ListenAndServe(ctx context.Context, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return Serve(ctx, ln, h)
}

// Serve is ListenAndServe on an open listener.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	slog.Info("listening", "addr", "http://"+ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// HTTP is the whole main of an HTTP function: load its configuration (T),
// build its handler and serve it under Lambda or locally.
func HTTP[T any, P interface {
	*T
	config.Config
}](function string, build func(P) (http.Handler, error)) {
	cfg := P(new(T))
	Setup(function, cfg)
	h, err := build(cfg)
	if err != nil {
		Fatal(function, err)
	}
	ServeHTTP(h)
}

// Scheduled is the whole main of a scheduled function.
func Scheduled[T any, P interface {
	*T
	config.Config
}](function string, build func(P) (Job, error)) {
	cfg := P(new(T))
	Setup(function, cfg)
	job, err := build(cfg)
	if err != nil {
		Fatal(function, err)
	}
	ServeSchedule(job)
}
