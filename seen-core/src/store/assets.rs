//! Assets: one row per indexed file.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::{Store, now, on_read, on_write};
use crate::error::{Error, Result};

/// What kind of media an asset is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AssetKind {
    /// A still image (including RAW).
    Image,
    /// A video.
    Video,
    /// Audio only.
    Audio,
}

impl AssetKind {
    /// The text stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            AssetKind::Image => "image",
            AssetKind::Video => "video",
            AssetKind::Audio => "audio",
        }
    }

    fn from_db(s: &str) -> AssetKind {
        match s {
            "video" => AssetKind::Video,
            "audio" => AssetKind::Audio,
            _ => AssetKind::Image,
        }
    }
}

/// Everything the pipeline learned about one file, ready to be stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewAsset {
    /// Id of the scan path the file lives under.
    pub scan_path_id: i64,
    /// Absolute path of the file.
    pub path: String,
    /// Lower-case extension without the dot.
    pub ext: String,
    /// MIME type.
    pub mime: String,
    /// Image, video or audio.
    pub kind: Option<AssetKind>,
    /// Size in bytes.
    pub size: i64,
    /// Modification time, nanoseconds since the epoch.
    pub mtime_ns: i64,
    /// Status-change time, nanoseconds since the epoch.
    pub ctime_ns: i64,
    /// SHA-256 of the content, lower-case hex.
    pub sha256: Option<String>,
    /// Displayed width (orientation applied).
    pub width: Option<i64>,
    /// Displayed height (orientation applied).
    pub height: Option<i64>,
    /// EXIF orientation 1..=8.
    pub orientation: i64,
    /// Capture time, unix seconds UTC.
    pub date_taken: Option<i64>,
    /// UTC offset of the capture time, minutes, when the file says.
    pub date_taken_offset_min: Option<i64>,
    /// Camera maker.
    pub camera_make: Option<String>,
    /// Camera model.
    pub camera_model: Option<String>,
    /// Lens model.
    pub lens: Option<String>,
    /// ISO speed.
    pub iso: Option<i64>,
    /// Aperture f-number.
    pub fnumber: Option<f64>,
    /// Exposure time in seconds.
    pub exposure_s: Option<f64>,
    /// Focal length in millimetres.
    pub focal_length_mm: Option<f64>,
    /// Latitude, degrees (north positive).
    pub gps_lat: Option<f64>,
    /// Longitude, degrees (east positive).
    pub gps_lon: Option<f64>,
    /// Altitude, metres.
    pub gps_alt: Option<f64>,
    /// Duration of video or audio, milliseconds.
    pub duration_ms: Option<i64>,
    /// Video codec name.
    pub video_codec: Option<String>,
    /// Audio codec name.
    pub audio_codec: Option<String>,
    /// Whether the file has an audio stream.
    pub has_audio: bool,
    /// Why the file could only be partly read, if it could not.
    pub error: Option<String>,
    /// Thumbnail state: 0 pending, 1 done, 2 failed, 3 none (audio).
    pub thumb_state: i64,
    /// Preview state: 0 pending, 1 done, 2 failed, 3 none (audio).
    pub preview_state: i64,
    /// The id of an indexed asset with the same content whose file is gone:
    /// this file is that asset, renamed or moved, and keeps its id.
    pub moved_from: Option<i64>,
}

/// An indexed file as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Asset {
    /// Stable id.
    pub id: i64,
    /// Id of the scan path it belongs to.
    pub scan_path_id: i64,
    /// Absolute path.
    pub path: String,
    /// Directory part of the path.
    pub dirname: String,
    /// File name part of the path.
    pub filename: String,
    /// Lower-case extension without the dot.
    pub ext: String,
    /// MIME type.
    pub mime: String,
    #[sqlx(try_from = "String")]
    /// Image, video or audio.
    pub kind: KindText,
    /// Size in bytes.
    pub size: i64,
    /// Modification time, ns.
    pub mtime_ns: i64,
    /// Status-change time, ns.
    pub ctime_ns: i64,
    /// SHA-256 hex.
    pub sha256: Option<String>,
    /// Displayed width.
    pub width: Option<i64>,
    /// Displayed height.
    pub height: Option<i64>,
    /// EXIF orientation.
    pub orientation: i64,
    /// User rotation in degrees (0, 90, 180, 270), applied to derived images.
    pub rotation: i64,
    /// Capture time, unix seconds UTC.
    pub date_taken: Option<i64>,
    /// UTC offset of the capture time, minutes.
    pub date_taken_offset_min: Option<i64>,
    /// Camera maker.
    pub camera_make: Option<String>,
    /// Camera model.
    pub camera_model: Option<String>,
    /// Lens.
    pub lens: Option<String>,
    /// ISO speed.
    pub iso: Option<i64>,
    /// Aperture.
    pub fnumber: Option<f64>,
    /// Exposure time, s.
    pub exposure_s: Option<f64>,
    /// Focal length, mm.
    pub focal_length_mm: Option<f64>,
    /// Latitude.
    pub gps_lat: Option<f64>,
    /// Longitude.
    pub gps_lon: Option<f64>,
    /// Altitude.
    pub gps_alt: Option<f64>,
    /// Duration, ms.
    pub duration_ms: Option<i64>,
    /// Video codec.
    pub video_codec: Option<String>,
    /// Audio codec.
    pub audio_codec: Option<String>,
    /// Has an audio stream.
    pub has_audio: bool,
    /// Read problem, if any.
    pub error: Option<String>,
    /// 0 pending, 1 done, 2 failed.
    pub thumb_state: i64,
    /// 0 pending, 1 done, 2 failed.
    pub preview_state: i64,
    /// When face detection last ran on it.
    pub faces_scanned_at: Option<i64>,
    /// Why face detection could not read it, if it failed.
    pub faces_error: Option<String>,
    /// When it was first indexed.
    pub indexed_at: i64,
    /// When its row last changed.
    pub updated_at: i64,
}

