package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/frostguard/functions/shared/apperr"
)

// Provisioning statuses of a gateway in The Things Stack.
const (
	GatewayPending       = "pending"       // a registration is running
	GatewayRegistered    = "registered"    // TTN has it
	GatewayFailed        = "failed"        // TTN's outcome is unknown: retry or delete
	GatewayDeregistering = "deregistering" // a deletion is running
)

// GatewayStale is how long a pending or deregistering state blocks another
// run: longer than any run takes (two calls with timeouts), so a state
// older than this was left by a run that died.
const GatewayStale = 2 * time.Minute

// Gateway is a gateway of an organisation and where its TTN registration
// stands.
type Gateway struct {
	ID                    string    `json:"id"`
	SiteID                *string   `json:"site_id"`
	GatewayID             string    `json:"gateway_id"`
	GatewayEUI            string    `json:"gateway_eui"`
	Name                  *string   `json:"name"`
	FrequencyPlanID       string    `json:"frequency_plan_id"`
	Cluster               string    `json:"cluster"`
	ProvisioningStatus    string    `json:"provisioning_status"`
	ProvisioningError     *string   `json:"provisioning_error"`
	ProvisioningUpdatedAt time.Time `json:"provisioning_updated_at"`
	CreatedAt             time.Time `json:"created_at"`
	UpdatedAt             time.Time `json:"updated_at"`
}

const gatewayColumns = `id, site_id, gateway_id, gateway_eui, name, frequency_plan_id, cluster,
	provisioning_status, provisioning_error, provisioning_updated_at, created_at, updated_at`

func scanGateway(row pgx.Row) (Gateway, error) {
	var g Gateway
	err := row.Scan(&g.ID, &g.SiteID, &g.GatewayID, &g.GatewayEUI, &g.Name, &g.FrequencyPlanID, &g.Cluster,
		&g.ProvisioningStatus, &g.ProvisioningError, &g.ProvisioningUpdatedAt, &g.CreatedAt, &g.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return g, apperr.New(apperr.NotFound, "gateway not found")
	}
	g.ProvisioningUpdatedAt, g.CreatedAt, g.UpdatedAt = g.ProvisioningUpdatedAt.UTC(), g.CreatedAt.UTC(), g.UpdatedAt.UTC()
	return g, Classify(err)
}

// Gateways lists the organisation's live gateways by (created_at, id),
// after the given position (zero: from the start).
func (db *DB) Gateways(ctx context.Context, orgID string, afterTime time.Time, afterID string, limit int) (_ []Gateway, err error) {
	defer wrap(&err, "store.Gateways")
	rows, err := db.pool.Query(ctx, `SELECT `+gatewayColumns+` FROM gateways
		WHERE organization_id = $1 AND deleted_at IS NULL
		AND ($2::uuid IS NULL OR (created_at, id) > ($3, $2))
		ORDER BY created_at, id LIMIT $4`, orgID, sensorNullString(afterID), afterTime, limit)
	if err != nil {
		return nil, Classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Gateway, error) { return scanGateway(r) })
	return out, Classify(err)
}

// Gateway returns one live gateway of the organisation.
func (db *DB) Gateway(ctx context.Context, orgID, id string) (_ Gateway, err error) {
	defer wrap(&err, "store.Gateway")
	return scanGateway(db.pool.QueryRow(ctx, `SELECT `+gatewayColumns+` FROM gateways
		WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL`, orgID, id))
}

// NewGateway is a registration request.
type NewGateway struct {
	GatewayID, GatewayEUI, FrequencyPlanID, Cluster string
	Name, SiteID                                    *string
}

