-- +goose Up
-- Issue 20: alert rules with inheritance. docs/DATA_MODEL.md.
--
-- A rule sets some of a unit's thresholds and timings for the whole organisation, a site or
-- one unit; a NULL field inherits. A unit's effective value of each field is the unit's rule,
-- else its site's, else the organisation's, else its type's default (alertrules.Resolve, the
-- one resolver). The store writes the effective values into the unit's own columns (units.
-- temp_min_c ... door_critical_minutes) in the transaction of every change that can move them
-- (a rule, the unit's type or site), so the alert engine and the sweeper read only those.
-- The offline multiplier: how many check-in intervals a unit may miss before it is offline (a
-- warning; 1 = the rule so far); monitoring is interrupted (critical) at 5 missed, or at the
-- multiplier when higher.
ALTER TABLE units ADD COLUMN offline_multiplier smallint NOT NULL DEFAULT 1
    CONSTRAINT units_offline_multiplier CHECK (offline_multiplier BETWEEN 1 AND 24);

CREATE TABLE alert_rules (
    organization_id             uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    scope                       text NOT NULL CHECK (scope IN ('organization', 'site', 'unit')),
    site_id                     uuid,
    unit_id                     uuid,
    -- the organisation's, the site's or the unit's id
    scope_id                    uuid NOT NULL GENERATED ALWAYS AS (coalesce(unit_id, site_id, organization_id)) STORED,
    temp_min_c                  numeric(6,2) CHECK (temp_min_c >= -200),
    temp_max_c                  numeric(6,2) CHECK (temp_max_c <= 200),
    hysteresis_c                numeric(6,2) CHECK (hysteresis_c >= 0),
    confirm_seconds             integer CHECK (confirm_seconds >= 0),
    door_confirm_seconds        integer CHECK (door_confirm_seconds >= 0),
    checkin_interval_seconds    integer CHECK (checkin_interval_seconds > 0),
    -- 0 = no manual logs required (stops a wider scope's requirement)
    manual_log_interval_seconds integer CHECK (manual_log_interval_seconds >= 0),
    door_warn_minutes           integer CHECK (door_warn_minutes BETWEEN 1 AND 1440),
    door_critical_minutes       integer CHECK (door_critical_minutes BETWEEN 2 AND 1440),
    -- check-in intervals a unit may miss before it is offline
    offline_multiplier          smallint CHECK (offline_multiplier BETWEEN 1 AND 24),
    updated_at                  timestamptz NOT NULL DEFAULT now(),
    updated_by                  uuid REFERENCES users (id) ON DELETE SET NULL,
    PRIMARY KEY (organization_id, scope, scope_id),
    CONSTRAINT alert_rules_scope CHECK ((scope = 'organization' AND site_id IS NULL AND unit_id IS NULL)
        OR (scope = 'site' AND site_id IS NOT NULL AND unit_id IS NULL)
        OR (scope = 'unit' AND unit_id IS NOT NULL AND site_id IS NULL)),
    CONSTRAINT alert_rules_site_fkey FOREIGN KEY (site_id, organization_id) REFERENCES sites (id, organization_id) ON DELETE CASCADE,
    CONSTRAINT alert_rules_unit_fkey FOREIGN KEY (unit_id, organization_id) REFERENCES units (id, organization_id) ON DELETE CASCADE
);

-- The CHECKs are the units' own (a unit's legacy values must fit); alertrules.Rule.Check holds
-- the api's limits.

-- Every change of a rule, per scope: who, when, the rule before and after (JSON of its set
-- fields). Kept when the site or unit is deleted.
CREATE TABLE alert_rule_history (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    scope           text NOT NULL CHECK (scope IN ('organization', 'site', 'unit')),
    scope_id        uuid NOT NULL,
    changed_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    -- where the change came from: the rules api, or a unit's own create/update
    source          text NOT NULL CHECK (source IN ('alert_rules', 'unit')),
    before          jsonb NOT NULL,
    after           jsonb NOT NULL,
    changed_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_rule_history_scope_idx ON alert_rule_history (organization_id, scope, scope_id, changed_at DESC, id DESC);

-- A rule's fields as JSON (alertrules.Rule's shape: every field, null when inherited).
-- +goose StatementBegin
CREATE FUNCTION alert_rule_json(r alert_rules) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('temp_min_c', r.temp_min_c, 'temp_max_c', r.temp_max_c, 'hysteresis_c', r.hysteresis_c,
        'confirm_seconds', r.confirm_seconds, 'door_confirm_seconds', r.door_confirm_seconds,
        'checkin_interval_seconds', r.checkin_interval_seconds, 'manual_log_interval_seconds', r.manual_log_interval_seconds,
        'door_warn_minutes', r.door_warn_minutes, 'door_critical_minutes', r.door_critical_minutes,
        'offline_multiplier', r.offline_multiplier)
$$;
-- +goose StatementEnd

-- The unit type's defaults in SQL: domain.DefaultUnitConfig's rule fields (a store test keeps
-- the two equal for every type).
-- +goose StatementBegin
CREATE FUNCTION unit_type_default_rule(unit_type text, OUT temp_min_c numeric, OUT temp_max_c numeric,
        OUT hysteresis_c numeric, OUT confirm_seconds integer, OUT door_confirm_seconds integer,
        OUT checkin_interval_seconds integer, OUT door_warn_minutes integer, OUT door_critical_minutes integer, OUT offline_multiplier integer)
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN unit_type IN ('freezer', 'walk_in_freezer') THEN -30
            WHEN unit_type = 'blast_chiller' THEN -40 WHEN unit_type = 'ultra_low_freezer' THEN -90 ELSE 0 END,
        CASE WHEN unit_type IN ('freezer', 'walk_in_freezer') THEN -15
            WHEN unit_type = 'blast_chiller' THEN 3 WHEN unit_type = 'ultra_low_freezer' THEN -60 ELSE 5 END,
        0.5, 600, 1200, 300, 5, 15, 1
$$;
-- +goose StatementEnd

-- A unit's own rule follows what is written into the unit itself, by every writer (the api's
-- create and update, the origin import, the seed), so no path can lose a value a unit was
-- given: on insert, every value that differs from its type's default (the fields at the
-- default follow the site and the organisation); on update, every value that changed, and
-- when the type changes, every value the unit inherited, as it was (a new type keeps the
-- thresholds chosen for this appliance). The resolver's own writes of effective values
-- (store.resolveUnits, under frostguard.resolving_alert_rules) are not the unit's choice and
-- are skipped. A manual_log_interval_seconds cleared on the unit is its own 0 (not required).
-- Each change of the unit's rule is a line of its history (changed_by from
-- frostguard.actor_user_id, which the store sets from the request's user).
-- +goose StatementBegin
CREATE FUNCTION unit_own_alert_rule() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    d record;
    before_rule jsonb;
    after_rule jsonb;
    pin boolean;
