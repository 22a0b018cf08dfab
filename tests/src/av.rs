//! Videos and audio encoded by the tests through the FFmpeg libraries
//! (ffmpeg-next): a moving colour pattern or a fade, and a 440 Hz tone.

use std::path::Path;

use ffmpeg::{ChannelLayout, Dictionary, Rational, codec, format, frame};
use ffmpeg_next as ffmpeg;

/// Frames per second of every test video.
const FPS: i32 = 25;
/// Tone frequency.
const TONE_HZ: f64 = 440.0;

/// What a test clip's pictures show.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Picture {
    /// Colour gradients that move from frame to frame.
    #[default]
    Pattern,
    /// Grey that brightens from black by 100 luma steps a second (to 235).
    Fade,
}

/// How to encode a test clip; `Default` is H.264 (or the container's usual
/// codec), no audio, the moving pattern, the encoder's own key-frame rhythm.
#[derive(Debug, Clone, Copy, Default)]
pub struct Encode {
    /// Video encoder by FFmpeg name (`libx264`, `libx265`, `libvpx-vp9`,
    /// `mpeg4`...); `None`: the container's usual one.
    pub video_codec: Option<&'static str>,
    /// Audio encoder by name (`aac`, `libmp3lame`, `libopus`...); `None`:
    /// the container's usual one. Only used when the clip has audio.
    pub audio_codec: Option<&'static str>,
    /// Container-level metadata (`creation_time`, QuickTime keys...).
    pub metadata: &'static [(&'static str, &'static str)],
    /// Muxer options (`movflags`...).
    pub muxer_options: &'static [(&'static str, &'static str)],
    /// Frames between key frames.
    pub key_interval: Option<u32>,
    /// What the pictures show.
    pub picture: Picture,
    /// Full-resolution chroma (YUV 4:4:4), which odd sizes need; else 4:2:0.
    pub full_chroma: bool,
}

impl Encode {
    fn pixel_format(&self) -> format::Pixel {
        if self.full_chroma {
            format::Pixel::YUV444P
        } else {
            format::Pixel::YUV420P
        }
    }
}

fn init() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        ffmpeg::init().expect("initialise FFmpeg");
        ffmpeg::util::log::set_level(ffmpeg::util::log::Level::Error);
    });
}

fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

fn default_video_codec(ext: &str) -> &'static str {
    match ext {
        "webm" => "libvpx-vp9",
        "avi" | "wmv" | "mpg" | "mpeg" => "mpeg4",
        _ => "libx264",
    }
}

fn default_audio_codec(ext: &str) -> &'static str {
    match ext {
        "mp3" | "avi" => "libmp3lame",
        "webm" | "ogg" | "opus" => "libopus",
        "wav" => "pcm_s16le",
        "flac" => "flac",
        _ => "aac",
    }
}

/// One stream being encoded: its encoder and where its packets go.
struct Out<E> {
    encoder: E,
    stream: usize,
    time_base: Rational,
}

fn drain(
    encoder: &mut codec::encoder::Encoder,
    stream: usize,
    from: Rational,
    octx: &mut format::context::Output,
) {
    let to = octx.stream(stream).expect("stream").time_base();
    let mut packet = ffmpeg::Packet::empty();
    loop {
        match encoder.receive_packet(&mut packet) {
            Ok(()) => {}
            Err(ffmpeg::Error::Eof) => return,
            Err(ffmpeg::Error::Other { errno }) if errno == ffmpeg::util::error::EAGAIN => return,
            Err(e) => panic!("encoding failed: {e}"),
        }
        packet.set_stream(stream);
        packet.rescale_ts(from, to);
        packet.write_interleaved(octx).expect("write packet");
    }
}

