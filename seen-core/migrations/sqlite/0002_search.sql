-- Search: every word of a query must match the path (filename, folders), case-insensitively,
-- with * and ? wildcards. search_text is the path lower-cased by Seen (Unicode-aware);
-- an FTS5 trigram index makes substring and GLOB matching fast on large libraries.

ALTER TABLE assets ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
UPDATE assets SET search_text = lower(path);

CREATE VIRTUAL TABLE assets_fts USING fts5(
    search_text,
    tokenize = 'trigram case_sensitive 1',
    content = 'assets',
    content_rowid = 'id'
);
INSERT INTO assets_fts(assets_fts) VALUES ('rebuild');

CREATE TRIGGER assets_fts_insert AFTER INSERT ON assets BEGIN
    INSERT INTO assets_fts(rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER assets_fts_delete AFTER DELETE ON assets BEGIN
    INSERT INTO assets_fts(assets_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER assets_fts_update AFTER UPDATE OF search_text ON assets BEGIN
    INSERT INTO assets_fts(assets_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    INSERT INTO assets_fts(rowid, search_text) VALUES (new.id, new.search_text);
END;

CREATE INDEX assets_camera_lower ON assets(lower(camera_make), lower(camera_model));
