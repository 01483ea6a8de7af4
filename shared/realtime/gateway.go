package realtime

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi/types"

	"github.com/frostguard/functions/shared/awsenv"
)

// Poster delivers one message to one connection: the management API's
// PostToConnection.
type Poster interface {
	PostToConnection(ctx context.Context, connectionID string, data []byte) error
}

// ErrGone is the management API's 410: the connection is closed.
var ErrGone = errors.New("connection gone")

// Gateway posts through an API Gateway WebSocket API's management API
// (https://{api}.execute-api.{region}.amazonaws.com/{stage}, or the local
// server's), signing with SigV4 as the function's role.
type Gateway struct {
	client *apigatewaymanagementapi.Client
}

// postTimeout bounds one PostToConnection (the gateway answers in
// milliseconds); the publisher bounds the whole fan-out on top.
const postTimeout = 2 * time.Second

// NewGateway configures a client for the management endpoint. It opens no
// connection. Credentials are Lambda's (the environment: the execution role,
// Lambda sets them per sandbox); without any (make dev) a fixed local pair signs for the
// local server, which checks the signature's shape, not its secret.
func NewGateway(endpoint string) *Gateway {
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = "us-east-1"
	}
	client := apigatewaymanagementapi.New(apigatewaymanagementapi.Options{
		Region:       region,
		BaseEndpoint: aws.String(strings.TrimRight(endpoint, "/")),
		Credentials:  aws.CredentialsProviderFunc(environmentCredentials),
		HTTPClient:   &http.Client{Timeout: postTimeout},
		// One quick retry of a throttled or broken call; a publication is
		// best effort and bounded in time.
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 2 }),
	})
	return &Gateway{client: client}
}

func environmentCredentials(context.Context) (aws.Credentials, error) {
	c, ok := awsenv.Credentials()
	if !ok {
		c = aws.Credentials{AccessKeyID: LocalAccessKey, SecretAccessKey: "frostguard-local-secret", Source: "local"}
	}
	return c, nil
}

// LocalAccessKey signs management calls where no AWS credentials exist.
const LocalAccessKey = "FROSTGUARDLOCAL"

// PostToConnection sends data as one text frame; ErrGone when the client
// has gone away.
func (g *Gateway) PostToConnection(ctx context.Context, connectionID string, data []byte) error {
	_, err := g.client.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{
		ConnectionId: aws.String(connectionID), Data: data,
	})
	var gone *types.GoneException
	if errors.As(err, &gone) {
		return ErrGone
	}
	return err
}
