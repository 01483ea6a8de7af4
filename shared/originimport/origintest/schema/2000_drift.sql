-- Written for FrostGuard's tests (not copied): the columns the origin's
-- drizzle TypeScript schema declares (getdatasurge/fresh-staged@2a346e4,
-- backend/src/db/schema/tenancy.ts, hierarchy.ts, alerts.ts) that no file of
-- backend/drizzle creates. The origin's own analysis (and ours,
-- /work/shared/reference/origin-api.md §1.5) is that the running database
-- has them. The importer reads every origin table through to_jsonb(row), so it
-- works with and without them; the tests apply this file to prove the drifted
-- shape, and TestDryRunOnTheBareDrizzleSchema proves the bare one.

-- tenancy.ts: the shared timestamps carry deleted_at; the TTN connection's
-- second application-id column, its enable flag, region and the
-- provisioning webhook secret (an FTP "b64:" form when readable).
ALTER TABLE subscriptions ADD COLUMN deleted_at timestamp (3) with time zone;
ALTER TABLE ttn_connections
    ADD COLUMN ttn_application_id varchar(256),
    ADD COLUMN is_enabled boolean NOT NULL DEFAULT false,
    ADD COLUMN ttn_region varchar(256),
    ADD COLUMN ttn_webhook_secret_last4 varchar(4),
    ADD COLUMN ttn_webhook_secret_encrypted varchar(512),
    ADD COLUMN deleted_at timestamp (3) with time zone;

-- hierarchy.ts: per-site compliance settings, deleted_at on sites, areas
-- and units, units.last_manual_log_at.
ALTER TABLE sites
    ADD COLUMN compliance_mode compliance_mode DEFAULT 'standard',
    ADD COLUMN manual_log_cadence_seconds integer,
    ADD COLUMN corrective_action_required boolean DEFAULT false,
    ADD COLUMN deleted_at timestamp (3) with time zone;
ALTER TABLE areas ADD COLUMN deleted_at timestamp (3) with time zone;
ALTER TABLE units
    ADD COLUMN last_manual_log_at timestamp (3) with time zone,
    ADD COLUMN deleted_at timestamp (3) with time zone;

-- alerts.ts: the alert rule's manual-logging, check-in, door and excursion
-- settings.
ALTER TABLE alert_rules
    ADD COLUMN manual_interval_minutes integer,
    ADD COLUMN manual_grace_minutes integer,
    ADD COLUMN expected_reading_interval_seconds integer,
    ADD COLUMN offline_trigger_multiplier integer,
    ADD COLUMN offline_trigger_additional_minutes integer,
    ADD COLUMN offline_warning_missed_checkins integer,
    ADD COLUMN offline_critical_missed_checkins integer,
    ADD COLUMN manual_log_missed_checkins_threshold integer,
    ADD COLUMN door_open_warning_minutes integer,
    ADD COLUMN door_open_critical_minutes integer,
    ADD COLUMN door_open_max_mask_minutes_per_day integer,
    ADD COLUMN excursion_confirm_minutes_door_closed integer,
    ADD COLUMN excursion_confirm_minutes_door_open integer,
    ADD COLUMN max_excursion_minutes integer;
