-- +goose Up
-- FrostGuard core schema (PostgreSQL 15+). See docs/DATA_MODEL.md.
--
-- Conventions
--   * Every temperature is degrees Celsius, numeric(6,2). Conversion to F happens only at the edges.
--   * Every tenant-owned row carries organization_id directly (no joins needed to scope a query).
--   * Child rows reference their parent with a composite FK (parent_id, organization_id) ->
--     parent (id, organization_id): the database itself refuses a row whose parent belongs
--     to another organisation, even if a handler forgets to check.
--   * Closed vocabularies are text + CHECK (cheaper to extend than enums).
--   * No business-logic triggers. updated_at is set by the application.

-- ---------------------------------------------------------------------------------------------
-- Tenancy
-- ---------------------------------------------------------------------------------------------

CREATE TABLE organizations (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                text NOT NULL CHECK (btrim(name) <> ''),
    -- URL-safe, lower case, so a plain UNIQUE is case-insensitive in practice
    slug                text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    -- IANA zone name. Validated by the application (time.LoadLocation): a CHECK cannot do it.
    timezone            text NOT NULL DEFAULT 'UTC',
    -- display preference only. Storage is always Celsius.
    temp_unit           text NOT NULL DEFAULT 'C' CHECK (temp_unit IN ('C', 'F')),
    compliance_mode     text NOT NULL DEFAULT 'standard' CHECK (compliance_mode IN ('standard', 'haccp')),
    -- Effective entitlement, read on the request path without a join. Billing writes it in the
    -- same transaction as the subscriptions row it derives from.
    plan                text NOT NULL DEFAULT 'starter' CHECK (plan IN ('starter', 'pro', 'haccp', 'enterprise')),
    sensor_limit        integer NOT NULL DEFAULT 5 CHECK (sensor_limit >= 0),
    stripe_customer_id  text UNIQUE,
    trial_ends_at       timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Stack Auth user id (JWT "sub")
    subject       text NOT NULL UNIQUE,
    email         text,
    display_name  text,
    phone         text CHECK (phone ~ '^\+[1-9][0-9]{1,14}$'),
    phone_verified_at timestamptz,
    last_login_at timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
-- matching pending invites at first login
CREATE INDEX users_email_idx ON users (lower(email));

-- A user may belong to many organisations. An invite is a pending membership without a user:
-- it is claimed (user_id set, status active) when a user with that e-mail signs in.
CREATE TABLE memberships (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id         uuid REFERENCES users (id) ON DELETE CASCADE,
    invited_email   text CHECK (position('@' IN invited_email) > 1),
    role            text NOT NULL CHECK (role IN ('owner', 'admin', 'manager', 'staff', 'viewer', 'inspector')),
    status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'pending')),
    invited_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    invited_at      timestamptz,
    accepted_at     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT memberships_user_or_email CHECK (user_id IS NOT NULL OR invited_email IS NOT NULL),
    CONSTRAINT memberships_active_has_user CHECK (status <> 'active' OR user_id IS NOT NULL),
    CONSTRAINT memberships_org_user_key UNIQUE (organization_id, user_id)
);
CREATE UNIQUE INDEX memberships_pending_email_key
    ON memberships (organization_id, lower(invited_email)) WHERE status = 'pending';
-- GET /me: a user's organisations
CREATE INDEX memberships_user_idx ON memberships (user_id);
-- claiming invites at first login, across organisations
CREATE INDEX memberships_pending_email_idx ON memberships (lower(invited_email)) WHERE status = 'pending';

-- ---------------------------------------------------------------------------------------------
-- Physical hierarchy: organization -> site -> area -> unit (soft-deleted with deleted_at)
-- ---------------------------------------------------------------------------------------------

CREATE TABLE sites (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name            text NOT NULL CHECK (btrim(name) <> ''),
    address_line1   text,
    address_line2   text,
    city            text,
    region          text,
    postal_code     text,
    country         text CHECK (country ~ '^[A-Z]{2}$'),  -- ISO 3166-1 alpha-2
    -- NULL = the organisation's timezone
    timezone        text,
    latitude        double precision CHECK (latitude BETWEEN -90 AND 90),
    longitude       double precision CHECK (longitude BETWEEN -180 AND 180),
    deleted_at      timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    -- target of the tenant-consistent composite FKs of child tables
    CONSTRAINT sites_id_org_key UNIQUE (id, organization_id)
);
CREATE INDEX sites_org_idx ON sites (organization_id, name);

