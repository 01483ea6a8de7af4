-- +goose Up
-- Issue 19: what the SPA's dashboard and unit screens ask for.

-- The signed-in user's own profile (PATCH /api/v1/me). A name the user set
-- here is theirs: the token's name no longer overwrites it at sign-in.
-- Notification preferences are the user's wishes for the app's own channels;
-- who is paged for an alert is still the escalation contacts' business.
ALTER TABLE users
    ADD COLUMN display_name_from_profile boolean NOT NULL DEFAULT false,
    ADD COLUMN notification_preferences jsonb NOT NULL DEFAULT '{"email": true, "sms": true, "push": true}'
        CONSTRAINT users_notification_preferences_object CHECK (jsonb_typeof(notification_preferences) = 'object');

-- Notes on a unit's chart at a moment ("defrosted by hand", "door left open
-- during delivery"), by a person; editable by their author and managers.
CREATE TABLE unit_annotations (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    unit_id         uuid NOT NULL,
    author_user_id  uuid REFERENCES users (id) ON DELETE SET NULL,
    -- the moment on the chart the note is about
    at              timestamptz NOT NULL,
    body            text NOT NULL CHECK (btrim(body) <> '' AND length(body) <= 2000),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT unit_annotations_unit_fk FOREIGN KEY (unit_id, organization_id)
        REFERENCES units (id, organization_id) ON DELETE CASCADE
);
CREATE INDEX unit_annotations_unit_at_idx ON unit_annotations (unit_id, at DESC, id DESC);
CREATE INDEX unit_annotations_org_idx ON unit_annotations (organization_id);

-- Saved widget layouts of a user's dashboard of the organisation, a site or
-- a unit: up to three slots per screen, one of them the user's default. The
-- JSON documents are the SPA's: validated by size and shape, not read.
CREATE TABLE dashboard_layouts (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id    uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id            uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    entity_type        text NOT NULL CHECK (entity_type IN ('organization', 'site', 'unit')),
    -- the organisation, site or unit (its row may be deleted later: the
    -- layout is then simply never asked for)
    entity_id          uuid NOT NULL,
    slot               smallint NOT NULL CHECK (slot BETWEEN 1 AND 3),
    name               text NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 80),
    is_default         boolean NOT NULL DEFAULT false,
    layout             jsonb NOT NULL CHECK (jsonb_typeof(layout) IN ('object', 'array')),
    widget_preferences jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(widget_preferences) = 'object'),
    timeline_state     jsonb CHECK (timeline_state IS NULL OR jsonb_typeof(timeline_state) = 'object'),
    layout_version     integer NOT NULL DEFAULT 1 CHECK (layout_version >= 1),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT dashboard_layouts_slot_key UNIQUE (organization_id, user_id, entity_type, entity_id, slot)
);
CREATE UNIQUE INDEX dashboard_layouts_one_default ON dashboard_layouts (organization_id, user_id, entity_type, entity_id)
    WHERE is_default;

-- +goose Down
DROP TABLE dashboard_layouts;
DROP TABLE unit_annotations;
ALTER TABLE users DROP COLUMN notification_preferences, DROP COLUMN display_name_from_profile;
