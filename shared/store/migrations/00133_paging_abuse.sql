-- +goose Up
-- Paging abuse: a self-service trial could text any number (premium-rate
-- included) or e-mail any address with text of its choosing.
--
-- A contact's phone and e-mail are verified by a one-time code; changing
-- one clears its verification (the api writes both in one statement).
ALTER TABLE escalation_contacts
    ADD COLUMN phone_verified_at timestamptz,
    ADD COLUMN email_verified_at timestamptz;
-- One live code per contact and channel. Only the SHA-256 of the code (with
-- the row id) is kept; the code itself is in the outbox row that sends it.
CREATE TABLE contact_verifications (
    id              uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    contact_id      uuid NOT NULL,
    channel         text NOT NULL CHECK (channel IN ('sms', 'email')),
    -- the phone or e-mail the code was sent to: it verifies only that value
    destination     text NOT NULL,
    code_hash       bytea NOT NULL CHECK (octet_length(code_hash) = 32),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    expires_at      timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT contact_verifications_contact_fk FOREIGN KEY (contact_id, organization_id)
        REFERENCES escalation_contacts (id, organization_id) ON DELETE CASCADE,
    CONSTRAINT contact_verifications_one_per_channel UNIQUE (contact_id, channel)
);
CREATE INDEX contact_verifications_org_idx ON contact_verifications (organization_id);
-- The countries SMS may go to (ISO 3166-1 alpha-2); NULL = the countries of
-- the organisation's sites.
ALTER TABLE organizations ADD COLUMN sms_allowed_countries text[]
    CHECK (cardinality(sms_allowed_countries) <= 50);
-- Failed "ACK <code>" attempts per phone: five in an hour, then silence.
CREATE TABLE sms_ack_failures (
    phone text NOT NULL,
    at    timestamptz NOT NULL
);
CREATE INDEX sms_ack_failures_phone_idx ON sms_ack_failures (phone, at);
-- The trial daily caps count an organisation's sends of a day per channel.
CREATE INDEX notifications_org_channel_sent_idx ON notifications (organization_id, channel, sent_at)
    WHERE sent_at IS NOT NULL;

-- +goose Down
DROP INDEX notifications_org_channel_sent_idx;
DROP TABLE sms_ack_failures;
ALTER TABLE organizations DROP COLUMN sms_allowed_countries;
DROP TABLE contact_verifications;
ALTER TABLE escalation_contacts DROP COLUMN email_verified_at, DROP COLUMN phone_verified_at;
