//! The work of the CPU workers: read a file once, hash it, describe it,
//! and make its derived images.

use std::path::Path;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::media::accel::AccelState;
use crate::media::{self, Format, Orient, Pixels, Rgb, exif::PhotoMeta, video::AvMeta, webp};
use crate::stats::Counters;
use crate::store::{AssetKind, NewAsset, derived_state};

use super::writer::WriteOp;
use super::{DerivedJob, FileJob, Shared};

/// The worker loop: runs until the scheduler closes. A panic in a decoder
/// is caught here: the file is recorded with the reason, its scan's work
/// count still reaches zero, and the worker goes on with the next job.
pub(crate) fn worker_loop(shared: Arc<Shared>) {
    use std::sync::atomic::Ordering::Relaxed;
    while let Some(job) = shared.sched.pop() {
        match job {
            super::queue::Job::Ingest(job) => {
                shared.in_flight.fetch_add(1, Relaxed);
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    ingest(&shared, &job)
                }))
                .unwrap_or_else(|panic| {
                    let why = crate::error::panic_message(&*panic);
                    tracing::error!(path = %job.path, "reading the file panicked: {why}");
                    Counters::add(&shared.counters.file_errors, 1);
                    Some(failed_row(
                        &job,
                        format!("internal error while reading: {why}"),
                    ))
                });
                shared.in_flight.fetch_sub(1, Relaxed);
                match outcome {
                    Some(Ingested { asset, follow_up }) => {
                        // The follow-up counts before the row is handed
                        // over, so the scan cannot look finished between
                        // the row's commit and the preview's queueing.
                        if let Some(f) = &follow_up {
                            f.tracker.begin();
                        }
                        shared.send(WriteOp::Upsert {
                            asset: Box::new(asset),
                            tracker: job.tracker.clone(),
                            is_new: job.known.is_none(),
                        });
                        if let Some(f) = follow_up {
                            shared.sched.push_derived(f);
                        }
                    }
                    None => job.tracker.end(),
                }
            }
            super::queue::Job::Derived(job) => derive(&shared, job),
        }
    }
}

/// A path whose ingestion panics, so tests can check that a panicking
/// decoder neither kills its worker nor leaves its scan waiting.
#[cfg(test)]
pub(crate) static PANIC_ON: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// The row of a file that could not be read at all.
fn failed_row(job: &FileJob, error: String) -> Ingested {
    let mut a = job.base_asset();
    a.error = Some(error);
    a.thumb_state = derived_state::FAILED;
    a.preview_state = derived_state::FAILED;
    Ingested {
        asset: a,
        follow_up: None,
    }
}

/// What reading one file produced: its row and the derived work still due.
pub(crate) struct Ingested {
    asset: NewAsset,
    follow_up: Option<DerivedJob>,
}

/// MIME type of an image format recognised from content.
fn mime_for(format: Format) -> Option<&'static str> {
    Some(match format {
        Format::Jpeg => "image/jpeg",
        Format::Png => "image/png",
        Format::Gif => "image/gif",
        Format::Webp => "image/webp",
        Format::Bmp => "image/bmp",
        Format::Tiff => "image/tiff",
        Format::Heif => "image/heic",
        Format::Avif => "image/avif",
        _ => return None,
    })
}

/// Pixel size of a still without decoding it, when the format allows.
fn stored_dimensions(bytes: &[u8], format: Format) -> Option<(u32, u32)> {
    match format {
        Format::Jpeg => turbojpeg::read_header(bytes)
            .ok()
            .map(|h| (h.width as u32, h.height as u32)),
        Format::Heif | Format::Avif => media::heif::dimensions(bytes).ok(),
        Format::Png | Format::Gif | Format::Webp | Format::Bmp | Format::Tiff => {
            let fmt = match format {
                Format::Png => image::ImageFormat::Png,
                Format::Gif => image::ImageFormat::Gif,
                Format::Webp => image::ImageFormat::WebP,
                Format::Bmp => image::ImageFormat::Bmp,
                _ => image::ImageFormat::Tiff,
            };
            image::ImageReader::with_format(std::io::Cursor::new(bytes), fmt)
                .into_dimensions()
                .ok()
        }
        _ => None,
    }
    .filter(|(w, h)| *w > 0 && *h > 0)
}

