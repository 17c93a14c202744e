ALTER TABLE audit_events DROP COLUMN target_id;
ALTER TABLE audit_events DROP COLUMN target_type;
DROP TABLE invitations;
ALTER TABLE users DROP COLUMN name;
ALTER TABLE users DROP COLUMN kind;
