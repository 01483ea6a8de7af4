// Package awsenv reads the AWS credentials Lambda puts in a function's
// environment for its execution role: what the S3 calls (shared/objects)
// and the live channel's management API calls (shared/realtime) sign with.
package awsenv

import (
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Credentials returns the environment's credentials, and whether there are
// any (AWS_ACCESS_KEY_ID set).
func Credentials() (aws.Credentials, bool) {
	c := aws.Credentials{
		AccessKeyID:     os.Getenv("AWS_ACCESS_KEY_ID"),
		SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken:    os.Getenv("AWS_SESSION_TOKEN"),
		Source:          "environment",
	}
	return c, c.AccessKeyID != ""
}
