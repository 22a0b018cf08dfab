//! JPEGs decoded to YUV 4:2:0 for WebP, never through RGB.
//!
//! A JPEG holds YCbCr and WebP wants YCbCr: asking libjpeg-turbo for its
//! planes skips its colour conversion and libwebp's conversion back, and a
//! resize then moves 1.5 bytes a pixel instead of 3. Only the range
//! differs: JPEG's is full (0-255), WebP's limited (16-235 luma, 16-240
//! chroma), so a table maps each resized plane.

use turbojpeg::{Colorspace, Subsamp, raw};

use fast_image_resize::PixelType;

use super::pixels::{
    orient_packed, resize_packed, rotate_packed, scale_for_decoding, with_decompressor,
};
use crate::error::{Error, Result};

/// One 8-bit plane, rows packed without padding.
#[derive(Clone, PartialEq, Eq)]
pub struct Plane {
    /// Width in samples.
    pub width: u32,
    /// Height in samples.
    pub height: u32,
    /// `width * height` bytes.
    pub data: Vec<u8>,
}

impl Plane {
    fn oriented(self, exif_orientation: u16) -> Plane {
        let (width, height, data) =
            orient_packed(self.width, self.height, self.data, 1, exif_orientation);
        Plane {
            width,
            height,
            data,
        }
    }

    fn rotated_clockwise(self, degrees: u16) -> Plane {
        let (width, height, data) = rotate_packed(self.width, self.height, self.data, 1, degrees);
        Plane {
            width,
            height,
            data,
        }
    }
}

/// A picture as WebP encodes it: Y at full size, Cb and Cr at half size
/// rounded up, limited-range BT.601.
#[derive(Clone, PartialEq, Eq)]
pub struct Yuv420 {
    /// Luma.
    pub y: Plane,
    /// Blue-difference chroma, `ceil(w/2)` × `ceil(h/2)`.
    pub u: Plane,
    /// Red-difference chroma, `ceil(w/2)` × `ceil(h/2)`.
    pub v: Plane,
}

impl std::fmt::Debug for Yuv420 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Yuv420({}x{})", self.y.width, self.y.height)
    }
}

/// Full-range luma to limited range (16-235).
static LUMA_RANGE: [u8; 256] = range_table(219, 16);
/// Full-range chroma to limited range (16-240, centred on 128).
static CHROMA_RANGE: [u8; 256] = range_table(224, 16);

const fn range_table(span: u32, floor: u32) -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = (floor + (i as u32 * span + 127) / 255) as u8;
        i += 1;
    }
    t
}

impl Yuv420 {
    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.y.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.y.height
    }

    /// Resize to exactly `w` × `h` (Lanczos3 on each plane).
    pub fn resized(&self, w: u32, h: u32) -> Result<Yuv420> {
        if (w, h) == (self.width(), self.height()) {
            return Ok(self.clone());
        }
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        Ok(Yuv420 {
            y: resize_plane(&self.y, w, h)?,
            u: resize_plane(&self.u, cw, ch)?,
            v: resize_plane(&self.v, cw, ch)?,
        })
    }

    /// Apply an EXIF orientation (1..=8) then a clockwise user rotation.
    pub fn oriented(self, exif_orientation: u16, rotation: u16) -> Yuv420 {
        let turn = |p: Plane| p.oriented(exif_orientation).rotated_clockwise(rotation);
        Yuv420 {
            y: turn(self.y),
            u: turn(self.u),
            v: turn(self.v),
        }
    }
}

/// Resize `plane` to exactly `w` × `h`.
fn resize_plane(plane: &Plane, w: u32, h: u32) -> Result<Plane> {
    let (w, h) = (w.max(1), h.max(1));
    let data = resize_packed(
        &plane.data,
        (plane.width, plane.height),
        PixelType::U8,
        None,
        (w, h),
    )?;
    Ok(Plane {
        width: w,
        height: h,
        data,
    })
}

