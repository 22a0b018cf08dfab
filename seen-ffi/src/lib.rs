//! `libseen`: the C API over `seen-core`. The full surface of LIBRARY.md is
//! its own issue; this crate starts with the version call.

use std::ffi::c_char;

/// The library version as a static NUL-terminated UTF-8 string; never free it.
#[unsafe(no_mangle)]
pub extern "C" fn seen_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_is_the_crate_version() {
        let v = unsafe { std::ffi::CStr::from_ptr(super::seen_version()) };
        assert_eq!(v.to_str().unwrap(), seen_core::VERSION);
    }
}
