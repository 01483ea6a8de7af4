-- +goose Up
-- Gateway management in The Things Stack. An application API key has no rights on gateways (TTN
-- keys belong to one entity), so registering gateways takes a second key: a user or organisation
-- API key, sealed like the application key (AES-256-GCM under TTN_ENCRYPTION_KEY, bound to the
-- organisation and to its use) and shown only as its last 4 characters. The gateways are
-- registered with that TTN user or organisation (gateway_owner_type/_id) as owner.
ALTER TABLE ttn_connections
    ADD COLUMN gateway_owner_type             text CHECK (gateway_owner_type IN ('user', 'organization')),
    ADD COLUMN gateway_owner_id               text CHECK (gateway_owner_id ~ '^[a-z0-9](?:-?[a-z0-9])+$'),
    ADD COLUMN gateway_api_key_ciphertext     bytea,
    ADD COLUMN gateway_api_key_last4          text CHECK (length(gateway_api_key_last4) = 4),
    ADD COLUMN gateway_rights                 jsonb,
    ADD COLUMN gateway_credentials_updated_at timestamptz,
    -- all or nothing: a key without its owner (or the reverse) registers nothing
    ADD CONSTRAINT ttn_connections_gateway_credentials_check CHECK (
        (gateway_owner_type IS NULL) = (gateway_owner_id IS NULL)
        AND (gateway_owner_type IS NULL) = (gateway_api_key_ciphertext IS NULL)
        AND (gateway_api_key_ciphertext IS NULL) = (gateway_api_key_last4 IS NULL));

-- An organisation's LoRaWAN gateways, registered in The Things Stack through the api. A row is
-- written 'pending' before TTN is called and settles on 'registered', or on 'failed' when TTN's
-- outcome is unknown (timeout, 5xx: the gateway may exist there), so the list always shows what
-- may be in TTN and a retry or a delete settles it. A refusal (4xx) of a first attempt deletes the
-- row: nothing was created. Soft delete (deleted_at) = deregistered from TTN.
CREATE TABLE gateways (
    id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id         uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- where it is installed; NULL = not placed
    site_id                 uuid,
    -- TTN's gateway id (its rules: 3 to 36 lower-case letters, digits and single dashes)
    gateway_id              text NOT NULL CHECK (length(gateway_id) BETWEEN 3 AND 36
                                AND gateway_id ~ '^[a-z0-9](?:-?[a-z0-9])+$'),
    -- 16 upper-case hex digits: the application normalises input
    gateway_eui             char(16) NOT NULL CHECK (gateway_eui ~ '^[0-9A-F]{16}$'),
    name                    text CHECK (btrim(name) <> ''),
    frequency_plan_id       text NOT NULL CHECK (btrim(frequency_plan_id) <> ''),
    -- the cluster whose Gateway Server the gateway connects to (its status is asked there)
    cluster                 text NOT NULL CHECK (cluster IN ('eu1', 'nam1', 'au1')),
    provisioning_status     text NOT NULL DEFAULT 'pending'
        CHECK (provisioning_status IN ('pending', 'registered', 'failed', 'deregistering')),
    provisioning_error      text,
    provisioning_updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at              timestamptz,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT gateways_site_fk FOREIGN KEY (site_id, organization_id)
        REFERENCES sites (id, organization_id) ON DELETE SET NULL (site_id),
    CONSTRAINT gateways_id_org_key UNIQUE (id, organization_id)
);
-- TTN ids and EUIs are global: one live registration of each across all organisations. Deleted
-- rows do not count (TTN releases a deleted gateway's EUI; its id stays taken in TTN, which
-- answers 409 if it is registered again).
CREATE UNIQUE INDEX gateways_gateway_id_live_key ON gateways (gateway_id) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX gateways_gateway_eui_live_key ON gateways (gateway_eui) WHERE deleted_at IS NULL;
-- listing (keyset on created_at, id), the org cascade
CREATE INDEX gateways_org_created_idx ON gateways (organization_id, created_at, id);
-- the cascade from sites
CREATE INDEX gateways_site_idx ON gateways (site_id) WHERE site_id IS NOT NULL;

-- +goose Down
DROP TABLE IF EXISTS gateways;
ALTER TABLE ttn_connections
    DROP CONSTRAINT IF EXISTS ttn_connections_gateway_credentials_check,
    DROP COLUMN IF EXISTS gateway_credentials_updated_at,
    DROP COLUMN IF EXISTS gateway_rights,
    DROP COLUMN IF EXISTS gateway_api_key_last4,
    DROP COLUMN IF EXISTS gateway_api_key_ciphertext,
    DROP COLUMN IF EXISTS gateway_owner_id,
    DROP COLUMN IF EXISTS gateway_owner_type;
