-- Why face detection could not read an image. A failed image is marked as
-- scanned (faces_scanned_at set) so the detection queue does not retry it
-- forever; a changed file clears both and is tried again.
ALTER TABLE assets ADD COLUMN faces_error TEXT;

-- Whether face detection is switched on (POST /faces/detect until /faces/stop),
-- so newly ingested images keep being detected after a restart; and the
-- newest face the last clustering run saw (faces after it wait for the next).
CREATE TABLE face_detection_state (
    id                INTEGER PRIMARY KEY CHECK (id = 1),
    enabled           INTEGER NOT NULL DEFAULT 0,
    clustered_through INTEGER NOT NULL DEFAULT 0
) STRICT;

-- (SQLite needs no extra index for newest-first by capture date: its NULLs
-- sort first, so DESC NULLS LAST is a backward walk of assets_date_taken.)
