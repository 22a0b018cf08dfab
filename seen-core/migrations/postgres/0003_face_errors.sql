-- Why face detection could not read an image. A failed image is marked as
-- scanned (faces_scanned_at set) so the detection queue does not retry it
-- forever; a changed file clears both and is tried again.
ALTER TABLE assets ADD COLUMN faces_error TEXT;

-- Whether face detection is switched on (POST /faces/detect until /faces/stop),
-- so newly ingested images keep being detected after a restart; and the
-- newest face the last clustering run saw (faces after it wait for the next).
CREATE TABLE face_detection_state (
    id                INTEGER PRIMARY KEY CHECK (id = 1),
    enabled           BIGINT NOT NULL DEFAULT 0,
    clustered_through BIGINT NOT NULL DEFAULT 0
);

-- Newest photos first without sorting the whole table: assets without a
-- capture date come last in both directions (ORDER BY date_taken DESC
-- NULLS LAST, id DESC walks this index; ASC NULLS LAST walks assets_date_taken).
CREATE INDEX assets_date_taken_desc ON assets(date_taken DESC NULLS LAST, id DESC);
