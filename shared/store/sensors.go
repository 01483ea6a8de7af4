package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/lorawan/decoders"
)

// sensorColumns are selected from sensors s LEFT JOIN units u (the assigned
// unit, for its name and check-in interval); scanSensor reads them.
const sensorColumns = `s.id, s.dev_eui, s.name, s.model, s.decoder, s.probe, s.unit_id, u.name,
	s.battery_percent, s.battery_voltage::float8, s.rssi, s.snr::float8, s.last_seen_at,
	u.checkin_interval_seconds, s.created_at, s.updated_at`

const sensorFrom = `sensors s
	LEFT JOIN units u ON u.id = s.unit_id AND u.organization_id = s.organization_id`

func scanSensor(row pgx.Row) (domain.Sensor, error) {
	var x domain.Sensor
	var battery, rssi *int16
	err := row.Scan(&x.ID, &x.DevEUI, &x.Name, &x.Model, &x.Decoder, &x.Probe, &x.UnitID, &x.UnitName,
		&battery, &x.BatteryVoltage, &rssi, &x.SNR, &x.LastSeenAt,
		&x.CheckinIntervalSeconds, &x.CreatedAt, &x.UpdatedAt)
	x.BatteryPercent = sensorInt(battery)
	x.RSSI = sensorInt(rssi)
	x.LastSeenAt = sensorUTC(x.LastSeenAt)
	x.CreatedAt, x.UpdatedAt = x.CreatedAt.UTC(), x.UpdatedAt.UTC()
	return x, err
}

func sensorInt(v *int16) *int {
	if v == nil {
		return nil
	}
	n := int(*v)
	return &n
}

// SensorFilter selects sensors of one organisation, in (created_at, id)
// order, after the cursor position (AfterID "" = from the start).
type SensorFilter struct {
	UnitID       string
	UpdatedSince time.Time
	AfterTime    time.Time
	AfterID      string
	Limit        int
}

// Sensors lists the organisation's registered (not deleted) sensors.
func (db *DB) Sensors(ctx context.Context, orgID string, f SensorFilter) (_ []domain.Sensor, err error) {
	defer wrap(&err, "store.Sensors")
	rows, err := db.pool.Query(ctx, `SELECT `+sensorColumns+` FROM `+sensorFrom+`
		WHERE s.organization_id = $1 AND s.deleted_at IS NULL
		AND ($2::uuid IS NULL OR s.unit_id = $2)
		AND ($3::timestamptz IS NULL OR s.updated_at > $3)
		AND ($4::uuid IS NULL OR (s.created_at, s.id) > ($5, $4))
		ORDER BY s.created_at, s.id LIMIT $6`,
		orgID, sensorNullString(f.UnitID), sensorNullTime(f.UpdatedSince), sensorNullString(f.AfterID), f.AfterTime, f.Limit)
	if err != nil {
		return nil, Classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.Sensor, error) { return scanSensor(r) })
	return out, Classify(err)
}

// Sensor returns one live sensor of the organisation.
func (db *DB) Sensor(ctx context.Context, orgID, id string) (_ domain.Sensor, err error) {
	defer wrap(&err, "store.Sensor")
	return getSensor(ctx, db.pool, orgID, id)
}

func getSensor(ctx context.Context, q sensorQueryRower, orgID, id string) (domain.Sensor, error) {
	x, err := scanSensor(q.QueryRow(ctx, `SELECT `+sensorColumns+` FROM `+sensorFrom+`
		WHERE s.organization_id = $1 AND s.id = $2 AND s.deleted_at IS NULL`, orgID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return x, apperr.New(apperr.NotFound, "sensor not found")
	}
	return x, Classify(err)
}

// sensorQueryRower is a pool or a transaction.
type sensorQueryRower interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// sensorNullString maps "" to SQL NULL (optional filters and ids).
func sensorNullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// sensorUTC returns t in UTC: the API answers UTC whatever the host's zone.
func sensorUTC(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// sensorNullTime maps the zero time to SQL NULL.
func sensorNullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// NewSensor is a registration. UnitID "" registers the sensor unassigned.
type NewSensor struct {
	DevEUI  string // normalised (domain.NormalizeDevEUI)
	Name    *string
	Model   *string
	Decoder *string
	Probe   *string // checked against the model (decoders.CheckProbe) by the caller
	UnitID  string
}

// RegisterSensor registers a sensor in the organisation and removes the
// device from the organisation's unclaimed list. Every registration takes a
// plan slot, installed in a unit or not (SensorLimit past the limit); a
// DevEUI is unique within the organisation only (Conflict), so another
// customer's registration neither blocks this one nor is revealed; a unit
// that is not a live unit of the organisation is a field error on unit_id.
func (db *DB) RegisterSensor(ctx context.Context, orgID string, n NewSensor) (_ domain.Sensor, err error) {
	defer wrap(&err, "store.RegisterSensor")
	var out domain.Sensor
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		if err := lockSensorCapacity(ctx, tx, orgID); err != nil {
			return err
		}
		if n.UnitID != "" {
			if err := requireLiveUnit(ctx, tx, orgID, n.UnitID); err != nil {
				return err
			}
		}
		var id string
		err := tx.QueryRow(ctx, `INSERT INTO sensors (organization_id, dev_eui, name, model, decoder, probe, unit_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			orgID, n.DevEUI, n.Name, n.Model, n.Decoder, n.Probe, sensorNullString(n.UnitID)).Scan(&id)
		if isDevEUITaken(err) {
			return apperr.New(apperr.Conflict, "this organization already has a sensor with DevEUI %s", n.DevEUI)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM unclaimed_devices WHERE organization_id = $1 AND dev_eui = $2`, orgID, n.DevEUI); err != nil {
			return err
		}
		out, err = getSensor(ctx, tx, orgID, id)
		return err
	})
	return out, err
}