/// The largest JPEG embedded in a RAW file (its camera preview), if any.
pub(crate) fn embedded_jpeg(bytes: &[u8]) -> Option<&[u8]> {
    let mut best: Option<(&[u8], usize)> = None;
    let mut i = 0;
    while i + 3 < bytes.len() {
        if bytes[i] == 0xFF && bytes[i + 1] == 0xD8 && bytes[i + 2] == 0xFF {
            let candidate = &bytes[i..];
            if let Ok(h) = turbojpeg::read_header(candidate)
                && !h.is_lossless
            {
                let px = h.width * h.height;
                if best.is_none_or(|(_, b)| px > b) {
                    best = Some((candidate, px));
                }
            }
        }
        i += 1;
    }
    best.map(|(b, _)| b)
}

fn apply_photo_meta(a: &mut NewAsset, m: PhotoMeta) {
    a.camera_make = m.make;
    a.camera_model = m.model;
    a.lens = m.lens;
    a.iso = m.iso;
    a.fnumber = m.fnumber;
    a.exposure_s = m.exposure_s;
    a.focal_length_mm = m.focal_length_mm;
    a.date_taken = m.date_taken;
    a.date_taken_offset_min = m.date_taken_offset_min;
    a.gps_lat = m.gps_lat;
    a.gps_lon = m.gps_lon;
    a.gps_alt = m.gps_alt;
    a.orientation = m.orientation as i64;
}

fn apply_av_meta(a: &mut NewAsset, m: &AvMeta) {
    a.duration_ms = m.duration_ms;
    a.width = m.width;
    a.height = m.height;
    a.video_codec = m.video_codec.clone();
    a.audio_codec = m.audio_codec.clone();
    a.has_audio = m.has_audio;
    a.date_taken = m.date_taken;
    a.date_taken_offset_min = m.date_taken_offset_min;
    a.camera_make = m.make.clone();
    a.camera_model = m.model.clone();
    a.gps_lat = m.gps_lat;
    a.gps_lon = m.gps_lon;
    a.gps_alt = m.gps_alt;
}

/// Where a file's picture comes from.
enum Source<'a> {
    /// A still (or a RAW's embedded JPEG) in memory.
    Still(&'a [u8], Format),
    /// A frame of the video at this path.
    Video(&'a Path),
}

impl Source<'_> {
    fn decode(&self, min_long_side: u32, orient: Orient, accel: &AccelState) -> Result<Pixels> {
        match self {
            Source::Still(bytes, format) => {
                media::decode_for_webp(bytes, *format, min_long_side, orient)
            }
            Source::Video(path) => Ok(Pixels::Rgb(
                media::video::frame(path, min_long_side, accel)?.rotated_clockwise(orient.rotation),
            )),
        }
    }
}

/// Outcome of making derived images during ingest.
struct Made {
    thumb_state: i64,
    preview_state: i64,
    follow_up: Option<DerivedJob>,
    error: Option<String>,
}

fn encode_and_write(
    shared: &Shared,
    img: &Pixels,
    sha: &str,
    rotation: i64,
    size: u32,
    method: i32,
) -> Result<()> {
    let webp = img.webp_within(size, shared.config.webp_quality, method)?;
    write_image(shared, sha, rotation, size, &webp)
}

fn write_image(shared: &Shared, sha: &str, rotation: i64, size: u32, webp: &[u8]) -> Result<()> {
    shared
        .derived
        .write_atomic(&shared.derived.image_path(sha, rotation, size), webp)
}

/// WebP method for thumbnails (small, so the slower, smaller setting is
/// cheap: 4.2 ms against 2.0 ms at method 2, for 5 % smaller files and the
/// SSIM of libvips' thumbnails, 0.955 against 0.951).
pub(crate) const THUMB_METHOD: i32 = 4;
/// WebP method for previews. Measured on photo-like 1600 px images (`cargo
/// bench -p seen-core --bench stages`, then the ingest bench for quality):
/// method 0 takes 27 ms, method 1 35 ms, method 4 133 ms; method 0's files
/// are 1.5 % larger than method 1's and 4 % larger than method 4's, at the
/// same PSNR and SSIM (method 2 is both slower and larger than 1).
pub(crate) const PREVIEW_METHOD: i32 = 0;

