-- +goose Up
-- A Telnyx receipt can arrive before the dispatcher has stored the message's
-- id (Telnyx answers POST /v2/messages, then the dispatcher writes the id;
-- message.finalized may overtake that write). Such a receipt was answered
-- 200 and lost, leaving a delivered or failed SMS shown as "sent" forever.
-- It is now held here, one row per message id (the furthest outcome wins),
-- and applied by the dispatcher in the transaction that stores the id.
-- Receipts of messages that never get an outbox row (HELP and ACK replies)
-- are pruned by the sweeper with the dedupe keys.
CREATE TABLE telnyx_early_receipts (
    provider_message_id text PRIMARY KEY,
    outcome text NOT NULL CHECK (outcome IN ('sent', 'unconfirmed', 'delivered', 'failed')),
    occurred_at timestamptz NOT NULL,
    error text,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX telnyx_early_receipts_received_idx ON telnyx_early_receipts (received_at);

-- +goose Down
DROP TABLE telnyx_early_receipts;
