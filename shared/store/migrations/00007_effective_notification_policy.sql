-- +goose Up
-- The policy that governs an alert of a type on a unit: the most specific
-- enabled one (the unit's, then its site's, then the organisation's; one
-- naming the alert type before an any-type one). One definition for the two
-- places that need it: who is paged when an alert opens, and whether "back
-- to normal" is sent when it resolves (notify_on_resolve, which was stored
-- but never read).
-- +goose StatementBegin
CREATE FUNCTION effective_notification_policy(org uuid, unit uuid, kind text)
RETURNS SETOF notification_policies
LANGUAGE sql STABLE ROWS 1 AS $$
    SELECT p.* FROM notification_policies p JOIN units u ON u.id = unit AND u.organization_id = org
    WHERE p.organization_id = org AND p.enabled
        AND (p.unit_id = u.id OR p.site_id = u.site_id OR (p.unit_id IS NULL AND p.site_id IS NULL))
        AND (p.alert_type = kind OR p.alert_type IS NULL)
    ORDER BY (p.unit_id IS NOT NULL) DESC, (p.site_id IS NOT NULL) DESC, (p.alert_type IS NOT NULL) DESC
    LIMIT 1
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION effective_notification_policy(uuid, uuid, text);