fn make_derived(
    shared: &Shared,
    job_path: &Path,
    source: Source<'_>,
    sha: &str,
    orient: Orient,
    tracker: &Arc<super::Tracker>,
) -> Made {
    let rotation = orient.rotation as i64;
    let cfg = &shared.config;
    let thumb_path = shared.derived.image_path(sha, rotation, cfg.thumb_size);
    let preview_path = shared.derived.image_path(sha, rotation, cfg.preview_size);
    let thumb_done = thumb_path.exists();
    let preview_done = preview_path.exists();
    if thumb_done && preview_done {
        return Made {
            thumb_state: derived_state::DONE,
            preview_state: derived_state::DONE,
            follow_up: None,
            error: None,
        };
    }
    let deferred_job = || DerivedJob {
        path: job_path.to_path_buf(),
        sha256: sha.to_string(),
        orient,
        thumb: false,
        preview: true,
        parked: None,
        tracker: tracker.clone(),
    };
    // A video frame is expensive to find, and only JPEG decodes smaller
    // for a smaller target (shrink-on-load): anything else is decoded whole
    // whatever the size asked for.
    let decodes_whole = !matches!(source, Source::Still(_, Format::Jpeg));
    let is_video = matches!(source, Source::Video(_));
    // Decode once at preview scale when there is memory to park the
    // picture until a worker is free for the preview. Otherwise a JPEG is
    // decoded only at thumbnail scale now and read again for its preview
    // later, and anything else makes both sizes now from its one decode.
    // The reservation is for the largest (square) preview until the
    // picture's size is known.
    let most = webp::planes_bytes(cfg.preview_size, cfg.preview_size);
    let parking = !preview_done && !is_video && shared.sched.reserve_parking(most);
    let preview_now = !preview_done && !parking && decodes_whole;
    if thumb_done && !parking && !preview_now {
        return Made {
            thumb_state: derived_state::DONE,
            preview_state: derived_state::PENDING,
            follow_up: Some(deferred_job()),
            error: None,
        };
    }
    let target = if parking || preview_now {
        cfg.preview_size
    } else {
        cfg.thumb_size
    };
    let img = match source.decode(target, orient, &shared.accel) {
        Ok(img) => img,
        Err(e) => {
            if parking {
                shared.sched.release_parking(most);
            }
            return Made {
                thumb_state: if thumb_done {
                    derived_state::DONE
                } else {
                    derived_state::FAILED
                },
                preview_state: if preview_done {
                    derived_state::DONE
                } else {
                    derived_state::FAILED
                },
                follow_up: None,
                error: Some(e.to_string()),
            };
        }
    };
    let mut thumb_state = derived_state::DONE;
    let mut error = None;
    if !thumb_done {
        match encode_and_write(shared, &img, sha, rotation, cfg.thumb_size, THUMB_METHOD) {
            Ok(()) => Counters::add(&shared.counters.thumbs_written, 1),
            Err(e) => {
                thumb_state = derived_state::FAILED;
                error = Some(format!("thumbnail: {e}"));
            }
        }
    }
    let (preview_state, follow_up) = if preview_done {
        (derived_state::DONE, None)
    } else if preview_now {
        match encode_and_write(
            shared,
            &img,
            sha,
            rotation,
            cfg.preview_size,
            PREVIEW_METHOD,
        ) {
            Ok(()) => {
                Counters::add(&shared.counters.previews_written, 1);
                (derived_state::DONE, None)
            }
            Err(e) => {
                error.get_or_insert(format!("preview: {e}"));
                (derived_state::FAILED, None)
            }
        }
    } else {
        // Decoded at preview scale and fitted already: keep the picture,
        // holding only its own size of the reservation.
        let parked = if parking {
            let picture = img.picture_within(cfg.preview_size).ok();
            let kept = picture.as_ref().map_or(0, webp::Picture::heap_bytes);
            shared.sched.release_parking(most.saturating_sub(kept));
            picture
        } else {
            None
        };
        (
            derived_state::PENDING,
            Some(DerivedJob {
                parked,
                ..deferred_job()
            }),
        )
    };
    Made {
        thumb_state,
        preview_state,
        follow_up,
        error,
    }
}

/// Stills larger than this are hashed but not decoded: nothing a camera
/// makes comes close, and reading one whole would cost that much memory.
const MAX_STILL_BYTES: u64 = 1 << 30;

