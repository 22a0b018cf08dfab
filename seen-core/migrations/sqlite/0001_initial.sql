-- Seen schema v1 (SQLite). Kept column-for-column identical to migrations/postgres/0001_initial.sql.
-- Times are unix seconds (or nanoseconds where the column name says _ns), all UTC.

CREATE TABLE scan_paths (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    path        TEXT    NOT NULL UNIQUE,
    is_default  INTEGER NOT NULL DEFAULT 0,
    host_path   TEXT,
    paused      INTEGER NOT NULL DEFAULT 0,
    added_at    INTEGER NOT NULL,
    last_scan_at INTEGER
) STRICT;

CREATE TABLE assets (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    scan_path_id  INTEGER NOT NULL REFERENCES scan_paths(id) ON DELETE CASCADE,
    path          TEXT    NOT NULL UNIQUE,
    dirname       TEXT    NOT NULL,
    filename      TEXT    NOT NULL,
    ext           TEXT    NOT NULL,
    mime          TEXT    NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('image', 'video', 'audio')),
    size          INTEGER NOT NULL,
    mtime_ns      INTEGER NOT NULL,
    ctime_ns      INTEGER NOT NULL,
    sha256        TEXT,
    width         INTEGER,
    height        INTEGER,
    orientation   INTEGER NOT NULL DEFAULT 1,
    rotation      INTEGER NOT NULL DEFAULT 0 CHECK (rotation IN (0, 90, 180, 270)),
    date_taken    INTEGER,
    date_taken_offset_min INTEGER,
    camera_make   TEXT,
    camera_model  TEXT,
    lens          TEXT,
    iso           INTEGER,
    fnumber       REAL,
    exposure_s    REAL,
    focal_length_mm REAL,
    gps_lat       REAL,
    gps_lon       REAL,
    gps_alt       REAL,
    duration_ms   INTEGER,
    video_codec   TEXT,
    audio_codec   TEXT,
    has_audio     INTEGER NOT NULL DEFAULT 0,
    error         TEXT,
    thumb_state   INTEGER NOT NULL DEFAULT 0,
    preview_state INTEGER NOT NULL DEFAULT 0,
    faces_scanned_at INTEGER,
    indexed_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

CREATE INDEX assets_scan_path ON assets(scan_path_id);
CREATE INDEX assets_dirname ON assets(dirname);
CREATE INDEX assets_mtime ON assets(mtime_ns, id);
CREATE INDEX assets_ctime ON assets(ctime_ns, id);
CREATE INDEX assets_size ON assets(size, id);
CREATE INDEX assets_filename ON assets(lower(filename), id);
CREATE INDEX assets_date_taken ON assets(date_taken, id);
CREATE INDEX assets_sha256 ON assets(sha256);
CREATE INDEX assets_pending_previews ON assets(preview_state) WHERE preview_state = 0;
CREATE INDEX assets_camera ON assets(camera_make, camera_model);

-- Paths removed from the index by an index-only delete: later scans skip them.
CREATE TABLE excluded_paths (
    path        TEXT    PRIMARY KEY,
    dirname     TEXT    NOT NULL,
    excluded_at INTEGER NOT NULL
) STRICT;

CREATE INDEX excluded_paths_dirname ON excluded_paths(dirname);

CREATE TABLE persons (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

-- Centroid of a person's faces: 512 little-endian f32.
CREATE TABLE person_profiles (
    person_id   INTEGER PRIMARY KEY REFERENCES persons(id) ON DELETE CASCADE,
    centroid    BLOB    NOT NULL,
    face_count  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE faces (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    asset_id    INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    x1          REAL    NOT NULL,
    y1          REAL    NOT NULL,
    x2          REAL    NOT NULL,
    y2          REAL    NOT NULL,
    landmarks   TEXT    NOT NULL,
    score       REAL    NOT NULL,
    embedding   BLOB,
    person_id   INTEGER REFERENCES persons(id) ON DELETE SET NULL,
    manual      INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX faces_asset ON faces(asset_id);
CREATE INDEX faces_person ON faces(person_id);

-- One row (id = 1) of face settings.
CREATE TABLE face_settings (
    id                   INTEGER PRIMARY KEY CHECK (id = 1),
    confidence_threshold REAL    NOT NULL,
    nms_iou_threshold    REAL    NOT NULL,
    cluster_epsilon      REAL    NOT NULL,
    min_cluster_size     INTEGER NOT NULL,
    min_samples          INTEGER NOT NULL,
    excluded_extensions  TEXT    NOT NULL,
    updated_at           INTEGER NOT NULL
) STRICT;

CREATE TABLE albums (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL,
    description TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE album_assets (
    album_id    INTEGER NOT NULL REFERENCES albums(id) ON DELETE CASCADE,
    asset_id    INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    added_at    INTEGER NOT NULL,
    PRIMARY KEY (album_id, asset_id)
) STRICT;

CREATE INDEX album_assets_asset ON album_assets(asset_id);