CREATE TABLE areas (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    site_id         uuid NOT NULL,
    name            text NOT NULL CHECK (btrim(name) <> ''),
    description     text,
    sort_order      integer NOT NULL DEFAULT 0,
    deleted_at      timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT areas_site_fk FOREIGN KEY (site_id, organization_id)
        REFERENCES sites (id, organization_id) ON DELETE CASCADE,
    -- lets units prove that their denormalised site_id is their area's site
    CONSTRAINT areas_id_site_org_key UNIQUE (id, site_id, organization_id)
);
CREATE INDEX areas_org_site_idx ON areas (organization_id, site_id, sort_order);

CREATE TABLE units (
    id                          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id             uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    site_id                     uuid NOT NULL,  -- denormalised from the area (kept right by the FK below)
    area_id                     uuid NOT NULL,
    name                        text NOT NULL CHECK (btrim(name) <> ''),
    description                 text,
    type                        text NOT NULL DEFAULT 'fridge' CHECK (type IN
                                    ('fridge', 'freezer', 'display_case', 'walk_in_cooler',
                                     'walk_in_freezer', 'blast_chiller', 'other')),
    sort_order                  integer NOT NULL DEFAULT 0,

    -- configuration (Celsius). No defaults for the range: they depend on the unit type and
    -- the application fills them in.
    temp_min_c                  numeric(6,2) NOT NULL CHECK (temp_min_c >= -200),
    temp_max_c                  numeric(6,2) NOT NULL CHECK (temp_max_c <= 200),
    hysteresis_c                numeric(6,2) NOT NULL DEFAULT 0.5 CHECK (hysteresis_c >= 0),
    confirm_seconds             integer NOT NULL DEFAULT 600 CHECK (confirm_seconds >= 0),
    door_confirm_seconds        integer NOT NULL DEFAULT 1200 CHECK (door_confirm_seconds >= 0),
    checkin_interval_seconds    integer NOT NULL DEFAULT 300 CHECK (checkin_interval_seconds > 0),
    -- NULL = no manual logging required
    manual_log_interval_seconds integer CHECK (manual_log_interval_seconds > 0),

    -- alert state machine (owned by the alerting package, written in the reading's transaction)
    status                      text NOT NULL DEFAULT 'ok' CHECK (status IN
                                    ('ok', 'excursion', 'alarm_active', 'restoring', 'offline',
                                     'monitoring_interrupted', 'manual_required')),
    -- reading time (not wall clock) at which status last changed. confirm timers count from here.
    status_since                timestamptz NOT NULL DEFAULT now(),
    -- consecutive in-band readings while restoring (2 -> ok)
    in_band_count               integer NOT NULL DEFAULT 0 CHECK (in_band_count >= 0),
    -- newest reading processed (reading time). An older reading is stored but never moves state.
    last_reading_at             timestamptz,
    last_temp_c                 numeric(6,2),
    -- sensor_readings.id of that reading (no FK: the readings PK is (id, recorded_at))
    last_reading_id             bigint,
    door_open                   boolean NOT NULL DEFAULT false,
    -- time of the real open/close transition (door_events), not of the last uplink
    door_changed_at             timestamptz,
    -- set by the application in the manual log's transaction (origin relied on a trigger)
    last_manual_log_at          timestamptz,

    deleted_at                  timestamptz,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT units_temp_range CHECK (temp_min_c < temp_max_c),
    -- restoring needs a non-empty band [min + h, max - h] to come back into
    CONSTRAINT units_hysteresis_fits CHECK (temp_max_c - temp_min_c > 2 * hysteresis_c),
    -- area must be in the same site and organisation. Moving an area to another site updates
    -- the units' site_id with it.
    CONSTRAINT units_area_fk FOREIGN KEY (area_id, site_id, organization_id)
        REFERENCES areas (id, site_id, organization_id) ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT units_id_org_key UNIQUE (id, organization_id)
);
-- listing per org / site / area. Also serves the cascades from sites and areas.
CREATE INDEX units_org_site_area_idx ON units (organization_id, site_id, area_id);
-- sweeper: doors open too long
CREATE INDEX units_door_open_idx ON units (door_changed_at) WHERE door_open AND deleted_at IS NULL;

-- ---------------------------------------------------------------------------------------------
-- Devices and The Things Network
-- ---------------------------------------------------------------------------------------------

CREATE TABLE ttn_connections (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id   uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name              text,
    application_id    text NOT NULL UNIQUE,
    -- SHA-256 of the per-org webhook secret. The webhook looks the connection up by this hash
    -- (indexed, no scan of all orgs). The secret itself is never stored.
    secret_hash       bytea NOT NULL UNIQUE CHECK (octet_length(secret_hash) = 32),
    secret_last4      text NOT NULL CHECK (length(secret_last4) = 4),
    secret_rotated_at timestamptz NOT NULL DEFAULT now(),
    is_active         boolean NOT NULL DEFAULT true,
    -- informational. Update at most once a minute (WHERE last_uplink_at < now() - 1 min),
    -- never on every uplink: it is a hot row.
    last_uplink_at    timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ttn_connections_id_org_key UNIQUE (id, organization_id)
);
CREATE INDEX ttn_connections_org_idx ON ttn_connections (organization_id);

CREATE TABLE sensors (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- NULL = registered to the org but not installed in a unit (its uplinks store no reading)
    unit_id         uuid,
    -- LoRaWAN DevEUI, 16 upper-case hex digits: the application upper-cases input
    dev_eui         char(16) NOT NULL CHECK (dev_eui ~ '^[0-9A-F]{16}$'),
    ttn_device_id   text,
    name            text,
    model           text,
    -- name of the built-in payload decoder (ttn package). NULL = use TTN's decoded_payload.
    decoder         text,
    battery_percent smallint CHECK (battery_percent BETWEEN 0 AND 100),
    battery_voltage numeric(4,3),
    rssi            smallint,
    snr             numeric(5,2),
    last_seen_at    timestamptz,
    last_f_cnt      bigint,
    -- soft delete = unregistered. History (readings, alerts) keeps pointing at the row.
    deleted_at      timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sensors_unit_fk FOREIGN KEY (unit_id, organization_id)
        REFERENCES units (id, organization_id) ON DELETE SET NULL (unit_id),
    CONSTRAINT sensors_id_org_key UNIQUE (id, organization_id)
);
-- a DevEUI is globally unique in LoRaWAN: one active registration across all organisations
CREATE UNIQUE INDEX sensors_dev_eui_active_key ON sensors (dev_eui) WHERE deleted_at IS NULL;
-- listing, sensor-limit counting, and the cascade from units
CREATE INDEX sensors_org_unit_idx ON sensors (organization_id, unit_id);

-- Devices that uplinked through an org's TTN application but are not registered as sensors:
-- offered for claiming in the UI. Deleted when claimed.
CREATE TABLE unclaimed_devices (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id   uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    ttn_connection_id uuid NOT NULL,
    dev_eui           char(16) NOT NULL CHECK (dev_eui ~ '^[0-9A-F]{16}$'),
    ttn_device_id     text,
    first_seen_at     timestamptz NOT NULL DEFAULT now(),
    last_seen_at      timestamptz NOT NULL DEFAULT now(),
    uplink_count      bigint NOT NULL DEFAULT 1 CHECK (uplink_count >= 0),
    CONSTRAINT unclaimed_devices_connection_fk FOREIGN KEY (ttn_connection_id, organization_id)
        REFERENCES ttn_connections (id, organization_id) ON DELETE CASCADE,
    -- upsert target: INSERT ... ON CONFLICT (ttn_connection_id, dev_eui) DO UPDATE
    CONSTRAINT unclaimed_devices_key UNIQUE (ttn_connection_id, dev_eui)
);
CREATE INDEX unclaimed_devices_org_idx ON unclaimed_devices (organization_id, last_seen_at DESC);

-- Uplink dedupe (TTN retries deliveries). Inserted first in the uplink's transaction with
-- ON CONFLICT DO NOTHING: no row inserted = duplicate, answer 200 and stop.
-- Key: 'as:up:<id>' correlation id when present, else '<DEV_EUI>:<f_cnt>:<received_at RFC3339Nano>'.
-- Pruned by age (received_at), e.g. older than 30 days.
CREATE TABLE ttn_uplinks (
    dedupe_key      text PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    dev_eui         char(16),
    received_at     timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ttn_uplinks_received_at_idx ON ttn_uplinks (received_at);
CREATE INDEX ttn_uplinks_org_idx ON ttn_uplinks (organization_id);

-- ---------------------------------------------------------------------------------------------
-- Telemetry besides sensor_readings (partitioned, see 00002)
-- ---------------------------------------------------------------------------------------------

-- Door transitions only (not every uplink). Door-open duration is measured from here.
CREATE TABLE door_events (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    unit_id         uuid NOT NULL,
    sensor_id       uuid,
    state           text NOT NULL CHECK (state IN ('open', 'closed')),
    -- reading time of the transition
    changed_at      timestamptz NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT door_events_unit_fk FOREIGN KEY (unit_id, organization_id)
        REFERENCES units (id, organization_id) ON DELETE CASCADE,
    CONSTRAINT door_events_sensor_fk FOREIGN KEY (sensor_id, organization_id)
        REFERENCES sensors (id, organization_id) ON DELETE SET NULL (sensor_id),
    -- a redelivered uplink cannot record the same transition twice
    CONSTRAINT door_events_sensor_time_key UNIQUE (sensor_id, changed_at)
);
CREATE INDEX door_events_unit_idx ON door_events (unit_id, changed_at DESC);
CREATE INDEX door_events_org_idx ON door_events (organization_id, changed_at DESC);

-- HACCP hand readings. Append-only: a correction is a new entry (and an audit_log row).
CREATE TABLE manual_temperature_logs (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id   uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    unit_id           uuid NOT NULL,
    user_id           uuid REFERENCES users (id) ON DELETE SET NULL,
    temperature_c     numeric(6,2) NOT NULL,
    -- when the temperature was read (may be earlier than created_at)
    recorded_at       timestamptz NOT NULL,
    notes             text,
    corrective_action text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT manual_temperature_logs_unit_fk FOREIGN KEY (unit_id, organization_id)
        REFERENCES units (id, organization_id) ON DELETE CASCADE
);
CREATE INDEX manual_temperature_logs_unit_idx ON manual_temperature_logs (unit_id, recorded_at DESC);
CREATE INDEX manual_temperature_logs_org_idx ON manual_temperature_logs (organization_id, recorded_at DESC);

-- ---------------------------------------------------------------------------------------------
-- Alerting
-- ---------------------------------------------------------------------------------------------

CREATE TABLE alerts (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id    uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    unit_id            uuid NOT NULL,
    -- set only for sensor-keyed types (low_battery, sensor_fault). See the unique indexes below.
    sensor_id          uuid,
    type               text NOT NULL CHECK (type IN
                           ('temp_excursion', 'monitoring_interrupted', 'missed_manual_entry',
                            'low_battery', 'sensor_fault', 'door_open', 'suspected_cooling_failure')),
    severity           text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    status             text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'acknowledged', 'resolved')),
    title              text NOT NULL,
    message            text,
    -- reading time at which the condition started (not the request's clock)
    triggered_at       timestamptz NOT NULL,
    temperature_c      numeric(6,2),
    limit_c            numeric(6,2),
    details            jsonb NOT NULL DEFAULT '{}'::jsonb,

    acknowledged_by    uuid REFERENCES users (id) ON DELETE SET NULL,
    acknowledged_at    timestamptz,
    acknowledged_note  text,
    resolved_by        uuid REFERENCES users (id) ON DELETE SET NULL,
    resolved_at        timestamptz,
    resolved_note      text,
    resolution         text CHECK (resolution IN ('auto', 'manual')),

    -- index of the last escalation step queued (0 = the first step). Running out of steps
    -- never resolves the alert.
    escalation_step    integer NOT NULL DEFAULT 0 CHECK (escalation_step >= 0),
    -- when the sweeper should queue the next step. Only read while status = 'active'
    -- (acknowledging stops escalation).
    next_escalation_at timestamptz,
    -- short code for "ACK <code>" by SMS. Unique among the open alerts of an org (index below).
    -- The default is random. On the rare collision, retry the insert with a new code.
    ack_code           text NOT NULL DEFAULT upper(substr(md5(gen_random_uuid()::text), 1, 6))
                           CHECK (ack_code ~ '^[A-Z0-9]{4,10}$'),

    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT alerts_unit_fk FOREIGN KEY (unit_id, organization_id)
        REFERENCES units (id, organization_id) ON DELETE CASCADE,
    CONSTRAINT alerts_sensor_fk FOREIGN KEY (sensor_id, organization_id)
        REFERENCES sensors (id, organization_id) ON DELETE SET NULL (sensor_id),
    CONSTRAINT alerts_id_org_key UNIQUE (id, organization_id),
    -- unit-level types never carry a sensor_id, so they can never escape the per-unit dedupe
    -- (a temp_excursion from a second probe must not open a second alert)
    CONSTRAINT alerts_sensor_only_for_sensor_types
        CHECK (sensor_id IS NULL OR type IN ('low_battery', 'sensor_fault')),
    CONSTRAINT alerts_resolved_consistent
        CHECK ((status = 'resolved') = (resolved_at IS NOT NULL AND resolution IS NOT NULL)),
    CONSTRAINT alerts_acknowledged_consistent
        CHECK (status <> 'acknowledged' OR acknowledged_at IS NOT NULL)
);
-- ONE open alert per (unit, type) for unit-level alerts, and per (sensor, type) for
-- sensor-keyed ones (two sensors in one unit may both have a low battery). Raising an alert is
-- INSERT ... ON CONFLICT DO NOTHING (or catch 23505) against the matching index:
--   ON CONFLICT (unit_id, type) WHERE status <> 'resolved' AND sensor_id IS NULL DO NOTHING
--   ON CONFLICT (sensor_id, type) WHERE status <> 'resolved' AND sensor_id IS NOT NULL DO NOTHING
CREATE UNIQUE INDEX alerts_one_open_per_unit_type
    ON alerts (unit_id, type) WHERE status <> 'resolved' AND sensor_id IS NULL;
CREATE UNIQUE INDEX alerts_one_open_per_sensor_type
    ON alerts (sensor_id, type) WHERE status <> 'resolved' AND sensor_id IS NOT NULL;
CREATE UNIQUE INDEX alerts_open_ack_code_key
    ON alerts (organization_id, ack_code) WHERE status <> 'resolved';
-- GET /alerts newest first (id breaks ties for keyset pagination)
CREATE INDEX alerts_org_triggered_idx ON alerts (organization_id, triggered_at DESC, id DESC);
CREATE INDEX alerts_org_open_idx ON alerts (organization_id, triggered_at DESC, id DESC)
    WHERE status <> 'resolved';
-- ?unit_id= filter and the cascade from units
CREATE INDEX alerts_unit_triggered_idx ON alerts (unit_id, triggered_at DESC);
CREATE INDEX alerts_sensor_idx ON alerts (sensor_id) WHERE sensor_id IS NOT NULL;
-- sweeper: escalations due
CREATE INDEX alerts_next_escalation_idx ON alerts (next_escalation_at) WHERE status = 'active';

-- Audit trail of one alert. Suggested kinds: triggered, severity_changed, escalated,
-- notification_queued, acknowledged, resolved, note.
CREATE TABLE alert_events (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    alert_id        uuid NOT NULL,
    kind            text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_]*$'),
    -- NULL = the system (ingest, sweeper) or an SMS from a non-user contact
    actor_user_id   uuid REFERENCES users (id) ON DELETE SET NULL,
    note            text,
    data            jsonb NOT NULL DEFAULT '{}'::jsonb,
    at              timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT alert_events_alert_fk FOREIGN KEY (alert_id, organization_id)
        REFERENCES alerts (id, organization_id) ON DELETE CASCADE
);
CREATE INDEX alert_events_alert_idx ON alert_events (alert_id, at);
CREATE INDEX alert_events_org_idx ON alert_events (organization_id, at DESC);

