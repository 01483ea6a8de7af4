-- +goose Up
-- Battery thresholds per sensor model (issue 14: 2.5 V and 10 % were hard-coded for every
-- device, whatever its chemistry). A model's row overrides the defaults for every sensor of the
-- organisation whose model is that name (compared trimmed and case-insensitively).
CREATE TABLE sensor_model_settings (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id     uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    model               text NOT NULL CHECK (btrim(model) <> '' AND length(model) <= 100),
    model_key           text GENERATED ALWAYS AS (upper(btrim(model))) STORED,
    low_battery_volts   numeric(4,3) NOT NULL CHECK (low_battery_volts BETWEEN 1 AND 4.5),
    low_battery_percent smallint NOT NULL CHECK (low_battery_percent BETWEEN 1 AND 80),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sensor_model_settings_model_key UNIQUE (organization_id, model_key)
);

-- +goose Down
DROP TABLE sensor_model_settings;
