-- +goose Up
-- Issue 14: what the alert engine and the sweeper now judge.
--
-- Check-ins per measured quantity: last_temperature_at is the reading time of the newest
-- plausible temperature (of the unit; of each sensor), so a door-only or battery-only uplink no
-- longer passes for a check-in of a unit whose temperature is not being measured.
ALTER TABLE units ADD COLUMN last_temperature_at timestamptz;
ALTER TABLE sensors ADD COLUMN last_temperature_at timestamptz;
-- The best the history can say: the newest reading that carried a temperature.
UPDATE units u SET last_temperature_at = (SELECT max(r.recorded_at) FROM sensor_readings r
    WHERE r.unit_id = u.id AND r.temperature_c IS NOT NULL
        AND r.recorded_at > now() - interval '35 days' AND r.recorded_at <= now() + interval '1 day');
UPDATE sensors s SET last_temperature_at = (SELECT max(r.recorded_at) FROM sensor_readings r
    WHERE r.sensor_id = s.id AND r.temperature_c IS NOT NULL
        AND r.recorded_at > now() - interval '35 days' AND r.recorded_at <= now() + interval '1 day');

-- Suspected cooling failure (alerting.CoolingRule): warn when the temperature rises at least
-- cooling_slope_c_per_hour over the last cooling_readings readings while in range; 0 = off.
ALTER TABLE units ADD COLUMN cooling_slope_c_per_hour numeric(5,2) NOT NULL DEFAULT 1.5
    CONSTRAINT units_cooling_slope CHECK (cooling_slope_c_per_hour = 0 OR cooling_slope_c_per_hour BETWEEN 0.2 AND 50);
ALTER TABLE units ADD COLUMN cooling_readings smallint NOT NULL DEFAULT 15
    CONSTRAINT units_cooling_readings CHECK (cooling_readings BETWEEN 4 AND 30);

-- Recurring defrost schedule: [{"start_minute": 120, "duration_minutes": 45}], daily, in the
-- site's local time (validated by alerting.CheckDefrostSchedule; the CHECK keeps the shape).
ALTER TABLE units ADD COLUMN defrost_schedule jsonb NOT NULL DEFAULT '[]'
    CONSTRAINT units_defrost_schedule_array CHECK (jsonb_typeof(defrost_schedule) = 'array' AND jsonb_array_length(defrost_schedule) <= 12);

-- Door open too long: warning and critical after these minutes from the real open transition
-- (the values every unit had, hard-coded).
ALTER TABLE units ADD COLUMN door_warn_minutes integer NOT NULL DEFAULT 5
    CONSTRAINT units_door_warn CHECK (door_warn_minutes BETWEEN 1 AND 1440);
ALTER TABLE units ADD COLUMN door_critical_minutes integer NOT NULL DEFAULT 15;
ALTER TABLE units ADD CONSTRAINT units_door_critical CHECK (door_critical_minutes > door_warn_minutes AND door_critical_minutes <= 1440);

-- +goose Down
ALTER TABLE units DROP COLUMN door_critical_minutes, DROP COLUMN door_warn_minutes, DROP COLUMN defrost_schedule,
    DROP COLUMN cooling_readings, DROP COLUMN cooling_slope_c_per_hour, DROP COLUMN last_temperature_at;
ALTER TABLE sensors DROP COLUMN last_temperature_at;
