package host

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/errreport"
	"github.com/frostguard/functions/shared/logging"
	"github.com/frostguard/functions/shared/metrics"
	"github.com/frostguard/functions/shared/tracing"
)

// WebSocketHandler is an API Gateway WebSocket API's Lambda integration.
type WebSocketHandler = func(context.Context, events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error)

// LambdaWebSocket adapts h to Lambda: ids in the logs, every answer counted
// like an HTTP one, a panic answered 500 (the gateway then refuses the
// handshake or drops the message) and reported before the invocation ends.
func LambdaWebSocket(function string, h WebSocketHandler) WebSocketHandler {
	return func(ctx context.Context, ev events.APIGatewayWebsocketProxyRequest) (res events.APIGatewayProxyResponse, err error) {
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			ctx = logging.WithLambdaRequestID(ctx, lc.AwsRequestID)
		}
		ctx = tracing.FromLambda(ctx)
		defer errreport.Flush(flushTimeout)
		defer func() {
			if p := recover(); p != nil {
				slog.ErrorContext(ctx, "websocket handler panicked", "panic", p, "route", ev.RequestContext.RouteKey)
				errreport.JobError(ctx, errPanic{p})
				res, err = events.APIGatewayProxyResponse{StatusCode: http.StatusInternalServerError}, nil
			}
			metrics.Request(ctx, function, res.StatusCode)
		}()
		return h(ctx, ev)
	}
}

type errPanic struct{ v any }

func (e errPanic) Error() string { return "panic: " + slog.AnyValue(e.v).String() }

// WebSocket is the whole main of a WebSocket API function. Outside Lambda
// it serves local(h) (the WebSocket endpoint and its management API) on
// $PORT; `make dev` serves the same on its one port.
func WebSocket[T any, P interface {
	*T
	config.Config
}](function string, build func(P) (WebSocketHandler, error), local func(WebSocketHandler) http.Handler) {
	cfg := P(new(T))
	Setup(function, cfg)
	h, err := build(cfg)
	if err != nil {
		Fatal(function, err)
	}
	if InLambda() {
		lambda.Start(LambdaWebSocket(function, h))
		return
	}
	addr := net.JoinHostPort(envOr("HOST", "127.0.0.1"), envOr("PORT", "3000"))
	if err := ListenAndServe(SignalContext(), addr, local(h)); err != nil {
		slog.Error("server stopped", "err", err)
		os.Exit(1)
	}
}