-- ---------------------------------------------------------------------------------------------
-- Notifications
-- ---------------------------------------------------------------------------------------------

CREATE TABLE escalation_contacts (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- optional link to an app user (the contact then follows that user's details in the UI)
    user_id         uuid REFERENCES users (id) ON DELETE SET NULL,
    name            text NOT NULL CHECK (btrim(name) <> ''),
    phone           text CHECK (phone ~ '^\+[1-9][0-9]{1,14}$'),
    email           text CHECK (position('@' IN email) > 1),
    priority        integer NOT NULL DEFAULT 0,
    -- policies reference contacts by id inside jsonb (no FK). Deactivate rather than delete.
    is_active       boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT escalation_contacts_reachable CHECK (phone IS NOT NULL OR email IS NOT NULL),
    CONSTRAINT escalation_contacts_id_org_key UNIQUE (id, organization_id)
);
CREATE INDEX escalation_contacts_org_idx ON escalation_contacts (organization_id, priority);

-- Who is paged, how, and when. Scope: the whole org (site_id and unit_id NULL), a site, or a
-- unit. alert_type NULL = every type. The effective policy for an alert is the most specific
-- enabled one: unit+type, unit+any, site+type, site+any, org+type, org+any.
CREATE TABLE notification_policies (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id   uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    site_id           uuid,
    unit_id           uuid,
    alert_type        text CHECK (alert_type IN
                          ('temp_excursion', 'monitoring_interrupted', 'missed_manual_entry',
                           'low_battery', 'sensor_fault', 'door_open', 'suspected_cooling_failure')),
    name              text,
    -- [{"after_minutes": 0, "channels": ["sms","email"], "contact_ids": ["<uuid>", ...]}, ...]
    -- in firing order. Shape validated by the application.
    steps             jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(steps) = 'array'),
    -- send a "back to normal" notification when the alert auto-resolves
    notify_on_resolve boolean NOT NULL DEFAULT true,
    -- local time of the site (else the org). Holds back non-critical notifications only.
    -- start > end wraps midnight (22:00-07:00).
    quiet_hours_start time,
    quiet_hours_end   time,
    enabled           boolean NOT NULL DEFAULT true,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT notification_policies_one_scope CHECK (site_id IS NULL OR unit_id IS NULL),
    CONSTRAINT notification_policies_quiet_hours
        CHECK ((quiet_hours_start IS NULL) = (quiet_hours_end IS NULL)),
    CONSTRAINT notification_policies_site_fk FOREIGN KEY (site_id, organization_id)
        REFERENCES sites (id, organization_id) ON DELETE CASCADE,
    CONSTRAINT notification_policies_unit_fk FOREIGN KEY (unit_id, organization_id)
        REFERENCES units (id, organization_id) ON DELETE CASCADE,
    -- one policy per (scope, alert_type). NULLs compare equal here (PG15+).
    CONSTRAINT notification_policies_scope_key
        UNIQUE NULLS NOT DISTINCT (organization_id, site_id, unit_id, alert_type)
);
CREATE INDEX notification_policies_site_idx ON notification_policies (site_id) WHERE site_id IS NOT NULL;
CREATE INDEX notification_policies_unit_idx ON notification_policies (unit_id) WHERE unit_id IS NOT NULL;

