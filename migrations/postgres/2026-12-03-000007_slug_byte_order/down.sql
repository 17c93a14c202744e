ALTER TABLE projects ALTER COLUMN slug TYPE text COLLATE "default";
