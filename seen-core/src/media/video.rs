//! Video and audio through the FFmpeg libraries (ffmpeg-next): probing and
//! frame grabbing. No ffmpeg/ffprobe executables are involved.

use std::path::Path;
use std::sync::Once;

use ffmpeg::format::Pixel;
use ffmpeg::media::Type;
use ffmpeg::software::scaling::{context::Context as Scaler, flag::Flags};
use ffmpeg_next as ffmpeg;

use crate::error::{Error, Result};

use super::accel::{AccelState, HwDevice};
use super::{Rgb, fit_within};

/// What a video or audio container says about itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AvMeta {
    /// Duration in milliseconds.
    pub duration_ms: Option<i64>,
    /// Displayed width (display-matrix rotation applied).
    pub width: Option<i64>,
    /// Displayed height.
    pub height: Option<i64>,
    /// Clockwise rotation the player must apply (0, 90, 180, 270).
    pub rotation: u16,
    /// Codec of the best video stream.
    pub video_codec: Option<String>,
    /// Codec of the best audio stream.
    pub audio_codec: Option<String>,
    /// Whether there is a (non-cover-art) video stream.
    pub has_video: bool,
    /// Whether there is an audio stream.
    pub has_audio: bool,
    /// Capture time, unix seconds UTC.
    pub date_taken: Option<i64>,
    /// UTC offset of the capture time in minutes, when recorded.
    pub date_taken_offset_min: Option<i64>,
    /// Camera maker (QuickTime/Android keys).
    pub make: Option<String>,
    /// Camera model.
    pub model: Option<String>,
    /// Latitude from ISO 6709 location.
    pub gps_lat: Option<f64>,
    /// Longitude.
    pub gps_lon: Option<f64>,
    /// Altitude.
    pub gps_alt: Option<f64>,
}

/// Initialise FFmpeg once per process, quietly (errors come back as values).
pub fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let _ = ffmpeg::init();
        ffmpeg::util::log::set_level(ffmpeg::util::log::Level::Fatal);
    });
}

fn media_err(path: &Path, what: &str, e: ffmpeg::Error) -> Error {
    Error::Media(format!("{}: {what}: {e}", path.display()))
}

/// Clockwise degrees from a stream's display matrix, if any.
pub(crate) fn display_rotation(stream: &ffmpeg::format::stream::Stream) -> u16 {
    for sd in stream.side_data() {
        if sd.kind() == ffmpeg::codec::packet::side_data::Type::DisplayMatrix
            && sd.data().len() >= 36
        {
            // SAFETY: FFmpeg guarantees a display matrix is 9 int32 values;
            // the length was checked.
            let ccw = unsafe { ffmpeg::ffi::av_display_rotation_get(sd.data().as_ptr().cast()) };
            if ccw.is_nan() {
                return 0;
            }
            let cw = (-ccw).round() as i64;
            return (((cw % 360) + 360) % 360 / 90 * 90) as u16;
        }
    }
    0
}

/// Parse `2023-01-05T10:00:00.000000Z` or `2023-01-05T10:00:00+0100`.
fn parse_container_time(s: &str) -> Option<(i64, Option<i64>)> {
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        let off = t.offset().local_minus_utc() as i64 / 60;
        let explicit = !(s.ends_with('Z') || s.ends_with('z'));
        let secs = t.timestamp();
        return (secs > 0).then_some((secs, explicit.then_some(off)));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S%.f%z"] {
        if let Ok(t) = chrono::DateTime::parse_from_str(s, fmt) {
            let off = t.offset().local_minus_utc() as i64 / 60;
            return (t.timestamp() > 0).then_some((t.timestamp(), Some(off)));
        }
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            let secs = t.and_utc().timestamp();
            return (secs > 0).then_some((secs, None));
        }
    }
    None
}

/// Parse ISO 6709 like `+48.8584+002.2945+035.000/` into (lat, lon, alt).
pub fn parse_iso6709(s: &str) -> Option<(f64, f64, Option<f64>)> {
    let s = s.trim().trim_end_matches('/');
    let mut parts = Vec::new();
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if (c == '+' || c == '-') && i > start {
            parts.push(&s[start..i]);
            start = i;
        }
    }
    parts.push(&s[start..]);
    let nums: Vec<f64> = parts.iter().filter_map(|p| p.parse().ok()).collect();
    if nums.len() < 2 || parts.len() != nums.len() {
        return None;
    }
    let (lat, lon) = (nums[0], nums[1]);
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        return None;
    }
    Some((lat, lon, nums.get(2).copied()))
}

