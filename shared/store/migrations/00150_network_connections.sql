-- +goose Up
-- Any LoRaWAN network (issue 15). An organisation's connections are per
-- network: ttn_connections becomes network_connections with a kind ('ttn',
-- 'chirpstack'). Every existing row is a TTN connection and keeps its id,
-- secret hash, application and TTN management columns: its webhook keeps
-- working unchanged. The uplink dedupe keys (uplink_dedupe, was ttn_uplinks)
-- and unclaimed devices were already namespaced by connection; their columns
-- drop the "ttn_" of their names.
ALTER TABLE ttn_connections RENAME TO network_connections;
-- 'ttn' by default: every connection was a TTN one, and onboarding still creates one.
ALTER TABLE network_connections ADD COLUMN kind text NOT NULL DEFAULT 'ttn';
-- +goose StatementBegin
DO $$
DECLARE c record;
BEGIN
    FOR c IN SELECT conname FROM pg_constraint WHERE conrelid = 'network_connections'::regclass AND conname LIKE 'ttn\_connections\_%' LOOP
        EXECUTE format('ALTER TABLE network_connections RENAME CONSTRAINT %I TO %I', c.conname, replace(c.conname, 'ttn_connections_', 'network_connections_'));
    END LOOP;
END $$;
-- +goose StatementEnd
ALTER INDEX ttn_connections_org_idx RENAME TO network_connections_org_idx;
ALTER TABLE network_connections
    ADD CONSTRAINT network_connections_kind_check CHECK (kind IN ('ttn', 'chirpstack')),
    -- The ChirpStack tenant (a UUID) a ChirpStack connection is bound to; NULL = any.
    ADD COLUMN tenant_id text CHECK (tenant_id ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'),
    ADD CONSTRAINT network_connections_tenant_check CHECK (kind = 'chirpstack' OR tenant_id IS NULL),
    -- The Things Stack's management (API keys, cluster, webhook, gateways) is TTN's only.
    ADD CONSTRAINT network_connections_ttn_columns_check CHECK (kind = 'ttn' OR (api_key_ciphertext IS NULL
        AND cluster IS NULL AND rights IS NULL AND webhook_id IS NULL AND webhook_configured_at IS NULL
        AND gateway_owner_type IS NULL AND gateway_api_key_ciphertext IS NULL AND gateway_rights IS NULL)),
    -- An application id is unique within its network (TTN application ids per deployment,
    -- ChirpStack application UUIDs): one organisation holds it.
    DROP CONSTRAINT network_connections_application_id_key,
    ADD CONSTRAINT network_connections_application_key UNIQUE (kind, application_id);
-- One ChirpStack connection per organisation (PUT .../network-connections/chirpstack).
CREATE UNIQUE INDEX network_connections_one_chirpstack_key ON network_connections (organization_id) WHERE kind = 'chirpstack';

ALTER TABLE ttn_uplinks RENAME TO uplink_dedupe;
ALTER TABLE uplink_dedupe RENAME COLUMN ttn_connection_id TO connection_id;
ALTER TABLE uplink_dedupe RENAME CONSTRAINT ttn_uplinks_pkey TO uplink_dedupe_pkey;
ALTER TABLE uplink_dedupe RENAME CONSTRAINT ttn_uplinks_connection_fkey TO uplink_dedupe_connection_fkey;
ALTER TABLE uplink_dedupe RENAME CONSTRAINT ttn_uplinks_organization_id_fkey TO uplink_dedupe_organization_id_fkey;
ALTER INDEX ttn_uplinks_received_at_idx RENAME TO uplink_dedupe_received_at_idx;
ALTER INDEX ttn_uplinks_org_idx RENAME TO uplink_dedupe_org_idx;

ALTER TABLE unclaimed_devices RENAME COLUMN ttn_connection_id TO connection_id;
-- the network's name of the device (TTN device_id, ChirpStack deviceName)
ALTER TABLE unclaimed_devices RENAME COLUMN ttn_device_id TO device_name;

-- A sensor's probe setting: which of its model's probes measures the unit (NULL = the model's
-- default; the api checks it against the model), and when the device last joined its network.
ALTER TABLE sensors
    ADD COLUMN probe text CHECK (probe ~ '^[a-z0-9][a-z0-9-]{0,31}$'),
    ADD COLUMN last_joined_at timestamptz;

-- Readings name the network that delivered them. The new check is implied by the old one, so
-- existing rows satisfy it: NOT VALID skips the scan of every partition.
ALTER TABLE sensor_readings
    DROP CONSTRAINT sensor_readings_source_check,
    ADD CONSTRAINT sensor_readings_source_check CHECK (source IN ('ttn', 'chirpstack', 'manual', 'api')) NOT VALID;

-- +goose Down
-- A ChirpStack reading keeps its row, as a reading from an outside system.
UPDATE sensor_readings SET source = 'api' WHERE source = 'chirpstack';
ALTER TABLE sensor_readings
    DROP CONSTRAINT sensor_readings_source_check,
    ADD CONSTRAINT sensor_readings_source_check CHECK (source IN ('ttn', 'manual', 'api')) NOT VALID;
ALTER TABLE sensors DROP COLUMN last_joined_at, DROP COLUMN probe;
-- Networks other than TTN had no place before: their connections go (with their dedupe keys
-- and unclaimed devices, by cascade).
DELETE FROM network_connections WHERE kind <> 'ttn';
ALTER TABLE unclaimed_devices RENAME COLUMN device_name TO ttn_device_id;
ALTER TABLE unclaimed_devices RENAME COLUMN connection_id TO ttn_connection_id;
ALTER INDEX uplink_dedupe_org_idx RENAME TO ttn_uplinks_org_idx;
ALTER INDEX uplink_dedupe_received_at_idx RENAME TO ttn_uplinks_received_at_idx;
ALTER TABLE uplink_dedupe RENAME CONSTRAINT uplink_dedupe_organization_id_fkey TO ttn_uplinks_organization_id_fkey;
ALTER TABLE uplink_dedupe RENAME CONSTRAINT uplink_dedupe_connection_fkey TO ttn_uplinks_connection_fkey;
ALTER TABLE uplink_dedupe RENAME CONSTRAINT uplink_dedupe_pkey TO ttn_uplinks_pkey;
ALTER TABLE uplink_dedupe RENAME COLUMN connection_id TO ttn_connection_id;
ALTER TABLE uplink_dedupe RENAME TO ttn_uplinks;
DROP INDEX network_connections_one_chirpstack_key;
ALTER TABLE network_connections
    DROP CONSTRAINT network_connections_application_key,
    ADD CONSTRAINT network_connections_application_id_key UNIQUE (application_id),
    DROP CONSTRAINT network_connections_ttn_columns_check,
    DROP CONSTRAINT network_connections_tenant_check,
    DROP COLUMN tenant_id,
    DROP CONSTRAINT network_connections_kind_check,
    DROP COLUMN kind;
ALTER INDEX network_connections_org_idx RENAME TO ttn_connections_org_idx;
-- +goose StatementBegin
DO $$
DECLARE c record;
BEGIN
    FOR c IN SELECT conname FROM pg_constraint WHERE conrelid = 'network_connections'::regclass AND conname LIKE 'network\_connections\_%' LOOP
        EXECUTE format('ALTER TABLE network_connections RENAME CONSTRAINT %I TO %I', c.conname, replace(c.conname, 'network_connections_', 'ttn_connections_'));
    END LOOP;
END $$;
-- +goose StatementEnd
ALTER TABLE network_connections RENAME TO ttn_connections;
