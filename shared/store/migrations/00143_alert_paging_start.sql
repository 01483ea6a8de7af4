-- +goose Up
-- Escalation steps count from when paging of an alert started, not from its triggered_at: an
-- alert the sweeper opens for a condition that began earlier (a check-in missed 25 minutes ago,
-- a manual log due an hour ago) pages its first step now and its later steps after their delays,
-- instead of every step at once; and an alert opened while its unit is silenced starts paging
-- when the silence ends.
ALTER TABLE alerts ADD COLUMN paging_started_at timestamptz;
UPDATE alerts SET paging_started_at = triggered_at;

-- +goose Down
ALTER TABLE alerts DROP COLUMN paging_started_at;
