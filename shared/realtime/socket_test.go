package realtime_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/frostguard/functions/shared/auth"
	"github.com/frostguard/functions/shared/devstack"
	"github.com/frostguard/functions/shared/realtime"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/testenv"
)

type socketFixture struct {
	t      *testing.T
	db     *store.DB
	socket *realtime.Socket
	signer *auth.DevSigner
	seed   devstack.SeedFile
}

func newSocketFixture(t *testing.T) *socketFixture {
	db, _ := testenv.OpenDB(t)
	secrets, jwks := testenv.DevIdentity(t)
	v, err := auth.NewVerifier(context.Background(), auth.VerifierOptions{JWKSURL: jwks, Issuer: devstack.Issuer, Audience: devstack.ProjectID})
	if err != nil {
		t.Fatal(err)
	}
	seed, err := devstack.Seed(context.Background(), db, secrets, devstack.SeedOptions{TokenTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return &socketFixture{t: t, db: db, socket: &realtime.Socket{DB: db, Verifier: v}, signer: secrets.Signer, seed: seed}
}

func (f *socketFixture) connect(id string, query map[string]string, protocol string) events.APIGatewayProxyResponse {
	f.t.Helper()
	res, err := f.socket.Handle(context.Background(), events.APIGatewayWebsocketProxyRequest{
		QueryStringParameters: query, Headers: map[string]string{"sec-websocket-protocol": protocol},
		RequestContext: events.APIGatewayWebsocketProxyRequestContext{RouteKey: realtime.RouteConnect, EventType: "CONNECT", ConnectionID: id},
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return res
}

func (f *socketFixture) message(id, route, body string) realtime.Reply {
	f.t.Helper()
	res, err := f.socket.Handle(context.Background(), events.APIGatewayWebsocketProxyRequest{Body: body,
		RequestContext: events.APIGatewayWebsocketProxyRequestContext{RouteKey: route, EventType: "MESSAGE", ConnectionID: id}})
	if err != nil || res.StatusCode != 200 {
		f.t.Fatalf("message: %d %v", res.StatusCode, err)
	}
	var r realtime.Reply
	if err := json.Unmarshal([]byte(res.Body), &r); err != nil {
		f.t.Fatalf("reply %q: %v", res.Body, err)
	}
	return r
}

// The channel's access rules, as the REST api's: every member (a viewer
// too) may watch its organisation; a non-member is refused at the
// handshake; a membership that ended refuses the next action; a site or
// unit of another organisation is not found; the connection ends with its
// token.
func TestSocketAccess(t *testing.T) {
	f := newSocketFixture(t)
	s := f.seed
	ctx := context.Background()

	if res := f.connect("viewer=", map[string]string{"token": s.ViewerToken, "organization_id": s.OrgID}, ""); res.StatusCode != 200 {
		t.Fatalf("a viewer: %d %s", res.StatusCode, res.Body)
	}
	if res := f.connect("other=", map[string]string{"token": s.OtherToken, "organization_id": s.OrgID}, ""); res.StatusCode != 403 {
		t.Fatalf("another organisation's owner: %d %s", res.StatusCode, res.Body)
	}
	if res := f.connect("ghost=", map[string]string{"token": s.Token, "organization_id": "0e0c0000-0000-4000-8000-00000000000c"}, ""); res.StatusCode != 403 {
		t.Fatalf("an organisation that does not exist: %d (the same answer as a foreign one)", res.StatusCode)
	}
	// A token about to expire: the connection ends with it.
	short, err := f.signer.Mint(devstack.OwnerA, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	res := f.connect("short=", map[string]string{"organization_id": s.OrgID}, "frostguard, "+short)
	if res.StatusCode != 200 || res.Headers["Sec-WebSocket-Protocol"] != "frostguard" {
		t.Fatalf("token as subprotocol: %d %v", res.StatusCode, res.Headers)
	}
	c, err := f.db.RealtimeConnection(ctx, "short=")
	if err != nil || c.ExpiresAt.After(time.Now().Add(2*time.Minute+time.Second)) {
		t.Fatalf("expires %v (%v), want the token's expiry", c.ExpiresAt, err)
	}
	expired, _ := f.signer.Mint(devstack.OwnerA, -time.Hour)
	if res := f.connect("expired=", map[string]string{"token": expired, "organization_id": s.OrgID}, ""); res.StatusCode != 401 {
		t.Fatalf("an expired token: %d", res.StatusCode)
	}

	// Subscriptions of the viewer: its unit narrows, the other
	// organisation's unit is not found and changes nothing.
	if r := f.message("viewer=", "subscribe", `{"action":"subscribe","unit_id":"`+s.UnitID+`"}`); r.Type != "subscriptions" ||
		r.Data.WholeOrganization || len(r.Data.UnitIDs) != 1 {
		t.Fatalf("subscribe: %+v", r)
	}
	var unitB string
	if err := testenv.Pool(f.db).QueryRow(ctx, `SELECT id FROM units WHERE organization_id = $1 LIMIT 1`, s.OtherOrgID).Scan(&unitB); err != nil {
		t.Fatal(err)
	}
	if r := f.message("viewer=", "subscribe", `{"action":"subscribe","unit_id":"`+unitB+`"}`); r.Type != "error" || r.Error.Code != "NOT_FOUND" {
		t.Fatalf("a foreign unit: %+v", r)
	}
	if r := f.message("viewer=", "$default", `hello`); r.Type != "error" || r.Error.Code != "INVALID_ARGUMENT" {
		t.Fatalf("not an action: %+v", r)
	}
	if r := f.message("nobody=", "subscribe", `{"action":"subscribe"}`); r.Type != "error" || r.Error.Code != "NOT_FOUND" {
		t.Fatalf("an unknown connection: %+v", r)
	}
	ids, err := f.db.RealtimeAudience(ctx, s.OrgID, s.UnitID)
	if err != nil || strings.Join(ids, ",") != "short=,viewer=" {
		t.Fatalf("audience of the unit %q (%v)", ids, err)
	}
	if ids, _ := f.db.RealtimeAudience(ctx, s.OrgID, ""); strings.Join(ids, ",") != "short=" {
		t.Fatalf("audience of the organisation %q: the viewer narrowed to a unit", ids)
	}

	// The viewer leaves the organisation: its next action is refused.
	if _, err := testenv.Pool(f.db).Exec(ctx, `DELETE FROM memberships WHERE organization_id = $1
		AND user_id = (SELECT id FROM users WHERE subject = $2)`, s.OrgID, devstack.ViewerA.Subject); err != nil {
		t.Fatal(err)
	}
	if r := f.message("viewer=", "subscribe", `{"action":"subscribe"}`); r.Type != "error" || r.Error.Code != "FORBIDDEN" {
		t.Fatalf("after the membership ended: %+v", r)
	}
	// ... and, still connected, it receives none of the organisation's events.
	if ids, _ := f.db.RealtimeAudience(ctx, s.OrgID, s.UnitID); strings.Join(ids, ",") != "short=" {
		t.Fatalf("audience %q still includes a removed member", ids)
	}

	// An expired connection receives nothing and is deleted on the way.
	if _, err := testenv.Pool(f.db).Exec(ctx, `UPDATE realtime_connections SET expires_at = now() - interval '1 second' WHERE id = 'short='`); err != nil {
		t.Fatal(err)
	}
	if ids, _ := f.db.RealtimeAudience(ctx, s.OrgID, ""); len(ids) != 0 {
		t.Fatalf("audience %q includes an expired connection", ids)
	}
	var n int
	_ = testenv.Pool(f.db).QueryRow(ctx, `SELECT count(*) FROM realtime_connections WHERE id = 'short='`).Scan(&n)
	if n != 0 {
		t.Error("the expired connection is still stored")
	}

	// $disconnect forgets the connection.
	if _, err := f.socket.Handle(ctx, events.APIGatewayWebsocketProxyRequest{RequestContext: events.APIGatewayWebsocketProxyRequestContext{
		RouteKey: realtime.RouteDisconnect, EventType: "DISCONNECT", ConnectionID: "viewer="}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.RealtimeConnection(ctx, "viewer="); err == nil {
		t.Error("a disconnected connection is still there")
	}
}
