//! Lossy WebP encoding through libwebp, from pictures in its own YUV 4:2:0.
//!
//! The `webp` crate imports RGB as ARGB (4 bytes a pixel) and converts it to
//! YUV inside every encode. Here a picture is held in the encoder's
//! 1.5-byte-a-pixel planes: converted once by libwebp's own RGB→YUV import,
//! or copied from a JPEG decoded to YUV (see [`super::yuv`]). The encoder
//! reads them as they are, and a preview waiting for a free worker takes
//! half the memory of its RGB pixels.

use std::ffi::c_int;

use libwebp_sys as sys;

use super::Rgb;
use super::yuv::{Plane, Yuv420};
use crate::error::{Error, Result};

/// A picture in libwebp's YUV 4:2:0 form, ready to encode.
pub struct Picture {
    raw: sys::WebPPicture,
}

// SAFETY: the picture owns its planes (allocated by libwebp, freed in Drop)
// and holds no pointer to anything shared; moving it to another thread is
// moving a heap buffer.
unsafe impl Send for Picture {}

impl Picture {
    /// Convert RGB pixels (libwebp's own conversion, as its encoder does).
    pub fn from_rgb(image: &Rgb) -> Result<Picture> {
        let stride = c_int::try_from(image.width as u64 * 3)
            .map_err(|_| Error::Media("picture too wide".into()))?;
        if image.data.len() < image.width as usize * image.height as usize * 3 {
            return Err(Error::Internal("RGB buffer shorter than its size".into()));
        }
        let mut picture = Picture::blank(image.width, image.height)?;
        // SAFETY: the buffer holds height rows of `stride` bytes (checked).
        let ok =
            unsafe { sys::WebPPictureImportRGB(&mut picture.raw, image.data.as_ptr(), stride) };
        if ok == 0 {
            return Err(Error::Media(format!(
                "libwebp could not take a {}x{} picture (out of memory?)",
                image.width, image.height
            )));
        }
        Ok(picture)
    }

    /// Copy limited-range YUV 4:2:0 planes into a picture.
    pub fn from_yuv420(image: &Yuv420) -> Result<Picture> {
        let (w, h) = (image.width(), image.height());
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        let sizes_agree = image.y.data.len() == w as usize * h as usize
            && [&image.u, &image.v].iter().all(|p| {
                (p.width, p.height) == (cw, ch) && p.data.len() == cw as usize * ch as usize
            });
        if !sizes_agree {
            return Err(Error::Internal(format!("YUV planes do not fit {w}x{h}")));
        }
        let mut picture = Picture::blank(w, h)?;
        // SAFETY: WebPPictureAlloc made the y plane `y_stride` × height and
        // the u and v planes `uv_stride` × ceil(height/2), strides at least
        // the widths (checked above against the source planes).
        unsafe {
            let raw = &mut picture.raw;
            if sys::WebPPictureAlloc(raw) == 0 {
                return Err(Error::Media(format!(
                    "libwebp could not allocate a {w}x{h} picture"
                )));
            }
            copy_plane(&image.y, raw.y, raw.y_stride);
            copy_plane(&image.u, raw.u, raw.uv_stride);
            copy_plane(&image.v, raw.v, raw.uv_stride);
        }
        Ok(picture)
    }

    /// An initialised picture of that size, with no pixels yet.
    fn blank(width: u32, height: u32) -> Result<Picture> {
        let mut raw = std::mem::MaybeUninit::<sys::WebPPicture>::uninit();
        // SAFETY: init fills the whole struct; it only fails on an ABI
        // mismatch, in which case nothing was allocated.
        let mut raw = unsafe {
            if sys::WebPPictureInitInternal(raw.as_mut_ptr(), sys::WEBP_ENCODER_ABI_VERSION as _)
                == 0
            {
                return Err(Error::Media("libwebp picture init failed".into()));
            }
            raw.assume_init()
        };
        raw.use_argb = 0;
        raw.width = dimension(width)?;
        raw.height = dimension(height)?;
        // From here on Drop frees whatever libwebp allocates.
        Ok(Picture { raw })
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.raw.width as u32
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.raw.height as u32
    }