/// [`AssetKind`] as read from the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindText(pub AssetKind);

impl From<String> for KindText {
    fn from(s: String) -> Self {
        KindText(AssetKind::from_db(&s))
    }
}

impl Asset {
    /// Image, video or audio.
    pub fn kind(&self) -> AssetKind {
        self.kind.0
    }

    /// Capture time as ISO 8601 UTC (`2023-01-15T10:30:00Z`).
    pub fn date_taken_iso(&self) -> Option<String> {
        self.date_taken
            .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
            .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
    }
}

/// The JSON shape of an asset, shared by every binding: the fields of the
/// API document first, extras after.
impl Asset {
    /// Width and height as shown: EXIF orientation (already in `width`
    /// and `height`) and then the user's rotation applied.
    pub fn displayed_size(&self) -> (Option<i64>, Option<i64>) {
        if self.rotation.rem_euclid(180) == 90 {
            (self.height, self.width)
        } else {
            (self.width, self.height)
        }
    }
}

impl Serialize for Asset {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut m = s.serialize_struct("Asset", 33)?;
        m.serialize_field("id", &self.id)?;
        m.serialize_field("path", &self.path)?;
        m.serialize_field("filename", &self.filename)?;
        m.serialize_field("mime", &self.mime)?;
        m.serialize_field("size", &self.size)?;
        m.serialize_field("mtime", &self.mtime_ns.div_euclid(1_000_000_000))?;
        m.serialize_field("ctime", &self.ctime_ns.div_euclid(1_000_000_000))?;
        m.serialize_field("sha256", &self.sha256)?;
        let (width, height) = self.displayed_size();
        m.serialize_field("width", &width)?;
        m.serialize_field("height", &height)?;
        m.serialize_field("camera_make", &self.camera_make)?;
        m.serialize_field("camera_model", &self.camera_model)?;
        m.serialize_field("date_taken", &self.date_taken_iso())?;
        m.serialize_field("kind", &self.kind())?;
        m.serialize_field("dirname", &self.dirname)?;
        m.serialize_field("ext", &self.ext)?;
        m.serialize_field("rotation", &self.rotation)?;
        m.serialize_field("orientation", &self.orientation)?;
        m.serialize_field("date_taken_offset_min", &self.date_taken_offset_min)?;
        m.serialize_field("lens", &self.lens)?;
        m.serialize_field("iso", &self.iso)?;
        m.serialize_field("fnumber", &self.fnumber)?;
        m.serialize_field("exposure", &self.exposure_s)?;
        m.serialize_field("focal_length", &self.focal_length_mm)?;
        m.serialize_field("gps_lat", &self.gps_lat)?;
        m.serialize_field("gps_lon", &self.gps_lon)?;
        m.serialize_field("gps_alt", &self.gps_alt)?;
        m.serialize_field("duration_ms", &self.duration_ms)?;
        m.serialize_field("video_codec", &self.video_codec)?;
        m.serialize_field("audio_codec", &self.audio_codec)?;
        m.serialize_field("has_audio", &self.has_audio)?;
        m.serialize_field("error", &self.error)?;
        m.serialize_field("faces_error", &self.faces_error)?;
        m.end()
    }
}

/// Fields `/assets` can sort by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortField {
    /// Modification time (the default).
    #[default]
    Mtime,
    /// Status-change time.
    Ctime,
    /// File size.
    Size,
    /// File name, case-insensitive.
    Filename,
    /// Capture time; assets without one come last.
    DateTaken,
}

impl std::str::FromStr for SortField {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "mtime" => Ok(SortField::Mtime),
            "ctime" => Ok(SortField::Ctime),
            "size" => Ok(SortField::Size),
            "filename" | "name" => Ok(SortField::Filename),
            "date_taken" | "date" => Ok(SortField::DateTaken),
            other => Err(Error::invalid(format!(
                "sort must be one of mtime, ctime, size, filename, date_taken; not {other:?}"
            ))),
        }
    }
}

/// The query of [`Store::list_assets`]: `$1` limit, `$2` offset, `$3`
/// person when filtered by one.
pub(super) fn list_sql(q: &ListQuery) -> String {
    let filter = if q.person_id.is_some() {
        "WHERE id IN (SELECT asset_id FROM faces WHERE person_id = $3)"
    } else {
        ""
    };
    format!(
        "SELECT {ASSET_COLUMNS} FROM assets {filter} ORDER BY {} LIMIT $1 OFFSET $2",
        q.sort.order_by(q.order)
    )
}

