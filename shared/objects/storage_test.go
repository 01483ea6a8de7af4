package objects_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/objects"
	"github.com/frostguard/functions/shared/testenv"
)

func s3Config(t *testing.T) config.Storage {
	return config.Storage{
		Endpoint:     testenv.Require(t, "MINIO_ENDPOINT"),
		AccessKey:    testenv.Require(t, "MINIO_ROOT_USER"),
		SecretKey:    testenv.Require(t, "MINIO_ROOT_PASSWORD"),
		AssetsBucket: testenv.Require(t, "MINIO_BUCKET_ASSETS"),
		Region:       "us-east-1",
	}
}

func randomKey() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "test/" + hex.EncodeToString(b) + ".png"
}

func do(t *testing.T, method, url string, h http.Header, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		if k != "Host" {
			req.Header[k] = v
		}
	}
	req.ContentLength = int64(len(body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func TestPresignedUploadAndDownloadAgainstASigningS3Server(t *testing.T) {
	cfg := s3Config(t)
	b := objects.Open(cfg, cfg.AssetsBucket)
	ctx := context.Background()
	key := randomKey()
	content := []byte("\x89PNG fake image bytes")

	put, err := b.PresignPut(ctx, key, "image/png", int64(len(content)), 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if status, body := do(t, put.Method, put.URL, put.Headers, content); status != 200 {
		t.Fatalf("upload: %d %s", status, body)
	}
	obj, err := b.Stat(ctx, key)
	if err != nil || obj.Size != int64(len(content)) {
		t.Fatalf("stat: %+v %v", obj, err)
	}

	get, err := b.PresignGet(ctx, key, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if status, body := do(t, http.MethodGet, get.URL, nil, nil); status != 200 || !bytes.Equal(body, content) {
		t.Fatalf("download: %d %q", status, body)
	}

	// A URL altered after signing is refused: another key, or a forged signature.
	other := strings.Replace(get.URL, key, randomKey(), 1)
	if status, _ := do(t, http.MethodGet, other, nil, nil); status != http.StatusForbidden {
		t.Errorf("tampered key: status %d, want 403", status)
	}
	forged := get.URL[:len(get.URL)-4] + "0000"
	if status, _ := do(t, http.MethodGet, forged, nil, nil); status != http.StatusForbidden {
		t.Errorf("forged signature: status %d, want 403", status)
	}

	if err := b.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Stat(ctx, key); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("after delete: %v", err)
	}
}

func TestWrongCredentialsAreRefused(t *testing.T) {
	cfg := s3Config(t)
	cfg.SecretKey = "not-the-secret"
	_, err := objects.Open(cfg, cfg.AssetsBucket).Stat(context.Background(), randomKey())
	if err == nil || apperr.CodeOf(err) == apperr.NotFound {
		t.Fatalf("a bad signature must not read as 'not found': %v", err)
	}
}

func TestUnreachableStorageIsUnavailable(t *testing.T) {
	cfg := config.Storage{Endpoint: "http://127.0.0.1:1", AccessKey: "a", SecretKey: "b", Region: "us-east-1"}
	_, err := objects.Open(cfg, "assets").Stat(context.Background(), "x")
	if apperr.CodeOf(err) != apperr.Unavailable {
		t.Fatalf("code %q: %v", apperr.CodeOf(err), err)
	}
}

func TestPutListAndDeletePrefixAgainstASigningS3Server(t *testing.T) {
	cfg := s3Config(t)
	b := objects.Open(cfg, cfg.AssetsBucket)
	ctx := context.Background()
	prefix := "test-" + randomKey() + "/"
	for i := 0; i < 3; i++ {
		body := strings.NewReader(fmt.Sprintf("object %d", i))
		if err := b.Put(ctx, fmt.Sprintf("%sdir/%d.txt", prefix, i), "text/plain", body, body.Size()); err != nil {
			t.Fatal(err)
		}
	}
	other := strings.NewReader("elsewhere")
	if err := b.Put(ctx, "other-"+prefix+"x.txt", "text/plain", other, other.Size()); err != nil {
		t.Fatal(err)
	}
	keys, err := b.List(ctx, prefix)
	if err != nil || len(keys) != 3 || !strings.HasPrefix(keys[0], prefix+"dir/") {
		t.Fatalf("List = %v, %v", keys, err)
	}
	if o, err := b.Stat(ctx, keys[1]); err != nil || o.Size != int64(len("object 1")) {
		t.Fatalf("Stat = %+v, %v", o, err)
	}
	n, err := b.DeletePrefix(ctx, prefix)
	if err != nil || n != 3 {
		t.Fatalf("DeletePrefix = %d, %v", n, err)
	}
	if keys, _ := b.List(ctx, prefix); len(keys) != 0 {
		t.Errorf("left behind: %v", keys)
	}
	if keys, _ := b.List(ctx, "other-"+prefix); len(keys) != 1 {
		t.Errorf("another prefix was touched: %v", keys)
	}
	_, _ = b.DeletePrefix(ctx, "other-"+prefix)
}
