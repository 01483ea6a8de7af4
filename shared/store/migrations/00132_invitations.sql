-- +goose Up
-- Invitations are accepted or declined by the invited person (a verified
-- e-mail address), never claimed at sign-in, and expire after 7 days.
-- Invitations pending before this migration get their 7 days from now (they
-- were never e-mailed: the invitee sees them in GET /api/v1/me).
ALTER TABLE memberships
    ADD COLUMN invite_expires_at timestamptz,
    ADD COLUMN invite_sent_at timestamptz;
UPDATE memberships SET invite_expires_at = now() + interval '7 days', invite_sent_at = coalesce(invited_at, created_at)
    WHERE status = 'pending';
ALTER TABLE memberships ADD CONSTRAINT memberships_pending_invitation
    CHECK (status <> 'pending' OR (user_id IS NULL AND invite_expires_at IS NOT NULL AND invite_sent_at IS NOT NULL));
-- The admins' list of an organisation's invitations.
CREATE INDEX memberships_org_pending_idx ON memberships (organization_id, created_at, id) WHERE status = 'pending';

-- Messages that belong to no alert: 'invitation' (an invitation e-mail) and
-- 'verification' (a contact's one-time code).
ALTER TABLE notifications
    DROP CONSTRAINT notifications_kind_check,
    ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('alert', 'resolved', 'test', 'invitation', 'verification')),
    DROP CONSTRAINT notifications_alert_required,
    ADD CONSTRAINT notifications_alert_required CHECK ((alert_id IS NULL) = (kind IN ('test', 'invitation', 'verification')));

-- +goose Down
DELETE FROM notifications WHERE kind IN ('invitation', 'verification');
ALTER TABLE notifications
    DROP CONSTRAINT notifications_alert_required,
    ADD CONSTRAINT notifications_alert_required CHECK ((alert_id IS NULL) = (kind = 'test')),
    DROP CONSTRAINT notifications_kind_check,
    ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('alert', 'resolved', 'test'));
DROP INDEX memberships_org_pending_idx;
ALTER TABLE memberships DROP CONSTRAINT memberships_pending_invitation,
    DROP COLUMN invite_sent_at,
    DROP COLUMN invite_expires_at;