/// A file read once: its first bytes (or all of them), hash and size.
struct Read {
    /// The whole file, or only its first 512 bytes when it is hashed in chunks.
    bytes: Vec<u8>,
    /// Whether `bytes` is the whole file.
    whole: bool,
    sha256: String,
    len: u64,
}

/// Read a file once and hash it. A still whose first bytes are a picture
/// format (and which is not absurdly large) is read whole, since one read
/// then feeds hash, EXIF and decode; anything else (videos, audio, a video
/// named `.jpg`) is hashed in 1 MiB chunks and never held in memory.
fn read_and_hash(path: &Path, still: bool) -> std::io::Result<Read> {
    use std::io::Read as _;
    let mut file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    let mut head = Vec::with_capacity(512);
    (&mut file).take(512).read_to_end(&mut head)?;
    let mut hasher = Sha256::new();
    hasher.update(&head);
    let picture = !matches!(
        media::sniff(&head),
        Format::AudioVideo | Format::Empty | Format::Unknown
    ) || head.len() < 512;
    if still && picture && size <= MAX_STILL_BYTES {
        let mut bytes = head;
        bytes.reserve_exact((size as usize).saturating_sub(bytes.len()));
        file.read_to_end(&mut bytes)?;
        hasher.update(&bytes[512.min(bytes.len())..]);
        let len = bytes.len() as u64;
        return Ok(Read {
            bytes,
            whole: true,
            sha256: hex::encode(hasher.finalize()),
            len,
        });
    }
    let mut buf = vec![0u8; 1 << 20];
    let mut len = head.len() as u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        len += n as u64;
    }
    Ok(Read {
        bytes: head,
        whole: false,
        sha256: hex::encode(hasher.finalize()),
        len,
    })
}