// BeginGatewayRegistration records a registration as pending before TTN is
// called, and says whether it retries an earlier attempt of this
// organisation (whose outcome in TTN was unknown). The live row of the TTN
// id, if any, decides: none inserts one; this organisation's failed (or
// stale pending) row is taken over with the request's values; anything
// else is a 409. staleBefore: pending rows older than this were left by a
// run that died.
func (db *DB) BeginGatewayRegistration(ctx context.Context, orgID string, n NewGateway, staleBefore time.Time) (g Gateway, retry bool, err error) {
	defer wrap(&err, "store.BeginGatewayRegistration")
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		if n.SiteID != nil {
			var ok bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sites
				WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL)`, orgID, *n.SiteID).Scan(&ok); err != nil {
				return err
			}
			if !ok {
				return apperr.Validation(apperr.FieldError{Field: "site_id", Message: "is not a site of this organisation"})
			}
		}
		var cur struct {
			id, owner, status string
			updatedAt         time.Time
		}
		err := tx.QueryRow(ctx, `SELECT id, organization_id, provisioning_status, provisioning_updated_at
			FROM gateways WHERE gateway_id = $1 AND deleted_at IS NULL FOR UPDATE`, n.GatewayID).
			Scan(&cur.id, &cur.owner, &cur.status, &cur.updatedAt)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			g, err = scanGateway(tx.QueryRow(ctx, `INSERT INTO gateways
					(organization_id, site_id, gateway_id, gateway_eui, name, frequency_plan_id, cluster, provisioning_status)
				VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending') RETURNING `+gatewayColumns,
				orgID, n.SiteID, n.GatewayID, n.GatewayEUI, n.Name, n.FrequencyPlanID, n.Cluster))
			return gatewayUniqueness(err)
		case err != nil:
			return err
		case cur.owner != orgID:
			return errGatewayIDTaken
		case cur.status == GatewayRegistered:
			return apperr.New(apperr.Conflict, "this gateway is already registered (delete it to register it again)")
		case cur.status != GatewayFailed && !cur.updatedAt.Before(staleBefore):
			return ErrGatewayBusy
		}
		retry = true
		g, err = scanGateway(tx.QueryRow(ctx, `UPDATE gateways SET
				site_id = $3, gateway_eui = $4, name = $5, frequency_plan_id = $6, cluster = $7,
				provisioning_status = 'pending', provisioning_error = NULL, provisioning_updated_at = now(), updated_at = now()
			WHERE organization_id = $1 AND id = $2 RETURNING `+gatewayColumns,
			orgID, cur.id, n.SiteID, n.GatewayEUI, n.Name, n.FrequencyPlanID, n.Cluster))
		return gatewayUniqueness(err)
	})
	return g, retry, err
}

// ErrGatewayBusy answers a run while another one holds the gateway.
var ErrGatewayBusy = apperr.New(apperr.Conflict, "a registration or deletion of this gateway is running, retry in a moment")

// errGatewayIDTaken does not say who holds the id.
var errGatewayIDTaken = &apperr.Error{Code: apperr.Conflict,
	Message: "this gateway id is not available: it is already registered",
	Details: []apperr.FieldError{{Field: "gateway_id", Message: "is not available"}}}

// gatewayUniqueness turns a unique violation into the 409 naming the field.
func gatewayUniqueness(err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23505" {
		return err
	}
	if pgErr.ConstraintName == "gateways_gateway_eui_live_key" {
		return &apperr.Error{Code: apperr.Conflict, Message: "a gateway with this EUI is already registered",
			Details: []apperr.FieldError{{Field: "gateway_eui", Message: "is already taken"}}}
	}
	// The id: another request registered it between our read and insert.
	return ErrGatewayBusy
}

// RecordGateway stores a run's outcome: the gateway's status and, for a
// failure, why (TTN's message).
func (db *DB) RecordGateway(ctx context.Context, orgID, id, status string, errMsg *string) (_ Gateway, err error) {
	defer wrap(&err, "store.RecordGateway")
	return txValue(ctx, db, func(tx pgx.Tx) (Gateway, error) {
		return scanGateway(tx.QueryRow(ctx, `UPDATE gateways SET
			provisioning_status = $3, provisioning_error = $4, provisioning_updated_at = now(), updated_at = now()
		WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL
		RETURNING `+gatewayColumns, orgID, id, status, errMsg))
	})
}