impl SortField {
    fn column(self) -> &'static str {
        match self {
            SortField::Mtime => "mtime_ns",
            SortField::Ctime => "ctime_ns",
            SortField::Size => "size",
            SortField::Filename => "lower(filename)",
            SortField::DateTaken => "date_taken",
        }
    }

    /// The ORDER BY clause, served by an index on both backends: only
    /// `date_taken` can be NULL (assets without one come last either way),
    /// and a `NULLS LAST` on a NOT NULL column would make Postgres sort
    /// every row instead of walking its index.
    fn order_by(self, order: Order) -> String {
        let dir = match order {
            Order::Asc => "ASC",
            Order::Desc => "DESC",
        };
        let nulls = if self == SortField::DateTaken {
            " NULLS LAST"
        } else {
            ""
        };
        format!("{col} {dir}{nulls}, id {dir}", col = self.column())
    }
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// Smallest first.
    Asc,
    /// Largest first (the default).
    #[default]
    Desc,
}

impl std::str::FromStr for Order {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "asc" => Ok(Order::Asc),
            "desc" => Ok(Order::Desc),
            other => Err(Error::invalid(format!(
                "order must be asc or desc, not {other:?}"
            ))),
        }
    }
}

/// A page of the asset list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListQuery {
    /// Rows to skip.
    pub offset: i64,
    /// Rows to return (1..=1000).
    pub limit: i64,
    /// Sort field.
    pub sort: SortField,
    /// Sort direction.
    pub order: Order,
    /// Only assets showing this person.
    pub person_id: Option<i64>,
}

impl Default for ListQuery {
    fn default() -> Self {
        ListQuery {
            offset: 0,
            limit: 200,
            sort: SortField::Mtime,
            order: Order::Desc,
            person_id: None,
        }
    }
}

impl ListQuery {
    /// Largest page size.
    pub const MAX_LIMIT: i64 = 1000;

    /// Reject negative offsets and limits outside 1..=1000.
    pub fn validate(&self) -> Result<()> {
        if self.offset < 0 {
            return Err(Error::invalid("offset must not be negative"));
        }
        if self.limit < 1 || self.limit > Self::MAX_LIMIT {
            return Err(Error::invalid(format!(
                "limit must be within 1..={}",
                Self::MAX_LIMIT
            )));
        }
        Ok(())
    }
}

/// What a rescan needs to know about an indexed file to skip it unopened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetStat {
    /// Asset id.
    pub id: i64,
    /// Size in bytes.
    pub size: i64,
    /// Modification time, ns.
    pub mtime_ns: i64,
    /// Status-change time, ns (a `chmod` changes it, not the mtime).
    pub ctime_ns: i64,
    /// User rotation.
    pub rotation: i64,
    /// Whether the file could not be read or decoded last time.
    pub failed: bool,
}

/// New derived-image states for every asset with one content and rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerivedUpdate {
    /// Content hash.
    pub sha256: String,
    /// Rotation the images were made for.
    pub rotation: i64,
    /// New thumbnail state, if it changed.
    pub thumb: Option<i64>,
    /// New preview state, if it changed.
    pub preview: Option<i64>,
}

/// Derived-image states used to find unfinished work after a restart.
/// State codes: 0 pending, 1 done, 2 failed, 3 not applicable.
pub mod derived_state {
    /// Not made yet.
    pub const PENDING: i64 = 0;
    /// Made and on disk.
    pub const DONE: i64 = 1;
    /// Could not be made (the reason is in the asset's `error`).
    pub const FAILED: i64 = 2;
    /// The asset has no picture (audio).
    pub const NONE: i64 = 3;
}

pub(super) const ASSET_COLUMNS: &str = "id, scan_path_id, path, dirname, filename, ext, mime, kind, size, \
    mtime_ns, ctime_ns, sha256, width, height, orientation, rotation, date_taken, \
    date_taken_offset_min, camera_make, camera_model, lens, iso, fnumber, exposure_s, \
    focal_length_mm, gps_lat, gps_lon, gps_alt, duration_ms, video_codec, audio_codec, \
    has_audio, error, thumb_state, preview_state, faces_scanned_at, faces_error, indexed_at, updated_at";

/// Rows per multi-row statement (at most 34 bound values a row, well under
/// the parameter limits of SQLite and Postgres).
const ROWS_PER_STATEMENT: usize = 200;

/// `rows` parenthesised groups of `cols` numbered placeholders starting at
/// `$first`, each followed by `extra` (shared values such as `, $1`).
fn value_rows(rows: usize, cols: usize, first: usize, extra: &str) -> String {
    let mut out = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..cols {
            if c > 0 {
                out.push_str(", ");
            }
            out.push('$');
            out.push_str(&(first + r * cols + c).to_string());
        }
        out.push_str(extra);
        out.push(')');
    }
    out
}

/// Most trigram-index matches a SQLite search fetches and sorts whole.
const SQLITE_INDEX_MATCHES: i64 = 2000;

