-- +goose Up
-- First-come global identifiers let a tenant squat on another customer's
-- device or application, and their 409s said who holds what.
--
-- A DevEUI is unique within an organisation only. Uplinks reach a sensor
-- through the connection that delivered them (application -> organisation
-- -> DevEUI), never through the DevEUI alone, so a registration in one
-- organisation can neither block another's nor receive its readings.
DROP INDEX sensors_dev_eui_active_key;
CREATE UNIQUE INDEX sensors_org_dev_eui_active_key ON sensors (organization_id, dev_eui) WHERE deleted_at IS NULL;
-- A connection is created with the organisation but names no application
-- until PUT .../ttn-connection/credentials has had The Things Stack confirm
-- the key's rights on it. Applications bound before this migration keep
-- their binding.
ALTER TABLE ttn_connections ALTER COLUMN application_id DROP NOT NULL;
-- The audit trail's actor filter (and the check that the actor belongs to
-- the organisation's trail) reads by actor.
CREATE INDEX audit_log_actor_idx ON audit_log (organization_id, actor_user_id, at DESC) WHERE actor_user_id IS NOT NULL;

-- +goose Down
DROP INDEX audit_log_actor_idx;
DELETE FROM ttn_connections WHERE application_id IS NULL;
ALTER TABLE ttn_connections ALTER COLUMN application_id SET NOT NULL;
-- The newest live registration of a DevEUI keeps it; older ones end.
UPDATE sensors s SET deleted_at = now(), updated_at = now()
    WHERE s.deleted_at IS NULL AND EXISTS (SELECT 1 FROM sensors n WHERE n.dev_eui = s.dev_eui AND n.deleted_at IS NULL
        AND (n.created_at, n.id) > (s.created_at, s.id));
DROP INDEX sensors_org_dev_eui_active_key;
CREATE UNIQUE INDEX sensors_dev_eui_active_key ON sensors (dev_eui) WHERE deleted_at IS NULL;
