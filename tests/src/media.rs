//! Real media files made on the spot: JPEGs, PNGs, WebPs and TIFFs with full
//! EXIF, GIF, HEIC (heif-enc), videos and audio ([`crate::av`]), broken files.

use std::io::Cursor;
use std::path::Path;
use std::process::Command;

use exif::{Field, In, Rational, SRational, Tag, Value};

/// EXIF fields to write into a test JPEG.
#[derive(Debug, Clone, Default)]
pub struct ExifSpec {
    /// Make.
    pub make: Option<&'static str>,
    /// Model.
    pub model: Option<&'static str>,
    /// LensModel.
    pub lens: Option<&'static str>,
    /// ISO.
    pub iso: Option<u16>,
    /// FNumber as (num, den).
    pub fnumber: Option<(u32, u32)>,
    /// ExposureTime as (num, den).
    pub exposure: Option<(u32, u32)>,
    /// FocalLength as (num, den).
    pub focal: Option<(u32, u32)>,
    /// DateTimeOriginal, `YYYY:MM:DD HH:MM:SS`.
    pub datetime_original: Option<&'static str>,
    /// OffsetTimeOriginal, `+HH:MM`.
    pub offset: Option<&'static str>,
    /// (lat, lon, alt) in degrees / metres.
    pub gps: Option<(f64, f64, f64)>,
    /// Orientation 1..=8.
    pub orientation: Option<u16>,
}

fn dms(v: f64) -> Vec<Rational> {
    let v = v.abs();
    let d = v.floor();
    let m = ((v - d) * 60.0).floor();
    let s = ((v - d) * 60.0 - m) * 60.0;
    vec![
        Rational {
            num: d as u32,
            denom: 1,
        },
        Rational {
            num: m as u32,
            denom: 1,
        },
        Rational {
            num: (s * 10000.0).round() as u32,
            denom: 10000,
        },
    ]
}

fn ascii(s: &str) -> Value {
    Value::Ascii(vec![s.as_bytes().to_vec()])
}

/// The EXIF fields `spec` asks for.
fn exif_fields(spec: &ExifSpec) -> Vec<Field> {
    let mut fields = Vec::new();
    let mut push = |tag, value| {
        fields.push(Field {
            tag,
            ifd_num: In::PRIMARY,
            value,
        });
    };
    if let Some(v) = spec.make {
        push(Tag::Make, ascii(v));
    }
    if let Some(v) = spec.model {
        push(Tag::Model, ascii(v));
    }
    if let Some(v) = spec.lens {
        push(Tag::LensModel, ascii(v));
    }
    if let Some(v) = spec.iso {
        push(Tag::PhotographicSensitivity, Value::Short(vec![v]));
    }
    if let Some((n, d)) = spec.fnumber {
        push(
            Tag::FNumber,
            Value::Rational(vec![Rational { num: n, denom: d }]),
        );
    }
    if let Some((n, d)) = spec.exposure {
        push(
            Tag::ExposureTime,
            Value::Rational(vec![Rational { num: n, denom: d }]),
        );
    }
    if let Some((n, d)) = spec.focal {
        push(
            Tag::FocalLength,
            Value::Rational(vec![Rational { num: n, denom: d }]),
        );
    }
    if let Some(v) = spec.datetime_original {
        push(Tag::DateTimeOriginal, ascii(v));
    }
    if let Some(v) = spec.offset {
        push(Tag::OffsetTimeOriginal, ascii(v));
    }
    if let Some(v) = spec.orientation {
        push(Tag::Orientation, Value::Short(vec![v]));
    }
    if let Some((lat, lon, alt)) = spec.gps {
        push(
            Tag::GPSLatitudeRef,
            ascii(if lat < 0.0 { "S" } else { "N" }),
        );
        push(Tag::GPSLatitude, Value::Rational(dms(lat)));
        push(
            Tag::GPSLongitudeRef,
            ascii(if lon < 0.0 { "W" } else { "E" }),
        );
        push(Tag::GPSLongitude, Value::Rational(dms(lon)));
        push(Tag::GPSAltitudeRef, Value::Byte(vec![u8::from(alt < 0.0)]));
        push(
            Tag::GPSAltitude,
            Value::Rational(vec![Rational {
                num: (alt.abs() * 100.0) as u32,
                denom: 100,
            }]),
        );
    }
    // Keep SRational in use so the writer's signed path is exercised too.
    fields.push(Field {
        tag: Tag::ExposureBiasValue,
        ifd_num: In::PRIMARY,
        value: Value::SRational(vec![SRational { num: -1, denom: 3 }]),
    });
    fields
}

/// The TIFF-structured EXIF block for `spec`.
pub fn exif_block(spec: &ExifSpec) -> Vec<u8> {
    let fields = exif_fields(spec);
    let mut writer = exif::experimental::Writer::new();
    for f in &fields {
        writer.push_field(f);
    }
    let mut out = Cursor::new(Vec::new());
    writer.write(&mut out, false).expect("write EXIF");
    out.into_inner()
}

