-- +goose Up
-- Issue 20: platform admin. The service's operators (config PLATFORM_ADMIN_SUBJECTS, not an
-- organisation role) may suspend an organisation: its writes are refused (alarms keep paging,
-- and handling them stays open), until they reactivate it. Their support views and actions
-- are lines of the organisation's audit trail with actor_type platform_admin, which its owners
-- and admins read.
ALTER TABLE organizations ADD COLUMN suspended_at timestamptz;
ALTER TABLE organizations ADD COLUMN suspended_reason text CHECK (length(suspended_reason) <= 500);
ALTER TABLE organizations ADD CONSTRAINT organizations_suspension
    CHECK ((suspended_at IS NULL) = (suspended_reason IS NULL));

ALTER TABLE audit_log DROP CONSTRAINT audit_log_actor_type_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_actor_type_check
    CHECK (actor_type IN ('user', 'system', 'provider', 'inspector_link', 'platform_admin'));

-- +goose Down
DELETE FROM audit_log WHERE actor_type = 'platform_admin';
ALTER TABLE audit_log DROP CONSTRAINT audit_log_actor_type_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_actor_type_check
    CHECK (actor_type IN ('user', 'system', 'provider', 'inspector_link'));
ALTER TABLE organizations DROP CONSTRAINT organizations_suspension;
ALTER TABLE organizations DROP COLUMN suspended_reason;
ALTER TABLE organizations DROP COLUMN suspended_at;
