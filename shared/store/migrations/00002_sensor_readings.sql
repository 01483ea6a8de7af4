-- +goose Up
-- sensor_readings: grows without bound (~100M rows). Monthly RANGE partitions on recorded_at,
-- named sensor_readings_yYYYYmMM (UTC months), created ahead of time by
-- ensure_sensor_readings_partitions(), which the alert-sweeper calls daily. A DEFAULT partition
-- catches anything outside the created months so an insert never fails. It should stay empty:
-- the function moves its rows into a month's partition when that month is created.
--
-- Every query must filter on recorded_at so that partitions are pruned.

-- bigserial-style id from a sequence (identity columns on partitioned tables need PG17)
CREATE SEQUENCE sensor_readings_id_seq AS bigint;

CREATE TABLE sensor_readings (
    id               bigint NOT NULL DEFAULT nextval('sensor_readings_id_seq'),
    organization_id  uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    unit_id          uuid NOT NULL,
    -- NULL for manual/api readings, or once the sensor row is gone
    sensor_id        uuid,
    -- reading time: TTN received_at (the state machine runs on this). Partition key.
    recorded_at      timestamptz NOT NULL,
    -- when we stored it
    received_at      timestamptz NOT NULL DEFAULT now(),
    -- NULL for door-only / humidity-only payloads
    temperature_c    numeric(6,2),
    humidity         numeric(5,2) CHECK (humidity BETWEEN 0 AND 100),
    battery_percent  smallint CHECK (battery_percent BETWEEN 0 AND 100),
    battery_voltage  numeric(4,3),
    door_open        boolean,
    -- radio metrics of the best gateway
    rssi             smallint,
    snr              numeric(5,2),
    gateway_count    smallint,
    spreading_factor smallint,
    f_cnt            bigint,
    source           text NOT NULL DEFAULT 'ttn' CHECK (source IN ('ttn', 'manual', 'api')),
    -- the uplink as received, for audit
    raw              jsonb,
    -- a primary key on a partitioned table must include the partition key
    PRIMARY KEY (id, recorded_at),
    CONSTRAINT sensor_readings_unit_fk FOREIGN KEY (unit_id, organization_id)
        REFERENCES units (id, organization_id) ON DELETE CASCADE,
    CONSTRAINT sensor_readings_sensor_fk FOREIGN KEY (sensor_id, organization_id)
        REFERENCES sensors (id, organization_id) ON DELETE SET NULL (sensor_id)
) PARTITION BY RANGE (recorded_at);

ALTER SEQUENCE sensor_readings_id_seq OWNED BY sensor_readings.id;

-- Indexes declared on the parent: every partition (present and future) gets them.
-- A unit's time range (GET .../readings?from=&to=, charts): one index range scan per month.
-- INCLUDE makes the bucketed chart query (org filter, min/avg/max of temperature) index-only:
-- measured at 10 M rows, 83 instead of ~6,100 pages read per 30-day request (p50 9 -> 4.5 ms).
CREATE INDEX sensor_readings_unit_time_idx ON sensor_readings (unit_id, recorded_at)
    INCLUDE (organization_id, temperature_c);
-- org-wide exports and the ON DELETE CASCADE from organizations
CREATE INDEX sensor_readings_org_time_idx ON sensor_readings (organization_id, recorded_at);
-- One reading per sensor per instant: a permanent second line of dedupe behind ttn_uplinks
-- (which is pruned). Insert TTN readings with ON CONFLICT DO NOTHING.
-- Also serves the ON DELETE SET NULL from sensors.
CREATE UNIQUE INDEX sensor_readings_sensor_time_key ON sensor_readings (sensor_id, recorded_at);

CREATE TABLE sensor_readings_default PARTITION OF sensor_readings DEFAULT;