// DiscardGateway removes the pending row of a first registration attempt
// TTN refused: nothing was created, so nothing is kept.
func (db *DB) DiscardGateway(ctx context.Context, orgID, id string) (err error) {
	defer wrap(&err, "store.DiscardGateway")
	_, err = txValue(ctx, db, func(tx pgx.Tx) (pgconn.CommandTag, error) {
		return tx.Exec(ctx, `DELETE FROM gateways
		WHERE organization_id = $1 AND id = $2 AND provisioning_status = 'pending'`, orgID, id)
	})
	return Classify(err)
}

// BeginGatewayDeletion moves a gateway from the state seen (read just
// before) to deregistering. It fails with 409 if the state changed in
// between: another run took it.
func (db *DB) BeginGatewayDeletion(ctx context.Context, orgID string, seen Gateway) (_ Gateway, err error) {
	defer wrap(&err, "store.BeginGatewayDeletion")
	g, err := txValue(ctx, db, func(tx pgx.Tx) (Gateway, error) {
		return scanGateway(tx.QueryRow(ctx, `UPDATE gateways SET
			provisioning_status = 'deregistering', provisioning_error = NULL,
			provisioning_updated_at = now(), updated_at = now()
		WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL
		AND provisioning_status = $3 AND provisioning_updated_at = $4
		RETURNING `+gatewayColumns, orgID, seen.ID, seen.ProvisioningStatus, seen.ProvisioningUpdatedAt))
	})
	if apperr.CodeOf(err) == apperr.NotFound {
		return g, ErrGatewayBusy
	}
	return g, err
}

// DeleteGateway soft-deletes a gateway TTN no longer has.
func (db *DB) DeleteGateway(ctx context.Context, orgID, id string) (err error) {
	defer wrap(&err, "store.DeleteGateway")
	return execChanged(ctx, db, apperr.New(apperr.NotFound, "gateway not found"), `UPDATE gateways SET deleted_at = now(), updated_at = now()
		WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL`, orgID, id)
}

// TTNGatewayOwner is the connection's gateway owner and key as the api
// shows them (the key only as its last 4 characters). All null until set.
type TTNGatewayOwner struct {
	OwnerType   *string    `json:"owner_type"`
	OwnerID     *string    `json:"owner_id"`
	APIKeyLast4 *string    `json:"api_key_last4"`
	Rights      []string   `json:"rights"`
	UpdatedAt   *time.Time `json:"updated_at"`
}

const gatewayOwnerColumns = `gateway_owner_type, gateway_owner_id, gateway_api_key_last4, gateway_rights,
	gateway_credentials_updated_at`

func scanGatewayOwner(row pgx.Row) (TTNGatewayOwner, error) {
	var o TTNGatewayOwner
	err := row.Scan(&o.OwnerType, &o.OwnerID, &o.APIKeyLast4, &o.Rights, &o.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, apperr.New(apperr.NotFound, "ttn connection not found")
	}
	if o.Rights == nil {
		o.Rights = []string{}
	}
	o.UpdatedAt = utcPtr(o.UpdatedAt)
	return o, Classify(err)
}

// TTNGatewayOwner returns the organisation's gateway owner and key.
func (db *DB) TTNGatewayOwner(ctx context.Context, orgID string) (_ TTNGatewayOwner, err error) {
	defer wrap(&err, "store.TTNGatewayOwner")
	return scanGatewayOwner(db.pool.QueryRow(ctx, `SELECT `+gatewayOwnerColumns+` FROM network_connections
		WHERE organization_id = $1 AND id = (`+firstTTNConnection+`)`, orgID))
}

// GatewayCredentials is the TTN user or organisation gateways are
// registered under, with its sealed API key.
type GatewayCredentials struct {
	OwnerType, OwnerID string
	SealedKey          []byte
	Last4              string
	Rights             []string
	// Cluster is the connection's cluster ("" before an application key is
	// connected): where new gateways are told to connect.
	Cluster string
}