/// CRC-32 (ISO-HDLC, as PNG uses), bit by bit: enough for test files.
fn crc32(parts: &[&[u8]]) -> u32 {
    let mut crc = !0u32;
    for byte in parts.iter().flat_map(|p| p.iter()) {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A PNG of the test picture with `spec` in an `eXIf` chunk after `IHDR`.
pub fn png_with_exif(w: u32, h: u32, seed: u32, spec: &ExifSpec) -> Vec<u8> {
    let png = image_file(w, h, seed, image::ImageFormat::Png);
    // Signature (8) and the IHDR chunk (4 + 4 + 13 + 4).
    let (head, rest) = png.split_at(33);
    assert_eq!(&head[12..16], b"IHDR");
    let block = exif_block(spec);
    let mut out = head.to_vec();
    out.extend_from_slice(&(block.len() as u32).to_be_bytes());
    out.extend_from_slice(b"eXIf");
    out.extend_from_slice(&block);
    out.extend_from_slice(&crc32(&[b"eXIf", &block]).to_be_bytes());
    out.extend_from_slice(rest);
    out
}

/// A WebP of the test picture in the extended layout (`VP8X`) with `spec`
/// in an `EXIF` chunk.
pub fn webp_with_exif(w: u32, h: u32, seed: u32, spec: &ExifSpec) -> Vec<u8> {
    let simple = image_file(w, h, seed, image::ImageFormat::WebP);
    assert_eq!(&simple[..4], b"RIFF");
    assert_eq!(&simple[8..12], b"WEBP");
    let image_chunk = &simple[12..];
    let chunk = |kind: &[u8; 4], data: &[u8]| {
        let mut c = kind.to_vec();
        c.extend_from_slice(&(data.len() as u32).to_le_bytes());
        c.extend_from_slice(data);
        if data.len() % 2 == 1 {
            c.push(0);
        }
        c
    };
    let mut vp8x = vec![0x08, 0, 0, 0]; // flags: EXIF present
    vp8x.extend_from_slice(&(w - 1).to_le_bytes()[..3]);
    vp8x.extend_from_slice(&(h - 1).to_le_bytes()[..3]);
    let mut body = b"WEBP".to_vec();
    body.extend(chunk(b"VP8X", &vp8x));
    body.extend_from_slice(image_chunk);
    body.extend(chunk(b"EXIF", &exif_block(spec)));
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend(body);
    out
}

/// An uncompressed RGB TIFF of the test picture whose own tags carry `spec`
/// (as a camera's TIFF does: make and model in IFD0, the rest in its EXIF
/// and GPS IFDs).
pub fn tiff_with_exif(w: u32, h: u32, seed: u32, spec: &ExifSpec) -> Vec<u8> {
    let pixels = test_pixels(w, h, seed).into_raw();
    let short = |tag, v: Vec<u16>| Field {
        tag,
        ifd_num: In::PRIMARY,
        value: Value::Short(v),
    };
    let mut fields = vec![
        Field {
            tag: Tag::ImageWidth,
            ifd_num: In::PRIMARY,
            value: Value::Long(vec![w]),
        },
        Field {
            tag: Tag::ImageLength,
            ifd_num: In::PRIMARY,
            value: Value::Long(vec![h]),
        },
        short(Tag::BitsPerSample, vec![8, 8, 8]),
        short(Tag::Compression, vec![1]),
        short(Tag::PhotometricInterpretation, vec![2]),
        short(Tag::SamplesPerPixel, vec![3]),
        short(Tag::PlanarConfiguration, vec![1]),
        Field {
            tag: Tag::RowsPerStrip,
            ifd_num: In::PRIMARY,
            value: Value::Long(vec![h]),
        },
    ];
    fields.extend(exif_fields(spec));
    let strips: [&[u8]; 1] = [&pixels];
    let mut writer = exif::experimental::Writer::new();
    for f in &fields {
        writer.push_field(f);
    }
    writer.set_strips(&strips, In::PRIMARY);
    let mut out = Cursor::new(Vec::new());
    writer.write(&mut out, true).expect("write TIFF");
    out.into_inner()
}

/// A `w`×`h` test picture: smooth gradients plus deterministic noise (so
/// encoders work as on a real photo), with a bright marker in the top-left
/// corner to check orientation handling.
pub fn test_pixels(w: u32, h: u32, seed: u32) -> image::RgbImage {
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    image::RgbImage::from_fn(w, h, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let n = (state % 24) as i32 - 12;
        if x < w / 8 && y < h / 8 {
            return image::Rgb([255, 0, 0]);
        }
        let r = (x * 255 / w.max(1)) as i32 + n;
        let g = (y * 255 / h.max(1)) as i32 + n;
        let b = (((x + y) * 127) / (w + h).max(1)) as i32 + 64 + n;
        image::Rgb([
            r.clamp(0, 255) as u8,
            g.clamp(0, 255) as u8,
            b.clamp(0, 255) as u8,
        ])
    })
}

/// A baseline JPEG with the given EXIF (APP1 right after SOI).
pub fn jpeg(w: u32, h: u32, seed: u32, exif: Option<&ExifSpec>) -> Vec<u8> {
    let img = test_pixels(w, h, seed);
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 88)
        .encode_image(&img)
        .expect("encode JPEG");
    let Some(spec) = exif else { return plain };
    let block = exif_block(spec);
    let mut out = Vec::with_capacity(plain.len() + block.len() + 16);
    out.extend_from_slice(&plain[..2]);
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((block.len() + 8) as u16).to_be_bytes());
    out.extend_from_slice(b"Exif\0\0");
    out.extend_from_slice(&block);
    out.extend_from_slice(&plain[2..]);
    out
}