    /// Bytes held by the planes.
    pub fn heap_bytes(&self) -> usize {
        planes_bytes(self.width(), self.height())
    }

    /// Encode as lossy WebP at `quality` (0-100) with `method` (0 fastest
    /// .. 6 smallest).
    pub fn encode(&mut self, quality: f32, method: i32) -> Result<Vec<u8>> {
        let mut config = std::mem::MaybeUninit::<sys::WebPConfig>::uninit();
        // SAFETY: init fills the whole config.
        let mut config = unsafe {
            if sys::WebPConfigInitInternal(
                config.as_mut_ptr(),
                sys::WebPPreset::WEBP_PRESET_DEFAULT,
                quality,
                sys::WEBP_ENCODER_ABI_VERSION as _,
            ) == 0
            {
                return Err(Error::Media("libwebp config init failed".into()));
            }
            config.assume_init()
        };
        config.method = method;
        // SAFETY: plain validation of a config we own.
        if unsafe { sys::WebPValidateConfig(&config) } == 0 {
            return Err(Error::Media(format!(
                "invalid WebP settings (quality {quality}, method {method})"
            )));
        }
        let mut writer = std::mem::MaybeUninit::<sys::WebPMemoryWriter>::uninit();
        // SAFETY: the writer is initialised before use and cleared after;
        // the picture points at it only for the duration of WebPEncode.
        unsafe {
            sys::WebPMemoryWriterInit(writer.as_mut_ptr());
            let mut writer = writer.assume_init();
            self.raw.writer = Some(sys::WebPMemoryWrite);
            self.raw.custom_ptr = (&mut writer as *mut sys::WebPMemoryWriter).cast();
            let ok = sys::WebPEncode(&config, &mut self.raw);
            self.raw.writer = None;
            self.raw.custom_ptr = std::ptr::null_mut();
            let result = if ok == 0 {
                Err(Error::Media(format!(
                    "WebP encoding failed: {:?}",
                    self.raw.error_code
                )))
            } else if writer.mem.is_null() {
                Err(Error::Media("WebP encoding produced nothing".into()))
            } else {
                Ok(std::slice::from_raw_parts(writer.mem, writer.size).to_vec())
            };
            sys::WebPMemoryWriterClear(&mut writer);
            result
        }
    }
}

impl Drop for Picture {
    fn drop(&mut self) {
        // SAFETY: frees only what libwebp allocated for this picture.
        unsafe { sys::WebPPictureFree(&mut self.raw) }
    }
}

/// Copy `plane` row by row into libwebp's plane at `dst` with `stride`.
///
/// # Safety
/// `dst` must hold `plane.height` rows of `stride` ≥ `plane.width` bytes.
unsafe fn copy_plane(plane: &Plane, dst: *mut u8, stride: c_int) {
    let w = plane.width as usize;
    for (row, src) in plane.data.chunks_exact(w).enumerate() {
        // SAFETY: within the rows and stride the caller vouches for.
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), dst.add(row * stride as usize), w) };
    }
}

/// Bytes of the YUV 4:2:0 planes of a `width` × `height` picture.
pub fn planes_bytes(width: u32, height: u32) -> usize {
    let (w, h) = (width as usize, height as usize);
    w * h + 2 * w.div_ceil(2) * h.div_ceil(2)
}

fn dimension(n: u32) -> Result<c_int> {
    match c_int::try_from(n) {
        Ok(v) if v > 0 && n <= sys::WEBP_MAX_DIMENSION => Ok(v),
        _ => Err(Error::Media(format!(
            "{n} pixels is outside what WebP can hold (1..={})",
            sys::WEBP_MAX_DIMENSION
        ))),
    }
}