// SetTTNGatewayCredentials stores a checked gateway key on the
// organisation's connection. Gateways registered before keep their rows:
// if the new key has no rights on them, their status reads "unknown" and
// deleting them answers TTN's refusal.
func (db *DB) SetTTNGatewayCredentials(ctx context.Context, orgID string, in GatewayCredentials) (_ TTNGatewayOwner, err error) {
	defer wrap(&err, "store.SetTTNGatewayCredentials")
	return txValue(ctx, db, func(tx pgx.Tx) (TTNGatewayOwner, error) {
		return scanGatewayOwner(tx.QueryRow(ctx, `UPDATE network_connections SET
			gateway_owner_type = $2, gateway_owner_id = $3, gateway_api_key_ciphertext = $4,
			gateway_api_key_last4 = $5, gateway_rights = $6, gateway_credentials_updated_at = now(), updated_at = now()
		WHERE organization_id = $1 AND id = (`+firstTTNConnection+`)
		RETURNING `+gatewayOwnerColumns, orgID, in.OwnerType, in.OwnerID, in.SealedKey, in.Last4, in.Rights))
	})
}

// ErrNoGatewayKey answers gateway operations before a gateway key is set.
var ErrNoGatewayKey = apperr.New(apperr.Conflict,
	"connect a The Things Stack gateway owner and API key first (PUT /api/v1/orgs/{orgId}/ttn-connection/gateway-credentials)")

// TTNGatewayKey returns the gateway owner, its sealed key and the
// connection's cluster; 409 before they are set.
func (db *DB) TTNGatewayKey(ctx context.Context, orgID string) (_ GatewayCredentials, err error) {
	defer wrap(&err, "store.TTNGatewayKey")
	var c GatewayCredentials
	var kind, id *string
	err = db.pool.QueryRow(ctx, `SELECT gateway_owner_type, gateway_owner_id, gateway_api_key_ciphertext,
			coalesce(cluster, '')
		FROM network_connections WHERE organization_id = $1 AND id = (`+firstTTNConnection+`)`, orgID).
		Scan(&kind, &id, &c.SealedKey, &c.Cluster)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return c, apperr.New(apperr.NotFound, "ttn connection not found")
	case err != nil:
		return c, Classify(err)
	case kind == nil || id == nil || c.SealedKey == nil:
		return c, ErrNoGatewayKey
	}
	c.OwnerType, c.OwnerID = *kind, *id
	return c, nil
}

// GatewayChange is a PATCH of a gateway's FrostGuard fields: nil fields
// stay, Clear* set NULL.
type GatewayChange struct {
	Name, SiteID         *string
	ClearName, ClearSite bool
}

// UpdateGateway renames a live gateway of the organisation or moves it to
// another of its live sites (a field error on site_id otherwise). The
// gateway's registration in The Things Stack is not touched: its TTN id,
// EUI and frequency plan cannot change.
func (db *DB) UpdateGateway(ctx context.Context, orgID, id string, c GatewayChange) (_ Gateway, err error) {
	defer wrap(&err, "store.UpdateGateway")
	g, err := txValue(ctx, db, func(tx pgx.Tx) (Gateway, error) {
		if c.SiteID != nil {
			var live bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sites WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL)`,
				orgID, *c.SiteID).Scan(&live); err != nil {
				return Gateway{}, err
			}
			if !live {
				return Gateway{}, apperr.Validation(apperr.FieldError{Field: "site_id", Message: "is not a site of this organization"})
			}
		}
		return scanGateway(tx.QueryRow(ctx, `UPDATE gateways SET
				name = CASE WHEN $3 THEN NULL ELSE coalesce($4, name) END,
				site_id = CASE WHEN $5 THEN NULL ELSE coalesce($6::uuid, site_id) END,
				updated_at = now()
			WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING `+gatewayColumns,
			orgID, id, c.ClearName, c.Name, c.ClearSite, c.SiteID))
	})
	if err != nil {
		return g, Classify(err)
	}
	return g, nil
}