/// Encode the test picture in another format (`png`, `webp`, `gif`, `bmp`, `tiff`).
pub fn image_file(w: u32, h: u32, seed: u32, format: image::ImageFormat) -> Vec<u8> {
    let img = image::DynamicImage::ImageRgb8(test_pixels(w, h, seed));
    let img = if format == image::ImageFormat::Gif {
        image::DynamicImage::ImageRgba8(img.to_rgba8())
    } else {
        img
    };
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode image");
    out.into_inner()
}

/// Run a command and panic with its output when it fails.
pub fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A HEIC made by libheif's `heif-enc` (x265) from a JPEG with `exif`.
pub fn heic(dir: &Path, name: &str, w: u32, h: u32, exif: Option<&ExifSpec>) -> std::path::PathBuf {
    let src = dir.join(format!("{name}.src.jpg"));
    std::fs::write(&src, jpeg(w, h, 7, exif)).unwrap();
    let out = dir.join(name);
    run(Command::new("heif-enc")
        .arg("-q")
        .arg("60")
        .arg(&src)
        .arg("-o")
        .arg(&out));
    std::fs::remove_file(&src).unwrap();
    out
}

/// An AVIF made by libheif's `heif-enc -A` (libaom) from a JPEG.
pub fn avif(dir: &Path, name: &str, w: u32, h: u32) -> std::path::PathBuf {
    let src = dir.join(format!("{name}.src.jpg"));
    std::fs::write(&src, jpeg(w, h, 9, None)).unwrap();
    let out = dir.join(name);
    run(Command::new("heif-enc")
        .args(["-A", "-q", "50"])
        .arg(&src)
        .arg("-o")
        .arg(&out));
    std::fs::remove_file(&src).unwrap();
    out
}

/// A `w`×`h` video of `seconds` (a moving pattern, with a 440 Hz tone when
/// `audio`), encoded through the FFmpeg libraries as `how` says; the
/// container follows the extension.
pub fn video(path: &Path, seconds: f64, w: u32, h: u32, audio: bool, how: &crate::av::Encode) {
    crate::av::encode(path, seconds, w, h, audio, how);
}

/// A 440 Hz tone of `seconds`, encoded through the FFmpeg libraries (the
/// codec follows the extension: MP3, AAC, Opus, WAV, FLAC).
pub fn audio(path: &Path, seconds: f64) {
    crate::av::encode(path, seconds, 0, 0, true, &crate::av::Encode::default());
}

/// Set the display matrix of the first track of an MP4/MOV to a clockwise
/// rotation (as phones record portrait video), by patching its `tkhd` box.
pub fn set_mp4_rotation(path: &Path, degrees: u32) {
    let mut bytes = std::fs::read(path).unwrap();
    let at = bytes
        .windows(4)
        .position(|w| w == b"tkhd")
        .expect("MP4 has a tkhd box");
    let version = bytes[at + 4];
    // fourcc, version+flags, then times/ids (v0: 4+4+4+4+4, v1: 8+8+4+4+8),
    // reserved 8, layer 2, group 2, volume 2, reserved 2.
    let matrix = at + 4 + 4 + if version == 1 { 32 } else { 20 } + 16;
    let one = 0x0001_0000i32;
    let (a, b, c, d) = match degrees % 360 {
        90 => (0, one, -one, 0),
        180 => (-one, 0, 0, -one),
        270 => (0, -one, one, 0),
        _ => (one, 0, 0, one),
    };
    let values = [a, b, 0, c, d, 0, 0, 0, 0x4000_0000];
    for (i, v) in values.iter().enumerate() {
        bytes[matrix + i * 4..matrix + i * 4 + 4].copy_from_slice(&v.to_be_bytes());
    }
    std::fs::write(path, bytes).unwrap();
}
