package notify

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/testenv"
)

// TestTelnyxCallsErrors: a dial Telnyx refuses (422) fails for good, a 5xx
// is retried, a dial written but never answered is ambiguous (never placed
// twice); commands on an ended call are errors the flow logs.
func TestTelnyxCallsErrors(t *testing.T) {
	fake := testenv.NewTelnyxCalls(t, "KEY")
	c := NewTelnyxCalls(TelnyxCallsConfig{APIKey: "KEY", BaseURL: fake.URL, From: "+18445550001", ConnectionID: "cc"},
		&http.Client{Timeout: time.Second})
	ctx := context.Background()
	d := Dial{To: "+15555550123", ClientState: CallState{Org: "0b5c9f6e-5a7c-4c1e-9d55-1f3f6a0b7a11",
		Notification: "5d1f0c2e-8a7b-4b1c-9e3d-2a4b6c8d0e1f"}.Encode(), CommandID: "5d1f0c2e-8a7b-4b1c-9e3d-2a4b6c8d0e1f"}

	fake.FailNextDial(http.StatusUnprocessableEntity)
	var se *SendError
	if _, err := c.Dial(ctx, d); !errors.As(err, &se) || se.Retryable || se.Status != 422 || se.Code != "90018" {
		t.Fatalf("422: %#v", err)
	}
	fake.FailNextDial(http.StatusServiceUnavailable)
	if _, err := c.Dial(ctx, d); !errors.As(err, &se) || !se.Retryable {
		t.Fatalf("503: %#v", err)
	}
	id, err := c.Dial(ctx, d)
	if err != nil || id == "" {
		t.Fatalf("dial: %q %v", id, err)
	}
	if err := c.Gather(ctx, id, Speech{Text: "the alarm", ClientState: d.ClientState, CommandID: "e1:gather"}); err != nil {
		t.Fatal(err)
	}
	fake.EndCall(id)
	if err := c.Speak(ctx, id, Speech{Text: "goodbye"}); !errors.As(err, &se) || se.Status != 422 {
		t.Fatalf("speak on an ended call: %#v", err)
	}
	if err := c.Hangup(ctx, "v3:never-placed", "", ""); !errors.As(err, &se) || se.Status != 404 {
		t.Fatalf("hangup of an unknown call: %#v", err)
	}

	// The request reached Telnyx, the answer never came.
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
	}))
	defer hang.Close()
	slow := NewTelnyxCalls(TelnyxCallsConfig{APIKey: "KEY", BaseURL: hang.URL, From: "+18445550001", ConnectionID: "cc"},
		&http.Client{Timeout: 100 * time.Millisecond})
	if _, err := slow.Dial(ctx, d); !errors.As(err, &se) || !se.Ambiguous || se.Retryable {
		t.Fatalf("timeout after the write: %#v", err)
	}
	if r := fake.Refused(); len(r) != 4 {
		t.Fatalf("refusals %v", r)
	}
}