BEGIN
    IF current_setting('frostguard.resolving_alert_rules', true) = 'on' THEN
        RETURN NULL;
    END IF;
    SELECT alert_rule_json(r) INTO before_rule FROM alert_rules r
        WHERE r.organization_id = NEW.organization_id AND r.scope = 'unit' AND r.scope_id = NEW.id;
    IF TG_OP = 'INSERT' THEN
        SELECT * INTO d FROM unit_type_default_rule(NEW.type);
        INSERT INTO alert_rules (organization_id, scope, unit_id, temp_min_c, temp_max_c, hysteresis_c, confirm_seconds,
                door_confirm_seconds, checkin_interval_seconds, manual_log_interval_seconds, door_warn_minutes,
                door_critical_minutes, offline_multiplier)
        VALUES (NEW.organization_id, 'unit', NEW.id, nullif(NEW.temp_min_c, d.temp_min_c), nullif(NEW.temp_max_c, d.temp_max_c),
            nullif(NEW.hysteresis_c, d.hysteresis_c), nullif(NEW.confirm_seconds, d.confirm_seconds),
            nullif(NEW.door_confirm_seconds, d.door_confirm_seconds),
            nullif(NEW.checkin_interval_seconds, d.checkin_interval_seconds), NEW.manual_log_interval_seconds,
            nullif(NEW.door_warn_minutes, d.door_warn_minutes), nullif(NEW.door_critical_minutes, d.door_critical_minutes),
            nullif(NEW.offline_multiplier, d.offline_multiplier))
        ON CONFLICT (organization_id, scope, scope_id) DO NOTHING;
    ELSE
        pin := NEW.type IS DISTINCT FROM OLD.type;
        INSERT INTO alert_rules (organization_id, scope, unit_id) VALUES (NEW.organization_id, 'unit', NEW.id)
            ON CONFLICT (organization_id, scope, scope_id) DO NOTHING;
        UPDATE alert_rules r SET
            temp_min_c = CASE WHEN NEW.temp_min_c <> OLD.temp_min_c THEN NEW.temp_min_c
                WHEN pin THEN coalesce(r.temp_min_c, OLD.temp_min_c) ELSE r.temp_min_c END,
            temp_max_c = CASE WHEN NEW.temp_max_c <> OLD.temp_max_c THEN NEW.temp_max_c
                WHEN pin THEN coalesce(r.temp_max_c, OLD.temp_max_c) ELSE r.temp_max_c END,
            hysteresis_c = CASE WHEN NEW.hysteresis_c <> OLD.hysteresis_c THEN NEW.hysteresis_c
                WHEN pin THEN coalesce(r.hysteresis_c, OLD.hysteresis_c) ELSE r.hysteresis_c END,
            confirm_seconds = CASE WHEN NEW.confirm_seconds <> OLD.confirm_seconds THEN NEW.confirm_seconds
                WHEN pin THEN coalesce(r.confirm_seconds, OLD.confirm_seconds) ELSE r.confirm_seconds END,
            door_confirm_seconds = CASE WHEN NEW.door_confirm_seconds <> OLD.door_confirm_seconds THEN NEW.door_confirm_seconds
                WHEN pin THEN coalesce(r.door_confirm_seconds, OLD.door_confirm_seconds) ELSE r.door_confirm_seconds END,
            checkin_interval_seconds = CASE WHEN NEW.checkin_interval_seconds <> OLD.checkin_interval_seconds
                THEN NEW.checkin_interval_seconds
                WHEN pin THEN coalesce(r.checkin_interval_seconds, OLD.checkin_interval_seconds) ELSE r.checkin_interval_seconds END,
            manual_log_interval_seconds = CASE
                WHEN NEW.manual_log_interval_seconds IS DISTINCT FROM OLD.manual_log_interval_seconds
                THEN coalesce(NEW.manual_log_interval_seconds, 0)
                WHEN pin THEN coalesce(r.manual_log_interval_seconds, OLD.manual_log_interval_seconds, 0)
                ELSE r.manual_log_interval_seconds END,
            door_warn_minutes = CASE WHEN NEW.door_warn_minutes <> OLD.door_warn_minutes THEN NEW.door_warn_minutes
                WHEN pin THEN coalesce(r.door_warn_minutes, OLD.door_warn_minutes) ELSE r.door_warn_minutes END,
            door_critical_minutes = CASE WHEN NEW.door_critical_minutes <> OLD.door_critical_minutes THEN NEW.door_critical_minutes
                WHEN pin THEN coalesce(r.door_critical_minutes, OLD.door_critical_minutes) ELSE r.door_critical_minutes END,
            offline_multiplier = CASE WHEN NEW.offline_multiplier <> OLD.offline_multiplier THEN NEW.offline_multiplier
                WHEN pin THEN coalesce(r.offline_multiplier, OLD.offline_multiplier) ELSE r.offline_multiplier END
        WHERE r.organization_id = NEW.organization_id AND r.scope = 'unit' AND r.scope_id = NEW.id;
    END IF;
    SELECT alert_rule_json(r) INTO after_rule FROM alert_rules r
        WHERE r.organization_id = NEW.organization_id AND r.scope = 'unit' AND r.scope_id = NEW.id;
    IF after_rule IS NOT NULL AND after_rule = alert_rule_json(NULL::alert_rules) THEN
        DELETE FROM alert_rules WHERE organization_id = NEW.organization_id AND scope = 'unit' AND scope_id = NEW.id;
    END IF;
    IF coalesce(after_rule, alert_rule_json(NULL::alert_rules)) IS DISTINCT FROM coalesce(before_rule, alert_rule_json(NULL::alert_rules)) THEN
        UPDATE alert_rules SET updated_at = now(), updated_by = nullif(current_setting('frostguard.actor_user_id', true), '')::uuid
            WHERE organization_id = NEW.organization_id AND scope = 'unit' AND scope_id = NEW.id;
        INSERT INTO alert_rule_history (organization_id, scope, scope_id, changed_by, source, before, after)
        VALUES (NEW.organization_id, 'unit', NEW.id, nullif(current_setting('frostguard.actor_user_id', true), '')::uuid, 'unit',
            coalesce(before_rule, alert_rule_json(NULL::alert_rules)), coalesce(after_rule, alert_rule_json(NULL::alert_rules)));
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER units_own_alert_rule_insert AFTER INSERT ON units FOR EACH ROW EXECUTE FUNCTION unit_own_alert_rule();
CREATE TRIGGER units_own_alert_rule_update AFTER UPDATE OF type, temp_min_c, temp_max_c, hysteresis_c, confirm_seconds,
        door_confirm_seconds, checkin_interval_seconds, manual_log_interval_seconds, door_warn_minutes, door_critical_minutes, offline_multiplier
    ON units FOR EACH ROW
    WHEN (NEW.type IS DISTINCT FROM OLD.type OR NEW.temp_min_c <> OLD.temp_min_c OR NEW.temp_max_c <> OLD.temp_max_c
        OR NEW.hysteresis_c <> OLD.hysteresis_c OR NEW.confirm_seconds <> OLD.confirm_seconds
        OR NEW.door_confirm_seconds <> OLD.door_confirm_seconds OR NEW.checkin_interval_seconds <> OLD.checkin_interval_seconds
        OR NEW.manual_log_interval_seconds IS DISTINCT FROM OLD.manual_log_interval_seconds
        OR NEW.door_warn_minutes <> OLD.door_warn_minutes OR NEW.door_critical_minutes <> OLD.door_critical_minutes
        OR NEW.offline_multiplier <> OLD.offline_multiplier)
    EXECUTE FUNCTION unit_own_alert_rule();

