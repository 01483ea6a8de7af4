-- +goose Up
-- Uplink dedupe keys are namespaced by the connection that delivered them:
-- a correlation id is only unique inside one The Things Stack deployment,
-- and a global key let another tenant's delivery (carrying the same id, by
-- accident or on purpose) turn a real uplink into a "duplicate".
ALTER TABLE ttn_uplinks ADD COLUMN ttn_connection_id uuid;
-- Existing keys go to their organisation's oldest connection (an
-- organisation with several: a replay of the others' recent uplinks is
-- stored late rather than called a duplicate; readings stay unique by
-- sensor and time). Keys of organisations without one are of no use.
UPDATE ttn_uplinks u SET ttn_connection_id = (SELECT c.id FROM ttn_connections c
    WHERE c.organization_id = u.organization_id ORDER BY c.created_at, c.id LIMIT 1);
DELETE FROM ttn_uplinks WHERE ttn_connection_id IS NULL;
ALTER TABLE ttn_uplinks
    ALTER COLUMN ttn_connection_id SET NOT NULL,
    DROP CONSTRAINT ttn_uplinks_pkey,
    ADD CONSTRAINT ttn_uplinks_pkey PRIMARY KEY (ttn_connection_id, dedupe_key),
    ADD CONSTRAINT ttn_uplinks_connection_fkey FOREIGN KEY (ttn_connection_id, organization_id)
        REFERENCES ttn_connections (id, organization_id) ON DELETE CASCADE;

-- +goose Down
DELETE FROM ttn_uplinks a USING ttn_uplinks b
    WHERE a.dedupe_key = b.dedupe_key AND (a.received_at, a.ttn_connection_id) > (b.received_at, b.ttn_connection_id);
ALTER TABLE ttn_uplinks
    DROP CONSTRAINT ttn_uplinks_connection_fkey,
    DROP CONSTRAINT ttn_uplinks_pkey,
    ADD CONSTRAINT ttn_uplinks_pkey PRIMARY KEY (dedupe_key),
    DROP COLUMN ttn_connection_id;
