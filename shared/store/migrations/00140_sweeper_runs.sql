-- +goose Up
-- The alert-sweeper's heartbeat: one row, rewritten at the end of every run. The api's
-- GET /healthz reads it to say "degraded" when the last successful sweep is too old
-- (monitoring the monitor: a sweeper that stopped running pages nobody about that).
-- last_success_at moves only when every task of the run finished in time without an error;
-- last_report is the last run's per-task outcome (name, duration_ms, error, out_of_time).
CREATE TABLE sweeper_heartbeat (
    id              boolean PRIMARY KEY DEFAULT true CHECK (id),
    last_started_at timestamptz NOT NULL,
    last_finished_at timestamptz NOT NULL,
    last_success_at timestamptz,
    last_error      text,
    last_report     jsonb NOT NULL DEFAULT '[]'
);

-- +goose Down
DROP TABLE sweeper_heartbeat;
