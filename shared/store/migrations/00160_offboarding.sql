-- +goose Up
-- Offboarding: an owner asks for an export of everything the organisation holds, and for
-- the organisation's deletion, which happens after a grace period (and can be cancelled
-- until then). docs/DATA_MODEL.md "Offboarding".
ALTER TABLE organizations
    ADD COLUMN deletion_requested_at timestamptz,
    -- the requesting user's id; no foreign key: the audit must not depend on that row
    ADD COLUMN deletion_requested_by uuid,
    ADD COLUMN deletion_due_at timestamptz,
    ADD CONSTRAINT organizations_deletion_check
        CHECK ((deletion_requested_at IS NULL) = (deletion_due_at IS NULL));
CREATE INDEX organizations_deletion_due_idx ON organizations (deletion_due_at) WHERE deletion_due_at IS NOT NULL;

-- An export: a zip of every table's rows of the organisation (CSV, one file per table)
-- under exports/<org>/ in the bucket (expired by the bucket's lifecycle), built by the
-- sweeper and announced to the requester by e-mail with a download link.
CREATE TABLE organization_exports (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
    requested_by    uuid,
    email           text NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'ready', 'failed')),
    s3_key          text,
    size_bytes      bigint,
    tables          jsonb,
    error           text,
    attempts        int NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    completed_at    timestamptz
);
CREATE INDEX organization_exports_pending_idx ON organization_exports (created_at) WHERE status = 'pending';
CREATE INDEX organization_exports_org_idx ON organization_exports (organization_id, created_at DESC);

-- What was deleted, kept outside the deleted data: no foreign key, no cascade, and no
-- organization_id column (every table with one holds rows that go with the organisation;
-- the deletion test checks them all). The organisation's own audit_log goes with it; this
-- row is the proof that it went.
CREATE TABLE organization_deletions (
    deleted_organization_id uuid PRIMARY KEY,
    organization_name text NOT NULL,
    requested_by      uuid,
    requested_at      timestamptz NOT NULL,
    deleted_at        timestamptz NOT NULL DEFAULT now(),
    rows_deleted      jsonb NOT NULL,
    objects_deleted   int NOT NULL
);

-- +goose Down
DROP TABLE organization_deletions;
DROP TABLE organization_exports;
ALTER TABLE organizations DROP CONSTRAINT organizations_deletion_check,
    DROP COLUMN deletion_due_at, DROP COLUMN deletion_requested_by, DROP COLUMN deletion_requested_at;
