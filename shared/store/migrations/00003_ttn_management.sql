-- +goose Up
-- The Things Stack management: an organisation's TTN API key (sealed with AES-256-GCM under
-- TTN_ENCRYPTION_KEY, the organisation id as associated data; only the last 4 characters are
-- ever shown), its rights as last checked, and the webhook we configured on TTN.
ALTER TABLE ttn_connections
    ADD COLUMN api_key_ciphertext    bytea,
    ADD COLUMN api_key_last4         text CHECK (length(api_key_last4) = 4),
    ADD COLUMN cluster               text CHECK (cluster IN ('eu1', 'nam1', 'au1')),
    ADD COLUMN rights                jsonb,
    ADD COLUMN webhook_id            text,
    ADD COLUMN webhook_configured_at timestamptz,
    ADD CONSTRAINT ttn_connections_api_key_check
        CHECK ((api_key_ciphertext IS NULL) = (api_key_last4 IS NULL));

-- End device provisioning in TTN's four registries. provisioning_steps lists the registries
-- (identity_server, join_server, network_server, application_server) the device is currently
-- registered in, so a failure half-way is visible and a retry continues where it stopped.
ALTER TABLE sensors
    ADD COLUMN provisioning_status text NOT NULL DEFAULT 'none'
        CHECK (provisioning_status IN ('none', 'pending', 'provisioned', 'failed', 'deprovisioning')),
    ADD COLUMN provisioning_steps  jsonb NOT NULL DEFAULT '[]'::jsonb
        CHECK (jsonb_typeof(provisioning_steps) = 'array'),
    ADD COLUMN provisioning_error  text,
    -- the Join Server holds an AppKey we generated but never showed (the run failed after the
    -- Join Server step): the next run replaces it with a new one, which it shows
    ADD COLUMN provisioning_key_unseen boolean NOT NULL DEFAULT false,
    ADD COLUMN provisioning_updated_at timestamptz;

-- +goose Down
ALTER TABLE sensors
    DROP COLUMN IF EXISTS provisioning_updated_at,
    DROP COLUMN IF EXISTS provisioning_key_unseen,
    DROP COLUMN IF EXISTS provisioning_error,
    DROP COLUMN IF EXISTS provisioning_steps,
    DROP COLUMN IF EXISTS provisioning_status;
ALTER TABLE ttn_connections
    DROP CONSTRAINT IF EXISTS ttn_connections_api_key_check,
    DROP COLUMN IF EXISTS webhook_configured_at,
    DROP COLUMN IF EXISTS webhook_id,
    DROP COLUMN IF EXISTS rights,
    DROP COLUMN IF EXISTS cluster,
    DROP COLUMN IF EXISTS api_key_last4,
    DROP COLUMN IF EXISTS api_key_ciphertext;
