// Package ttnapi is a small client of The Things Stack's HTTP API
// (/api/v3): API key rights, application webhooks, end device registration
// across the Identity, Join, Network and Application Servers, and gateway
// connection statistics. Every error it returns is an *apperr.Error whose
// cause is a *StatusError when TTN answered.
package ttnapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/tracing"
)

// Client calls one The Things Stack deployment with one API key.
type Client struct {
	// Base is the cluster's address (https://eu1.cloud.thethings.network):
	// Join, Network, Application and Gateway Servers.
	Base string
	// IdentityBase is the Identity Server's address; "" means Base.
	IdentityBase string
	APIKey       string
	// HTTP is the client (its Timeout bounds each call); nil uses a client
	// with a 10 s timeout.
	HTTP *http.Client
}

var defaultHTTP = tracing.Client(10 * time.Second)

// StatusError is TTN's answer to a failed call.
type StatusError struct {
	Method, Path string
	Status       int
	// Message is TTN's own message ("error:pkg/...:not_found (...)").
	Message string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("The Things Stack %s %s: %d %s", e.Method, e.Path, e.Status, e.Message)
}

// HasStatus reports whether err is TTN answering status.
func HasStatus(err error, status int) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Status == status
}

// refusedKey is the caller-safe text for a key TTN refuses: it is our
// upstream credential, not the caller's, so it is a 502, not a 401.
const refusedKey = "The Things Stack refused the API key: check that it is valid, not expired, and has the rights of this application"

// classify turns a TTN answer into the error the api returns.
func classify(se *StatusError) error {
	msg := se.Message
	if msg == "" {
		msg = http.StatusText(se.Status)
	}
	switch {
	case se.Status == http.StatusUnauthorized || se.Status == http.StatusForbidden:
		return apperr.Wrap(apperr.BadGateway, se, refusedKey)
	case se.Status == http.StatusConflict:
		return apperr.Wrap(apperr.Conflict, se, "The Things Stack: %s", msg)
	case se.Status == http.StatusNotFound:
		return apperr.Wrap(apperr.NotFound, se, "The Things Stack: %s", msg)
	case se.Status >= 400 && se.Status < 500 && se.Status != http.StatusTooManyRequests:
		return apperr.Wrap(apperr.Invalid, se, "The Things Stack rejected the request: %s", msg)
	default:
		return apperr.Wrap(apperr.BadGateway, se, "The Things Stack failed (HTTP %d), retry later", se.Status)
	}
}

// ttnError is TTN's error body (a google.rpc.Status).
type ttnError struct {
	Message string `json:"message"`
}

// url is the address of path on the Identity Server (identity) or the cluster.
func (c *Client) url(identity bool, path string) string {
	base := c.Base
	if identity && c.IdentityBase != "" {
		base = c.IdentityBase
	}
	return strings.TrimRight(base, "/") + "/api/v3" + path
}

// do sends body (JSON, nil for none) and decodes a 2xx answer into out (nil:
// discard).
func (c *Client) do(ctx context.Context, method string, identity bool, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return apperr.Wrap(apperr.Internal, err, "encoding a The Things Stack request")
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url(identity, path), rd)
	if err != nil {
		return apperr.Wrap(apperr.Internal, err, "building a The Things Stack request")
	}
	req.Header.Set("Authorization", "Bearer "+c.APIKey)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		// The URL holds no secret, but the key is in a header: never log req.
		return apperr.Wrap(apperr.BadGateway, fmt.Errorf("%s %s: %w", method, path, err),
			"The Things Stack did not answer, retry later")
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return apperr.Wrap(apperr.BadGateway, err, "The Things Stack's answer was cut off, retry later")
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var te ttnError
		_ = json.Unmarshal(raw, &te)
		return classify(&StatusError{Method: method, Path: path, Status: resp.StatusCode, Message: te.Message})
	}
	if out == nil || len(raw) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return apperr.Wrap(apperr.BadGateway, err, "The Things Stack answered something unexpected")
	}
	return nil
}

func esc(s string) string { return url.PathEscape(s) }

// fieldMask is TTN's google.protobuf.FieldMask in JSON.
type fieldMask struct {
	Paths []string `json:"paths"`
}

// applicationIDs is ttnpb.ApplicationIdentifiers.
type applicationIDs struct {
	ApplicationID string `json:"application_id"`
}