-- The outbox. Rows are written in the same transaction as the alert change that causes them,
-- dispatched after commit, retried by the sweeper. Exactly once per (alert, kind, step,
-- recipient, channel), enforced by the unique key: queue with ON CONFLICT DO NOTHING.
--
-- Dispatch protocol: claim with
--   UPDATE ... SET status='sending', attempts=attempts+1, next_attempt_at=now()+<lease>
--   WHERE id IN (SELECT id ... WHERE status IN ('pending','sending') AND next_attempt_at <= now()
--                ORDER BY next_attempt_at LIMIT n FOR UPDATE SKIP LOCKED)
-- A 'sending' row whose lease expired (crashed dispatcher) is picked up again. Pass the row id
-- as the provider idempotency key where the provider supports one.
-- Status only moves forward: pending -> sending -> sent -> delivered | failed (skipped is final).
CREATE TABLE notifications (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id     uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- NULL only for a test notification
    alert_id            uuid,
    -- 'alert' = an escalation step, 'resolved' = back to normal, 'test' = sent from settings
    kind                text NOT NULL DEFAULT 'alert' CHECK (kind IN ('alert', 'resolved', 'test')),
    escalation_step     integer NOT NULL DEFAULT 0 CHECK (escalation_step >= 0),
    contact_id          uuid,
    -- normalised address: E.164 for sms, lower-cased e-mail for email
    recipient           text NOT NULL,
    channel             text NOT NULL CHECK (channel IN ('sms', 'email')),
    status              text NOT NULL DEFAULT 'pending' CHECK (status IN
                            ('pending', 'sending', 'sent', 'delivered', 'failed', 'skipped')),
    attempts            integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    -- due time while pending (quiet hours push it to their end), lease expiry while sending
    next_attempt_at     timestamptz NOT NULL DEFAULT now(),
    provider            text,  -- telnyx, resend, log
    provider_message_id text UNIQUE,
    -- failure reason, or why it was skipped (opted_out, rate_limited, ...)
    last_error          text,
    subject             text,
    body                text NOT NULL,
    sent_at             timestamptz,
    delivered_at        timestamptz,
    failed_at           timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT notifications_alert_fk FOREIGN KEY (alert_id, organization_id)
        REFERENCES alerts (id, organization_id) ON DELETE CASCADE,
    CONSTRAINT notifications_contact_fk FOREIGN KEY (contact_id, organization_id)
        REFERENCES escalation_contacts (id, organization_id) ON DELETE SET NULL (contact_id),
    CONSTRAINT notifications_alert_required CHECK ((alert_id IS NULL) = (kind = 'test')),
    CONSTRAINT notifications_recipient_format CHECK (
        (channel = 'sms' AND recipient ~ '^\+[1-9][0-9]{1,14}$')
        OR (channel = 'email' AND position('@' IN recipient) > 1)),
    -- exactly once per step
    CONSTRAINT notifications_once_per_step_key
        UNIQUE (alert_id, kind, escalation_step, recipient, channel)
);
-- dispatcher / sweeper retries
CREATE INDEX notifications_due_idx ON notifications (next_attempt_at)
    WHERE status IN ('pending', 'sending');