/// Probe a video or audio file.
pub fn probe(path: &Path) -> Result<AvMeta> {
    init();
    let ictx = ffmpeg::format::input(path).map_err(|e| media_err(path, "cannot open", e))?;
    let mut m = AvMeta::default();
    let duration = ictx.duration();
    if duration > 0 {
        m.duration_ms = Some(duration / (ffmpeg::ffi::AV_TIME_BASE as i64 / 1000));
    }
    if let Some(stream) = ictx.streams().best(Type::Video).filter(|s| {
        !s.disposition()
            .contains(ffmpeg::format::stream::Disposition::ATTACHED_PIC)
    }) {
        let params = stream.parameters();
        m.has_video = true;
        m.video_codec = Some(params.id().name().to_string());
        m.rotation = display_rotation(&stream);
        if let Ok(ctx) = ffmpeg::codec::context::Context::from_parameters(params)
            && let Ok(v) = ctx.decoder().video()
            && v.width() > 0
        {
            let (w, h) = (v.width() as i64, v.height() as i64);
            let (w, h) = if m.rotation % 180 == 90 {
                (h, w)
            } else {
                (w, h)
            };
            m.width = Some(w);
            m.height = Some(h);
        }
        if m.duration_ms.is_none() && stream.duration() > 0 {
            let tb = stream.time_base();
            m.duration_ms = Some(
                stream.duration() * 1000 * tb.numerator() as i64 / tb.denominator().max(1) as i64,
            );
        }
    }
    if let Some(stream) = ictx.streams().best(Type::Audio) {
        m.has_audio = true;
        m.audio_codec = Some(stream.parameters().id().name().to_string());
    }
    let meta = ictx.metadata();
    let get = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| meta.get(k).map(str::trim).filter(|v| !v.is_empty()))
            .map(str::to_string)
    };
    let time = get(&["com.apple.quicktime.creationdate"])
        .and_then(|t| parse_container_time(&t))
        .or_else(|| get(&["creation_time", "date"]).and_then(|t| parse_container_time(&t)));
    if let Some((t, off)) = time {
        m.date_taken = Some(t);
        m.date_taken_offset_min = off;
    }
    m.make = get(&[
        "com.apple.quicktime.make",
        "com.android.manufacturer",
        "make",
    ]);
    m.model = get(&["com.apple.quicktime.model", "com.android.model", "model"]);
    if let Some((lat, lon, alt)) =
        get(&["com.apple.quicktime.location.ISO6709", "location"]).and_then(|l| parse_iso6709(&l))
    {
        m.gps_lat = Some(lat);
        m.gps_lon = Some(lon);
        m.gps_alt = alt;
    }
    Ok(m)
}

/// Grab one representative frame, at about 10 % of the duration (the first
/// frame for clips under a second), scaled to fit `max_long_side` and
/// rotated as the container says it should be shown. Decoding tries the
/// hardware device of `accel` first and falls back to the CPU.
pub fn frame(path: &Path, max_long_side: u32, accel: &AccelState) -> Result<Rgb> {
    if let Some(device) = accel.open_device() {
        match grab(path, max_long_side, Some(&device)) {
            Ok((img, true)) => {
                accel.record_gpu_job();
                return Ok(img);
            }
            Ok((img, false)) => {
                // The decoder quietly decoded in software: a CPU job.
                accel.record_cpu_job();
                return Ok(img);
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), "hardware decoding failed, using the CPU: {e}");
                accel.record_failure();
            }
        }
    }
    let (img, _) = grab(path, max_long_side, None)?;
    accel.record_cpu_job();
    Ok(img)
}

/// A decoded frame in system memory: a frame decoded on a device (it
/// carries `hw_frames_ctx`) is copied out first. Returns the frame and
/// whether it came from a device.
pub(crate) fn to_system_memory(
    decoded: ffmpeg::util::frame::video::Video,
) -> Result<(ffmpeg::util::frame::video::Video, bool)> {
    // SAFETY: only reads the frame's fields, and av_hwframe_transfer_data
    // copies a device frame into a fresh frame it allocates.
    unsafe {
        if (*decoded.as_ptr()).hw_frames_ctx.is_null() {
            return Ok((decoded, false));
        }
        let mut sw = ffmpeg::util::frame::video::Video::empty();
        let r = ffmpeg::ffi::av_hwframe_transfer_data(sw.as_mut_ptr(), decoded.as_ptr(), 0);
        if r < 0 {
            return Err(Error::Media(format!(
                "copying a frame from the device failed ({r})"
            )));
        }
        Ok((sw, true))
    }
}

