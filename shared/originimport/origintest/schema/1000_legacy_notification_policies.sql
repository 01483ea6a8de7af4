-- Copied from getdatasurge/freshtrack-pro@f64fdc3bc1661806e08ab190a79b5e5a8803a0b1 (see README.md):
-- the legacy table the origin backend (fresh-staged) still queries with raw SQL.
-- supabase/migrations/20251229055958_6b711c49-561d-43d0-b09f-e2aec4f7b9be.sql, lines 1-58 (the table; RLS omitted)
-- =====================================================
-- PHASE 1: Notification Policies Schema
-- =====================================================

-- Create notification_policies table for per-alert-type notification configuration
CREATE TABLE public.notification_policies (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID REFERENCES organizations(id) ON DELETE CASCADE,
  site_id UUID REFERENCES sites(id) ON DELETE CASCADE,
  unit_id UUID REFERENCES units(id) ON DELETE CASCADE,
  alert_type TEXT NOT NULL,
  
  -- Initial delivery channels: ['WEB_TOAST', 'IN_APP_CENTER', 'EMAIL', 'SMS']
  initial_channels TEXT[] NOT NULL DEFAULT ARRAY['IN_APP_CENTER'],
  
  -- Acknowledgement settings
  requires_ack BOOLEAN NOT NULL DEFAULT false,
  ack_deadline_minutes INTEGER,
  
  -- Escalation steps (JSONB array)
  -- Format: [{ "delay_minutes": 10, "channels": ["EMAIL"], "repeat": false }]
  escalation_steps JSONB NOT NULL DEFAULT '[]'::jsonb,
  
  -- Advanced options
  send_resolved_notifications BOOLEAN NOT NULL DEFAULT false,
  reminders_enabled BOOLEAN NOT NULL DEFAULT false,
  reminder_interval_minutes INTEGER,
  quiet_hours_enabled BOOLEAN NOT NULL DEFAULT false,
  quiet_hours_start_local TIME,
  quiet_hours_end_local TIME,
  severity_threshold TEXT NOT NULL DEFAULT 'WARNING',
  allow_warning_notifications BOOLEAN NOT NULL DEFAULT false,
  
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  
  -- Exactly one scope must be set
  CONSTRAINT notification_policies_one_scope CHECK (
    (organization_id IS NOT NULL AND site_id IS NULL AND unit_id IS NULL) OR
    (site_id IS NOT NULL AND organization_id IS NULL AND unit_id IS NULL) OR
    (unit_id IS NOT NULL AND organization_id IS NULL AND site_id IS NULL)
  )
);

-- Create unique indexes for each scope level + alert_type combo
CREATE UNIQUE INDEX notification_policies_org_alert_type_idx 
  ON notification_policies(organization_id, alert_type) 
  WHERE organization_id IS NOT NULL;

CREATE UNIQUE INDEX notification_policies_site_alert_type_idx 
  ON notification_policies(site_id, alert_type) 
  WHERE site_id IS NOT NULL;

CREATE UNIQUE INDEX notification_policies_unit_alert_type_idx 
  ON notification_policies(unit_id, alert_type) 
  WHERE unit_id IS NOT NULL;

-- Add index for lookups

-- supabase/migrations/20251229062616_87c80d94-c21e-44df-8c92-5e82a102ecf2.sql, lines 1-6
-- Add recipient targeting columns to notification_policies
ALTER TABLE notification_policies
ADD COLUMN notify_roles TEXT[] DEFAULT ARRAY['owner', 'admin'],
ADD COLUMN notify_site_managers BOOLEAN DEFAULT true,
ADD COLUMN notify_assigned_users BOOLEAN DEFAULT false;

-- supabase/migrations/20251229063411_fdae8223-8277-406c-9eb1-27a2bbed359e.sql, lines 1-20
-- Drop the existing partial indexes that don't work with upsert
DROP INDEX IF EXISTS notification_policies_org_alert_type_idx;
DROP INDEX IF EXISTS notification_policies_site_alert_type_idx;
DROP INDEX IF EXISTS notification_policies_unit_alert_type_idx;

-- Create proper unique constraints for upsert to work
-- Using NULLS NOT DISTINCT so that (NULL, 'temp_excursion') is treated as equal to another (NULL, 'temp_excursion')
ALTER TABLE notification_policies
ADD CONSTRAINT notification_policies_org_alert_unique 
  UNIQUE NULLS NOT DISTINCT (organization_id, alert_type);

ALTER TABLE notification_policies
ADD CONSTRAINT notification_policies_site_alert_unique 
  UNIQUE NULLS NOT DISTINCT (site_id, alert_type);

ALTER TABLE notification_policies
ADD CONSTRAINT notification_policies_unit_alert_unique 
  UNIQUE NULLS NOT DISTINCT (unit_id, alert_type);
