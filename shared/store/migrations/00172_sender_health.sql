-- +goose Up
-- Sender health (issue 17): the newest report of whether the deployment's
-- senders (the Telnyx number and messaging profile, the Call Control
-- application, the Resend domain) can page, written by the sweeper, which
-- holds the provider keys, every 15 minutes; the api shows it to admins.
-- One row: the deployment has one set of senders.
CREATE TABLE sender_health (
    id         boolean PRIMARY KEY DEFAULT true CHECK (id),
    checked_at timestamptz NOT NULL,
    report     jsonb NOT NULL
);

-- +goose Down
DROP TABLE sender_health;
