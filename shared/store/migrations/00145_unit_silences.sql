-- +goose Up
-- Snooze and maintenance windows (issue 14): a manager silences a unit's paging for a bounded
-- time (at most 12 hours) with a reason. Readings are still stored and judged and alerts still
-- open (showing "silenced until"); no alarm message goes out for the unit until the window ends
-- (or is ended early), then paging resumes. The rows are the audit trail of who silenced what,
-- when and why.
CREATE TABLE unit_silences (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    unit_id         uuid NOT NULL,
    reason          text NOT NULL CHECK (reason IN ('cleaning', 'defrost', 'stocking', 'maintenance', 'other')),
    note            text CHECK (length(note) <= 500),
    starts_at       timestamptz NOT NULL,
    ends_at         timestamptz NOT NULL,
    created_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    ended_early_at  timestamptz,
    ended_by        uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT unit_silences_unit_fk FOREIGN KEY (unit_id, organization_id)
        REFERENCES units (id, organization_id) ON DELETE CASCADE,
    CONSTRAINT unit_silences_bounded CHECK (ends_at > starts_at AND ends_at <= starts_at + interval '12 hours'),
    CONSTRAINT unit_silences_ended_early CHECK (ended_early_at IS NULL OR (ended_early_at >= starts_at AND ended_early_at < ends_at))
);
CREATE INDEX unit_silences_unit_idx ON unit_silences (unit_id, ends_at DESC);

-- The one definition of "silenced": the unit's silence active at `at` (none: not silenced; it
-- is silenced until coalesce(ended_early_at, ends_at)). Every flow that pages asks it: opening an
-- alert, escalating one, dispatching a message, and the api's views. At most one silence of a
-- unit is active at a time (checked under the unit's lock when one is created).
-- +goose StatementBegin
CREATE FUNCTION active_unit_silence(unit uuid, at timestamptz) RETURNS SETOF unit_silences
LANGUAGE sql STABLE ROWS 1 AS $$
    SELECT * FROM unit_silences
    WHERE unit_id = unit AND starts_at <= at AND coalesce(ended_early_at, ends_at) > at
    ORDER BY starts_at DESC LIMIT 1
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION active_unit_silence(uuid, timestamptz);
DROP TABLE unit_silences;