/// Decode a YCbCr or greyscale JPEG at the smallest DCT scale that keeps
/// `max_side` pixels on its longest side, fitted within `max_side` (never
/// upscaled), as limited-range 4:2:0 (no orientation applied). Other
/// JPEGs (CMYK, RGB, lossless, odd subsampling) are refused: the caller
/// decodes them to RGB instead.
pub fn decode_jpeg(bytes: &[u8], max_side: u32) -> Result<Yuv420> {
    let (buf, width, height, subsamp) = with_decompressor(|d| {
        let (header, scaled) = scale_for_decoding(d, bytes, max_side, 1.5)?;
        let subsamp = header.subsamp;
        let plain = matches!(header.colorspace, Colorspace::YCbCr | Colorspace::Gray)
            && !header.is_lossless
            && matches!(
                subsamp,
                Subsamp::None | Subsamp::Sub2x1 | Subsamp::Sub2x2 | Subsamp::Gray | Subsamp::Sub1x2
            );
        if !plain {
            return Err(Error::Unsupported(format!(
                "JPEG {:?} {:?} is not decoded to YUV",
                header.colorspace, subsamp
            )));
        }
        let len = turbojpeg::yuv_pixels_len(scaled.width, 1, scaled.height, subsamp)
            .map_err(|e| Error::Media(format!("JPEG too large: {e}")))?;
        let mut buf = vec![0u8; len];
        d.decompress_to_yuv(
            bytes,
            turbojpeg::YuvImage {
                pixels: buf.as_mut_slice(),
                width: scaled.width,
                align: 1,
                height: scaled.height,
                subsamp,
            },
        )
        .map_err(|e| Error::Media(format!("JPEG decoding failed: {e}")))?;
        Ok((buf, scaled.width, scaled.height, subsamp))
    })?;
    to_yuv420(&buf, width, height, subsamp, max_side)
}

/// Split libjpeg-turbo's planes, fit them within `max_side` in 4:2:0 and
/// map them to limited range.
fn to_yuv420(
    buf: &[u8],
    width: usize,
    height: usize,
    subsamp: Subsamp,
    max_side: u32,
) -> Result<Yuv420> {
    let (w, h) = super::fit_within(width as u32, height as u32, max_side);
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let components = if subsamp == Subsamp::Gray { 1 } else { 3 };
    let mut planes = Vec::with_capacity(3);
    let mut offset = 0;
    for id in 0..components {
        // SAFETY: pure size arithmetic in libjpeg-turbo.
        let (pw, ph) = unsafe {
            (
                raw::tj3YUVPlaneWidth(id, width as i32, subsamp as i32),
                raw::tj3YUVPlaneHeight(id, height as i32, subsamp as i32),
            )
        };
        if pw <= 0 || ph <= 0 {
            return Err(Error::Media("JPEG plane sizes out of range".into()));
        }
        let (pw, ph) = (pw as usize, ph as usize);
        let data = buf
            .get(offset..offset + pw * ph)
            .ok_or_else(|| Error::Internal("YUV buffer shorter than its planes".into()))?;
        offset += pw * ph;
        // The picture's own extent within the (padded) plane, in samples.
        let (sx, sy) = (
            subsamp.mcu_width() as f64 / 8.0,
            subsamp.mcu_height() as f64 / 8.0,
        );
        let (ex, ey) = if id == 0 {
            (width as f64, height as f64)
        } else {
            (width as f64 / sx, height as f64 / sy)
        };
        let (tw, th, table) = if id == 0 {
            (w, h, &LUMA_RANGE)
        } else {
            (cw, ch, &CHROMA_RANGE)
        };
        let (tw, th) = (tw.max(1), th.max(1));
        let mut samples = resize_packed(
            data,
            (pw as u32, ph as u32),
            PixelType::U8,
            Some((ex, ey)),
            (tw, th),
        )?;
        for b in &mut samples {
            *b = table[*b as usize];
        }
        planes.push(Plane {
            width: tw,
            height: th,
            data: samples,
        });
    }
    if components == 1 {
        let grey = Plane {
            width: cw,
            height: ch,
            data: vec![128; cw as usize * ch as usize],
        };
        planes.push(grey.clone());
        planes.push(grey);
    }
    let mut planes = planes.into_iter();
    let (Some(y), Some(u), Some(v)) = (planes.next(), planes.next(), planes.next()) else {
        return Err(Error::Internal("JPEG planes missing".into()));
    };
    Ok(Yuv420 { y, u, v })
}
