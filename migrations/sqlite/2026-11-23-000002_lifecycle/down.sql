DROP INDEX projects_org_deleted_idx;
DROP TABLE idempotency_keys;
DROP TABLE usage_records;
DROP TABLE audit_events;
