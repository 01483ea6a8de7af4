package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
)

const provisioningColumns = `id, dev_eui, ttn_device_id, provisioning_status, provisioning_steps,
	provisioning_error, provisioning_updated_at, provisioning_key_unseen`

func scanProvisioning(row pgx.Row) (domain.SensorProvisioning, error) {
	var p domain.SensorProvisioning
	err := row.Scan(&p.SensorID, &p.DevEUI, &p.TTNDeviceID, &p.Status, &p.Steps, &p.Error, &p.UpdatedAt, &p.KeyUnseen)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, apperr.New(apperr.NotFound, "sensor not found")
	}
	if p.Steps == nil {
		p.Steps = []string{}
	}
	p.UpdatedAt = utcPtr(p.UpdatedAt)
	return p, Classify(err)
}

// SensorProvisioning returns a live sensor's provisioning state.
func (db *DB) SensorProvisioning(ctx context.Context, orgID, sensorID string) (_ domain.SensorProvisioning, err error) {
	defer wrap(&err, "store.SensorProvisioning")
	return scanProvisioning(db.pool.QueryRow(ctx, `SELECT `+provisioningColumns+` FROM sensors
		WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL`, orgID, sensorID))
}

// ProvisioningStale is how long a pending or deprovisioning state blocks
// another run: longer than any run takes (four calls with timeouts), so a
// state older than this was left by a run that died.
const ProvisioningStale = 2 * time.Minute

// BeginSensorProvisioning moves a sensor from the state seen (its status
// and provisioning_updated_at, read just before) to status (pending or
// deprovisioning), recording the TTN device id. It fails with 409 if the
// state changed in between: another run took it.
func (db *DB) BeginSensorProvisioning(ctx context.Context, orgID string, seen domain.SensorProvisioning,
	status, deviceID string) (_ domain.SensorProvisioning, err error) {
	defer wrap(&err, "store.BeginSensorProvisioning")
	p, err := txValue(ctx, db, func(tx pgx.Tx) (domain.SensorProvisioning, error) {
		return scanProvisioning(tx.QueryRow(ctx, `UPDATE sensors SET
			provisioning_status = $3, ttn_device_id = $4, provisioning_error = NULL,
			provisioning_updated_at = now(), updated_at = now()
		WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL
		AND provisioning_status = $5 AND provisioning_updated_at IS NOT DISTINCT FROM $6
		RETURNING `+provisioningColumns, orgID, seen.SensorID, status, deviceID, seen.Status, seen.UpdatedAt))
	})
	if apperr.CodeOf(err) == apperr.NotFound {
		return p, apperr.New(apperr.Conflict, "the sensor's provisioning changed meanwhile, retry")
	}
	return p, err
}

// RecordSensorProvisioning stores the registries the device is now in, the
// run's status (errMsg: why it failed) and whether the Join Server holds a
// generated AppKey nobody has seen.
func (db *DB) RecordSensorProvisioning(ctx context.Context, orgID, sensorID string, steps []string,
	status string, errMsg *string, keyUnseen bool) (_ domain.SensorProvisioning, err error) {
	defer wrap(&err, "store.RecordSensorProvisioning")
	if steps == nil {
		steps = []string{}
	}
	return txValue(ctx, db, func(tx pgx.Tx) (domain.SensorProvisioning, error) {
		return scanProvisioning(tx.QueryRow(ctx, `UPDATE sensors SET
			provisioning_steps = $3, provisioning_status = $4, provisioning_error = $5,
			provisioning_key_unseen = $6, provisioning_updated_at = now(), updated_at = now()
		WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL
		RETURNING `+provisioningColumns, orgID, sensorID, steps, status, errMsg, keyUnseen))
	})
}