func isDevEUITaken(err error) bool {
	return isUniqueViolation(err, "sensors_org_dev_eui_active_key")
}

// lockSensorCapacity checks, inside tx, that the organisation may register
// one more sensor. The organisation row stays locked until tx ends, so
// concurrent registrations count one after the other and cannot both take
// the last slot.
func lockSensorCapacity(ctx context.Context, tx pgx.Tx, orgID string) error {
	var plan string
	var limit int
	err := tx.QueryRow(ctx, `SELECT plan, sensor_limit FROM organizations WHERE id = $1 FOR UPDATE`, orgID).Scan(&plan, &limit)
	if errors.Is(err, pgx.ErrNoRows) {
		return apperr.New(apperr.NotFound, "organization not found")
	}
	if err != nil {
		return err
	}
	var registered int
	if err := tx.QueryRow(ctx, `SELECT `+registeredSensors("$1"), orgID).Scan(&registered); err != nil {
		return err
	}
	if !domain.MayRegisterSensor(registered, limit) {
		return apperr.New(apperr.SensorLimit, "%s", domain.SensorLimitMessage(registered, limit, plan))
	}
	return nil
}

// SensorChanges is a PATCH: nil fields are left alone; ClearX sets NULL.
type SensorChanges struct {
	Name, Model, Decoder  *string
	ClearName, ClearModel bool
	ClearDecoder          bool
	Probe                 *string
	ClearProbe            bool
	UnitID                *string // a unit id to assign
	Unassign              bool
}

// UpdateSensor applies changes to a live sensor of the organisation.
// Installing, moving or unassigning it does not change the plan's count:
// the registration holds the slot.
func (db *DB) UpdateSensor(ctx context.Context, orgID, id string, c SensorChanges) (_ domain.Sensor, err error) {
	defer wrap(&err, "store.UpdateSensor")
	var out domain.Sensor
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		var current *string
		var model, decoder, probe string
		err := tx.QueryRow(ctx, `SELECT unit_id, coalesce(model, ''), coalesce(decoder, ''), coalesce(probe, '') FROM sensors
			WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL FOR UPDATE`,
			orgID, id).Scan(&current, &model, &decoder, &probe)
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.New(apperr.NotFound, "sensor not found")
		}
		if err != nil {
			return err
		}
		// The probe setting must be a probe of the model the sensor has after the change (a
		// new model without a new probe keeps the setting only if the new model has that probe).
		model, decoder, probe = patched(model, c.Model, c.ClearModel), patched(decoder, c.Decoder, c.ClearDecoder), patched(probe, c.Probe, c.ClearProbe)
		if err := decoders.CheckProbe(decoder, model, probe); err != nil {
			return apperr.Validation(apperr.FieldError{Field: "probe", Message: err.Error()})
		}
		if c.UnitID != nil && (current == nil || *current != *c.UnitID) {
			if err := requireLiveUnit(ctx, tx, orgID, *c.UnitID); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `UPDATE sensors SET
			name = CASE WHEN $3 THEN NULL ELSE coalesce($4, name) END,
			model = CASE WHEN $5 THEN NULL ELSE coalesce($6, model) END,
			decoder = CASE WHEN $7 THEN NULL ELSE coalesce($8, decoder) END,
			unit_id = CASE WHEN $9 THEN NULL ELSE coalesce($10::uuid, unit_id) END,
			probe = CASE WHEN $11 THEN NULL ELSE coalesce($12, probe) END,
			updated_at = now()
			WHERE organization_id = $1 AND id = $2`,
			orgID, id, c.ClearName, c.Name, c.ClearModel, c.Model, c.ClearDecoder, c.Decoder, c.Unassign, c.UnitID, c.ClearProbe, c.Probe)
		if err != nil {
			return err
		}
		out, err = getSensor(ctx, tx, orgID, id)
		return err
	})
	if err != nil {
		return out, Classify(err)
	}
	return out, nil
}

// patched is a text column's value after a PATCH ("" for NULL).
func patched(current string, set *string, clear bool) string {
	switch {
	case clear:
		return ""
	case set != nil:
		return *set
	}
	return current
}

