package objects

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"github.com/frostguard/functions/shared/tracing"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// The bucket's layout: an organisation's uploads under <org>/, and the files
// FrostGuard generates under a prefix per kind (each with its lifecycle rule
// in template.yaml, or none), then the organisation.
const (
	ReportsPrefix = "reports/" // rendered reports, expire after a day
	ExportsPrefix = "exports/" // organisation exports, expire after a week
	ArchivePrefix = "archive/" // readings past retention, kept
)

// OrgPrefixes are every prefix holding an organisation's objects.
func OrgPrefixes(orgID string) []string {
	return []string{orgID + "/", ReportsPrefix + orgID + "/", ExportsPrefix + orgID + "/", ArchivePrefix + orgID + "/"}
}

// uploadClient carries uploads of generated files (exports, archives):
// bounded by the caller's context, not by callTimeout.
var uploadClient = tracing.Client(0)

// Put stores body (size bytes, read from the start) at key. The payload is
// hashed first so that the signature covers it, as S3 verifies.
func (b *Bucket) Put(ctx context.Context, key, contentType string, body io.ReadSeeker, size int64) error {
	creds, err := b.credentials()
	if err != nil {
		return err
	}
	u, err := b.objectURL(key)
	if err != nil {
		return err
	}
	h := sha256.New()
	if _, err := body.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if _, err := io.Copy(h, body); err != nil {
		return err
	}
	if _, err := body.Seek(0, io.SeekStart); err != nil {
		return err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u.String(), io.NopCloser(body))
	if err != nil {
		return err
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Amz-Content-Sha256", sum)
	if err := b.signer.SignHTTP(ctx, creds, req, sum, "s3", b.region, time.Now()); err != nil {
		return err
	}
	res, err := uploadClient.Do(req)
	if err != nil {
		return classifyTransport(err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return classifyStatus(res.StatusCode)
}

// List returns the keys under prefix (ListObjectsV2, every page).
func (b *Bucket) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	token := ""
	for {
		page, next, err := b.listPage(ctx, prefix, token)
		if err != nil {
			return keys, err
		}
		keys = append(keys, page...)
		if next == "" {
			return keys, nil
		}
		token = next
	}
}

type listResult struct {
	Contents []struct {
		Key string `xml:"Key"`
	} `xml:"Contents"`
	IsTruncated           bool   `xml:"IsTruncated"`
	NextContinuationToken string `xml:"NextContinuationToken"`
}

func (b *Bucket) listPage(ctx context.Context, prefix, token string) ([]string, string, error) {
	creds, err := b.credentials()
	if err != nil {
		return nil, "", err
	}
	if b.base == nil {
		return nil, "", fmt.Errorf("file storage is not configured correctly")
	}
	u := *b.base
	if u.Path == "" {
		u.Path = "/"
	}
	q := url.Values{"list-type": {"2"}, "prefix": {prefix}, "max-keys": {strconv.Itoa(1000)}}
	if token != "" {
		q.Set("continuation-token", token)
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	if err := b.signer.SignHTTP(ctx, creds, req, emptySHA256, "s3", b.region, time.Now()); err != nil {
		return nil, "", err
	}
	res, err := b.client.Do(req)
	if err != nil {
		return nil, "", classifyTransport(err)
	}
	defer res.Body.Close()
	if err := classifyStatus(res.StatusCode); err != nil {
		return nil, "", err
	}
	var r listResult
	if err := xml.NewDecoder(io.LimitReader(res.Body, 16<<20)).Decode(&r); err != nil {
		return nil, "", fmt.Errorf("listing %q: %w", prefix, err)
	}
	keys := make([]string, 0, len(r.Contents))
	for _, c := range r.Contents {
		keys = append(keys, c.Key)
	}
	if !r.IsTruncated {
		return keys, "", nil
	}
	return keys, r.NextContinuationToken, nil
}

// DeletePrefix removes every object under prefix and returns how many.
func (b *Bucket) DeletePrefix(ctx context.Context, prefix string) (int, error) {
	keys, err := b.List(ctx, prefix)
	if err != nil {
		return 0, err
	}
	for i, k := range keys {
		if err := b.Delete(ctx, k); err != nil {
			return i, err
		}
	}
	return len(keys), nil
}