-- Creates the monthly partitions from months_back months before the current UTC month through
-- months_ahead months after it. Returns how many it created. Idempotent, and safe to call
-- concurrently (advisory lock).
--
-- Each month is created as a standalone table, filled with the rows of that month that the
-- DEFAULT partition holds (DELETE ... RETURNING), then ATTACHed. ATTACH takes only a SHARE
-- UPDATE EXCLUSIVE lock on sensor_readings (CREATE TABLE ... PARTITION OF would take ACCESS
-- EXCLUSIVE and block ingest), and a plain PARTITION OF would fail outright if the default
-- partition held rows of that month.
--
-- SECURITY DEFINER so that a least-privileged runtime role (the sweeper) can call it. Runs as
-- the migration owner, who owns sensor_readings and the new partitions.
-- +goose StatementBegin
CREATE FUNCTION ensure_sensor_readings_partitions(months_back integer, months_ahead integer)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path FROM CURRENT
AS $$
DECLARE
    parent        regclass := 'sensor_readings'::regclass;
    default_part  regclass := 'sensor_readings_default'::regclass;
    parent_schema text;
    first_month   date;
    month_start   date;
    part_name     text;
    part_rel      regclass;
    bound_from    text;
    bound_to      text;
    created       integer := 0;
BEGIN
    IF months_back IS NULL OR months_ahead IS NULL
       OR months_back NOT BETWEEN 0 AND 120 OR months_ahead NOT BETWEEN 0 AND 120 THEN
        RAISE EXCEPTION 'ensure_sensor_readings_partitions: months_back and months_ahead must be between 0 and 120 (got %, %)',
            months_back, months_ahead;
    END IF;

    -- serialise concurrent callers (two sweepers, sweeper + migrate)
    PERFORM pg_advisory_xact_lock(hashtext('ensure_sensor_readings_partitions'));

    SELECT n.nspname INTO parent_schema
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = parent;

    first_month := (date_trunc('month', now() AT TIME ZONE 'UTC')
                    - make_interval(months => months_back))::date;

    FOR i IN 0 .. months_back + months_ahead LOOP
        month_start := (first_month + make_interval(months => i))::date;
        part_name   := format('sensor_readings_y%sm%s', to_char(month_start, 'YYYY'), to_char(month_start, 'MM'));
        -- explicit UTC offsets: bounds do not depend on the session's TimeZone
        bound_from  := to_char(month_start, 'YYYY-MM-DD') || ' 00:00:00+00';
        bound_to    := to_char((month_start + interval '1 month')::date, 'YYYY-MM-DD') || ' 00:00:00+00';

        part_rel := to_regclass(format('%I.%I', parent_schema, part_name));
        IF part_rel IS NOT NULL THEN
            IF NOT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = part_rel AND inhparent = parent) THEN
                RAISE EXCEPTION 'ensure_sensor_readings_partitions: % exists but is not a partition of sensor_readings',
                    part_name;
            END IF;
            CONTINUE;
        END IF;

        EXECUTE format('CREATE TABLE %I.%I (LIKE %s INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION)',
                       parent_schema, part_name, parent);

        EXECUTE format('WITH moved AS (DELETE FROM %s WHERE recorded_at >= $1 AND recorded_at < $2 RETURNING *) '
                       'INSERT INTO %I.%I SELECT * FROM moved',
                       default_part, parent_schema, part_name)
            USING bound_from::timestamptz, bound_to::timestamptz;

        -- builds the parent's indexes, clones its FKs, and checks the bounds
        EXECUTE format('ALTER TABLE %s ATTACH PARTITION %I.%I FOR VALUES FROM (%L) TO (%L)',
                       parent, parent_schema, part_name, bound_from, bound_to);

        created := created + 1;
    END LOOP;

    RETURN created;
END;
$$;
-- +goose StatementEnd

-- The sweeper's daily call: from the current month through months_ahead months ahead.
-- +goose StatementBegin
CREATE FUNCTION ensure_sensor_readings_partitions(months_ahead integer)
RETURNS integer
LANGUAGE sql
SECURITY DEFINER
SET search_path FROM CURRENT
AS $$
    SELECT ensure_sensor_readings_partitions(0, months_ahead);
$$;
-- +goose StatementEnd

-- previous month through 3 months ahead
SELECT ensure_sensor_readings_partitions(1, 3);

-- +goose Down
DROP FUNCTION IF EXISTS ensure_sensor_readings_partitions(integer);
DROP FUNCTION IF EXISTS ensure_sensor_readings_partitions(integer, integer);
-- drops every partition, and the sequence it owns
DROP TABLE IF EXISTS sensor_readings;
