package realtime

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/auth"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
)

// Route keys of the WebSocket API (catalog.Realtime's).
const (
	RouteConnect    = "$connect"
	RouteDisconnect = "$disconnect"
	RouteDefault    = "$default"
)

// MaxConnection is API Gateway's limit on a WebSocket connection's life.
const MaxConnection = 2 * time.Hour

// Socket is the realtime function: API Gateway invokes it for each
// connection's handshake ($connect), its end ($disconnect) and each of its
// messages (subscribe, unsubscribe, $default). The local server invokes it
// with the same events.
type Socket struct {
	DB       *store.DB
	Verifier *auth.Verifier
	Now      func() time.Time
}

// Reply is the function's answer to a message, sent back to the client.
type Reply struct {
	Type  string        `json:"type"` // subscriptions, error
	Data  *Subscription `json:"data,omitempty"`
	Error *ReplyError   `json:"error,omitempty"`
}

// Subscription is what a connection receives after an action.
type Subscription struct {
	OrganizationID    string   `json:"organization_id"`
	WholeOrganization bool     `json:"whole_organization"`
	SiteIDs           []string `json:"site_ids"`
	UnitIDs           []string `json:"unit_ids"`
}

// ReplyError is a refused message: the REST api's error codes.
type ReplyError struct {
	Code    apperr.Code `json:"code"`
	Message string      `json:"message"`
}

// Handle is the Lambda handler.
func (s *Socket) Handle(ctx context.Context, req events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
	id := req.RequestContext.ConnectionID
	switch req.RequestContext.RouteKey {
	case RouteConnect:
		protocol, err := s.connect(ctx, id, req.QueryStringParameters, header(req.Headers, "Sec-WebSocket-Protocol"))
		if err != nil {
			return refuse(ctx, err), nil
		}
		res := events.APIGatewayProxyResponse{StatusCode: http.StatusOK}
		if protocol != "" {
			// A browser drops a connection whose handshake does not select
			// one of the protocols it offered.
			res.Headers = map[string]string{"Sec-WebSocket-Protocol": protocol}
		}
		return res, nil
	case RouteDisconnect:
		if err := s.DB.DeleteRealtimeConnections(ctx, id); err != nil {
			slog.WarnContext(ctx, "forgetting a live connection failed; it expires", "err", err)
		}
		return events.APIGatewayProxyResponse{StatusCode: http.StatusOK}, nil
	default:
		r, err := s.message(ctx, id, []byte(req.Body))
		return reply(ctx, r, err), nil
	}
}

