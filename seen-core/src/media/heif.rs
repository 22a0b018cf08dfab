//! HEIF/HEIC decoding through the system libheif (Debian 12 ships 1.15;
//! the published Rust bindings want ≥ 1.17, so this is a small binding of
//! the handful of stable C calls we need).

use std::ffi::{CStr, c_char, c_int, c_void};

use crate::error::{Error, Result};

use super::Rgb;

#[repr(C)]
struct HeifError {
    code: c_int,
    subcode: c_int,
    message: *const c_char,
}

#[repr(C)]
struct HeifContext {
    _private: [u8; 0],
}
#[repr(C)]
struct HeifImageHandle {
    _private: [u8; 0],
}
#[repr(C)]
struct HeifImage {
    _private: [u8; 0],
}

const HEIF_COLORSPACE_RGB: c_int = 1;
const HEIF_CHROMA_INTERLEAVED_RGB: c_int = 10;
const HEIF_CHANNEL_INTERLEAVED: c_int = 10;

#[link(name = "heif")]
unsafe extern "C" {
    fn heif_context_alloc() -> *mut HeifContext;
    fn heif_context_free(ctx: *mut HeifContext);
    fn heif_context_read_from_memory_without_copy(
        ctx: *mut HeifContext,
        mem: *const c_void,
        size: usize,
        options: *const c_void,
    ) -> HeifError;
    fn heif_context_get_primary_image_handle(
        ctx: *mut HeifContext,
        handle: *mut *mut HeifImageHandle,
    ) -> HeifError;
    fn heif_image_handle_release(handle: *const HeifImageHandle);
    fn heif_image_handle_get_width(handle: *const HeifImageHandle) -> c_int;
    fn heif_image_handle_get_height(handle: *const HeifImageHandle) -> c_int;
    fn heif_decode_image(
        handle: *const HeifImageHandle,
        out: *mut *mut HeifImage,
        colorspace: c_int,
        chroma: c_int,
        options: *const c_void,
    ) -> HeifError;
    fn heif_image_get_width(img: *const HeifImage, channel: c_int) -> c_int;
    fn heif_image_get_height(img: *const HeifImage, channel: c_int) -> c_int;
    fn heif_image_get_plane_readonly(
        img: *const HeifImage,
        channel: c_int,
        stride: *mut c_int,
    ) -> *const u8;
    fn heif_image_release(img: *const HeifImage);
}

fn check(e: HeifError, what: &str) -> Result<()> {
    if e.code == 0 {
        return Ok(());
    }
    let message = if e.message.is_null() {
        String::new()
    } else {
        // SAFETY: libheif documents `message` as always a valid C string.
        unsafe { CStr::from_ptr(e.message) }
            .to_string_lossy()
            .into_owned()
    };
    Err(Error::Media(format!(
        "HEIF {what}: {message} (code {})",
        e.code
    )))
}

/// Owns the libheif objects of one decode and frees them in any case.
struct Guard {
    ctx: *mut HeifContext,
    handle: *mut HeifImageHandle,
    image: *mut HeifImage,
}

impl Drop for Guard {
    fn drop(&mut self) {
        // SAFETY: each pointer is null or was returned by libheif and not yet freed.
        unsafe {
            if !self.image.is_null() {
                heif_image_release(self.image);
            }
            if !self.handle.is_null() {
                heif_image_handle_release(self.handle);
            }
            if !self.ctx.is_null() {
                heif_context_free(self.ctx);
            }
        }
    }
}

/// Parse `bytes` and get the primary image handle (owned by the guard).
///
/// # Safety
/// `bytes` must outlive the returned guard (libheif reads it without copying).
unsafe fn open_primary(bytes: &[u8]) -> Result<Guard> {
    // SAFETY: libheif's documented ownership rules; the guard frees what was
    // allocated even on the error paths.
    unsafe {
        let mut g = Guard {
            ctx: heif_context_alloc(),
            handle: std::ptr::null_mut(),
            image: std::ptr::null_mut(),
        };
        if g.ctx.is_null() {
            return Err(Error::Media("libheif: out of memory".into()));
        }
        check(
            heif_context_read_from_memory_without_copy(
                g.ctx,
                bytes.as_ptr().cast(),
                bytes.len(),
                std::ptr::null(),
            ),
            "read",
        )?;
        check(
            heif_context_get_primary_image_handle(g.ctx, &mut g.handle),
            "primary image",
        )?;
        Ok(g)
    }
}

/// Decode the primary image of a HEIF file to RGB, with the container's
/// rotation and mirroring applied (libheif does that by default).
pub fn decode(bytes: &[u8]) -> Result<Rgb> {
    // SAFETY: `bytes` outlives the guard; the plane is read within its bounds.
    unsafe {
        let mut g = open_primary(bytes)?;
        check(
            heif_decode_image(
                g.handle,
                &mut g.image,
                HEIF_COLORSPACE_RGB,
                HEIF_CHROMA_INTERLEAVED_RGB,
                std::ptr::null(),
            ),
            "decode",
        )?;
        let w = heif_image_get_width(g.image, HEIF_CHANNEL_INTERLEAVED);
        let h = heif_image_get_height(g.image, HEIF_CHANNEL_INTERLEAVED);
        let mut stride: c_int = 0;
        let plane = heif_image_get_plane_readonly(g.image, HEIF_CHANNEL_INTERLEAVED, &mut stride);
        if plane.is_null() || w <= 0 || h <= 0 || (stride as i64) < (w as i64) * 3 {
            return Err(Error::Media("HEIF decode produced no RGB plane".into()));
        }
        let (w, h, stride) = (w as usize, h as usize, stride as usize);
        let mut data = Vec::with_capacity(w * h * 3);
        for y in 0..h {
            let row = std::slice::from_raw_parts(plane.add(y * stride), w * 3);
            data.extend_from_slice(row);
        }
        Rgb::new(w as u32, h as u32, data)
    }
}

/// Displayed size of the primary image (container transforms applied),
/// read without decoding.
pub fn dimensions(bytes: &[u8]) -> Result<(u32, u32)> {
    // SAFETY: `bytes` outlives the guard.
    unsafe {
        let g = open_primary(bytes)?;
        let (w, h) = (
            heif_image_handle_get_width(g.handle),
            heif_image_handle_get_height(g.handle),
        );
        if w <= 0 || h <= 0 {
            return Err(Error::Media("HEIF image has no size".into()));
        }
        Ok((w as u32, h as u32))
    }
}
