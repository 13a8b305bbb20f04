-- Up Migration
-- Alerting read models, all projected from the log: issue alert rules and service hooks
-- (AlertRuleUpserted, ServiceHookUpserted on trapline.admin; a deleted one has no row), the
-- addresses e-mail actions go to until members exist (ProjectAlertEmailsChanged), and the
-- delivery log (AlertDeliveryChanged on trapline.events, one row per delivery, its last state).
CREATE TABLE alert_rules (
  rule_id text PRIMARY KEY,
  project_id bigint NOT NULL,
  name text NOT NULL,
  action_match text NOT NULL,
  filter_match text NOT NULL,
  frequency integer NOT NULL,
  environment text,
  conditions jsonb NOT NULL,
  filters jsonb NOT NULL,
  actions jsonb NOT NULL,
  status text NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL,
  changed_at timestamptz NOT NULL
);
CREATE INDEX alert_rules_project ON alert_rules (project_id, created_at);

CREATE TABLE service_hooks (
  hook_id text PRIMARY KEY,
  project_id bigint NOT NULL,
  url text NOT NULL,
  events text[] NOT NULL,
  secret text NOT NULL,
  status text NOT NULL,
  created_at timestamptz NOT NULL,
  changed_at timestamptz NOT NULL
);
CREATE INDEX service_hooks_project ON service_hooks (project_id, created_at);

CREATE TABLE project_alert_emails (
  project_id bigint PRIMARY KEY,
  emails text[] NOT NULL
);

CREATE TABLE alert_deliveries (
  delivery_id text PRIMARY KEY,
  project_id bigint NOT NULL,
  group_id bigint NOT NULL,
  rule_id text,
  rule_name text NOT NULL,
  trigger text NOT NULL,
  kind text NOT NULL,
  target text NOT NULL,
  status text NOT NULL,
  attempts integer NOT NULL,
  last_error text,
  decided_at timestamptz NOT NULL,
  changed_at timestamptz NOT NULL
);
CREATE INDEX alert_deliveries_project ON alert_deliveries (project_id, decided_at DESC, delivery_id);

-- Down Migration
DROP TABLE alert_deliveries;
DROP TABLE project_alert_emails;
DROP TABLE service_hooks;
DROP TABLE alert_rules;
