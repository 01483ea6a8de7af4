package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
)

const ttnManagedColumns = ttnColumns + `, cluster, api_key_last4, rights, webhook_id, webhook_configured_at`

func scanTTNManaged(row pgx.Row) (domain.TTNManagedConnection, error) {
	c := domain.TTNManagedConnection{TTNConnection: domain.TTNConnection{WebhookHeader: domain.TTNWebhookHeader}}
	err := row.Scan(&c.ID, &c.ApplicationID, &c.SecretLast4, &c.SecretRotatedAt, &c.LastUplinkAt, &c.IsActive,
		&c.Cluster, &c.APIKeyLast4, &c.Rights, &c.WebhookID, &c.WebhookConfiguredAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, apperr.New(apperr.NotFound, "ttn connection not found")
	}
	c.SecretRotatedAt = c.SecretRotatedAt.UTC()
	c.LastUplinkAt = utcPtr(c.LastUplinkAt)
	c.WebhookConfiguredAt = utcPtr(c.WebhookConfiguredAt)
	if c.Rights == nil {
		c.Rights = []string{}
	}
	return c, Classify(err)
}

// TTNManagedConnection returns the organisation's TTN connection with its
// management state.
func (db *DB) TTNManagedConnection(ctx context.Context, orgID string) (_ domain.TTNManagedConnection, err error) {
	defer wrap(&err, "store.TTNManagedConnection")
	return scanTTNManaged(db.pool.QueryRow(ctx, `SELECT `+ttnManagedColumns+` FROM network_connections
		WHERE organization_id = $1 AND id = (`+firstTTNConnection+`)`, orgID))
}

// TTNCredentials is a connection's application and its sealed API key.
type TTNCredentials struct {
	ApplicationID string
	Cluster       string
	SealedKey     []byte
	Last4         string
	Rights        []string
}

// SetTTNCredentials stores a checked API key on the organisation's
// connection. Changing the application forgets the webhook configured on
// the previous one.
func (db *DB) SetTTNCredentials(ctx context.Context, orgID string, in TTNCredentials) (_ domain.TTNManagedConnection, err error) {
	defer wrap(&err, "store.SetTTNCredentials")
	c, err := txValue(ctx, db, func(tx pgx.Tx) (domain.TTNManagedConnection, error) {
		return scanTTNManaged(tx.QueryRow(ctx, `UPDATE network_connections SET
			webhook_id = CASE WHEN application_id = $2 THEN webhook_id END,
			webhook_configured_at = CASE WHEN application_id = $2 THEN webhook_configured_at END,
			application_id = $2, cluster = $3, api_key_ciphertext = $4, api_key_last4 = $5, rights = $6,
			updated_at = now()
		WHERE organization_id = $1 AND id = (`+firstTTNConnection+`)
		RETURNING `+ttnManagedColumns, orgID, in.ApplicationID, in.Cluster, in.SealedKey, in.Last4, in.Rights))
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		// Not who holds it: the caller proved rights on the application,
		// not a relationship with whoever connected it first.
		return c, &apperr.Error{Code: apperr.Conflict, Message: "this application cannot be connected: it is already in use (contact support to move it)",
			Details: []apperr.FieldError{{Field: "application_id", Message: "is not available"}}}
	}
	return c, err
}

// errNoTTNKey answers management operations before a key is connected.
var errNoTTNKey = apperr.New(apperr.Conflict,
	"connect a The Things Stack API key first (PUT /api/v1/orgs/{orgId}/ttn-connection/credentials)")

// TTNAPIKey returns the connection's application, cluster and sealed key.
func (db *DB) TTNAPIKey(ctx context.Context, orgID string) (_ TTNCredentials, err error) {
	defer wrap(&err, "store.TTNAPIKey")
	return scanTTNKey(db.pool.QueryRow(ctx, `SELECT application_id, cluster, api_key_ciphertext
		FROM network_connections WHERE organization_id = $1 AND id = (`+firstTTNConnection+`)`, orgID))
}

func scanTTNKey(row pgx.Row) (TTNCredentials, error) {
	var c TTNCredentials
	var cluster *string
	err := row.Scan(&c.ApplicationID, &cluster, &c.SealedKey)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return c, apperr.New(apperr.NotFound, "ttn connection not found")
	case err != nil:
		return c, Classify(err)
	case c.SealedKey == nil || cluster == nil:
		return c, errNoTTNKey
	}
	c.Cluster = *cluster
	return c, nil
}

// ConfigureTTNWebhook replaces the webhook secret together with the webhook
// on TTN. The connection row stays locked while configure (the call to TTN)
// runs, so two concurrent runs cannot leave TTN with one secret and the
// database with the other's hash; a second run while one is in progress
// gets a 409 instead of waiting. The new hash is written only if configure
// succeeds: on failure the old secret keeps working. The one window left is
// a commit failing after TTN accepted the new secret: uplinks are then
// refused (401, which TTN retries) until the operation is run again.
func (db *DB) ConfigureTTNWebhook(ctx context.Context, orgID, webhookID string, secret domain.TTNSecret,
	configure func(TTNCredentials) error) (_ domain.TTNManagedConnection, err error) {
	defer wrap(&err, "store.ConfigureTTNWebhook")
	var out domain.TTNManagedConnection
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		creds, err := scanTTNKey(tx.QueryRow(ctx, `SELECT application_id, cluster, api_key_ciphertext
			FROM network_connections WHERE organization_id = $1 AND id = (`+firstTTNConnection+`)
			FOR UPDATE NOWAIT`, orgID))
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "55P03" {
			return apperr.New(apperr.Conflict, "another operation on this TTN connection is in progress, retry in a moment")
		}
		if err != nil {
			return err
		}
		if err := configure(creds); err != nil {
			return err
		}
		out, err = scanTTNManaged(tx.QueryRow(ctx, `UPDATE network_connections SET
				secret_hash = $2, secret_last4 = $3, secret_rotated_at = now(),
				webhook_id = $4, webhook_configured_at = now(), updated_at = now()
			WHERE organization_id = $1 AND id = (`+firstTTNConnection+`)
			RETURNING `+ttnManagedColumns, orgID, secret.Hash[:], secret.Last4, webhookID))
		return err
	})
	return out, err
}