fn video_encoder(
    octx: &mut format::context::Output,
    name: &str,
    w: u32,
    h: u32,
    how: &Encode,
) -> Out<codec::encoder::Video> {
    let codec = ffmpeg::encoder::find_by_name(name)
        .unwrap_or_else(|| panic!("no {name} encoder in this FFmpeg"));
    let global = octx
        .format()
        .flags()
        .contains(format::flag::Flags::GLOBAL_HEADER);
    let stream = octx.add_stream(codec).expect("video stream").index();
    let mut enc = codec::context::Context::new_with_codec(codec)
        .encoder()
        .video()
        .expect("video encoder");
    enc.set_width(w);
    enc.set_height(h);
    enc.set_format(how.pixel_format());
    enc.set_time_base(Rational::new(1, FPS));
    enc.set_frame_rate(Some(Rational::new(FPS, 1)));
    if let Some(g) = how.key_interval {
        enc.set_gop(g);
    }
    if global {
        enc.set_flags(codec::flag::Flags::GLOBAL_HEADER);
    }
    let mut opts = Dictionary::new();
    match name {
        "libx264" => opts.set("preset", "ultrafast"),
        "libx265" => {
            opts.set("preset", "ultrafast");
            opts.set("x265-params", "log-level=error");
        }
        "libvpx-vp9" => {
            opts.set("deadline", "realtime");
            opts.set("cpu-used", "8");
        }
        _ => {}
    }
    let encoder = enc.open_as_with(codec, opts).expect("open video encoder");
    let mut st = octx.stream_mut(stream).expect("stream");
    st.set_parameters(&encoder);
    st.set_time_base(Rational::new(1, FPS));
    st.set_avg_frame_rate(Rational::new(FPS, 1));
    Out {
        encoder,
        stream,
        time_base: Rational::new(1, FPS),
    }
}

fn audio_encoder(octx: &mut format::context::Output, name: &str) -> Out<codec::encoder::Audio> {
    let codec = ffmpeg::encoder::find_by_name(name)
        .unwrap_or_else(|| panic!("no {name} encoder in this FFmpeg"))
        .audio()
        .expect("an audio codec");
    let global = octx
        .format()
        .flags()
        .contains(format::flag::Flags::GLOBAL_HEADER);
    let stream = octx.add_stream(codec).expect("audio stream").index();
    let mut enc = codec::context::Context::new_with_codec(*codec)
        .encoder()
        .audio()
        .expect("audio encoder");
    let rate = match codec.rates() {
        Some(mut rates) => {
            let all: Vec<i32> = rates.by_ref().collect();
            if all.contains(&44_100) {
                44_100
            } else {
                all[0]
            }
        }
        None => 44_100,
    };
    let sample_format = codec
        .formats()
        .and_then(|mut f| f.next())
        .expect("the encoder lists a sample format");
    enc.set_rate(rate);
    enc.set_channel_layout(ChannelLayout::MONO);
    enc.set_format(sample_format);
    enc.set_bit_rate(96_000);
    enc.set_time_base(Rational::new(1, rate));
    if global {
        enc.set_flags(codec::flag::Flags::GLOBAL_HEADER);
    }
    let encoder = enc.open_as(*codec).expect("open audio encoder");
    let mut st = octx.stream_mut(stream).expect("stream");
    st.set_parameters(&encoder);
    st.set_time_base(Rational::new(1, rate));
    Out {
        encoder,
        stream,
        time_base: Rational::new(1, rate),
    }
}

/// Fill a YUV 4:2:0 or 4:4:4 frame with picture `i`.
fn paint(f: &mut frame::Video, i: usize, picture: Picture) {
    let (w, h) = (f.width() as usize, f.height() as usize);
    let subsampled = f.format() == format::Pixel::YUV420P;
    let t = i as f64 / FPS as f64;
    for plane in 0..3 {
        let (pw, ph) = if plane == 0 || !subsampled {
            (w, h)
        } else {
            (w.div_ceil(2), h.div_ceil(2))
        };
        let stride = f.stride(plane);
        let data = f.data_mut(plane);
        for y in 0..ph {
            for x in 0..pw {
                data[y * stride + x] = match (picture, plane) {
                    (Picture::Fade, 0) => (t * 100.0).min(235.0) as u8,
                    (Picture::Fade, _) => 128,
                    (Picture::Pattern, 0) => (16 + (x * 3 + y * 2 + i * 4) % 220) as u8,
                    (Picture::Pattern, 1) => (40 + x * 176 / pw.max(1)) as u8,
                    (Picture::Pattern, _) => (216 - y * 176 / ph.max(1)) as u8,
                };
            }
        }
    }
}

