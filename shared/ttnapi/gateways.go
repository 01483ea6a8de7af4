package ttnapi

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// Kinds of TTN entity a gateway is registered under: its first
// collaborator, with every right on it.
const (
	OwnerUser         = "user"
	OwnerOrganization = "organization"
)

// Owner is the TTN user or organisation gateways are registered under. The
// API key used must be that user's or organisation's: an application key
// has no rights on gateways.
type Owner struct {
	Kind string // OwnerUser or OwnerOrganization
	ID   string
}

// path is the owner's Identity Server resource.
func (o Owner) path() string {
	if o.Kind == OwnerOrganization {
		return "/organizations/" + esc(o.ID)
	}
	return "/users/" + esc(o.ID)
}

// Gateway is a gateway as we register it.
type Gateway struct {
	GatewayID string
	EUI       string // 16 upper-case hex digits
	Name      string
	// FrequencyPlanID is TTN's plan, e.g. EU_863_870_TTN.
	FrequencyPlanID string
	// ServerAddress is the host of the cluster whose Gateway Server the
	// gateway connects to (eu1.cloud.thethings.network).
	ServerAddress string
}

// gatewayIDs is ttnpb.GatewayIdentifiers.
type gatewayIDs struct {
	GatewayID string `json:"gateway_id"`
	EUI       string `json:"eui,omitempty"`
}

// gatewayJSON holds the ttnpb.Gateway fields we write and read.
type gatewayJSON struct {
	IDs  gatewayIDs `json:"ids"`
	Name string     `json:"name,omitempty"`
	// frequency_plan_id is deprecated in favour of frequency_plan_ids (its
	// first element); both are sent, equal, so that older and newer
	// Identity Servers read the same plan.
	FrequencyPlanID      string   `json:"frequency_plan_id,omitempty"`
	FrequencyPlanIDs     []string `json:"frequency_plan_ids,omitempty"`
	GatewayServerAddress string   `json:"gateway_server_address,omitempty"`
	// The console's default and what spectrum regulations require; the API's
	// zero value would switch it off.
	EnforceDutyCycle bool `json:"enforce_duty_cycle,omitempty"`
	// status_public and location_public stay false (their zero value): a
	// customer's cold rooms are nobody else's business.
}

type userIDs struct {
	UserID string `json:"user_id"`
}

type organizationIDs struct {
	OrganizationID string `json:"organization_id"`
}

// collaborator is ttnpb.OrganizationOrUserIdentifiers.
type collaborator struct {
	UserIDs         *userIDs         `json:"user_ids,omitempty"`
	OrganizationIDs *organizationIDs `json:"organization_ids,omitempty"`
}

func (o Owner) collaborator() collaborator {
	if o.Kind == OwnerOrganization {
		return collaborator{OrganizationIDs: &organizationIDs{o.ID}}
	}
	return collaborator{UserIDs: &userIDs{o.ID}}
}

// createGatewayBody is ttnpb.CreateGatewayRequest. The collaborator is in
// the path too; the body repeats it, as the HTTP binding's body is the
// whole request.
type createGatewayBody struct {
	Gateway      gatewayJSON  `json:"gateway"`
	Collaborator collaborator `json:"collaborator"`
}

// GatewayFieldMask is what GetGateway reads (ids, created_at, updated_at and
// deleted_at are always returned).
var GatewayFieldMask = []string{"frequency_plan_ids", "gateway_server_address", "name"}

// Request is one call to The Things Stack, built without sending it so that
// its shape can be checked on its own.
type Request struct {
	Method string
	// Identity: the call goes to the Identity Server, not the cluster.
	Identity bool
	Path     string // under /api/v3, with its query
	Body     any    // nil for none
}

func (c *Client) send(ctx context.Context, r Request, out any) error {
	return c.do(ctx, r.Method, r.Identity, r.Path, r.Body, out)
}

// RegisterGatewayRequest creates g on the Identity Server under o.
func RegisterGatewayRequest(o Owner, g Gateway) Request {
	return Request{Method: http.MethodPost, Identity: true, Path: o.path() + "/gateways", Body: createGatewayBody{
		Gateway: gatewayJSON{
			IDs:  gatewayIDs{GatewayID: g.GatewayID, EUI: g.EUI},
			Name: g.Name, FrequencyPlanID: g.FrequencyPlanID, FrequencyPlanIDs: []string{g.FrequencyPlanID},
			GatewayServerAddress: g.ServerAddress, EnforceDutyCycle: true,
		},
		Collaborator: o.collaborator(),
	}}
}