-- Every unit stored today carries all its values: the same rule, once.
INSERT INTO alert_rules (organization_id, scope, unit_id, temp_min_c, temp_max_c, hysteresis_c, confirm_seconds,
        door_confirm_seconds, checkin_interval_seconds, manual_log_interval_seconds, door_warn_minutes, door_critical_minutes)
SELECT u.organization_id, 'unit', u.id, nullif(u.temp_min_c, d.temp_min_c), nullif(u.temp_max_c, d.temp_max_c),
    nullif(u.hysteresis_c, d.hysteresis_c), nullif(u.confirm_seconds, d.confirm_seconds),
    nullif(u.door_confirm_seconds, d.door_confirm_seconds), nullif(u.checkin_interval_seconds, d.checkin_interval_seconds),
    u.manual_log_interval_seconds, nullif(u.door_warn_minutes, d.door_warn_minutes),
    nullif(u.door_critical_minutes, d.door_critical_minutes)
FROM units u CROSS JOIN LATERAL unit_type_default_rule(u.type) d
WHERE u.temp_min_c <> d.temp_min_c OR u.temp_max_c <> d.temp_max_c OR u.hysteresis_c <> d.hysteresis_c
    OR u.confirm_seconds <> d.confirm_seconds OR u.door_confirm_seconds <> d.door_confirm_seconds
    OR u.checkin_interval_seconds <> d.checkin_interval_seconds OR u.manual_log_interval_seconds IS NOT NULL
    OR u.door_warn_minutes <> d.door_warn_minutes OR u.door_critical_minutes <> d.door_critical_minutes;

-- +goose Down
DROP TRIGGER units_own_alert_rule_update ON units;
DROP TRIGGER units_own_alert_rule_insert ON units;
DROP FUNCTION unit_own_alert_rule();
DROP FUNCTION unit_type_default_rule(text);
DROP FUNCTION alert_rule_json(alert_rules);
DROP TABLE alert_rule_history;
DROP TABLE alert_rules;
ALTER TABLE units DROP COLUMN offline_multiplier;