/// Read, hash, describe and thumbnail one file. `None` when the file
/// vanished before it could be read (it is simply not indexed).
pub(crate) fn ingest(shared: &Shared, job: &FileJob) -> Option<Ingested> {
    #[cfg(test)]
    if PANIC_ON.lock().unwrap().as_deref() == Some(job.path.as_str()) {
        panic!("injected by a test");
    }
    shared.counters.worked_now();
    let path = Path::new(&job.path);
    let read = match read_and_hash(path, job.media.kind == AssetKind::Image) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::info!(path = %job.path, "file vanished before it could be read");
            return None;
        }
        Err(e) => {
            tracing::warn!(path = %job.path, "cannot read: {e}");
            Counters::add(&shared.counters.file_errors, 1);
            return Some(failed_row(job, format!("cannot read file: {e}")));
        }
    };
    let Read {
        bytes,
        whole,
        sha256: sha,
        len,
    } = read;
    Counters::add(&shared.counters.files_hashed, 1);
    Counters::add(&job.tracker.files_read, 1);
    shared.counters.worked_now();
    Counters::add(&shared.counters.bytes_hashed, len);

    // From here on the row is sent to the writer, which ends this.
    shared.content_in_flight.enter(&sha);
    let mut a = job.base_asset();
    a.size = len as i64;
    a.sha256 = Some(sha.clone());
    let format = media::sniff(&bytes[..bytes.len().min(512)]);
    let rotation = job.known.as_ref().map_or(0, |k| k.rotation) as u16;
    let mut follow_up = None;
    let mut problems: Vec<String> = Vec::new();

    if format == Format::Empty {
        problems.push("empty file".into());
        a.thumb_state = derived_state::FAILED;
        a.preview_state = derived_state::FAILED;
    } else if job.media.kind == AssetKind::Image && !whole {
        problems.push(if len > MAX_STILL_BYTES {
            format!("{len} bytes is too large to decode as a picture")
        } else {
            format!("content is not a {} image", job.ext.to_uppercase())
        });
        a.thumb_state = derived_state::FAILED;
        a.preview_state = derived_state::FAILED;
    } else {
        match job.media.kind {
            AssetKind::Image => {
                let (decode_bytes, decode_format) = if job.media.raw {
                    match embedded_jpeg(&bytes) {
                        Some(j) => (j, Format::Jpeg),
                        None => (&bytes[..], format),
                    }
                } else {
                    (&bytes[..], format)
                };
                if let Some(mime) = mime_for(format)
                    && !job.media.raw
                    && mime != job.media.mime
                    && !(format == Format::Jpeg && job.media.mime == "image/mpo")
                    && !(format == Format::Heif && job.media.mime == "image/heif")
                {
                    // Mislabelled: trust the content.
                    a.mime = mime.to_string();
                }
                if mime_for(format).is_none() && !job.media.raw {
                    problems.push(format!("content is not a {} image", job.ext.to_uppercase()));
                }
                if let Some(m) = media::exif::read(&bytes) {
                    apply_photo_meta(&mut a, m);
                }
                if decode_format == Format::Jpeg && media::jpeg_is_truncated(decode_bytes) {
                    problems.push(
                        "truncated JPEG: the image data ends early (the missing part shows grey)"
                            .into(),
                    );
                }
                let orient = Orient {
                    exif: a.orientation as u16,
                    rotation,
                };
                // HEIF: libheif applies the container transform, and the
                // EXIF orientation must not be applied a second time.
                let exif_swaps = !decode_format.orients_itself() && (5..=8).contains(&orient.exif);
                if let Some((w, h)) = stored_dimensions(decode_bytes, decode_format) {
                    let (w, h) = if exif_swaps { (h, w) } else { (w, h) };
                    a.width = Some(w as i64);
                    a.height = Some(h as i64);
                }
                let made = make_derived(
                    shared,
                    path,
                    Source::Still(decode_bytes, decode_format),
                    &sha,
                    Orient {
                        exif: if decode_format.orients_itself() {
                            1
                        } else {
                            orient.exif
                        },
                        rotation,
                    },
                    &job.tracker,
                );
                a.thumb_state = made.thumb_state;
                a.preview_state = made.preview_state;
                follow_up = made.follow_up;
                problems.extend(made.error);
            }
            AssetKind::Video => {
                match media::video::probe(path) {
                    Ok(m) => apply_av_meta(&mut a, &m),
                    Err(e) => problems.push(e.to_string()),
                }
                let made = make_derived(
                    shared,
                    path,
                    Source::Video(path),
                    &sha,
                    Orient { exif: 1, rotation },
                    &job.tracker,
                );
                a.thumb_state = made.thumb_state;
                a.preview_state = made.preview_state;
                follow_up = made.follow_up;
                if problems.is_empty() {
                    problems.extend(made.error);
                }
            }
            AssetKind::Audio => {
                match media::video::probe(path) {
                    Ok(m) => {
                        apply_av_meta(&mut a, &m);
                        a.width = None;
                        a.height = None;
                        if !m.has_audio {
                            problems.push("no audio stream".into());
                        }
                    }
                    Err(e) => problems.push(e.to_string()),
                }
                a.thumb_state = derived_state::NONE;
                a.preview_state = derived_state::NONE;
            }
        }
    }
    if !problems.is_empty() {
        let text = problems.join("; ");
        tracing::warn!(path = %job.path, "{text}");
        Counters::add(&shared.counters.file_errors, 1);
        a.error = Some(text);
    }
    Some(Ingested {
        asset: a,
        follow_up,
    })
}

/// Make the derived images a job asks for, decoding the file again if the
/// pixels were not kept in memory.
pub(crate) fn derive(shared: &Shared, mut job: DerivedJob) {
    let parked = job.parked.take();
    let parked_bytes = parked.as_ref().map_or(0, webp::Picture::heap_bytes);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        derive_inner(shared, &job, parked)
    }))
    .unwrap_or_else(|panic| {
        Err(Error::Internal(format!(
            "panicked: {}",
            crate::error::panic_message(&*panic)
        )))
    });
    shared.sched.release_parking(parked_bytes);
    let state = |ok: bool| {
        if ok {
            derived_state::DONE
        } else {
            derived_state::FAILED
        }
    };
    let (thumb, preview) = match &result {
        Ok(()) => (
            job.thumb.then_some(derived_state::DONE),
            job.preview.then_some(derived_state::DONE),
        ),
        Err(e) => {
            tracing::warn!(path = %job.path.display(), "derived images failed: {e}");
            (
                job.thumb.then_some(state(false)),
                job.preview.then_some(state(false)),
            )
        }
    };
    shared.send(WriteOp::Derived {
        sha256: job.sha256.clone(),
        rotation: job.orient.rotation as i64,
        thumb,
        preview,
        tracker: job.tracker.clone(),
    });
}