-- GET /notifications (notification log), newest first
CREATE INDEX notifications_org_created_idx ON notifications (organization_id, created_at DESC, id DESC);
-- rate limits per recipient (count every non-failed send in a window)
CREATE INDEX notifications_recipient_created_idx ON notifications (recipient, created_at);
CREATE INDEX notifications_contact_idx ON notifications (contact_id) WHERE contact_id IS NOT NULL;

-- Global, not per org: a STOP applies to our sender number, which every org shares.
-- START/UNSTOP deletes the row.
CREATE TABLE sms_opt_outs (
    phone        text PRIMARY KEY CHECK (phone ~ '^\+[1-9][0-9]{1,14}$'),
    opted_out_at timestamptz NOT NULL DEFAULT now(),
    -- inbound_sms: the person texted STOP. provider: a send was refused as opted out.
    -- admin: set by support.
    source       text NOT NULL DEFAULT 'inbound_sms' CHECK (source IN ('inbound_sms', 'provider', 'admin'))
);

-- Telnyx webhook idempotency: INSERT ... ON CONFLICT DO NOTHING in the same transaction as
-- the status update. No row inserted = duplicate.
CREATE TABLE telnyx_events (
    event_id    text PRIMARY KEY,
    event_type  text NOT NULL,
    -- the event's own occurred_at
    occurred_at timestamptz,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX telnyx_events_received_at_idx ON telnyx_events (received_at);

-- ---------------------------------------------------------------------------------------------
-- Billing
-- ---------------------------------------------------------------------------------------------

-- Stripe webhook idempotency, same pattern as telnyx_events.
CREATE TABLE stripe_events (
    event_id    text PRIMARY KEY,
    type        text NOT NULL,
    -- the event's own creation time (Stripe "created")
    created     timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stripe_events_received_at_idx ON stripe_events (received_at);

-- One row per organisation, created with the organisation (status trial). Mirrors Stripe.
CREATE TABLE subscriptions (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id        uuid NOT NULL UNIQUE REFERENCES organizations (id) ON DELETE CASCADE,
    stripe_subscription_id text UNIQUE,
    stripe_customer_id     text,
    stripe_price_id        text,
    plan                   text NOT NULL DEFAULT 'starter' CHECK (plan IN ('starter', 'pro', 'haccp', 'enterprise')),
    status                 text NOT NULL DEFAULT 'trial' CHECK (status IN
                               ('trial', 'active', 'past_due', 'canceled', 'paused', 'incomplete')),
    current_period_start   timestamptz,
    current_period_end     timestamptz,
    cancel_at_period_end   boolean NOT NULL DEFAULT false,
    canceled_at            timestamptz,
    trial_ends_at          timestamptz,
    -- Ordering guard: apply an event only if event.created >= last_event_created
    -- (UPDATE ... WHERE last_event_created IS NULL OR last_event_created <= $created).
    -- Stripe's created has 1 s resolution, so ties are applied, not dropped.
    last_event_created     timestamptz,
    last_event_id          text,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscriptions_customer_idx ON subscriptions (stripe_customer_id);

-- ---------------------------------------------------------------------------------------------
-- Files and audit
-- ---------------------------------------------------------------------------------------------

-- Objects in the assets bucket. A row is created 'pending' when an upload URL is presigned and
-- becomes 'ready' once the object is confirmed. Stale pending rows are cleaned up.
CREATE TABLE assets (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- what it belongs to, e.g. org_logo, user_avatar, manual_log_photo, corrective_action_photo
    kind            text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_]*$'),
    -- id of the owning row (type given by kind). NULL = org-level
    entity_id       uuid,
    s3_key          text NOT NULL UNIQUE,
    content_type    text NOT NULL,
    size_bytes      bigint CHECK (size_bytes >= 0),
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'ready')),
    created_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX assets_org_entity_idx ON assets (organization_id, kind, entity_id);
CREATE INDEX assets_pending_idx ON assets (created_at) WHERE status = 'pending';

-- Who changed what. Append-only.
CREATE TABLE audit_log (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    actor_user_id   uuid REFERENCES users (id) ON DELETE SET NULL,
    actor_type      text NOT NULL DEFAULT 'user' CHECK (actor_type IN ('user', 'system', 'provider')),
    -- e.g. unit.update, alert.acknowledge, membership.invite
    action          text NOT NULL,
    entity_type     text,
    entity_id       uuid,
    before          jsonb,
    after           jsonb,
    request_id      text,
    at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_org_at_idx ON audit_log (organization_id, at DESC);
CREATE INDEX audit_log_entity_idx ON audit_log (organization_id, entity_type, entity_id, at DESC);

-- +goose Down
DROP TABLE IF EXISTS audit_log;
DROP TABLE IF EXISTS assets;
DROP TABLE IF EXISTS subscriptions;
DROP TABLE IF EXISTS stripe_events;
DROP TABLE IF EXISTS telnyx_events;
DROP TABLE IF EXISTS sms_opt_outs;
DROP TABLE IF EXISTS notifications;
DROP TABLE IF EXISTS notification_policies;
DROP TABLE IF EXISTS escalation_contacts;
DROP TABLE IF EXISTS alert_events;
DROP TABLE IF EXISTS alerts;
DROP TABLE IF EXISTS manual_temperature_logs;
DROP TABLE IF EXISTS door_events;
DROP TABLE IF EXISTS ttn_uplinks;
DROP TABLE IF EXISTS unclaimed_devices;
DROP TABLE IF EXISTS sensors;
DROP TABLE IF EXISTS ttn_connections;
DROP TABLE IF EXISTS units;
DROP TABLE IF EXISTS areas;
DROP TABLE IF EXISTS sites;
DROP TABLE IF EXISTS memberships;
DROP TABLE IF EXISTS users;
DROP TABLE IF EXISTS organizations;
