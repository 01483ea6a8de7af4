package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
)

// An organisation's connections to LoRaWAN networks other than TTN (whose connection has its
// own management, ttn_manage.go): one ChirpStack connection per organisation
// (network_connections_one_chirpstack_key).

const chirpStackColumns = `tenant_id, application_id, secret_last4, secret_rotated_at, last_uplink_at, is_active, created_at`

func scanChirpStackConnection(row pgx.Row) (domain.ChirpStackConnection, error) {
	c := domain.ChirpStackConnection{SecretHeaders: domain.ChirpStackSecretHeaders}
	err := row.Scan(&c.TenantID, &c.ApplicationID, &c.SecretLast4, &c.SecretRotatedAt, &c.LastUplinkAt, &c.IsActive, &c.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, apperr.New(apperr.NotFound, "the organisation has no ChirpStack connection")
	}
	return c, err
}

// ChirpStackConnection reads the organisation's ChirpStack connection (NotFound without one).
func (db *DB) ChirpStackConnection(ctx context.Context, orgID string) (_ domain.ChirpStackConnection, err error) {
	defer wrap(&err, "store.ChirpStackConnection")
	c, err := scanChirpStackConnection(db.pool.QueryRow(ctx, `SELECT `+chirpStackColumns+` FROM network_connections
		WHERE organization_id = $1 AND kind = 'chirpstack'`, orgID))
	if err != nil {
		return c, Classify(err)
	}
	return c, nil
}

// PutChirpStackConnection creates the organisation's ChirpStack connection, or replaces its
// secret and binding (active again): from the commit on, only the new secret is accepted.
// created reports a new connection. An application another organisation's connection is
// bound to is a Conflict naming nobody.
func (db *DB) PutChirpStackConnection(ctx context.Context, orgID string, b domain.ChirpStackBinding, secret domain.TTNSecret) (c domain.ChirpStackConnection, created bool, err error) {
	defer wrap(&err, "store.PutChirpStackConnection")
	type result struct {
		c       domain.ChirpStackConnection
		created bool
	}
	r, err := txValue(ctx, db, func(tx pgx.Tx) (result, error) {
		var r result
		err := tx.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM network_connections WHERE organization_id = $1 AND kind = 'chirpstack')`,
			orgID).Scan(&r.created)
		if err != nil {
			return r, err
		}
		r.c, err = scanChirpStackConnection(tx.QueryRow(ctx, `INSERT INTO network_connections
				(organization_id, kind, tenant_id, application_id, secret_hash, secret_last4)
			VALUES ($1, 'chirpstack', $2, $3, $4, $5)
			ON CONFLICT (organization_id) WHERE kind = 'chirpstack' DO UPDATE SET tenant_id = EXCLUDED.tenant_id,
				application_id = EXCLUDED.application_id, secret_hash = EXCLUDED.secret_hash, secret_last4 = EXCLUDED.secret_last4,
				secret_rotated_at = now(), is_active = true, updated_at = now()
			RETURNING `+chirpStackColumns, orgID, b.TenantID, b.ApplicationID, secret.Hash[:], secret.Last4))
		return r, err
	})
	if isUniqueViolation(err, "network_connections_application_key") {
		// Not who holds it: the caller proved nothing about the application.
		err = &apperr.Error{Code: apperr.Conflict, Message: "this ChirpStack application is already connected to FrostGuard",
			Details: []apperr.FieldError{{Field: "application_id", Message: "is not available"}}}
	}
	if err != nil {
		return c, false, Classify(err)
	}
	return r.c, r.created, nil
}

// DeleteChirpStackConnection removes the organisation's ChirpStack connection (NotFound
// without one): its secret stops working at the commit, and its dedupe keys and unclaimed
// devices go with it. Readings it delivered stay.
func (db *DB) DeleteChirpStackConnection(ctx context.Context, orgID string) (err error) {
	defer wrap(&err, "store.DeleteChirpStackConnection")
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM network_connections WHERE organization_id = $1 AND kind = 'chirpstack'`, orgID)
		if err == nil && tag.RowsAffected() == 0 {
			err = apperr.New(apperr.NotFound, "the organisation has no ChirpStack connection")
		}
		return err
	})
	if err != nil {
		return Classify(err)
	}
	return nil
}
