// Package objects is the S3 adapter: presigned uploads and downloads of
// private objects, and the few object calls the api needs (stat, delete).
// Locally it talks to the S3 server the dev stack runs (versitygw, which
// checks SigV4 signatures like S3); in AWS to S3 itself, with the function's
// IAM role.
//
// It signs requests with aws-sdk-go-v2's SigV4 signer rather than the
// generated S3 client: the four calls below do not need the client, and the
// client alone would add about 4 MB to the api's Lambda binary (the product
// owner's budget is 15 MB) and to its cold start.
package objects

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/awsenv"
	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/tracing"
)

// emptySHA256 is the payload hash of a request without a body.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// Bucket is one private bucket.
type Bucket struct {
	base   *url.URL // the bucket's URL: path-style on a custom endpoint, virtual-hosted on AWS
	name   string
	region string
	static *aws.Credentials
	signer *v4.Signer
	client *http.Client
}

// callTimeout bounds each object call (stat, delete), which S3 answers in
// milliseconds: a hung S3 must get its 503 out well inside the api's 10 s
// Lambda timeout, not time the function out (the caller would then see the
// gateway's bare error instead of ours).
const callTimeout = 5 * time.Second

// Open configures a client for bucket. It opens no connection.
func Open(cfg config.Storage, bucket string) *Bucket {
	region := cfg.Region
	if region == "" {
		region = os.Getenv("AWS_REGION")
	}
	if region == "" {
		region = "us-east-1"
	}
	b := &Bucket{name: bucket, region: region, signer: v4.NewSigner(), client: tracing.Client(callTimeout)}
	if cfg.Endpoint != "" {
		// MinIO-style servers address buckets by path, not by host name.
		u, err := url.Parse(strings.TrimRight(cfg.Endpoint, "/") + "/" + url.PathEscape(bucket))
		if err == nil {
			b.base = u
		}
	} else {
		b.base = &url.URL{Scheme: "https", Host: bucket + ".s3." + region + ".amazonaws.com"}
	}
	if cfg.AccessKey != "" {
		b.static = &aws.Credentials{AccessKeyID: cfg.AccessKey, SecretAccessKey: cfg.SecretKey, Source: "config"}
	}
	return b
}

// credentials are the configured static keys, else the ones Lambda puts in
// the environment for the execution role (read per call: they rotate).
func (b *Bucket) credentials() (aws.Credentials, error) {
	if b.static != nil {
		return *b.static, nil
	}
	c, ok := awsenv.Credentials()
	if !ok {
		return c, apperr.New(apperr.Unavailable, "file storage has no credentials")
	}
	return c, nil
}

func (b *Bucket) objectURL(key string) (*url.URL, error) {
	if b.base == nil {
		return nil, apperr.New(apperr.Unavailable, "file storage is not configured correctly")
	}
	u := *b.base
	u.Path = strings.TrimRight(b.base.Path, "/") + "/" + key
	u.RawPath = strings.TrimRight(b.base.EscapedPath(), "/") + "/" + escapeKey(key)
	return &u, nil
}

// escapeKey escapes each path segment of key as S3 expects (slashes kept).
func escapeKey(key string) string {
	parts := strings.Split(key, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// PresignedRequest is what a browser needs to upload or download directly.
type PresignedRequest struct {
	URL     string      `json:"url"`
	Method  string      `json:"method"`
	Headers http.Header `json:"headers,omitempty"`
	Expires time.Time   `json:"expires_at"`
}

func (b *Bucket) presign(ctx context.Context, method, key string, headers http.Header, ttl time.Duration) (PresignedRequest, error) {
	creds, err := b.credentials()
	if err != nil {
		return PresignedRequest{}, err
	}
	u, err := b.objectURL(key)
	if err != nil {
		return PresignedRequest{}, err
	}
	q := u.Query()
	q.Set("X-Amz-Expires", strconv.Itoa(int(ttl.Seconds())))
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return PresignedRequest{}, err
	}
	for k, v := range headers {
		req.Header[k] = v
	}
	// The signer signs the request's ContentLength field, not a header.
	if n, err := strconv.ParseInt(headers.Get("Content-Length"), 10, 64); err == nil {
		req.ContentLength = n
	}
	now := time.Now()
	signed, signedHeaders, err := b.signer.PresignHTTP(ctx, creds, req, "UNSIGNED-PAYLOAD", "s3", b.region, now)
	if err != nil {
		return PresignedRequest{}, err
	}
	signedHeaders.Del("Host")
	if req.ContentLength > 0 {
		signedHeaders.Set("Content-Length", strconv.FormatInt(req.ContentLength, 10))
	}
	return PresignedRequest{URL: signed, Method: method, Headers: signedHeaders, Expires: now.Add(ttl)}, nil
}

// PresignPut lets the holder upload exactly one object at key with the given
// content type and length: both are signed, so S3 refuses anything else.
func (b *Bucket) PresignPut(ctx context.Context, key, contentType string, size int64, ttl time.Duration) (PresignedRequest, error) {
	h := http.Header{}
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	return b.presign(ctx, http.MethodPut, key, h, ttl)
}

// PresignGet lets the holder download the object at key until ttl passes.
func (b *Bucket) PresignGet(ctx context.Context, key string, ttl time.Duration) (PresignedRequest, error) {
	return b.presign(ctx, http.MethodGet, key, nil, ttl)
}

// Object describes a stored object.
type Object struct {
	Size        int64
	ContentType string
}

// do sends a signed request without a body.
func (b *Bucket) do(ctx context.Context, method, key string) (*http.Response, error) {
	creds, err := b.credentials()
	if err != nil {
		return nil, err
	}
	u, err := b.objectURL(key)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	if err := b.signer.SignHTTP(ctx, creds, req, emptySHA256, "s3", b.region, time.Now()); err != nil {
		return nil, err
	}
	res, err := b.client.Do(req)
	if err != nil {
		return nil, classifyTransport(err)
	}
	return res, nil
}

// Stat returns the object at key; a missing object is apperr.NotFound.
func (b *Bucket) Stat(ctx context.Context, key string) (Object, error) {
	res, err := b.do(ctx, http.MethodHead, key)
	if err != nil {
		return Object{}, err
	}
	res.Body.Close()
	if err := classifyStatus(res.StatusCode); err != nil {
		return Object{}, err
	}
	return Object{Size: res.ContentLength, ContentType: res.Header.Get("Content-Type")}, nil
}

// Delete removes the object at key (deleting a missing object succeeds).
func (b *Bucket) Delete(ctx context.Context, key string) error {
	res, err := b.do(ctx, http.MethodDelete, key)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode == http.StatusNotFound {
		return nil
	}
	return classifyStatus(res.StatusCode)
}

// classifyStatus maps S3 answers onto the application's codes.
func classifyStatus(status int) error {
	switch {
	case status >= 200 && status < 300:
		return nil
	case status == http.StatusNotFound:
		return apperr.New(apperr.NotFound, "the object does not exist")
	case status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests || status >= 500:
		return apperr.New(apperr.Unavailable, "file storage is unavailable, retry later (status %d)", status)
	default:
		// 403 (signature, credentials, policy) is our configuration, not the caller's.
		return apperr.Wrap(apperr.BadGateway, fmt.Errorf("s3 answered %d", status), "file storage refused the request")
	}
}

// classifyTransport: an unreachable storage server is retryable (503).
func classifyTransport(err error) error {
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) {
		return apperr.Wrap(apperr.Unavailable, err, "file storage is unavailable, retry later")
	}
	return apperr.Wrap(apperr.BadGateway, err, "file storage failed")
}
