-- +goose Up
-- Retention of raw readings (docs/DATA_MODEL.md "Retention"): a month of an organisation's
-- readings older than its plan's retention is exported to the bucket (gzipped CSV,
-- archive/<org>/readings/<YYYY-MM>.csv.gz), rolled up per unit and hour, and deleted; a
-- monthly partition whose every organisation is archived is detached and dropped.

-- Hourly rollups per unit: what charts read for hours whose raw readings are gone. sum_c
-- (not an average) so that hours re-aggregate exactly into days.
CREATE TABLE sensor_readings_hourly (
    organization_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    unit_id         uuid NOT NULL,
    hour            timestamptz NOT NULL,
    min_c           numeric(6,2) NOT NULL,
    max_c           numeric(6,2) NOT NULL,
    sum_c           numeric(16,2) NOT NULL,
    count           int NOT NULL CHECK (count > 0),
    PRIMARY KEY (unit_id, hour),
    FOREIGN KEY (unit_id, organization_id) REFERENCES units (id, organization_id) ON DELETE CASCADE
);

-- One row per organisation and month archived: the object, and how many readings it holds.
CREATE TABLE readings_archives (
    organization_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    month           date NOT NULL CHECK (extract(day FROM month) = 1),
    s3_key          text NOT NULL,
    rows            bigint NOT NULL,
    bytes           bigint NOT NULL,
    archived_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, month)
);

-- +goose Down
DROP TABLE readings_archives;
DROP TABLE sensor_readings_hourly;