// GetGatewayRequest reads a gateway's GatewayFieldMask fields.
func GetGatewayRequest(gatewayID string) Request {
	q := url.Values{"field_mask": {strings.Join(GatewayFieldMask, ",")}}
	return Request{Method: http.MethodGet, Identity: true, Path: "/gateways/" + esc(gatewayID) + "?" + q.Encode()}
}

// DeleteGatewayRequest deletes a gateway from the Identity Server.
func DeleteGatewayRequest(gatewayID string) Request {
	return Request{Method: http.MethodDelete, Identity: true, Path: "/gateways/" + esc(gatewayID)}
}

// OwnerRightsRequest lists the rights the key has on the owner.
func OwnerRightsRequest(o Owner) Request {
	return Request{Method: http.MethodGet, Identity: true, Path: o.path() + "/rights"}
}

// RegisterGateway creates the gateway. TTN answers 409 (apperr.Conflict)
// when its id or EUI is taken; a deleted gateway's id stays taken, its EUI
// does not.
func (c *Client) RegisterGateway(ctx context.Context, o Owner, g Gateway) error {
	return c.send(ctx, RegisterGatewayRequest(o, g), nil)
}

// GetGateway reads a gateway the key has rights on. 404: TTN has no such
// gateway (or it was deleted); 403: it is someone else's.
func (c *Client) GetGateway(ctx context.Context, gatewayID string) (Gateway, error) {
	var out gatewayJSON
	if err := c.send(ctx, GetGatewayRequest(gatewayID), &out); err != nil {
		return Gateway{}, err
	}
	g := Gateway{GatewayID: out.IDs.GatewayID, EUI: strings.ToUpper(out.IDs.EUI), Name: out.Name,
		FrequencyPlanID: out.FrequencyPlanID, ServerAddress: out.GatewayServerAddress}
	if len(out.FrequencyPlanIDs) > 0 {
		g.FrequencyPlanID = out.FrequencyPlanIDs[0]
	}
	return g, nil
}

// DeleteGateway deletes the gateway; one TTN does not know counts as
// deleted.
func (c *Client) DeleteGateway(ctx context.Context, gatewayID string) error {
	err := c.send(ctx, DeleteGatewayRequest(gatewayID), nil)
	if HasStatus(err, http.StatusNotFound) {
		return nil
	}
	return err
}

// OwnerRights returns the rights the client's key has on the owner.
func (c *Client) OwnerRights(ctx context.Context, o Owner) ([]string, error) {
	var out struct {
		Rights []string `json:"rights"`
	}
	err := c.send(ctx, OwnerRightsRequest(o), &out)
	return out.Rights, err
}

// gatewayRights are what the api does with a registered gateway: read it,
// delete it, read its connection status.
var gatewayRights = []string{"RIGHT_GATEWAY_INFO", "RIGHT_GATEWAY_DELETE", "RIGHT_GATEWAY_STATUS_READ"}

// GatewayRightsFor lists the rights a gateway key of an owner of kind must
// grant: creating gateways under the owner, then gatewayRights on them.
func GatewayRightsFor(kind string) []string {
	create := "RIGHT_USER_GATEWAYS_CREATE"
	if kind == OwnerOrganization {
		create = "RIGHT_ORGANIZATION_GATEWAYS_CREATE"
	}
	return append([]string{create}, gatewayRights...)
}

// MissingGatewayRights returns the rights of GatewayRightsFor(kind) that
// have does not grant. RIGHT_ALL and the owner's RIGHT_USER_ALL or
// RIGHT_ORGANIZATION_ALL grant all of them, RIGHT_GATEWAY_ALL every
// gateway right (The Things Stack usually lists the expanded rights, but a
// pseudo-right alone must not be refused).
func MissingGatewayRights(have []string, kind string) []string {
	set := map[string]bool{}
	for _, r := range have {
		set[r] = true
	}
	ownerAll := "RIGHT_USER_ALL"
	if kind == OwnerOrganization {
		ownerAll = "RIGHT_ORGANIZATION_ALL"
	}
	if set["RIGHT_ALL"] || set[ownerAll] {
		return nil
	}
	var missing []string
	for _, r := range GatewayRightsFor(kind) {
		if set[r] || (strings.HasPrefix(r, "RIGHT_GATEWAY_") && set["RIGHT_GATEWAY_ALL"]) {
			continue
		}
		missing = append(missing, r)
	}
	return missing
}

// MayHaveApplied reports whether a failed write may still have taken effect
// in The Things Stack: it did not answer (timeout, connection cut) or failed
// on its side (5xx). A 4xx answer is a refusal: nothing was written.
func MayHaveApplied(err error) bool {
	if err == nil {
		return false
	}
	var se *StatusError
	if !errors.As(err, &se) {
		return true
	}
	return se.Status >= 500
}