/// Fill a mono audio frame with the tone from sample `start` on.
fn tone(f: &mut frame::Audio, start: i64, rate: u32) {
    let n = f.samples();
    let value = |k: usize| {
        let s = (start + k as i64) as f64 / rate as f64;
        (2.0 * std::f64::consts::PI * TONE_HZ * s).sin() * 0.5
    };
    let sample_format = f.format();
    let data = f.data_mut(0);
    match sample_format {
        format::Sample::F32(_) => {
            for k in 0..n {
                data[k * 4..k * 4 + 4].copy_from_slice(&(value(k) as f32).to_ne_bytes());
            }
        }
        format::Sample::F64(_) => {
            for k in 0..n {
                data[k * 8..k * 8 + 8].copy_from_slice(&value(k).to_ne_bytes());
            }
        }
        format::Sample::I16(_) => {
            for k in 0..n {
                let v = (value(k) * i16::MAX as f64) as i16;
                data[k * 2..k * 2 + 2].copy_from_slice(&v.to_ne_bytes());
            }
        }
        format::Sample::I32(_) => {
            for k in 0..n {
                let v = (value(k) * i32::MAX as f64) as i32;
                data[k * 4..k * 4 + 4].copy_from_slice(&v.to_ne_bytes());
            }
        }
        other => panic!("no test tone for sample format {other:?}"),
    }
}

/// Encode a clip of `seconds` to `path` (the container from its
/// extension): a `w`×`h` video when `w` > 0, with a tone when `audio`.
/// `w` = 0 makes an audio-only file.
pub fn encode(path: &Path, seconds: f64, w: u32, h: u32, audio: bool, how: &Encode) {
    init();
    let ext = extension(path);
    let mut octx =
        format::output(path).unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
    let mut video = (w > 0).then(|| {
        let name = how.video_codec.unwrap_or_else(|| default_video_codec(&ext));
        video_encoder(&mut octx, name, w, h, how)
    });
    let mut sound = audio.then(|| {
        let name = how.audio_codec.unwrap_or_else(|| default_audio_codec(&ext));
        audio_encoder(&mut octx, name)
    });
    let mut meta = Dictionary::new();
    for (k, v) in how.metadata {
        meta.set(k, v);
    }
    octx.set_metadata(meta);
    let mut muxer = Dictionary::new();
    for (k, v) in how.muxer_options {
        muxer.set(k, v);
    }
    octx.write_header_with(muxer).expect("write header");

    let frames = (seconds * FPS as f64).round().max(1.0) as usize;
    let mut samples_done = 0i64;
    let mut add_audio_until = |octx: &mut format::context::Output, until_s: f64, last: bool| {
        let Some(a) = sound.as_mut() else { return };
        let rate = a.encoder.rate();
        let end = (until_s.min(seconds) * rate as f64) as i64;
        let chunk = match a.encoder.frame_size() {
            0 => 1024,
            n => n as i64,
        };
        while samples_done < end {
            let n = if last {
                (end - samples_done).min(chunk)
            } else {
                chunk
            };
            if !last && samples_done + n > end {
                break;
            }
            let mut f = frame::Audio::new(a.encoder.format(), n as usize, ChannelLayout::MONO);
            f.set_rate(rate);
            tone(&mut f, samples_done, rate);
            f.set_pts(Some(samples_done));
            a.encoder.send_frame(&f).expect("encode audio");
            samples_done += n;
            drain(&mut a.encoder, a.stream, a.time_base, octx);
        }
        if last {
            a.encoder.send_eof().expect("flush audio");
            drain(&mut a.encoder, a.stream, a.time_base, octx);
        }
    };
    if let Some(v) = video.as_mut() {
        for i in 0..frames {
            // A new frame each time: the encoder may still hold the last one.
            let mut f = frame::Video::new(how.pixel_format(), w, h);
            paint(&mut f, i, how.picture);
            f.set_pts(Some(i as i64));
            v.encoder.send_frame(&f).expect("encode video");
            drain(&mut v.encoder, v.stream, v.time_base, &mut octx);
            add_audio_until(&mut octx, (i + 1) as f64 / FPS as f64, false);
        }
        v.encoder.send_eof().expect("flush video");
        drain(&mut v.encoder, v.stream, v.time_base, &mut octx);
    }
    add_audio_until(&mut octx, seconds, true);
    octx.write_trailer().expect("write trailer");
}
