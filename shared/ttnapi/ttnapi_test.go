package ttnapi

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/apperr"
)

func TestTTNSecretboxRoundTrip(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	a, err := Seal(key, []byte("NNSXS.KEY"), []byte("org-1"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Seal(key, []byte("NNSXS.KEY"), []byte("org-1"))
	if bytes.Equal(a, b) || bytes.Contains(a, []byte("NNSXS")) {
		t.Fatal("sealing must use a random nonce and hide the plaintext")
	}
	if got, err := Open(key, a, []byte("org-1")); err != nil || string(got) != "NNSXS.KEY" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	other := bytes.Repeat([]byte{8}, 32)
	for name, c := range map[string]struct {
		key, sealed, aad []byte
	}{
		"other key":   {other, a, []byte("org-1")},
		"other owner": {key, a, []byte("org-2")},
		"truncated":   {key, a[:10], []byte("org-1")},
		"tampered":    {key, append(append([]byte(nil), a[:len(a)-1]...), a[len(a)-1]^1), []byte("org-1")},
	} {
		if _, err := Open(c.key, c.sealed, c.aad); err != ErrOpen {
			t.Errorf("%s: %v, want ErrOpen", name, err)
		}
	}
	if _, err := Seal([]byte("short"), nil, nil); err == nil {
		t.Error("a short key must be refused")
	}
}

func TestTTNMissingRights(t *testing.T) {
	want := []string{"A", "B", "C"}
	if m := MissingRights([]string{"A", "C"}, want); len(m) != 1 || m[0] != "B" {
		t.Errorf("missing %v", m)
	}
	if m := MissingRights([]string{"RIGHT_APPLICATION_ALL"}, want); m != nil {
		t.Errorf("ALL grants everything, missing %v", m)
	}
}

func TestTTNErrorMapping(t *testing.T) {
	var status int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer k" {
			t.Errorf("auth header %q", r.Header.Get("Authorization"))
		}
		if status == 0 {
			time.Sleep(200 * time.Millisecond)
			return
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"code":3,"message":"error:pkg/x:bad (bad thing)"}`))
	}))
	defer srv.Close()
	c := &Client{Base: srv.URL, APIKey: "k", HTTP: &http.Client{Timeout: 50 * time.Millisecond}}
	for _, tc := range []struct {
		status int
		want   apperr.Code
	}{
		{400, apperr.Invalid}, {401, apperr.BadGateway}, {403, apperr.BadGateway}, {404, apperr.NotFound},
		{409, apperr.Conflict}, {429, apperr.BadGateway}, {500, apperr.BadGateway}, {503, apperr.BadGateway},
		{0, apperr.BadGateway}, // timeout
	} {
		status = tc.status
		_, err := c.Rights(context.Background(), "app")
		if got := apperr.CodeOf(err); got != tc.want {
			t.Errorf("TTN %d: %s, want %s (%v)", tc.status, got, tc.want, err)
		}
		if tc.status == 400 && !bytes.Contains([]byte(apperr.From(err).Message), []byte("bad thing")) {
			t.Errorf("TTN's message is lost: %v", err)
		}
		if tc.status != 0 && !HasStatus(err, tc.status) {
			t.Errorf("TTN %d: HasStatus false", tc.status)
		}
	}
	// Deletes of what TTN does not know succeed; the 404 is "gone".
	status = 404
	if err := c.DeleteStep(context.Background(), StepNS, "app", "dev"); err != nil {
		t.Errorf("delete 404: %v", err)
	}
	if st, err := c.GatewayStats(context.Background(), "gw"); err != nil || st.Connected {
		t.Errorf("stats of a disconnected gateway: %+v, %v", st, err)
	}
}
