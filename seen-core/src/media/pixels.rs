//! RGB pixel buffers: decoding (JPEG with DCT-domain shrink-on-load),
//! orientation and resizing.

use std::cell::RefCell;

use crate::error::{Error, Result};

use super::Format;

/// An 8-bit RGB image, rows packed without padding.
#[derive(Clone, PartialEq, Eq)]
pub struct Rgb {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width * height * 3` bytes.
    pub data: Vec<u8>,
}

impl std::fmt::Debug for Rgb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Rgb({}x{})", self.width, self.height)
    }
}

thread_local! {
    static DECOMPRESSOR: RefCell<Option<turbojpeg::Decompressor>> = const { RefCell::new(None) };
    static RESIZER: RefCell<fast_image_resize::Resizer> = RefCell::new(fast_image_resize::Resizer::new());
}

/// The smallest DCT scale (n/8) whose output still covers `min_long_side`
/// on the longest side; 8/8 when the image is smaller than that.
pub fn jpeg_scale_for(width: usize, height: usize, min_long_side: u32) -> usize {
    let long = width.max(height);
    (1..=8)
        .find(|n| (long * n).div_ceil(8) >= min_long_side as usize)
        .unwrap_or(8)
}

/// Most bytes a decoded picture may take: a header may claim any size, and
/// what would not fit in memory is refused instead of tried (768 MiB is a
/// 190-megapixel RGBA picture; JPEGs count at their decoding scale).
pub(super) const MAX_DECODED_BYTES: u64 = 768 << 20;

/// Refuse a `width` × `height` decode of `bytes_per_pixel` that would take
/// more than [`MAX_DECODED_BYTES`].
pub(super) fn check_decoded_size(width: usize, height: usize, bytes_per_pixel: f64) -> Result<()> {
    let bytes = width as f64 * height as f64 * bytes_per_pixel;
    if bytes > MAX_DECODED_BYTES as f64 {
        return Err(Error::Media(format!(
            "{width}x{height} pixels is too large to decode ({:.0} MiB)",
            bytes / (1 << 20) as f64
        )));
    }
    Ok(())
}

/// Run `f` with this thread's libjpeg-turbo decompressor.
pub(super) fn with_decompressor<T>(
    f: impl FnOnce(&mut turbojpeg::Decompressor) -> Result<T>,
) -> Result<T> {
    DECOMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(
                turbojpeg::Decompressor::new()
                    .map_err(|e| Error::Media(format!("libjpeg-turbo init: {e}")))?,
            );
        }
        f(slot.as_mut().expect("initialised above"))
    })
}

/// Resize packed `pixel_type` samples, `width` × `height` (or only the
/// `crop` width × height of their top left, fractional allowed), to
/// exactly `w` × `h` with a Lanczos3 filter (SIMD), using this thread's
/// resizer.
pub(super) fn resize_packed(
    data: &[u8],
    (width, height): (u32, u32),
    pixel_type: fast_image_resize::PixelType,
    crop: Option<(f64, f64)>,
    (w, h): (u32, u32),
) -> Result<Vec<u8>> {
    use fast_image_resize::images::{Image, ImageRef};
    use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions};
    let src = ImageRef::new(width, height, data, pixel_type)
        .map_err(|e| Error::Internal(format!("resize source: {e}")))?;
    let mut dst = Image::new(w, h, pixel_type);
    let mut options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    if let Some((cw, ch)) = crop {
        options = options.crop(0.0, 0.0, cw, ch);
    }
    RESIZER
        .with(|r| r.borrow_mut().resize(&src, &mut dst, &options))
        .map_err(|e| Error::Internal(format!("resize: {e}")))?;
    Ok(dst.into_vec())
}

/// Read a JPEG's header and set `d` to the smallest DCT scale that keeps
/// `min_long_side` pixels on the longest side (full scale for lossless
/// JPEGs, which cannot scale), refusing a decode of `bytes_per_pixel` over
/// [`MAX_DECODED_BYTES`] at that scale: the header and its size there.
pub(super) fn scale_for_decoding(
    d: &mut turbojpeg::Decompressor,
    bytes: &[u8],
    min_long_side: u32,
    bytes_per_pixel: f64,
) -> Result<(turbojpeg::DecompressHeader, turbojpeg::DecompressHeader)> {
    let header = d
        .read_header(bytes)
        .map_err(|e| Error::Media(format!("not a readable JPEG: {e}")))?;
    if header.width == 0 || header.height == 0 {
        return Err(Error::Media("JPEG has no pixels".into()));
    }
    let n = if header.is_lossless {
        8
    } else {
        jpeg_scale_for(header.width, header.height, min_long_side)
    };
    let factor = turbojpeg::ScalingFactor::new(n, 8);
    d.set_scaling_factor(factor)
        .map_err(|e| Error::Media(format!("JPEG scaling: {e}")))?;
    let scaled = header.scaled(factor);
    check_decoded_size(scaled.width, scaled.height, bytes_per_pixel)?;
    Ok((header, scaled))
}

/// libjpeg-turbo refuses a few exotic files (some CMYK or 12-bit ones) and
/// stops at damage the pure-Rust decoder reads past (a truncated file): it
/// gets a second chance before `first`, libjpeg-turbo's error, is given.
pub(super) fn jpeg_second_chance(bytes: &[u8], first: Error) -> Result<Rgb> {
    decode_generic(bytes, Format::Jpeg).map_err(|_| first)
}

/// Decode a JPEG at the smallest DCT scale that keeps at least
/// `min_long_side` pixels on its longest side (no EXIF orientation applied).
pub fn decode_jpeg(bytes: &[u8], min_long_side: u32) -> Result<Rgb> {
    with_decompressor(|d| -> Result<Rgb> {
        let (_, scaled) = scale_for_decoding(d, bytes, min_long_side, 3.0)?;
        let mut pixels = vec![0u8; scaled.width * scaled.height * 3];
        d.decompress(
            bytes,
            turbojpeg::Image {
                pixels: pixels.as_mut_slice(),
                width: scaled.width,
                pitch: scaled.width * 3,
                height: scaled.height,
                format: turbojpeg::PixelFormat::RGB,
            },
        )
        .map_err(|e| Error::Media(format!("JPEG decoding failed: {e}")))?;
        Ok(Rgb {
            width: scaled.width as u32,
            height: scaled.height as u32,
            data: pixels,
        })
    })
    .or_else(|first| jpeg_second_chance(bytes, first))
}

/// Decode PNG, GIF (first frame), WebP, BMP or TIFF through the `image`
/// crate; transparency is composited over white.
pub fn decode_generic(bytes: &[u8], format: Format) -> Result<Rgb> {
    let fmt = match format {
        Format::Jpeg => image::ImageFormat::Jpeg,
        Format::Png => image::ImageFormat::Png,
        Format::Gif => image::ImageFormat::Gif,
        Format::Webp => image::ImageFormat::WebP,
        Format::Bmp => image::ImageFormat::Bmp,
        Format::Tiff => image::ImageFormat::Tiff,
        other => return Err(Error::Unsupported(format!("no decoder for {other:?}"))),
    };
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), fmt);
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    reader.limits(limits);
    let img = reader
        .decode()
        .map_err(|e| Error::Media(format!("cannot decode {fmt:?}: {e}")))?;
    Ok(flatten(img))
}

fn flatten(img: image::DynamicImage) -> Rgb {
    let (width, height) = (img.width(), img.height());
    let data = if img.color().has_alpha() {
        let rgba = img.into_rgba8();
        let mut out = Vec::with_capacity(width as usize * height as usize * 3);
        for px in rgba.pixels() {
            let a = px[3] as u32;
            for c in 0..3 {
                out.push(((px[c] as u32 * a + 255 * (255 - a) + 127) / 255) as u8);
            }
        }
        out
    } else {
        img.into_rgb8().into_raw()
    };
    Rgb {
        width,
        height,
        data,
    }
}

impl Rgb {
    /// Wrap a packed RGB buffer.
    pub fn new(width: u32, height: u32, data: Vec<u8>) -> Result<Rgb> {
        if data.len() != width as usize * height as usize * 3 {
            return Err(Error::Internal(format!(
                "RGB buffer of {} bytes for {width}x{height}",
                data.len()
            )));
        }
        Ok(Rgb {
            width,
            height,
            data,
        })
    }

    /// Resize to exactly `w` × `h` with a Lanczos3 filter (SIMD).
    pub fn resized(&self, w: u32, h: u32) -> Result<Rgb> {
        if (w, h) == (self.width, self.height) {
            return Ok(self.clone());
        }
        let (w, h) = (w.max(1), h.max(1));
        let data = resize_packed(
            &self.data,
            (self.width, self.height),
            fast_image_resize::PixelType::U8x3,
            None,
            (w, h),
        )?;
        Ok(Rgb {
            width: w,
            height: h,
            data,
        })
    }

    /// Apply an EXIF orientation (1..=8) so the image shows as intended.
    pub fn oriented(self, exif_orientation: u16) -> Rgb {
        let (width, height, data) =
            orient_packed(self.width, self.height, self.data, 3, exif_orientation);
        Rgb {
            width,
            height,
            data,
        }
    }

    /// Rotate clockwise by 90, 180 or 270 degrees (other values: unchanged).
    pub fn rotated_clockwise(self, degrees: u16) -> Rgb {
        let (width, height, data) = rotate_packed(self.width, self.height, self.data, 3, degrees);
        Rgb {
            width,
            height,
            data,
        }
    }
}

/// Apply an EXIF orientation (1..=8) to packed pixels of `bpp` bytes:
/// the new (width, height, pixels).
pub(crate) fn orient_packed(
    w: u32,
    h: u32,
    data: Vec<u8>,
    bpp: usize,
    exif_orientation: u16,
) -> (u32, u32, Vec<u8>) {
    let (rotation, mirror) = match exif_orientation {
        2 => (0, true),
        3 => (180, false),
        4 => (180, true),
        5 => (90, true),
        6 => (90, false),
        7 => (270, true),
        8 => (270, false),
        _ => (0, false),
    };
    let (w, h, mut data) = rotate_packed(w, h, data, bpp, rotation);
    if mirror {
        for row in data.chunks_exact_mut(w as usize * bpp) {
            let n = w as usize;
            for x in 0..n / 2 {
                let (a, b) = (x * bpp, (n - 1 - x) * bpp);
                for c in 0..bpp {
                    row.swap(a + c, b + c);
                }
            }
        }
    }
    (w, h, data)
}

/// Rotate packed pixels of `bpp` bytes clockwise by 90, 180 or 270 degrees
/// (other values: unchanged): the new (width, height, pixels).
pub(crate) fn rotate_packed(
    w: u32,
    h: u32,
    data: Vec<u8>,
    bpp: usize,
    degrees: u16,
) -> (u32, u32, Vec<u8>) {
    let (wu, hu) = (w as usize, h as usize);
    match degrees % 360 {
        90 | 270 => {
            let mut out = Vec::with_capacity(data.len());
            // Destination is h wide and w tall; walk it row by row.
            for ny in 0..wu {
                for nx in 0..hu {
                    let (x, y) = if degrees % 360 == 90 {
                        (ny, hu - 1 - nx)
                    } else {
                        (wu - 1 - ny, nx)
                    };
                    let at = (y * wu + x) * bpp;
                    out.extend_from_slice(&data[at..at + bpp]);
                }
            }
            (h, w, out)
        }
        180 => {
            let mut out = Vec::with_capacity(data.len());
            for p in data.chunks_exact(bpp).rev() {
                out.extend_from_slice(p);
            }
            (w, h, out)
        }
        _ => (w, h, data),
    }
}
