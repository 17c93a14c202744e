ALTER TABLE audit_events DROP COLUMN target_id, DROP COLUMN target_type;
DROP TABLE invitations;
ALTER TABLE users DROP COLUMN name, DROP COLUMN kind;
