package host

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/errreport"
	"github.com/frostguard/functions/shared/logging"
	"github.com/frostguard/functions/shared/tracing"
)

// LambdaCustomResource adapts a CloudFormation custom-resource handler to
// Lambda: aws-lambda-go's cfn.LambdaWrap sends SUCCESS or FAILED (with the
// error as the reason) to the event's pre-signed response URL, and a panic
// answers FAILED too, so a deploy never waits an hour for an answer.
func LambdaCustomResource(fn cfn.CustomResourceFunction) func(context.Context, cfn.Event) (string, error) {
	wrapped := cfn.LambdaWrap(fn)
	return func(ctx context.Context, ev cfn.Event) (string, error) {
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			ctx = logging.WithLambdaRequestID(ctx, lc.AwsRequestID)
		}
		ctx = tracing.FromLambda(ctx)
		defer errreport.Flush(flushTimeout)
		reason, err := wrapped(ctx, ev)
		if err != nil || reason != "" {
			// The answer itself could not be delivered.
			slog.ErrorContext(ctx, "answering CloudFormation failed", "reason", reason, "err", err)
		}
		return reason, err
	}
}

// CustomResource is the whole main of a custom-resource function. Outside
// Lambda it handles one Create request and exits with its outcome, so
// `go run ./functions/migrate` migrates the database in DATABASE_URL.
func CustomResource[T any, P interface {
	*T
	config.Config
}](function string, build func(P) (cfn.CustomResourceFunction, error)) {
	cfg := P(new(T))
	Setup(function, cfg)
	fn, err := build(cfg)
	if err != nil {
		Fatal(function, err)
	}
	if InLambda() {
		lambda.Start(LambdaCustomResource(fn))
		return
	}
	if _, _, err := fn(SignalContext(), cfn.Event{RequestType: cfn.RequestCreate, LogicalResourceID: "local"}); err != nil {
		errreport.JobError(context.Background(), err)
		errreport.Flush(flushTimeout)
		Fatal(function, err)
	}
	os.Exit(0)
}
