//go:build linux

package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// S3 is a private versitygw (posix backend in a temporary directory), with
// the two buckets stack.sh creates. Objects survive Stop and Start.
type S3 struct {
	Endpoint     string // http://127.0.0.1:port
	AccessKey    string
	SecretKey    string
	Region       string
	Bucket       string // MINIO_BUCKET
	AssetsBucket string // MINIO_BUCKET_ASSETS
	s            *procServer
}

// s3EmptySHA256 is the payload hash of a request without a body.
const s3EmptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// StartS3 starts versitygw as stack.sh does (posix backend, its own random
// keys) on a free loopback port and creates the buckets; it is stopped when
// the test ends. VERSITYGW (exported by stack.sh's env.sh) is its binary.
func StartS3(t testing.TB) *S3 {
	t.Helper()
	bin := procRequireBinary(t, Require(t, "VERSITYGW"))
	dir := t.TempDir()
	root := filepath.Join(dir, "s3")
	if err := os.MkdirAll(root, 0o700); err != nil {
		t.Fatal(err)
	}
	s3 := &S3{AccessKey: "FGTEST" + strings.ToUpper(s3RandomHex(8)), SecretKey: s3RandomHex(20), Region: "us-east-1",
		Bucket: "frostguard", AssetsBucket: "frostguard-assets"}
	s3.s = &procServer{t: t, name: "versitygw", bin: bin, log: filepath.Join(dir, "versitygw.log"),
		args: func(port int) []string {
			return []string{"--access", s3.AccessKey, "--secret", s3.SecretKey, "--port", "127.0.0.1:" + strconv.Itoa(port),
				"--quiet", "posix", root}
		},
		ready: s3Answers}
	procStart(s3.s)
	s3.Endpoint = "http://127.0.0.1:" + strconv.Itoa(s3.s.port)
	for _, b := range []string{s3.Bucket, s3.AssetsBucket} {
		if err := s3.makeBucket(b); err != nil {
			t.Fatalf("creating bucket %s: %v\n%s", b, err, s3.s.tail())
		}
	}
	return s3
}

// s3Answers: any HTTP answer (an anonymous GET / is refused) means the
// server is listening.
func s3Answers(ctx context.Context, port int) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+strconv.Itoa(port)+"/", nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	return nil
}

// makeBucket sends a signed PUT Bucket (as stack.sh's s3_make_bucket): a
// bare directory would lack the owner and ACL attributes the API writes.
func (s *S3) makeBucket(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, s.Endpoint+"/"+name, nil)
	if err != nil {
		return err
	}
	req.Header.Set("X-Amz-Content-Sha256", s3EmptySHA256)
	creds := aws.Credentials{AccessKeyID: s.AccessKey, SecretAccessKey: s.SecretKey}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, s3EmptySHA256, "s3", s.Region, time.Now()); err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	if res.StatusCode != http.StatusOK && !strings.Contains(string(body), "BucketAlreadyOwnedByYou") {
		return fmt.Errorf("HTTP %d: %s", res.StatusCode, body)
	}
	return nil
}

// Environment is the storage part of a function environment pointing at
// this server (the variables config.Storage reads).
func (s *S3) Environment() map[string]string {
	return map[string]string{
		"MINIO_ENDPOINT": s.Endpoint, "MINIO_ROOT_USER": s.AccessKey, "MINIO_ROOT_PASSWORD": s.SecretKey,
		"MINIO_BUCKET": s.Bucket, "MINIO_BUCKET_ASSETS": s.AssetsBucket, "S3_REGION": s.Region,
	}
}

// Stop stops the server: connections are refused until Start.
func (s *S3) Stop() { s.s.stop() }

// Start starts the stopped server again on the same port, with its data.
func (s *S3) Start() { s.s.start() }

// Freeze stops the process without closing its socket (SIGSTOP): requests
// connect, then hang. Thaw resumes it.
func (s *S3) Freeze() { s.s.signal(syscall.SIGSTOP) }

// Thaw resumes a frozen server.
func (s *S3) Thaw() { s.s.signal(syscall.SIGCONT) }

func s3RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
