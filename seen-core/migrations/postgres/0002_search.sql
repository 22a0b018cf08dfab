-- Search: every word of a query must match the path (filename, folders), case-insensitively,
-- with * and ? wildcards. search_text is the path lower-cased by Seen (Unicode-aware);
-- a pg_trgm GIN index makes substring LIKE matching fast on large libraries.

CREATE EXTENSION IF NOT EXISTS pg_trgm;
ALTER TABLE assets ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
UPDATE assets SET search_text = lower(path);
CREATE INDEX assets_search_trgm ON assets USING gin (search_text gin_trgm_ops);
CREATE INDEX assets_camera_lower ON assets(lower(camera_make), lower(camera_model));