func requireLiveUnit(ctx context.Context, tx pgx.Tx, orgID, unitID string) error {
	var live bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM units WHERE id = $1 AND organization_id = $2 AND deleted_at IS NULL)`,
		unitID, orgID).Scan(&live); err != nil {
		return err
	}
	if !live {
		return apperr.Validation(apperr.FieldError{Field: "unit_id", Message: "is not a unit of this organization"})
	}
	return nil
}

// DeleteSensor unregisters a live sensor (soft delete). Its unit_id is kept
// so that history still says where it was installed; a deleted sensor no
// longer counts against the plan and its DevEUI may be registered again.
func (db *DB) DeleteSensor(ctx context.Context, orgID, id string) (err error) {
	defer wrap(&err, "store.DeleteSensor")
	return execChanged(ctx, db, apperr.New(apperr.NotFound, "sensor not found"), `UPDATE sensors SET deleted_at = now(), updated_at = now()
		WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL`, orgID, id)
}

// RestoreSensor registers again a sensor that was unregistered (deleted),
// with its history: it takes a plan slot again (SensorLimit past the
// limit), its DevEUI must not have been registered again meanwhile
// (Conflict), and it goes back into its unit when that unit is still live
// (else it comes back unassigned). Restoring a live sensor changes nothing.
func (db *DB) RestoreSensor(ctx context.Context, orgID, id string) (_ domain.Sensor, err error) {
	defer wrap(&err, "store.RestoreSensor")
	s, err := txValue(ctx, db, func(tx pgx.Tx) (domain.Sensor, error) {
		var deleted bool
		var devEUI string
		err := tx.QueryRow(ctx, `SELECT deleted_at IS NOT NULL, dev_eui FROM sensors WHERE organization_id = $1 AND id = $2 FOR UPDATE`,
			orgID, id).Scan(&deleted, &devEUI)
		if errors.Is(err, pgx.ErrNoRows) {
			return domain.Sensor{}, apperr.New(apperr.NotFound, "sensor not found")
		}
		if err != nil || !deleted {
			if err == nil {
				return getSensor(ctx, tx, orgID, id)
			}
			return domain.Sensor{}, err
		}
		if err := lockSensorCapacity(ctx, tx, orgID); err != nil {
			return domain.Sensor{}, err
		}
		_, err = tx.Exec(ctx, `UPDATE sensors s SET deleted_at = NULL, updated_at = now(),
				unit_id = CASE WHEN EXISTS (SELECT 1 FROM units u WHERE u.id = s.unit_id AND u.organization_id = s.organization_id
					AND u.deleted_at IS NULL) THEN s.unit_id END
			WHERE s.organization_id = $1 AND s.id = $2`, orgID, id)
		if isDevEUITaken(err) {
			return domain.Sensor{}, apperr.New(apperr.Conflict, "this organization registered DevEUI %s again since: remove that sensor first", devEUI)
		}
		if err != nil {
			return domain.Sensor{}, err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM unclaimed_devices WHERE organization_id = $1 AND dev_eui = $2`, orgID, devEUI); err != nil {
			return domain.Sensor{}, err
		}
		return getSensor(ctx, tx, orgID, id)
	})
	if err != nil {
		return s, Classify(err)
	}
	return s, nil
}

// UnclaimedDevices lists devices heard through the organisation's network
// connections but not registered, newest first (last_seen_at, id
// descending), before the cursor position (BeforeID "" = from the top).
func (db *DB) UnclaimedDevices(ctx context.Context, orgID string, beforeTime time.Time, beforeID string, limit int) (_ []domain.UnclaimedDevice, err error) {
	defer wrap(&err, "store.UnclaimedDevices")
	rows, err := db.pool.Query(ctx, `SELECT d.id, d.dev_eui, d.device_name, d.connection_id, c.kind, d.first_seen_at, d.last_seen_at, d.uplink_count
		FROM unclaimed_devices d JOIN network_connections c ON c.id = d.connection_id
		WHERE d.organization_id = $1
		AND NOT EXISTS (SELECT 1 FROM sensors s WHERE s.organization_id = $1 AND s.dev_eui = d.dev_eui AND s.deleted_at IS NULL)
		AND ($2::uuid IS NULL OR (d.last_seen_at, d.id) < ($3, $2))
		ORDER BY d.last_seen_at DESC, d.id DESC LIMIT $4`,
		orgID, sensorNullString(beforeID), beforeTime, limit)
	if err != nil {
		return nil, Classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.UnclaimedDevice, error) {
		var d domain.UnclaimedDevice
		err := r.Scan(&d.ID, &d.DevEUI, &d.TTNDeviceID, &d.TTNConnectionID, &d.Network, &d.FirstSeenAt, &d.LastSeenAt, &d.UplinkCount)
		d.FirstSeenAt, d.LastSeenAt = d.FirstSeenAt.UTC(), d.LastSeenAt.UTC()
		return d, err
	})
	return out, Classify(err)
}

// registeredSensors is the SQL expression counting the sensors that use a
// plan slot in the organisation orgExpr: every registration that is not
// deleted, installed in a unit or not (a registration holds its DevEUI in
// the organisation, so it is what the plan limits). Billing status and the
// limit check both use it, so they can never disagree.
func registeredSensors(orgExpr string) string {
	return `(SELECT count(*) FROM sensors se WHERE se.organization_id = ` + orgExpr + ` AND se.deleted_at IS NULL)`
}