func header(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func refuse(ctx context.Context, err error) events.APIGatewayProxyResponse {
	e := apperr.From(err)
	if e.Code == apperr.Internal {
		slog.ErrorContext(ctx, "live connection refused by an internal error", "err", err)
	}
	body, _ := json.Marshal(map[string]any{"error": ReplyError{Code: e.Code, Message: e.Message}})
	return events.APIGatewayProxyResponse{StatusCode: e.Code.HTTPStatus(), Body: string(body),
		Headers: map[string]string{"Content-Type": "application/json"}}
}

// TokenProtocol splits a Sec-WebSocket-Protocol offer into the token (the
// value that is a JWT) and the protocol to select in the answer: the other
// offered value when there is one ("frostguard", token), else the token.
func TokenProtocol(offer string) (token, protocol string) {
	var others []string
	for _, p := range strings.Split(offer, ",") {
		p = strings.TrimSpace(p)
		switch {
		case p == "":
		case token == "" && strings.Count(p, ".") == 2:
			token = p
		default:
			others = append(others, p)
		}
	}
	switch {
	case token == "":
		return "", ""
	case len(others) > 0:
		return token, others[0]
	default:
		return token, token
	}
}

// connect admits a connection: a valid token of an active member of the
// organisation it names (401 without a valid token, 403 for a non-member,
// the same answer whether or not the organisation exists).
func (s *Socket) connect(ctx context.Context, id string, query map[string]string, offer string) (protocol string, err error) {
	token := strings.TrimSpace(query["token"])
	if token == "" {
		token, protocol = TokenProtocol(offer)
	}
	if token == "" {
		return "", auth.ErrUnauthenticated
	}
	orgID := query["organization_id"]
	if !domain.IsUUID(orgID) {
		return "", apperr.New(apperr.Invalid, "organization_id must be the UUID of an organisation")
	}
	claims, err := s.Verifier.Verify(ctx, token)
	if err != nil {
		return "", err
	}
	u, err := s.DB.EnsureUser(ctx, claims.Subject, claims.Email, claims.Name)
	if err != nil {
		return "", err
	}
	if _, err := s.role(ctx, orgID, u.ID); err != nil {
		return "", err
	}
	expires := s.now().Add(MaxConnection)
	if !claims.ExpiresAt.IsZero() && claims.ExpiresAt.Before(expires) {
		expires = claims.ExpiresAt
	}
	if err := s.DB.SaveRealtimeConnection(ctx, store.RealtimeConnection{ID: id, UserID: u.ID, OrgID: orgID, ExpiresAt: expires}); err != nil {
		return "", err
	}
	return protocol, nil
}

// role is the user's role in the organisation if it may watch it live
// (the role matrix's ReadOrganization), else Forbidden.
func (s *Socket) role(ctx context.Context, orgID, userID string) (access.Role, error) {
	role, err := s.DB.RoleIn(ctx, orgID, userID)
	if apperr.CodeOf(err) == apperr.NotFound {
		return "", apperr.New(apperr.Forbidden, "not a member of this organization")
	}
	if err != nil {
		return "", err
	}
	if !access.Can(role, access.ReadOrganization) {
		return "", apperr.New(apperr.Forbidden, "this role may not watch the organization")
	}
	return role, nil
}

// message applies a subscribe or unsubscribe action. The membership is
// checked again (it may have ended since the handshake), and a site or unit
// must be the organisation's: another organisation's id is not found.
func (s *Socket) message(ctx context.Context, id string, body []byte) (Reply, error) {
	a, err := ParseAction(body)
	if err != nil {
		return Reply{}, apperr.Wrap(apperr.Invalid, err, "%v", err)
	}
	c, err := s.DB.RealtimeConnection(ctx, id)
	if err != nil {
		return Reply{}, err
	}
	if _, err := s.role(ctx, c.OrgID, c.UserID); err != nil {
		return Reply{}, err
	}
	if target, entity := a.SiteID+a.UnitID, entityOf(a); target != "" {
		ok, err := s.DB.InOrganization(ctx, c.OrgID, target, entity)
		if err != nil {
			return Reply{}, err
		}
		if !ok {
			return Reply{}, apperr.New(apperr.NotFound, "%s not found", entity)
		}
	}
	c = apply(c, a)
	if err := s.DB.SetRealtimeSubscriptions(ctx, c); err != nil {
		return Reply{}, err
	}
	return Reply{Type: "subscriptions", Data: &Subscription{OrganizationID: c.OrgID, WholeOrganization: c.WholeOrganization,
		SiteIDs: nonNil(c.SiteIDs), UnitIDs: nonNil(c.UnitIDs)}}, nil
}

func entityOf(a Action) string {
	if a.SiteID != "" {
		return store.EntitySite
	}
	return store.EntityUnit
}

// apply is an action's effect on what a connection watches (pure).
func apply(c store.RealtimeConnection, a Action) store.RealtimeConnection {
	edit := func(ids []string, id string) []string {
		ids = slices.DeleteFunc(slices.Clone(ids), func(x string) bool { return x == id })
		if a.Action == Subscribe {
			ids = append(ids, id)
		}
		return ids
	}
	switch {
	case a.SiteID != "":
		c.SiteIDs = edit(c.SiteIDs, a.SiteID)
	case a.UnitID != "":
		c.UnitIDs = edit(c.UnitIDs, a.UnitID)
	default:
		c.WholeOrganization = a.Action == Subscribe
		return c
	}
	if a.Action == Subscribe {
		c.WholeOrganization = false // naming a site or unit narrows
	}
	return c
}

func nonNil(ids []string) []string {
	if ids == nil {
		return []string{}
	}
	return ids
}

func reply(ctx context.Context, r Reply, err error) events.APIGatewayProxyResponse {
	if err != nil {
		e := apperr.From(err)
		if e.Code == apperr.Internal {
			slog.ErrorContext(ctx, "live action failed", "err", err)
		}
		r = Reply{Type: "error", Error: &ReplyError{Code: e.Code, Message: e.Message}}
	}
	body, _ := json.Marshal(r)
	return events.APIGatewayProxyResponse{StatusCode: http.StatusOK, Body: string(body)}
}

func (s *Socket) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