// Rights returns the rights the client's API key has on the application.
func (c *Client) Rights(ctx context.Context, appID string) ([]string, error) {
	var out struct {
		Rights []string `json:"rights"`
	}
	err := c.do(ctx, http.MethodGet, true, "/applications/"+esc(appID)+"/rights", nil, &out)
	return out.Rights, err
}

// MissingRights returns the rights of want that have does not grant
// (RIGHT_APPLICATION_ALL grants every application right).
func MissingRights(have, want []string) []string {
	set := map[string]bool{}
	for _, r := range have {
		set[r] = true
	}
	if set["RIGHT_APPLICATION_ALL"] || set["RIGHT_ALL"] {
		return nil
	}
	var missing []string
	for _, r := range want {
		if !set[r] {
			missing = append(missing, r)
		}
	}
	return missing
}

// Webhook is what SetWebhook configures.
type Webhook struct {
	BaseURL string
	Headers map[string]string
	// UplinkPath and JoinPath are appended to BaseURL for uplinks and
	// join-accepts; both message types are enabled even when "".
	UplinkPath string
	JoinPath   string
}

// WebhookFieldMask is the field mask SetWebhook sends: exactly the fields we
// own, so anything else an operator set (e.g. downlink settings) survives.
var WebhookFieldMask = []string{"base_url", "format", "headers", "join_accept", "uplink_message"}

type messagePath struct {
	Path string `json:"path"`
}

type webhookBody struct {
	Webhook struct {
		IDs struct {
			ApplicationIDs applicationIDs `json:"application_ids"`
			WebhookID      string         `json:"webhook_id"`
		} `json:"ids"`
		BaseURL       string            `json:"base_url"`
		Format        string            `json:"format"`
		Headers       map[string]string `json:"headers"`
		UplinkMessage *messagePath      `json:"uplink_message"`
		JoinAccept    *messagePath      `json:"join_accept"`
	} `json:"webhook"`
	FieldMask fieldMask `json:"field_mask"`
}

// SetWebhook creates or updates (PUT: idempotent) the application's webhook
// on the Application Server.
func (c *Client) SetWebhook(ctx context.Context, appID, webhookID string, w Webhook) error {
	var b webhookBody
	b.Webhook.IDs.ApplicationIDs.ApplicationID = appID
	b.Webhook.IDs.WebhookID = webhookID
	b.Webhook.BaseURL = w.BaseURL
	b.Webhook.Format = "json"
	b.Webhook.Headers = w.Headers
	b.Webhook.UplinkMessage = &messagePath{Path: w.UplinkPath}
	b.Webhook.JoinAccept = &messagePath{Path: w.JoinPath}
	b.FieldMask.Paths = WebhookFieldMask
	return c.do(ctx, http.MethodPut, false, "/as/webhooks/"+esc(appID)+"/"+esc(webhookID), b, nil)
}

// DeleteWebhook removes the webhook; one that does not exist counts as removed.
func (c *Client) DeleteWebhook(ctx context.Context, appID, webhookID string) error {
	err := c.do(ctx, http.MethodDelete, false, "/as/webhooks/"+esc(appID)+"/"+esc(webhookID), nil, nil)
	if HasStatus(err, http.StatusNotFound) {
		return nil
	}
	return err
}

// GatewayStats is the Gateway Server's connection statistics of a gateway.
type GatewayStats struct {
	ConnectedAt          *time.Time `json:"connected_at"`
	DisconnectedAt       *time.Time `json:"disconnected_at"`
	Protocol             string     `json:"protocol"`
	LastStatusReceivedAt *time.Time `json:"last_status_received_at"`
	LastUplinkReceivedAt *time.Time `json:"last_uplink_received_at"`
	// Connected is false when the Gateway Server does not know the gateway
	// as connected (TTN answers 404 "not connected").
	Connected bool `json:"-"`
}

// GatewayStats returns the gateway's connection statistics.
func (c *Client) GatewayStats(ctx context.Context, gatewayID string) (GatewayStats, error) {
	var st GatewayStats
	err := c.do(ctx, http.MethodGet, false, "/gs/gateways/"+esc(gatewayID)+"/connection/stats", nil, &st)
	if HasStatus(err, http.StatusNotFound) {
		return GatewayStats{}, nil
	}
	if err != nil {
		return st, err
	}
	st.Connected = st.ConnectedAt != nil && (st.DisconnectedAt == nil || st.DisconnectedAt.Before(*st.ConnectedAt))
	return st, nil
}
