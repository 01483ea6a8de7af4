package store

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
)

// SensorModels lists the organisation's sensor models: every model its
// live sensors name and every model with saved settings, each with its
// effective battery thresholds (the saved ones, else the defaults).
func (db *DB) SensorModels(ctx context.Context, orgID string) (_ []domain.SensorModel, err error) {
	defer wrap(&err, "store.SensorModels")
	rows, err := db.pool.Query(ctx, `WITH used AS (
			SELECT upper(btrim(model)) AS key, min(btrim(model)) AS model, count(*) AS sensors FROM sensors
			WHERE organization_id = $1 AND deleted_at IS NULL AND btrim(coalesce(model, '')) <> ''
			GROUP BY upper(btrim(model)))
		SELECT ms.id::text, coalesce(ms.model, u.model), coalesce(u.sensors, 0),
			coalesce(ms.low_battery_volts::float8, $2), coalesce(ms.low_battery_percent, $3), ms.updated_at
		FROM used u FULL JOIN (SELECT * FROM sensor_model_settings WHERE organization_id = $1) ms ON ms.model_key = u.key
		ORDER BY upper(coalesce(ms.model, u.model))`, orgID, domain.DefaultLowBatteryVolts, domain.DefaultLowBatteryPercent)
	if err != nil {
		return nil, Classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.SensorModel, error) {
		var m domain.SensorModel
		err := r.Scan(&m.ID, &m.Model, &m.Sensors, &m.LowBatteryVolts, &m.LowBatteryPercent, &m.UpdatedAt)
		m.Default = m.ID == nil
		if m.UpdatedAt != nil {
			t := m.UpdatedAt.UTC()
			m.UpdatedAt = &t
		}
		return m, err
	})
	if err != nil {
		return nil, Classify(err)
	}
	return out, nil
}

// SaveSensorModel creates or replaces a model's battery thresholds (the
// model matched trimmed and case-insensitively).
func (db *DB) SaveSensorModel(ctx context.Context, orgID string, in domain.SensorModel) (_ domain.SensorModel, err error) {
	defer wrap(&err, "store.SaveSensorModel")
	out := in
	err = db.pool.QueryRow(ctx, `INSERT INTO sensor_model_settings (organization_id, model, low_battery_volts, low_battery_percent)
		VALUES ($1, btrim($2), $3, $4)
		ON CONFLICT ON CONSTRAINT sensor_model_settings_model_key DO UPDATE SET model = EXCLUDED.model,
			low_battery_volts = EXCLUDED.low_battery_volts, low_battery_percent = EXCLUDED.low_battery_percent, updated_at = now()
		RETURNING id::text, model, updated_at,
			(SELECT count(*) FROM sensors WHERE organization_id = $1 AND deleted_at IS NULL AND upper(btrim(model)) = upper(btrim($2)))`,
		orgID, in.Model, in.LowBatteryVolts, in.LowBatteryPercent).Scan(&out.ID, &out.Model, &out.UpdatedAt, &out.Sensors)
	if err != nil {
		return out, Classify(err)
	}
	t := out.UpdatedAt.UTC()
	out.UpdatedAt, out.Default = &t, false
	return out, nil
}

// DeleteSensorModel removes a model's saved thresholds (its sensors go
// back to the defaults).
func (db *DB) DeleteSensorModel(ctx context.Context, orgID, id string) (err error) {
	defer wrap(&err, "store.DeleteSensorModel")
	tag, err := db.pool.Exec(ctx, `DELETE FROM sensor_model_settings WHERE organization_id = $1 AND id = $2`, orgID, id)
	switch {
	case err != nil:
		return Classify(err)
	case tag.RowsAffected() == 0:
		return apperr.New(apperr.NotFound, "sensor model settings not found")
	}
	return nil
}
