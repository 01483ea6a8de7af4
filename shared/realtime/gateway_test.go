package realtime

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// fakeManagementAPI plays API Gateway's management API for one stage: it
// recomputes each request's SigV4 signature (execute-api, the region, the
// secret it shares with the caller) and refuses what does not verify with
// 403, answers 410 GoneException for connections it does not hold, and
// records what it accepted.
type fakeManagementAPI struct {
	t      *testing.T
	stage  string
	region string
	creds  aws.Credentials
	open   map[string]bool
	mu     sync.Mutex
	posted map[string][]string
}

func (f *fakeManagementAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := f.verify(r, body); err != nil {
		f.t.Logf("refused: %v", err)
		managementAnswer(w, http.StatusForbidden, "ForbiddenException")
		return
	}
	prefix := "/" + f.stage + "/@connections/"
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, prefix) {
		managementAnswer(w, http.StatusNotFound, "NotFoundException")
		return
	}
	id := strings.TrimPrefix(r.URL.Path, prefix)
	if !f.open[id] {
		managementAnswer(w, http.StatusGone, "GoneException")
		return
	}
	f.mu.Lock()
	f.posted[id] = append(f.posted[id], string(body))
	f.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func managementAnswer(w http.ResponseWriter, status int, typ string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"message":"`+typ+`"}`)
}

// verify re-signs the request as received (its signed headers, its time,
// its body) and compares the signatures.
func (f *fakeManagementAPI) verify(r *http.Request, body []byte) error {
	authz := r.Header.Get("Authorization")
	scope := "/" + f.region + "/execute-api/aws4_request"
	if !strings.HasPrefix(authz, "AWS4-HMAC-SHA256 Credential="+f.creds.AccessKeyID+"/") || !strings.Contains(authz, scope) {
		return errors.New("not a SigV4 signature for execute-api in " + f.region + ": " + authz)
	}
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return errors.New("no X-Amz-Date")
	}
	_, signed, _ := strings.Cut(authz, "SignedHeaders=")
	signed, _, _ = strings.Cut(signed, ",")
	again, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.EscapedPath(), bytes.NewReader(body))
	for _, h := range strings.Split(signed, ";") {
		if h != "host" {
			again.Header.Set(h, r.Header.Get(h))
		}
	}
	again.Header.Del("Authorization")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), f.creds, again, hex.EncodeToString(sum[:]), "execute-api", f.region, at); err != nil {
		return err
	}
	if again.Header.Get("Authorization") != authz {
		return errors.New("the signature does not verify")
	}
	return nil
}

func TestGatewayPostsSignedAndReportsGone(t *testing.T) {
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAFROSTGUARDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret-for-the-test")
	t.Setenv("AWS_SESSION_TOKEN", "session-token")
	fake := &fakeManagementAPI{t: t, stage: "prod", region: "eu-west-1",
		creds: aws.Credentials{AccessKeyID: "AKIAFROSTGUARDTEST", SecretAccessKey: "secret-for-the-test", SessionToken: "session-token"},
		open:  map[string]bool{"L0SM9cOFvHcCIhw=": true}, posted: map[string][]string{}}
	srv := httptest.NewServer(fake)
	defer srv.Close()

	g := NewGateway(srv.URL + "/prod")
	ctx := context.Background()
	if err := g.PostToConnection(ctx, "L0SM9cOFvHcCIhw=", []byte(`{"type":"alert:triggered"}`)); err != nil {
		t.Fatalf("post: %v", err)
	}
	if got := fake.posted["L0SM9cOFvHcCIhw="]; len(got) != 1 || got[0] != `{"type":"alert:triggered"}` {
		t.Fatalf("delivered %q", got)
	}
	if err := g.PostToConnection(ctx, "Gone0000000000=", []byte(`{}`)); !errors.Is(err, ErrGone) {
		t.Fatalf("a closed connection: %v, want ErrGone", err)
	}

	// Signed with another secret: the fake refuses it, and that is an
	// error, not a gone connection (the row must stay).
	t.Setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
	if err := NewGateway(srv.URL+"/prod").PostToConnection(ctx, "L0SM9cOFvHcCIhw=", []byte(`{}`)); err == nil || errors.Is(err, ErrGone) {
		t.Fatalf("a bad signature: %v", err)
	}
}
