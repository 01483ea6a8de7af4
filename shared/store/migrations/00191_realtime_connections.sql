-- +goose Up
-- Issue 19: the live channel. One row per open WebSocket connection of the
-- API Gateway WebSocket API (or of `make dev`'s /ws): who it is, which
-- organisation it watches and what of it. Publishers read these rows after
-- their commit and post each event to the matching connections through the
-- gateway's management API; a connection the gateway reports gone (410) is
-- deleted, as is one past its expiry.
CREATE TABLE realtime_connections (
    -- API Gateway's connectionId (opaque, about 16 characters).
    id              text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 128),
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- Subscriptions: the whole organisation, or only the named sites and
    -- units (the connection narrowed itself with "subscribe" actions).
    whole_organization boolean NOT NULL DEFAULT true,
    site_ids        uuid[] NOT NULL DEFAULT '{}',
    unit_ids        uuid[] NOT NULL DEFAULT '{}',
    connected_at    timestamptz NOT NULL DEFAULT now(),
    -- The token's expiry, capped at API Gateway's 2-hour connection limit:
    -- nothing is posted to a connection past it.
    expires_at      timestamptz NOT NULL
);
CREATE INDEX realtime_connections_org_idx ON realtime_connections (organization_id, expires_at);

-- At most one sensor:readings:batch per unit per 5 seconds, across every
-- webhook instance: the time of the unit's last batch. A batch carries the
-- unit's readings since the previous one.
CREATE TABLE realtime_reading_batches (
    unit_id         uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    sent_at         timestamptz NOT NULL
);

-- +goose Down
DROP TABLE realtime_reading_batches;
DROP TABLE realtime_connections;