/// The frame and whether it was decoded on `device`.
fn grab(path: &Path, max_long_side: u32, device: Option<&HwDevice>) -> Result<(Rgb, bool)> {
    init();
    let mut ictx = ffmpeg::format::input(path).map_err(|e| media_err(path, "cannot open", e))?;
    let (index, rotation, params, time_base, start) = {
        let stream = ictx
            .streams()
            .best(Type::Video)
            .ok_or_else(|| Error::Media(format!("{}: no video stream", path.display())))?;
        (
            stream.index(),
            display_rotation(&stream),
            stream.parameters(),
            stream.time_base(),
            stream.start_time(),
        )
    };
    let mut ctx = ffmpeg::codec::context::Context::from_parameters(params)
        .map_err(|e| media_err(path, "no decoder", e))?;
    if let Some(dev) = device {
        // SAFETY: the context is not opened yet; it takes ownership of the new reference.
        unsafe { (*ctx.as_mut_ptr()).hw_device_ctx = dev.new_ref() };
    }
    let mut decoder = ctx
        .decoder()
        .video()
        .map_err(|e| media_err(path, "no decoder", e))?;
    let duration = ictx.duration();
    // The frame wanted, in the stream's time base (None: the first frame).
    let mut wanted: Option<i64> = None;
    if duration >= ffmpeg::ffi::AV_TIME_BASE as i64 {
        let target = duration / 10;
        // A failed seek just means we start from the beginning.
        if ictx.seek(target, ..target).is_err() {
            ictx = ffmpeg::format::input(path).map_err(|e| media_err(path, "cannot reopen", e))?;
        }
        if time_base.numerator() > 0 {
            let ticks = target as i128 * time_base.denominator() as i128
                / (time_base.numerator() as i128 * ffmpeg::ffi::AV_TIME_BASE as i128);
            wanted = Some(ticks as i64 + start.max(0));
        }
    }
    // The seek lands on the key frame before the target: decode on to the
    // target (at most a few seconds of frames), keeping the last frame.
    const MAX_FRAMES_TO_TARGET: usize = 300;
    let mut decoded = ffmpeg::util::frame::video::Video::empty();
    let mut got = false;
    let mut frames = 0;
    'packets: for (stream, packet) in ictx.packets() {
        if stream.index() != index {
            continue;
        }
        if decoder.send_packet(&packet).is_err() {
            continue;
        }
        let mut next = ffmpeg::util::frame::video::Video::empty();
        while decoder.receive_frame(&mut next).is_ok() {
            decoded = std::mem::replace(&mut next, ffmpeg::util::frame::video::Video::empty());
            got = true;
            frames += 1;
            let reached = match (wanted, decoded.timestamp()) {
                (Some(w), Some(ts)) => ts >= w,
                _ => true,
            };
            if reached || frames >= MAX_FRAMES_TO_TARGET {
                break 'packets;
            }
        }
    }
    if !got {
        let _ = decoder.send_eof();
        got = decoder.receive_frame(&mut decoded).is_ok();
    }
    if !got || decoded.width() == 0 {
        return Err(Error::Media(format!(
            "{}: no decodable video frame",
            path.display()
        )));
    }
    let (decoded, on_device) = to_system_memory(decoded)?;
    let (w, h) = fit_within(decoded.width(), decoded.height(), max_long_side);
    let mut scaler = Scaler::get(
        decoded.format(),
        decoded.width(),
        decoded.height(),
        Pixel::RGB24,
        w,
        h,
        Flags::AREA,
    )
    .map_err(|e| media_err(path, "scaler", e))?;
    let mut rgb = ffmpeg::util::frame::video::Video::empty();
    scaler
        .run(&decoded, &mut rgb)
        .map_err(|e| media_err(path, "scaling", e))?;
    let stride = rgb.stride(0);
    let src = rgb.data(0);
    let mut data = Vec::with_capacity(w as usize * h as usize * 3);
    for y in 0..h as usize {
        data.extend_from_slice(&src[y * stride..y * stride + w as usize * 3]);
    }
    Ok((Rgb::new(w, h, data)?.rotated_clockwise(rotation), on_device))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso6709_locations() {
        assert_eq!(
            parse_iso6709("+48.8584+002.2945+035.000/"),
            Some((48.8584, 2.2945, Some(35.0)))
        );
        assert_eq!(
            parse_iso6709("-33.8688+151.2093/"),
            Some((-33.8688, 151.2093, None))
        );
        assert_eq!(parse_iso6709("garbage"), None);
        assert_eq!(parse_iso6709("+95.0+010.0/"), None);
    }

    #[test]
    fn container_times() {
        assert_eq!(
            parse_container_time("2023-01-05T10:00:00.000000Z"),
            Some((1_672_912_800, None))
        );
        assert_eq!(
            parse_container_time("2023-01-05T11:00:00+0100"),
            Some((1_672_912_800, Some(60)))
        );
        assert_eq!(parse_container_time("1970-01-01T00:00:00Z"), None);
        assert_eq!(parse_container_time("yesterday"), None);
    }
}