/// `n` numbered placeholders from `$first`, comma-separated.
fn placeholders(n: usize, first: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

const UPSERT_ASSETS_HEAD: &str = "INSERT INTO assets (scan_path_id, path, dirname, filename, \
    ext, mime, kind, size, mtime_ns, ctime_ns, sha256, width, height, orientation, date_taken, \
    date_taken_offset_min, camera_make, camera_model, lens, iso, fnumber, exposure_s, \
    focal_length_mm, gps_lat, gps_lon, gps_alt, duration_ms, video_codec, audio_codec, \
    has_audio, error, thumb_state, preview_state, search_text, indexed_at, updated_at) VALUES";

const UPSERT_ASSETS_TAIL: &str = "ON CONFLICT (path) DO UPDATE SET \
    scan_path_id = excluded.scan_path_id, \
    dirname = excluded.dirname, filename = excluded.filename, ext = excluded.ext, \
    mime = excluded.mime, kind = excluded.kind, size = excluded.size, \
    mtime_ns = excluded.mtime_ns, ctime_ns = excluded.ctime_ns, sha256 = excluded.sha256, \
    width = excluded.width, height = excluded.height, orientation = excluded.orientation, \
    date_taken = excluded.date_taken, date_taken_offset_min = excluded.date_taken_offset_min, \
    camera_make = excluded.camera_make, camera_model = excluded.camera_model, \
    lens = excluded.lens, iso = excluded.iso, fnumber = excluded.fnumber, \
    exposure_s = excluded.exposure_s, focal_length_mm = excluded.focal_length_mm, \
    gps_lat = excluded.gps_lat, gps_lon = excluded.gps_lon, gps_alt = excluded.gps_alt, \
    duration_ms = excluded.duration_ms, video_codec = excluded.video_codec, \
    audio_codec = excluded.audio_codec, has_audio = excluded.has_audio, \
    error = excluded.error, thumb_state = excluded.thumb_state, \
    preview_state = excluded.preview_state, \
    faces_scanned_at = CASE WHEN assets.sha256 = excluded.sha256 \
        THEN assets.faces_scanned_at ELSE NULL END, \
    faces_error = CASE WHEN assets.sha256 = excluded.sha256 \
        THEN assets.faces_error ELSE NULL END, \
    updated_at = excluded.updated_at, search_text = excluded.search_text \
    RETURNING id, path";

/// A value bound to a dynamically built statement.
enum BindValue {
    Text(String),
    Int(i64),
}

/// Split an absolute path into (dirname, filename).
pub(crate) fn split_path(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(0) => ("/", &path[1..]),
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("", path),
    }
}

impl Store {
    /// Rows per upsert statement. Postgres: many, as each statement is a
    /// round trip. SQLite runs in-process, where one cached single-row
    /// statement measured faster than multi-row ones whose size varies per
    /// batch (each a new statement to prepare): 20,000 tiny files took
    /// 12.7–13.2 s at one row against 14.6–16.1 s at 200.
    fn write_chunk(&self) -> usize {
        match self.backend() {
            super::Backend::SQLite => 1,
            super::Backend::Postgres => ROWS_PER_STATEMENT,
        }
    }

