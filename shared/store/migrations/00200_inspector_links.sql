-- +goose Up
-- Issue 20: inspector share links and corrective actions. docs/DATA_MODEL.md.
--
-- A share link lets an inspector without an account read the HACCP reports and the unit data
-- of some sites over a date range, until it expires (at most 30 days after it was made) or is
-- revoked. The token is random (256 bits) and not a Stack Auth JWT; only its SHA-256 is kept,
-- with its last 4 characters to tell links apart. Revoking keeps the row (its uses stay in
-- the audit trail, which names it).
CREATE TABLE inspector_links (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name            text NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 200),
    -- the sites the link shows (at least one; checked live at every use: a deleted site
    -- drops out of the scope)
    site_ids        uuid[] NOT NULL CHECK (cardinality(site_ids) BETWEEN 1 AND 200),
    -- the readings' dates the link shows, inclusive, as local dates of each unit
    period_from     date NOT NULL,
    period_to       date NOT NULL,
    token_hash      bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    token_last4     text NOT NULL,
    created_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    revoked_at      timestamptz,
    revoked_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    last_used_at    timestamptz,
    use_count       bigint NOT NULL DEFAULT 0,
    CONSTRAINT inspector_links_period CHECK (period_to >= period_from AND period_to - period_from <= 366),
    CONSTRAINT inspector_links_expiry CHECK (expires_at > created_at AND expires_at <= created_at + interval '30 days'),
    UNIQUE (id, organization_id)
);
CREATE INDEX inspector_links_org_idx ON inspector_links (organization_id, created_at DESC, id DESC);

-- Every use of a link is a line of the organisation's audit trail, with the link as actor.
ALTER TABLE audit_log DROP CONSTRAINT audit_log_actor_type_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_actor_type_check
    CHECK (actor_type IN ('user', 'system', 'provider', 'inspector_link'));

-- What was done about the food when an alert was handled (HACCP corrective actions):
-- discarded, moved to another unit, core temperature checked, equipment adjusted, other.
-- Recorded when the alert is resolved or afterwards, never changed; shown in the reports.
CREATE TABLE corrective_actions (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id    uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    alert_id           uuid NOT NULL,
    action             text NOT NULL CHECK (action IN
                           ('discarded', 'moved', 'core_temperature_checked', 'equipment_adjusted', 'other')),
    core_temperature_c numeric(6,2) CHECK (core_temperature_c BETWEEN -100 AND 150),
    moved_to_unit_id   uuid,
    note               text CHECK (length(note) <= 2000),
    recorded_by        uuid REFERENCES users (id) ON DELETE SET NULL,
    recorded_at        timestamptz NOT NULL DEFAULT now(),
    -- the order of insertion: actions recorded together share recorded_at and keep the order given
    seq                bigint GENERATED ALWAYS AS IDENTITY,
    FOREIGN KEY (alert_id, organization_id) REFERENCES alerts (id, organization_id) ON DELETE CASCADE,
    FOREIGN KEY (moved_to_unit_id, organization_id) REFERENCES units (id, organization_id),
    CONSTRAINT corrective_actions_core_temperature CHECK ((action = 'core_temperature_checked') = (core_temperature_c IS NOT NULL)),
    CONSTRAINT corrective_actions_other_note CHECK (action <> 'other' OR btrim(coalesce(note, '')) <> '')
);
CREATE INDEX corrective_actions_alert_idx ON corrective_actions (organization_id, alert_id, recorded_at, seq);

-- +goose Down
DROP TABLE corrective_actions;
DELETE FROM audit_log WHERE actor_type = 'inspector_link';
ALTER TABLE audit_log DROP CONSTRAINT audit_log_actor_type_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_actor_type_check CHECK (actor_type IN ('user', 'system', 'provider'));
DROP TABLE inspector_links;
