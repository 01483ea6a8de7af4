// Package storage is the S3 adapter (aws-sdk-go-v2): presigned uploads and
// downloads of private objects. Locally it talks to the S3 server the dev
// stack runs (versitygw, which checks SigV4 signatures like S3); in AWS to
// S3 itself, with the function's IAM role.
package storage

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/config"
)

// Bucket is one private bucket.
type Bucket struct {
	client  *s3.Client
	presign *s3.PresignClient
	name    string
}

// Open configures a client for bucket. It opens no connection.
func Open(cfg config.Storage, bucket string) *Bucket {
	region := cfg.Region
	if region == "" {
		region = os.Getenv("AWS_REGION")
	}
	if region == "" {
		region = "us-east-1"
	}
	opts := s3.Options{
		Region:     region,
		HTTPClient: &http.Client{Timeout: 10 * time.Second},
	}
	if cfg.Endpoint != "" {
		// MinIO-style servers address buckets by path, not by host name.
		opts.BaseEndpoint = aws.String(cfg.Endpoint)
		opts.UsePathStyle = true
	}
	if cfg.AccessKey != "" {
		opts.Credentials = credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, "")
	} else {
		// In Lambda: the execution role's credentials from the environment.
		opts.Credentials = aws.NewCredentialsCache(envCredentials{})
	}
	client := s3.New(opts)
	return &Bucket{client: client, presign: s3.NewPresignClient(client), name: bucket}
}

// envCredentials reads the credentials Lambda puts in the environment,
// without the SDK's config loader (which reads files and costs cold-start
// time for nothing here).
type envCredentials struct{}

func (envCredentials) Retrieve(context.Context) (aws.Credentials, error) {
	c := aws.Credentials{
		AccessKeyID:     os.Getenv("AWS_ACCESS_KEY_ID"),
		SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken:    os.Getenv("AWS_SESSION_TOKEN"),
		Source:          "environment",
	}
	if c.AccessKeyID == "" {
		return c, errors.New("no AWS credentials in the environment")
	}
	return c, nil
}

// PresignedRequest is what a browser needs to upload or download directly.
type PresignedRequest struct {
	URL     string      `json:"url"`
	Method  string      `json:"method"`
	Headers http.Header `json:"headers,omitempty"`
	Expires time.Time   `json:"expires_at"`
}

// PresignPut lets the holder upload exactly one object at key with the given
// content type and length: both are signed, so S3 refuses anything else.
func (b *Bucket) PresignPut(ctx context.Context, key, contentType string, size int64, ttl time.Duration) (PresignedRequest, error) {
	req, err := b.presign.PresignPutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(b.name),
		Key:           aws.String(key),
		ContentType:   aws.String(contentType),
		ContentLength: aws.Int64(size),
	}, s3.WithPresignExpires(ttl))
	if err != nil {
		return PresignedRequest{}, classify(err)
	}
	return PresignedRequest{URL: req.URL, Method: req.Method, Headers: req.SignedHeader, Expires: time.Now().Add(ttl)}, nil
}

// PresignGet lets the holder download the object at key until ttl passes.
func (b *Bucket) PresignGet(ctx context.Context, key string, ttl time.Duration) (PresignedRequest, error) {
	req, err := b.presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.name), Key: aws.String(key)}, s3.WithPresignExpires(ttl))
	if err != nil {
		return PresignedRequest{}, classify(err)
	}
	return PresignedRequest{URL: req.URL, Method: req.Method, Expires: time.Now().Add(ttl)}, nil
}

// Object describes a stored object.
type Object struct {
	Size        int64
	ContentType string
}

// Stat returns the object at key; a missing object is apperr.NotFound.
func (b *Bucket) Stat(ctx context.Context, key string) (Object, error) {
	out, err := b.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.name), Key: aws.String(key)})
	if err != nil {
		return Object{}, classify(err)
	}
	return Object{Size: aws.ToInt64(out.ContentLength), ContentType: aws.ToString(out.ContentType)}, nil
}

// Delete removes the object at key (deleting a missing object succeeds).
func (b *Bucket) Delete(ctx context.Context, key string) error {
	_, err := b.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.name), Key: aws.String(key)})
	return classify(err)
}

// classify maps S3 failures onto the application's codes: unreachable
// storage is retryable (503), a missing object is 404.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var notFound *types.NotFound
	var noKey *types.NoSuchKey
	if errors.As(err, &notFound) || errors.As(err, &noKey) {
		return apperr.Wrap(apperr.NotFound, err, "the object does not exist")
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() == "NotFound" {
		return apperr.Wrap(apperr.NotFound, err, "the object does not exist")
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) {
		return apperr.Wrap(apperr.Unavailable, err, "file storage is unavailable, retry later")
	}
	return apperr.Wrap(apperr.BadGateway, err, "file storage failed")
}