fn derive_inner(shared: &Shared, job: &DerivedJob, parked: Option<webp::Picture>) -> Result<()> {
    let cfg = &shared.config;
    let rotation = job.orient.rotation as i64;
    if let Some(mut picture) = parked.filter(|_| job.preview && !job.thumb) {
        let webp = picture.encode(cfg.webp_quality, PREVIEW_METHOD)?;
        write_image(shared, &job.sha256, rotation, cfg.preview_size, &webp)?;
        Counters::add(&shared.counters.previews_written, 1);
        return Ok(());
    }
    Counters::add(&shared.counters.derived_rereads, 1);
    let img = render_for_webp(
        &job.path,
        if job.preview {
            cfg.preview_size
        } else {
            cfg.thumb_size
        },
        job.orient,
        &shared.accel,
    )?;
    let img = &img;
    if job.thumb {
        encode_and_write(
            shared,
            img,
            &job.sha256,
            rotation,
            cfg.thumb_size,
            THUMB_METHOD,
        )?;
        Counters::add(&shared.counters.thumbs_written, 1);
    }
    if job.preview {
        encode_and_write(
            shared,
            img,
            &job.sha256,
            rotation,
            cfg.preview_size,
            PREVIEW_METHOD,
        )?;
        Counters::add(&shared.counters.previews_written, 1);
    }
    Ok(())
}

/// A file's picture read again from disk: the still's bytes (a RAW's
/// embedded JPEG) with how to orient them, or a video frame already turned.
enum Reread {
    Still(Vec<u8>, Format, Orient),
    Frame(Rgb),
}

/// Read a file from disk again for its pictures. `orient.exif` is the
/// stored EXIF orientation; formats that orient themselves (HEIF) ignore it.
fn reread(path: &Path, min_long_side: u32, orient: Orient, accel: &AccelState) -> Result<Reread> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let media_type = media::media_type_for_extension(&ext)
        .ok_or_else(|| Error::Unsupported(format!("{} is not a media file", path.display())))?;
    match media_type.kind {
        AssetKind::Audio => Err(Error::Unsupported("audio has no picture".into())),
        AssetKind::Video => Ok(Reread::Frame(
            media::video::frame(path, min_long_side, accel)?.rotated_clockwise(orient.rotation),
        )),
        AssetKind::Image => {
            let size = std::fs::metadata(path)
                .map_err(|e| Error::io_at(path, e))?
                .len();
            if size > MAX_STILL_BYTES {
                return Err(Error::Unsupported(format!(
                    "{size} bytes is too large to decode as a picture"
                )));
            }
            let bytes = std::fs::read(path).map_err(|e| Error::io_at(path, e))?;
            let format = media::sniff(&bytes[..bytes.len().min(512)]);
            let (bytes, format) = match (media_type.raw, embedded_jpeg(&bytes)) {
                (true, Some(j)) => (j.to_vec(), Format::Jpeg),
                _ => (bytes, format),
            };
            let exif = if format.orients_itself() {
                1
            } else {
                orient.exif
            };
            Ok(Reread::Still(
                bytes,
                format,
                Orient {
                    exif,
                    rotation: orient.rotation,
                },
            ))
        }
    }
}

/// Decode a file from disk as RGB (stills, RAW previews and video frames),
/// at least `min_long_side` when the source is that large, oriented.
pub(crate) fn render_from_file(
    path: &Path,
    min_long_side: u32,
    orient: Orient,
    accel: &AccelState,
) -> Result<Rgb> {
    match reread(path, min_long_side, orient, accel)? {
        Reread::Still(bytes, format, orient) => {
            media::decode_still(&bytes, format, min_long_side, orient)
        }
        Reread::Frame(frame) => Ok(frame),
    }
}

/// Decode a file from disk for its WebP images, as [`render_from_file`]
/// but keeping a JPEG in YUV.
pub(crate) fn render_for_webp(
    path: &Path,
    min_long_side: u32,
    orient: Orient,
    accel: &AccelState,
) -> Result<Pixels> {
    match reread(path, min_long_side, orient, accel)? {
        Reread::Still(bytes, format, orient) => {
            media::decode_for_webp(&bytes, format, min_long_side, orient)
        }
        Reread::Frame(frame) => Ok(Pixels::Rgb(frame)),
    }
}
