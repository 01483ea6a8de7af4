-- +goose Up
-- Importing an organisation from the origin (the Node backend's database,
-- `frostguard import-origin`, shared/originimport). An import writes for
-- minutes or hours, and is resumable after a kill: its rows exist long
-- before they are complete. The organisation is therefore created with
-- import_state = 'importing' and every function ignores it until the last
-- transaction of the import clears the state: the api (no member reaches
-- it, /me does not list it), the ttn-webhook (its application answers 202
-- "importing" and stores nothing), the alert-sweeper (no check-in, door or
-- escalation judgement) and the telnyx-webhook (no ACK matches its alerts).
-- NULL = a live organisation. Organisations are never hidden again once live
-- (a later import of the same organisation is a delta into a live one).
ALTER TABLE organizations ADD COLUMN import_state text CHECK (import_state IN ('importing'));
-- The filters read "organization_id NOT IN (SELECT id FROM organizations
-- WHERE import_state IS NOT NULL)": a hashed subplan over this tiny index.
CREATE INDEX organizations_importing_idx ON organizations (id) WHERE import_state IS NOT NULL;

-- One row per organisation that came from the origin: where from, when it
-- became visible, and the report of its last run (the same JSON the command
-- prints and writes to a file).
CREATE TABLE origin_imports (
    organization_id uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    -- the origin database as "host:port/dbname" (never its credentials)
    origin          text NOT NULL,
    started_at      timestamptz NOT NULL DEFAULT now(),
    -- when import_state was cleared (NULL while the first import is unfinished)
    activated_at    timestamptz,
    last_run_at     timestamptz NOT NULL DEFAULT now(),
    runs            integer NOT NULL DEFAULT 1 CHECK (runs >= 1),
    report          jsonb
);

-- Where the copy of each table of an organisation stands, written in the
-- same transaction as the rows it counts: a killed import resumes from the
-- last committed checkpoint and never writes a row twice. position is the
-- readings' keyset (unit_id, recorded_at, id in origin order); the smaller
-- tables are copied in one transaction each and only record that they are
-- done.
CREATE TABLE origin_import_checkpoints (
    organization_id uuid NOT NULL REFERENCES origin_imports (organization_id) ON DELETE CASCADE,
    table_name      text NOT NULL,
    done            boolean NOT NULL DEFAULT false,
    position        jsonb,
    rows            bigint NOT NULL DEFAULT 0 CHECK (rows >= 0),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, table_name)
);

-- +goose Down
-- An organisation still importing is incomplete: without the column it
-- would become visible half-copied.
DELETE FROM organizations WHERE import_state IS NOT NULL;
DROP TABLE origin_import_checkpoints;
DROP TABLE origin_imports;
ALTER TABLE organizations DROP COLUMN import_state;
