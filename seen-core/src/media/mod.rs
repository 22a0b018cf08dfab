//! Pure functions on bytes and files: recognise formats, read metadata,
//! decode (shrink-on-load), orient, resize and encode WebP, probe and grab
//! frames from video. Knows nothing of the database.

pub mod accel;
pub mod exif;
pub mod format;
pub mod heif;
pub mod pixels;
pub mod transcode;
pub mod video;
pub mod webp;
pub mod yuv;

pub use format::{Format, MediaType, jpeg_is_truncated, media_type_for_extension, sniff};
pub use pixels::Rgb;

use crate::error::{Error, Result};

/// Pixel size of the largest derived image a file needs, and how it should be
/// oriented: the EXIF orientation (1..=8) then the user's clockwise rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Orient {
    /// EXIF orientation of the source (1 = as stored).
    pub exif: u16,
    /// User rotation, degrees clockwise (0, 90, 180, 270).
    pub rotation: u16,
}

impl Orient {
    /// No change.
    pub const NONE: Orient = Orient {
        exif: 1,
        rotation: 0,
    };
}

/// Decode a still image from `bytes` fitted within `max_side` pixels on its
/// longest side (never upscaled), then oriented: JPEG decodes at the
/// smallest DCT scale that still covers `max_side` (shrink-on-load), and the
/// EXIF orientation and user rotation are applied after resizing, on the
/// small image.
pub fn decode_still(bytes: &[u8], format: Format, max_side: u32, orient: Orient) -> Result<Rgb> {
    let (image, exif) = match format {
        Format::Jpeg => (pixels::decode_jpeg(bytes, max_side)?, orient.exif),
        // libheif (AV1 through dav1d for AVIF) applies the container's
        // rotation/mirroring itself; the EXIF orientation of a HEIF is
        // informational only.
        Format::Heif | Format::Avif => (heif::decode(bytes)?, 1),
        Format::Png | Format::Gif | Format::Webp | Format::Bmp | Format::Tiff => {
            (pixels::decode_generic(bytes, format)?, orient.exif)
        }
        other => {
            return Err(Error::Unsupported(format!(
                "cannot decode {other:?} as a still image"
            )));
        }
    };
    fitted_and_oriented(image, max_side, exif, orient.rotation)
}

/// Fit decoded pixels within `max_side` (never upscaled), then apply the
/// EXIF orientation and the user's rotation on the small image.
fn fitted_and_oriented(image: Rgb, max_side: u32, exif: u16, rotation: u16) -> Result<Rgb> {
    let (w, h) = fit_within(image.width, image.height, max_side);
    let image = if (w, h) == (image.width, image.height) {
        image
    } else {
        image.resized(w, h)?
    };
    Ok(image.oriented(exif).rotated_clockwise(rotation))
}

/// The size (w, h) that fits `(w, h)` within `max` on its longest side,
/// never upscaling.
pub fn fit_within(w: u32, h: u32, max: u32) -> (u32, u32) {
    let long = w.max(h);
    if long <= max || long == 0 {
        return (w.max(1), h.max(1));
    }
    let scale = max as f64 / long as f64;
    let nw = ((w as f64 * scale).round() as u32).clamp(1, max);
    let nh = ((h as f64 * scale).round() as u32).clamp(1, max);
    (nw, nh)
}

/// Decoded pixels on their way to WebP: RGB, or a JPEG's own YUV planes.
#[derive(Debug)]
pub enum Pixels {
    /// Anything decoded to RGB (PNG, HEIF, video frames, CMYK JPEG...).
    Rgb(Rgb),
    /// A YCbCr or greyscale JPEG, never converted to RGB.
    Yuv(yuv::Yuv420),
}

impl Pixels {
    /// Width and height in pixels.
    pub fn dimensions(&self) -> (u32, u32) {
        match self {
            Pixels::Rgb(img) => (img.width, img.height),
            Pixels::Yuv(img) => (img.width(), img.height()),
        }
    }

    /// Fitted within `max` on the longest side (never upscaled), as a
    /// picture for the WebP encoder.
    pub fn picture_within(&self, max: u32) -> Result<webp::Picture> {
        let (w, h) = self.dimensions();
        let (fw, fh) = fit_within(w, h, max);
        let same = (fw, fh) == (w, h);
        match self {
            Pixels::Rgb(img) if same => webp::Picture::from_rgb(img),
            Pixels::Rgb(img) => webp::Picture::from_rgb(&img.resized(fw, fh)?),
            Pixels::Yuv(img) if same => webp::Picture::from_yuv420(img),
            Pixels::Yuv(img) => webp::Picture::from_yuv420(&img.resized(fw, fh)?),
        }
    }

    /// Fitted within `max` (never upscaled) and encoded as lossy WebP at
    /// `quality` (0-100) with `method` (0 fastest .. 6 smallest).
    pub fn webp_within(&self, max: u32, quality: f32, method: i32) -> Result<Vec<u8>> {
        self.picture_within(max)?.encode(quality, method)
    }
}

/// Decode a still for its WebP images: as [`decode_still`], except that a
/// YCbCr or greyscale JPEG stays in YUV (no colour conversion either way,
/// half the bytes to resize). A JPEG the YUV path does not take (CMYK,
/// RGB-coded, lossless, odd subsampling) decodes to RGB; one libjpeg-turbo
/// fails on goes straight to the second-chance decoder, not through
/// libjpeg-turbo again.
pub fn decode_for_webp(
    bytes: &[u8],
    format: Format,
    max_side: u32,
    orient: Orient,
) -> Result<Pixels> {
    if format == Format::Jpeg {
        match yuv::decode_jpeg(bytes, max_side) {
            Ok(img) => return Ok(Pixels::Yuv(img.oriented(orient.exif, orient.rotation))),
            Err(Error::Unsupported(_)) => {}
            Err(first) => {
                let img = pixels::jpeg_second_chance(bytes, first)?;
                return fitted_and_oriented(img, max_side, orient.exif, orient.rotation)
                    .map(Pixels::Rgb);
            }
        }
    }
    decode_still(bytes, format, max_side, orient).map(Pixels::Rgb)
}

/// Intersection over union of two boxes `[x1, y1, x2, y2]` (0 when they
/// do not overlap or are empty).
pub fn iou(a: [f64; 4], b: [f64; 4]) -> f64 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = w * h;
    let area = |r: [f64; 4]| (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0);
    let union = area(a) + area(b) - inter;
    if union <= 0.0 { 0.0 } else { inter / union }
}

#[cfg(test)]
mod tests;
