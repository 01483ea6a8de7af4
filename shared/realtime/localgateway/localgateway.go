// Package localgateway plays API Gateway's WebSocket API on the one-port
// local server (`make dev`, the tests): the WebSocket endpoint that invokes
// the realtime function, and the management API the publishers post to.
// Only the local server and the realtime function's local main import it.
package localgateway

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/coder/websocket"

	"github.com/frostguard/functions/shared/catalog"
	"github.com/frostguard/functions/shared/realtime"
)

// Handler is the realtime function's Lambda handler (Socket.Handle).
type Handler func(context.Context, events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error)

// writeTimeout bounds writing one message to a local connection.
const writeTimeout = 2 * time.Second

// Local plays API Gateway's WebSocket API on the one-port local server:
// it accepts WebSocket connections (coder/websocket), invokes the realtime
// function with the events API Gateway would send ($connect with the query
// and headers, one per message routed by its "action", $disconnect), and
// serves the management API's PostToConnection and DeleteConnection so that
// publishers use the same Gateway client as in AWS.
type Local struct {
	handler Handler
	mu      sync.Mutex
	conns   map[string]*websocket.Conn
}

// NewLocal serves h.
func NewLocal(h Handler) *Local {
	return &Local{handler: h, conns: map[string]*websocket.Conn{}}
}

// ServeWebSocket is GET /ws.
func (l *Local) ServeWebSocket(w http.ResponseWriter, r *http.Request) {
	id := newConnectionID()
	query := map[string]string{}
	for k, v := range r.URL.Query() {
		query[k] = v[0]
	}
	headers := map[string]string{}
	for k, v := range r.Header {
		headers[k] = strings.Join(v, ", ")
	}
	ctx := r.Context()
	res, err := l.handler(ctx, l.event(id, realtime.RouteConnect, "CONNECT", "", query, headers))
	if err != nil || res.StatusCode != http.StatusOK {
		status := res.StatusCode
		if err != nil || status == 0 {
			status = http.StatusInternalServerError
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(res.Body))
		return
	}
	opts := &websocket.AcceptOptions{
		// Clients authenticate with a token, never a cookie, so a page of
		// another origin gains nothing; the SPA's dev server is another
		// origin (localhost:5173).
		InsecureSkipVerify: true,
	}
	if p := res.Headers["Sec-WebSocket-Protocol"]; p != "" {
		opts.Subprotocols = []string{p}
	}
	c, err := websocket.Accept(w, r, opts)
	if err != nil {
		_, _ = l.handler(context.WithoutCancel(ctx), l.event(id, realtime.RouteDisconnect, "DISCONNECT", "", nil, nil))
		return
	}
	c.SetReadLimit(realtime.MaxActionBytes * 4)
	l.mu.Lock()
	l.conns[id] = c
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		delete(l.conns, id)
		l.mu.Unlock()
		_, _ = l.handler(context.WithoutCancel(ctx), l.event(id, realtime.RouteDisconnect, "DISCONNECT", "", nil, nil))
		_ = c.CloseNow()
	}()
	for {
		typ, body, err := c.Read(ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			continue
		}
		res, err := l.handler(ctx, l.event(id, routeOf(body), "MESSAGE", string(body), nil, nil))
		if err != nil {
			slog.ErrorContext(ctx, "realtime function failed", "err", err)
			continue
		}
		if res.Body != "" {
			if err := c.Write(ctx, websocket.MessageText, []byte(res.Body)); err != nil {
				return
			}
		}
	}
}

// routeOf is API Gateway's route selection ($request.body.action).
func routeOf(body []byte) string {
	var m struct {
		Action string `json:"action"`
	}
	if json.Unmarshal(body, &m) == nil && (m.Action == realtime.Subscribe || m.Action == realtime.Unsubscribe) {
		return m.Action
	}
	return realtime.RouteDefault
}

func (l *Local) event(id, route, kind, body string, query, headers map[string]string) events.APIGatewayWebsocketProxyRequest {
	return events.APIGatewayWebsocketProxyRequest{
		QueryStringParameters: query, Headers: headers, Body: body,
		RequestContext: events.APIGatewayWebsocketProxyRequestContext{
			ConnectionID: id, RouteKey: route, EventType: kind, Stage: "local",
			RequestID: newConnectionID(), ConnectedAt: time.Now().UnixMilli(),
		},
	}
}

// newConnectionID is random, shaped like API Gateway's ("L0SM9cOFvHcCIhw=").
func newConnectionID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// ServeManagement is the management API under /_realtime:
// POST /@connections/{connectionId} (PostToConnection) and DELETE (close).
// Like API Gateway it refuses unsigned calls (403) and answers 410
// GoneException for a connection that is not open.
func (l *Local) ServeManagement(w http.ResponseWriter, r *http.Request) {
	if !SignedForExecuteAPI(r) {
		managementError(w, http.StatusForbidden, "ForbiddenException", "missing or malformed SigV4 signature for execute-api")
		return
	}
	id := r.PathValue("connectionId")
	l.mu.Lock()
	c := l.conns[id]
	l.mu.Unlock()
	if c == nil {
		managementError(w, http.StatusGone, "GoneException", "connection is gone")
		return
	}
	switch r.Method {
	case http.MethodPost:
		data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 128<<10)) // API Gateway's frame limit
		if err != nil {
			managementError(w, http.StatusRequestEntityTooLarge, "PayloadTooLargeException", "message too large")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), writeTimeout)
		defer cancel()
		if err := c.Write(ctx, websocket.MessageText, data); err != nil {
			managementError(w, http.StatusGone, "GoneException", "connection is gone")
			return
		}
		w.WriteHeader(http.StatusOK)
	case http.MethodDelete:
		_ = c.Close(websocket.StatusNormalClosure, "closed by the server")
		w.WriteHeader(http.StatusNoContent)
	default:
		managementError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "method not allowed")
	}
}

// SignedForExecuteAPI reports whether r carries a SigV4 signature for the
// execute-api service, as the management API requires (the local server
// cannot know the secret; the shape is what a forgotten signer breaks).
func SignedForExecuteAPI(r *http.Request) bool {
	a := r.Header.Get("Authorization")
	return strings.HasPrefix(a, "AWS4-HMAC-SHA256 Credential=") && strings.Contains(a, "/execute-api/aws4_request") &&
		strings.Contains(a, "SignedHeaders=") && strings.Contains(a, "Signature=") && r.Header.Get("X-Amz-Date") != ""
}

func managementError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

// Mux serves the WebSocket endpoint and the management API at the
// paths the one-port local server uses.
func Mux(h Handler) http.Handler {
	l := NewLocal(h)
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+catalog.LocalWebSocketPath, l.ServeWebSocket)
	mux.HandleFunc(catalog.LocalManagementPath+"/@connections/{connectionId}", l.ServeManagement)
	return mux
}