    /// Insert or update (by path) a batch of assets in one transaction of a
    /// few multi-row statements (never a round trip per row); returns their
    /// ids in input order. A changed file gets its derived images and faces
    /// redone; its id, rotation and album links stay. When one path comes
    /// twice, its last row wins.
    pub async fn upsert_assets(&self, batch: &[NewAsset]) -> Result<Vec<i64>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let t = now();
        // The last row of each path, in input order.
        let mut last_of: HashMap<&str, usize> = HashMap::new();
        for (i, a) in batch.iter().enumerate() {
            last_of.insert(a.path.as_str(), i);
        }
        let unique: Vec<&NewAsset> = batch
            .iter()
            .enumerate()
            .filter(|(i, a)| last_of[a.path.as_str()] == *i)
            .map(|(_, a)| a)
            .collect();
        let (moves, mut inserts): (Vec<&NewAsset>, Vec<&NewAsset>) =
            unique.into_iter().partition(|a| a.moved_from.is_some());
        let mut ids: HashMap<String, i64> = HashMap::new();
        on_write!(self, |pool| {
            let mut tx = pool.begin().await?;
            // Same content under a new name: keep the id (and with it albums,
            // faces, rotation), update where it lives.
            for chunk in moves.chunks(ROWS_PER_STATEMENT) {
                let sql = format!(
                    "WITH m(id, scan_path_id, path, dirname, filename, ext, mtime_ns, \
                     ctime_ns, search_text) AS (VALUES {}) \
                     UPDATE assets SET scan_path_id = m.scan_path_id, path = m.path, \
                     dirname = m.dirname, filename = m.filename, ext = m.ext, \
                     mtime_ns = m.mtime_ns, ctime_ns = m.ctime_ns, updated_at = $1, \
                     search_text = m.search_text FROM m WHERE assets.id = m.id \
                     RETURNING assets.id, assets.path",
                    value_rows(chunk.len(), 9, 2, "")
                );
                let mut q = sqlx::query_as::<_, (i64, String)>(&sql).bind(t);
                for a in chunk {
                    let (dirname, filename) = split_path(&a.path);
                    q = q
                        .bind(a.moved_from)
                        .bind(a.scan_path_id)
                        .bind(&a.path)
                        .bind(dirname)
                        .bind(filename)
                        .bind(&a.ext)
                        .bind(a.mtime_ns)
                        .bind(a.ctime_ns)
                        .bind(crate::search::search_text(&a.path));
                }
                ids.extend(
                    q.fetch_all(&mut *tx)
                        .await?
                        .into_iter()
                        .map(|(id, p)| (p, id)),
                );
            }
            // A move whose old asset is gone meanwhile is a new file.
            inserts.extend(moves.iter().filter(|a| !ids.contains_key(&a.path)));
            for chunk in inserts.chunks(self.write_chunk()) {
                let sql = format!(
                    "{UPSERT_ASSETS_HEAD} {} {UPSERT_ASSETS_TAIL}",
                    value_rows(chunk.len(), 34, 2, ", $1, $1")
                );
                let mut q = sqlx::query_as::<_, (i64, String)>(&sql).bind(t);
                for a in chunk {
                    let (dirname, filename) = split_path(&a.path);
                    q = q
                        .bind(a.scan_path_id)
                        .bind(&a.path)
                        .bind(dirname)
                        .bind(filename)
                        .bind(&a.ext)
                        .bind(&a.mime)
                        .bind(a.kind.unwrap_or(AssetKind::Image).as_str())
                        .bind(a.size)
                        .bind(a.mtime_ns)
                        .bind(a.ctime_ns)
                        .bind(&a.sha256)
                        .bind(a.width)
                        .bind(a.height)
                        .bind(a.orientation)
                        .bind(a.date_taken)
                        .bind(a.date_taken_offset_min)
                        .bind(&a.camera_make)
                        .bind(&a.camera_model)
                        .bind(&a.lens)
                        .bind(a.iso)
                        .bind(a.fnumber)
                        .bind(a.exposure_s)
                        .bind(a.focal_length_mm)
                        .bind(a.gps_lat)
                        .bind(a.gps_lon)
                        .bind(a.gps_alt)
                        .bind(a.duration_ms)
                        .bind(&a.video_codec)
                        .bind(&a.audio_codec)
                        .bind(a.has_audio)
                        .bind(&a.error)
                        .bind(a.thumb_state)
                        .bind(a.preview_state)
                        .bind(crate::search::search_text(&a.path));
                }
                ids.extend(
                    q.fetch_all(&mut *tx)
                        .await?
                        .into_iter()
                        .map(|(id, p)| (p, id)),
                );
            }
            // Every row must have come back before anything is committed.
            if let Some(a) = batch.iter().find(|a| !ids.contains_key(&a.path)) {
                return Err(Error::Internal(format!("no row came back for {}", a.path)));
            }
            tx.commit().await?;
        });
        Ok(batch.iter().map(|a| ids[&a.path]).collect())
    }

    /// One asset by id.
    pub async fn asset(&self, id: i64) -> Result<Asset> {
        let sql = format!("SELECT {ASSET_COLUMNS} FROM assets WHERE id = $1");
        on_read!(self, |pool| {
            sqlx::query_as::<_, Asset>(&sql)
                .bind(id)
                .fetch_optional(pool)
                .await?
                .ok_or_else(|| Error::not_found(format!("asset {id}")))
        })
    }

    /// One asset by path, if indexed.
    pub async fn asset_by_path(&self, path: &str) -> Result<Option<Asset>> {
        let sql = format!("SELECT {ASSET_COLUMNS} FROM assets WHERE path = $1");
        on_read!(self, |pool| {
            Ok(sqlx::query_as::<_, Asset>(&sql)
                .bind(path)
                .fetch_optional(pool)
                .await?)
        })
    }

    /// A page of assets in the requested order.
    pub async fn list_assets(&self, q: &ListQuery) -> Result<Vec<Asset>> {
        q.validate()?;
        let sql = list_sql(q);
        on_read!(self, |pool| {
            let mut query = sqlx::query_as::<_, Asset>(&sql)
                .bind(q.limit)
                .bind(q.offset);
            if let Some(p) = q.person_id {
                query = query.bind(p);
            }
            Ok(query.fetch_all(pool).await?)
        })
    }

    /// Whether the words' matches on SQLite are few enough to fetch them
    /// all from the trigram index and sort them; past this many, walking the
    /// sort order and testing each row stops sooner (a word found in every
    /// path took 0.3 s a page the other way at 100,000 assets).
    async fn few_sqlite_matches(&self, patterns: &[String]) -> Result<bool> {
        let sql = format!(
            "SELECT COUNT(*) FROM (SELECT rowid FROM assets_fts WHERE {} LIMIT {})",
            (1..=patterns.len())
                .map(|i| format!("search_text GLOB ${i}"))
                .collect::<Vec<_>>()
                .join(" AND "),
            SQLITE_INDEX_MATCHES + 1
        );
        let n: i64 = on_read!(self, |pool| {
            let mut q = sqlx::query_scalar(&sql);
            for p in patterns {
                q = q.bind(p);
            }
            q.fetch_one(pool).await?
        });
        Ok(n <= SQLITE_INDEX_MATCHES)
    }

    /// Assets whose path matches every term of the query, with filters.
    pub async fn search_assets(&self, q: &crate::search::SearchQuery) -> Result<Vec<Asset>> {
        use crate::search::{glob_pattern, like_pattern};
        let terms = q.validate()?;
        let sqlite = self.backend() == super::Backend::SQLite;
        // The trigram index serves words with three letters in a row; with a
        // shorter one it would scan, so the sort order is walked instead.
        let indexable = |t: &String| t.split(['*', '?']).any(|run| run.chars().count() >= 3);
        let use_fts = sqlite && terms.iter().all(indexable) && {
            let patterns: Vec<String> = terms.iter().map(|t| glob_pattern(t)).collect();
            self.few_sqlite_matches(&patterns).await?
        };
        // $1 and $2 are LIMIT and OFFSET; the rest are numbered as pushed.
        let mut binds: Vec<BindValue> = Vec::new();
        let mut push = |v: BindValue| {
            binds.push(v);
            format!("${}", binds.len() + 2)
        };
        let term_clauses: Vec<String> = terms
            .iter()
            .map(|t| {
                if sqlite {
                    format!(
                        "search_text GLOB {}",
                        push(BindValue::Text(glob_pattern(t)))
                    )
                } else {
                    format!(
                        "search_text LIKE {} ESCAPE '\\'",
                        push(BindValue::Text(like_pattern(t)))
                    )
                }
            })
            .collect();
        let mut clauses = if use_fts {
            vec![format!(
                "id IN (SELECT rowid FROM assets_fts WHERE {})",
                term_clauses.join(" AND ")
            )]
        } else {
            term_clauses
        };
        if let Some(f) = q.from {
            clauses.push(format!("date_taken >= {}", push(BindValue::Int(f))));
        }
        if let Some(t) = q.to {
            clauses.push(format!("date_taken <= {}", push(BindValue::Int(t))));
        }
        if let Some(m) = &q.camera_make {
            clauses.push(format!(
                "lower(camera_make) = lower({})",
                push(BindValue::Text(m.clone()))
            ));
        }
        if let Some(m) = &q.camera_model {
            clauses.push(format!(
                "lower(camera_model) = lower({})",
                push(BindValue::Text(m.clone()))
            ));
        }
        if let Some(p) = q.page.person_id {
            clauses.push(format!(
                "id IN (SELECT asset_id FROM faces WHERE person_id = {})",
                push(BindValue::Int(p))
            ));
        }
        let sql = format!(
            "SELECT {ASSET_COLUMNS} FROM assets WHERE {} ORDER BY {} LIMIT $1 OFFSET $2",
            clauses.join(" AND "),
            q.page.sort.order_by(q.page.order)
        );
        on_read!(self, |pool| {
            let mut query = sqlx::query_as::<_, Asset>(&sql)
                .bind(q.page.limit)
                .bind(q.page.offset);
            for v in &binds {
                query = match v {
                    BindValue::Text(t) => query.bind(t.clone()),
                    BindValue::Int(i) => query.bind(*i),
                };
            }
            Ok(query.fetch_all(pool).await?)
        })
    }

    /// Assets stored with a recorded problem (`error` set: unreadable,
    /// partly read, or metadata the database refused), oldest first.
    pub async fn problem_assets(&self, limit: i64, offset: i64) -> Result<Vec<Asset>> {
        ListQuery {
            limit,
            offset,
            ..ListQuery::default()
        }
        .validate()?;
        let sql = format!(
            "SELECT {ASSET_COLUMNS} FROM assets WHERE error IS NOT NULL \
             ORDER BY id LIMIT $1 OFFSET $2"
        );
        on_read!(self, |pool| {
            Ok(sqlx::query_as::<_, Asset>(&sql)
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await?)
        })
    }

    /// Asset counts per MIME type.
    pub async fn mime_counts(&self) -> Result<Vec<(String, i64)>> {
        on_read!(self, |pool| {
            Ok(
                sqlx::query_as("SELECT mime, COUNT(*) FROM assets GROUP BY mime ORDER BY mime")
                    .fetch_all(pool)
                    .await?,
            )
        })
    }

    /// Empty the index: assets (with their album links), faces, persons and
    /// remembered exclusions. Scan paths and albums stay. Returns
    /// (assets, faces, persons) deleted.
    pub async fn clear_index(&self) -> Result<(i64, i64, i64)> {
        on_write!(self, |pool| {
            let mut tx = pool.begin().await?;
            let count = |table: &'static str| format!("SELECT COUNT(*) FROM {table}");
            let assets: i64 = sqlx::query_scalar(&count("assets"))
                .fetch_one(&mut *tx)
                .await?;
            let faces: i64 = sqlx::query_scalar(&count("faces"))
                .fetch_one(&mut *tx)
                .await?;
            let persons: i64 = sqlx::query_scalar(&count("persons"))
                .fetch_one(&mut *tx)
                .await?;
            for table in [
                "faces",
                "person_profiles",
                "persons",
                "assets",
                "excluded_paths",
            ] {
                sqlx::query(&format!("DELETE FROM {table}"))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok((assets, faces, persons))
        })
    }

    /// Number of indexed assets.
    pub async fn count_assets(&self) -> Result<i64> {
        on_read!(self, |pool| {
            Ok(sqlx::query_scalar("SELECT COUNT(*) FROM assets")
                .fetch_one(pool)
                .await?)
        })
    }

    /// Size, times and state of every indexed file directly inside
    /// `dirname`, keyed by path: one query per directory lets a rescan skip
    /// unchanged files.
    pub async fn stats_in_dir(&self, dirname: &str) -> Result<HashMap<String, AssetStat>> {
        type Row = (i64, String, i64, i64, i64, i64, bool);
        let rows: Vec<Row> = on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT id, path, size, mtime_ns, ctime_ns, rotation, \
                 (error IS NOT NULL OR sha256 IS NULL) FROM assets WHERE dirname = $1",
            )
            .bind(dirname)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(id, path, size, mtime_ns, ctime_ns, rotation, failed)| {
                (
                    path,
                    AssetStat {
                        id,
                        size,
                        mtime_ns,
                        ctime_ns,
                        rotation,
                        failed,
                    },
                )
            })
            .collect())
    }

    /// Ids of the assets with this content hash.
    pub async fn assets_with_sha256(&self, sha256: &str) -> Result<Vec<i64>> {
        on_read!(self, |pool| {
            Ok(
                sqlx::query_scalar("SELECT id FROM assets WHERE sha256 = $1 ORDER BY id")
                    .bind(sha256)
                    .fetch_all(pool)
                    .await?,
            )
        })
    }

    /// Delete assets by id (their faces and album links go with them); returns
    /// how many rows went. With `exclude`, their paths are remembered so later
    /// scans do not add them back. One transaction of multi-row statements.
    pub async fn delete_assets(&self, ids: &[i64], exclude: bool) -> Result<u64> {
        let t = now();
        on_write!(self, |pool| {
            let mut tx = pool.begin().await?;
            let mut deleted = 0;
            for chunk in ids.chunks(ROWS_PER_STATEMENT) {
                let sql = format!(
                    "DELETE FROM assets WHERE id IN ({}) RETURNING path",
                    placeholders(chunk.len(), 1)
                );
                let mut q = sqlx::query_scalar::<_, String>(&sql);
                for id in chunk {
                    q = q.bind(id);
                }
                let paths = q.fetch_all(&mut *tx).await?;
                deleted += paths.len() as u64;
                if exclude && !paths.is_empty() {
                    let sql = format!(
                        "INSERT INTO excluded_paths (path, dirname, excluded_at) VALUES {} \
                         ON CONFLICT (path) DO NOTHING",
                        value_rows(paths.len(), 2, 2, ", $1")
                    );
                    let mut q = sqlx::query(&sql).bind(t);
                    for path in &paths {
                        q = q.bind(path).bind(split_path(path).0);
                    }
                    q.execute(&mut *tx).await?;
                }
            }
            tx.commit().await?;
            Ok(deleted)
        })
    }

    /// Assets by id (those that exist), in id order.
    pub async fn assets_by_ids(&self, ids: &[i64]) -> Result<Vec<Asset>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT {ASSET_COLUMNS} FROM assets WHERE id IN ({}) ORDER BY id",
                placeholders(chunk.len(), 1)
            );
            on_read!(self, |pool| {
                let mut q = sqlx::query_as::<_, Asset>(&sql);
                for id in chunk {
                    q = q.bind(id);
                }
                out.extend(q.fetch_all(pool).await?);
            });
        }
        out.sort_by_key(|a| a.id);
        Ok(out)
    }

    /// Whether `path` was removed from the index on purpose.
    pub async fn is_excluded(&self, path: &str) -> Result<bool> {
        on_read!(self, |pool| {
            let hits: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM excluded_paths WHERE path = $1")
                    .bind(path)
                    .fetch_one(pool)
                    .await?;
            Ok(hits > 0)
        })
    }

    /// Store the user's rotation (degrees: 0, 90, 180 or 270) and mark the
    /// derived images for regeneration.
    pub async fn set_rotation(&self, id: i64, rotation: i64) -> Result<()> {
        if !matches!(rotation, 0 | 90 | 180 | 270) {
            return Err(Error::invalid("rotation must be 0, 90, 180 or 270"));
        }
        let t = now();
        let n = on_write!(self, |pool| {
            sqlx::query(
                "UPDATE assets SET rotation = $1, thumb_state = 0, preview_state = 0, \
                 updated_at = $2 WHERE id = $3",
            )
            .bind(rotation)
            .bind(t)
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if n == 0 {
            return Err(Error::not_found(format!("asset {id}")));
        }
        Ok(())
    }

    /// Paths inside `dirname` that were removed from the index on purpose.
    pub async fn excluded_in_dir(&self, dirname: &str) -> Result<HashSet<String>> {
        on_read!(self, |pool| {
            let rows: Vec<String> =
                sqlx::query_scalar("SELECT path FROM excluded_paths WHERE dirname = $1")
                    .bind(dirname)
                    .fetch_all(pool)
                    .await?;
            Ok(rows.into_iter().collect())
        })
    }

    /// Directories holding indexed files of one scan path.
    pub async fn dirnames_of_scan_path(&self, scan_path_id: i64) -> Result<Vec<String>> {
        on_read!(self, |pool| {
            Ok(sqlx::query_scalar(
                "SELECT DISTINCT dirname FROM assets WHERE scan_path_id = $1 ORDER BY dirname",
            )
            .bind(scan_path_id)
            .fetch_all(pool)
            .await?)
        })
    }

    /// (id, path, sha256) of every asset whose content hash is in `shas`.
    pub async fn assets_with_any_sha256(
        &self,
        shas: &[String],
    ) -> Result<Vec<(i64, String, String)>> {
        let mut out = Vec::new();
        for chunk in shas.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT id, path, sha256 FROM assets WHERE sha256 IN ({}) ORDER BY id",
                placeholders(chunk.len(), 1)
            );
            let rows: Vec<(i64, String, String)> = on_read!(self, |pool| {
                let mut q = sqlx::query_as(&sql);
                for sha in chunk {
                    q = q.bind(sha);
                }
                q.fetch_all(pool).await?
            });
            out.extend(rows);
        }
        Ok(out)
    }

    /// Record derived-image states (of every asset with each content and
    /// rotation) in one transaction of multi-row statements. Updates of the
    /// same content and rotation are merged first, later ones winning.
    pub async fn set_derived_states(&self, updates: &[DerivedUpdate]) -> Result<()> {
        let mut merged: Vec<DerivedUpdate> = Vec::new();
        let mut at: HashMap<(&str, i64), usize> = HashMap::new();
        for u in updates {
            match at.get(&(u.sha256.as_str(), u.rotation)) {
                Some(&i) => {
                    let m = &mut merged[i];
                    m.thumb = u.thumb.or(m.thumb);
                    m.preview = u.preview.or(m.preview);
                }
                None => {
                    at.insert((u.sha256.as_str(), u.rotation), merged.len());
                    merged.push(u.clone());
                }
            }
        }
        if merged.is_empty() {
            return Ok(());
        }
        on_write!(self, |pool| {
            let mut tx = pool.begin().await?;
            for chunk in merged.chunks(self.write_chunk()) {
                let sql = format!(
                    "WITH u(sha256, rotation, thumb, preview) AS (VALUES {}) \
                     UPDATE assets SET thumb_state = COALESCE(u.thumb, assets.thumb_state), \
                     preview_state = COALESCE(u.preview, assets.preview_state) \
                     FROM u WHERE assets.sha256 = u.sha256 AND assets.rotation = u.rotation",
                    value_rows(chunk.len(), 4, 1, "")
                );
                let mut q = sqlx::query(&sql);
                for u in chunk {
                    q = q
                        .bind(&u.sha256)
                        .bind(u.rotation)
                        .bind(u.thumb)
                        .bind(u.preview);
                }
                q.execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Assets whose thumbnail or preview is still to be made.
    pub async fn assets_needing_derived(
        &self,
        scan_path_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Asset>> {
        let sql = format!(
            "SELECT {ASSET_COLUMNS} FROM assets WHERE (preview_state = 0 OR thumb_state = 0) \
             AND ($1 IS NULL OR scan_path_id = $1) ORDER BY id LIMIT $2"
        );
        on_read!(self, |pool| {
            Ok(sqlx::query_as::<_, Asset>(&sql)
                .bind(scan_path_id)
                .bind(limit)
                .fetch_all(pool)
                .await?)
        })
    }

    /// The content hashes of `shas` that no asset has any more (whose
    /// derived files can go).
    pub async fn unused_sha256s(&self, shas: &[String]) -> Result<Vec<String>> {
        let used: HashSet<String> = self
            .assets_with_any_sha256(shas)
            .await?
            .into_iter()
            .map(|(_, _, sha)| sha)
            .collect();
        let mut unused: Vec<String> = shas
            .iter()
            .filter(|s| !used.contains(*s))
            .cloned()
            .collect();
        unused.sort();
        unused.dedup();
        Ok(unused)
    }

    /// Groups of asset ids with identical content (two or more per group).
    pub async fn duplicate_groups(&self) -> Result<Vec<Vec<i64>>> {
        let rows: Vec<(String, i64)> = on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT sha256, id FROM assets WHERE sha256 IN \
                 (SELECT sha256 FROM assets WHERE sha256 IS NOT NULL \
                  GROUP BY sha256 HAVING COUNT(*) > 1) ORDER BY sha256, id",
            )
            .fetch_all(pool)
            .await?
        });
        let mut groups: Vec<Vec<i64>> = Vec::new();
        let mut last: Option<String> = None;
        for (sha, id) in rows {
            if last.as_deref() == Some(sha.as_str()) {
                groups.last_mut().expect("group started").push(id);
            } else {
                groups.push(vec![id]);
                last = Some(sha);
            }
        }
        Ok(groups)
    }
}
