//! `libseen`: the C API over `seen-core`. Every function translates C
//! arguments into one `seen_core::Library` call and its result into JSON,
//! bytes or a status code; the decisions are all made in `seen-core`.
//!
//! Safety rules kept by every function: a NULL handle or string is an error
//! (never a crash), panics never cross the boundary, every allocation handed
//! out has its free function, and the last failure is kept per thread.
#![allow(non_camel_case_types)]

use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use seen_core::search::SearchQuery;
use seen_core::store::ListQuery;
use seen_core::{Config, Error, ErrorKind, Library};

/// Success.
pub const SEEN_OK: c_int = 0;
/// The asset, path or other object does not exist.
pub const SEEN_ERR_NOT_FOUND: c_int = -1;
/// An argument is invalid (bad path, id, query, setting).
pub const SEEN_ERR_INVALID_INPUT: c_int = -2;
/// The operation clashes with the current state (e.g. a scan is running).
pub const SEEN_ERR_CONFLICT: c_int = -3;
/// A file or filesystem is read-only.
pub const SEEN_ERR_READ_ONLY: c_int = -4;
/// The operation or format is not supported.
pub const SEEN_ERR_UNSUPPORTED: c_int = -5;
/// A file could not be read or written.
pub const SEEN_ERR_IO: c_int = -6;
/// The database failed.
pub const SEEN_ERR_DATABASE: c_int = -7;
/// Decoding or encoding media failed.
pub const SEEN_ERR_MEDIA: c_int = -8;
/// A face model is missing or failed.
pub const SEEN_ERR_MODEL: c_int = -9;
/// The operation was cancelled.
pub const SEEN_ERR_CANCELLED: c_int = -10;
/// An internal error (a bug).
pub const SEEN_ERR_INTERNAL: c_int = -11;
/// A required pointer argument was NULL.
pub const SEEN_ERR_NULL_ARGUMENT: c_int = -12;
/// The library panicked; the call had no effect that can be relied on.
pub const SEEN_ERR_PANIC: c_int = -13;

/// An open library. Create with `seen_open`, release with `seen_close`.
pub struct seen_library {
    runtime: tokio::runtime::Runtime,
    library: Library,
}

/// Called by `seen_scan_progress` with the statistics JSON (as
/// `seen_stats_json` returns) while the scan runs and once at the end.
/// The string is only valid during the call.
pub type seen_progress_fn =
    Option<extern "C" fn(stats_json: *const c_char, user_data: *mut c_void)>;

thread_local! {
    static LAST_ERROR: RefCell<Option<(c_int, CString)>> = const { RefCell::new(None) };
}

/// Why a call failed.
enum Failure {
    Core(Error),
    Null(&'static str),
    Panic(String),
}

/// The one mapping from core error kinds to C status codes.
fn code_for(kind: ErrorKind) -> c_int {
    match kind {
        ErrorKind::NotFound => SEEN_ERR_NOT_FOUND,
        ErrorKind::InvalidInput => SEEN_ERR_INVALID_INPUT,
        ErrorKind::Conflict => SEEN_ERR_CONFLICT,
        ErrorKind::ReadOnly => SEEN_ERR_READ_ONLY,
        ErrorKind::Unsupported => SEEN_ERR_UNSUPPORTED,
        ErrorKind::Io => SEEN_ERR_IO,
        ErrorKind::Database => SEEN_ERR_DATABASE,
        ErrorKind::Media => SEEN_ERR_MEDIA,
        ErrorKind::Model => SEEN_ERR_MODEL,
        ErrorKind::Cancelled => SEEN_ERR_CANCELLED,
        ErrorKind::Internal => SEEN_ERR_INTERNAL,
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Core(e)
    }
}

fn record(f: Failure) -> c_int {
    let (code, message) = match f {
        Failure::Core(e) => (code_for(e.kind()), e.to_string()),
        Failure::Null(what) => (SEEN_ERR_NULL_ARGUMENT, format!("{what} must not be NULL")),
        Failure::Panic(why) => (SEEN_ERR_PANIC, format!("internal panic in libseen: {why}")),
    };
    let message = CString::new(message.replace('\0', " ")).expect("NUL bytes replaced");
    LAST_ERROR.with(|l| *l.borrow_mut() = Some((code, message)));
    code
}

/// Run `f`, turning errors and panics into a status code.
fn status(f: impl FnOnce() -> Result<(), Failure>) -> c_int {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => SEEN_OK,
        Ok(Err(e)) => record(e),
        Err(panic) => record(Failure::Panic(seen_core::error::panic_message(&*panic))),
    }
}

/// Run `f`, turning errors and panics into NULL.
fn pointer<T>(f: impl FnOnce() -> Result<*mut T, Failure>) -> *mut T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => {
            record(e);
            std::ptr::null_mut()
        }
        Err(panic) => {
            record(Failure::Panic(seen_core::error::panic_message(&*panic)));
            std::ptr::null_mut()
        }
    }
}

/// # Safety
/// `lib` is NULL or a handle from `seen_open` not yet closed.
unsafe fn handle<'a>(lib: *mut seen_library) -> Result<&'a seen_library, Failure> {
    // SAFETY: guaranteed by the caller.
    unsafe { lib.as_ref() }.ok_or(Failure::Null("lib"))
}

/// # Safety
/// `s` is NULL or a NUL-terminated string.
unsafe fn text<'a>(s: *const c_char, name: &'static str) -> Result<&'a str, Failure> {
    if s.is_null() {
        return Err(Failure::Null(name));
    }
    // SAFETY: guaranteed by the caller.
    unsafe { CStr::from_ptr(s) }
        .to_str()
        .map_err(|_| Failure::Core(Error::invalid(format!("{name} is not valid UTF-8"))))
}

fn json_string<T: serde::Serialize + ?Sized>(value: &T) -> Result<*mut c_char, Failure> {
    let s = serde_json::to_string(value).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(CString::new(s)
        .map_err(|e| Error::Internal(e.to_string()))?
        .into_raw())
}

/// The library version as a static string; never free it.
#[unsafe(no_mangle)]
pub extern "C" fn seen_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// Message of the last failure on this thread, or NULL if none. Valid until
/// the next failing call on this thread; do not free it.
#[unsafe(no_mangle)]
pub extern "C" fn seen_last_error() -> *const c_char {
    LAST_ERROR.with(|l| {
        l.borrow()
            .as_ref()
            .map_or(std::ptr::null(), |(_, m)| m.as_ptr())
    })
}

/// Status code of the last failure on this thread, or SEEN_OK if none.
#[unsafe(no_mangle)]
pub extern "C" fn seen_last_error_code() -> c_int {
    LAST_ERROR.with(|l| l.borrow().as_ref().map_or(SEEN_OK, |(c, _)| *c))
}

/// Open (creating if needed) the library in `data_dir`, with SQLite there
/// unless `database_url` (`sqlite://...` or `postgres://...`) is given.
/// `SEEN_*` environment variables apply as for the server. Returns NULL on
/// failure.
///
/// # Safety
/// `data_dir` is a NUL-terminated string; `database_url` is NULL or one.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seen_open(
    data_dir: *const c_char,
    database_url: *const c_char,
) -> *mut seen_library {
    pointer(|| {
        // SAFETY: forwarded from the caller's guarantees.
        let dir = unsafe { text(data_dir, "data_dir") }?;
        let url = if database_url.is_null() {
            None
        } else {
            // SAFETY: as above.
            Some(unsafe { text(database_url, "database_url") }?.to_string())
        };
        let mut config = Config::load(None)?;
        config.data_dir = dir.into();
        if url.is_some() {
            config.database_url = url;
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("seen-runtime")
            .build()
            .map_err(|e| Error::Internal(format!("cannot start the runtime: {e}")))?;
        let library = runtime.block_on(Library::open(config))?;
        Ok(Box::into_raw(Box::new(seen_library { runtime, library })))
    })
}

/// Stop scans and watchers, flush pending writes and free the handle.
/// NULL is ignored. The handle must not be used afterwards.
///
/// # Safety
/// `lib` is NULL or a handle from `seen_open`, closed only once, with no
/// other call on it running or to come.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seen_close(lib: *mut seen_library) {
    if lib.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the caller hands back ownership of a live handle.
        let lib = unsafe { Box::from_raw(lib) };
        lib.runtime.block_on(lib.library.close());
        lib.runtime.shutdown_timeout(Duration::from_secs(10));
    }));
}

/// Register a folder (an existing directory) and watch it. It is scanned
/// by `seen_scan`.
///
/// # Safety
/// `lib` is a live handle or NULL; `path` a NUL-terminated string or NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seen_add_path(lib: *mut seen_library, path: *const c_char) -> c_int {
    status(|| {
        // SAFETY: forwarded from the caller's guarantees.
        let (l, p) = unsafe { (handle(lib)?, text(path, "path")?) };
        l.runtime.block_on(l.library.add_path(p))?;
        Ok(())
    })
}

/// Unregister a folder: its assets leave the index (files stay on disk).
///
/// # Safety
/// As `seen_add_path`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seen_remove_path(lib: *mut seen_library, path: *const c_char) -> c_int {
    status(|| {
        // SAFETY: forwarded from the caller's guarantees.
        let (l, p) = unsafe { (handle(lib)?, text(path, "path")?) };
        l.runtime.block_on(l.library.remove_path(p))?;
        Ok(())
    })
}

/// Scan a registered folder. With `wait` non-zero, return when every stage
/// (rows, thumbnails, previews) is done; else return at once.
/// SEEN_ERR_CONFLICT when it is already being scanned, SEEN_ERR_CANCELLED
/// when a pause, removal or close stopped it before the end.
///
/// # Safety
/// As `seen_add_path`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seen_scan(
    lib: *mut seen_library,
    path: *const c_char,
    wait: c_int,
) -> c_int {
    status(|| {
        // SAFETY: forwarded from the caller's guarantees.
        let (l, p) = unsafe { (handle(lib)?, text(path, "path")?) };
        let scan = l.runtime.block_on(l.library.scan(p))?;
        if wait != 0 {
            l.runtime.block_on(scan.completed())?;
        }
        Ok(())
    })
}

/// Scan a registered folder and wait for it, calling `progress` (if not
/// NULL) with the statistics JSON about every 250 ms and once at the end,
/// on the calling thread, passing `user_data` through.
///
/// # Safety
/// As `seen_add_path`; `progress` must not call `seen_close`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seen_scan_progress(
    lib: *mut seen_library,
    path: *const c_char,
    progress: seen_progress_fn,
    user_data: *mut c_void,
) -> c_int {
    status(|| {
        // SAFETY: forwarded from the caller's guarantees.
        let (l, p) = unsafe { (handle(lib)?, text(path, "path")?) };
        let scan = l.runtime.block_on(l.library.scan(p))?;
        let report = |l: &seen_library| -> Result<(), Failure> {
            if let Some(cb) = progress {
                let stats = l.runtime.block_on(l.library.stats())?;
                let json = CString::new(
                    serde_json::to_string(&stats).map_err(|e| Error::Internal(e.to_string()))?,
                )
                .map_err(|e| Error::Internal(e.to_string()))?;
                cb(json.as_ptr(), user_data);
            }
            Ok(())
        };
        while !scan.is_finished() {
            report(l)?;
            l.runtime.block_on(async {
                tokio::time::sleep(Duration::from_millis(250)).await;
            });
        }
        l.runtime.block_on(scan.completed())?;
        report(l)
    })
}

/// Stop the running scan of a folder and hold its watcher's events.
///
/// # Safety
/// As `seen_add_path`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seen_pause(lib: *mut seen_library, path: *const c_char) -> c_int {
    status(|| {
        // SAFETY: forwarded from the caller's guarantees.
        let (l, p) = unsafe { (handle(lib)?, text(path, "path")?) };
        l.runtime.block_on(l.library.pause(p))?;
        Ok(())
    })
}

/// Resume a paused folder (held events are processed).
///
/// # Safety
/// As `seen_add_path`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seen_resume(lib: *mut seen_library, path: *const c_char) -> c_int {
    status(|| {
        // SAFETY: forwarded from the caller's guarantees.
        let (l, p) = unsafe { (handle(lib)?, text(path, "path")?) };
        l.runtime.block_on(l.library.resume(p))?;
        Ok(())
    })
}

/// Statistics as JSON (the shape of `GET /stats`). Free with `seen_free_string`.
///
/// # Safety
/// `lib` is a live handle or NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seen_stats_json(lib: *mut seen_library) -> *mut c_char {
    pointer(|| {
        // SAFETY: forwarded from the caller's guarantees.
        let l = unsafe { handle(lib)? };
        json_string(&l.runtime.block_on(l.library.stats())?)
    })
}

/// A page of assets, newest first, as a JSON array (the shape of
/// `GET /assets`). `limit` is 1..1000. Free with `seen_free_string`.
///
/// # Safety
/// `lib` is a live handle or NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seen_assets_json(
    lib: *mut seen_library,
    offset: i64,
    limit: i64,
) -> *mut c_char {
    pointer(|| {
        // SAFETY: forwarded from the caller's guarantees.
        let l = unsafe { handle(lib)? };
        let q = ListQuery {
            offset,
            limit,
            ..ListQuery::default()
        };
        json_string(&l.runtime.block_on(l.library.assets(&q))?)
    })
}

/// Assets whose path matches every word of `query` (`*` and `?` are
/// wildcards), as a JSON array. Free with `seen_free_string`.
///
/// # Safety
/// `lib` is a live handle or NULL; `query` a NUL-terminated string or NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seen_search_json(
    lib: *mut seen_library,
    query: *const c_char,
    offset: i64,
    limit: i64,
) -> *mut c_char {
    pointer(|| {
        // SAFETY: forwarded from the caller's guarantees.
        let (l, q) = unsafe { (handle(lib)?, text(query, "query")?) };
        let search = SearchQuery {
            q: q.to_string(),
            page: ListQuery {
                offset,
                limit,
                ..ListQuery::default()
            },
            ..SearchQuery::default()
        };
        json_string(&l.runtime.block_on(l.library.search(&search))?)
    })
}

/// One asset as a JSON object; NULL with SEEN_ERR_NOT_FOUND when unknown.
/// Free with `seen_free_string`.
///
/// # Safety
/// `lib` is a live handle or NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seen_asset_json(lib: *mut seen_library, id: i64) -> *mut c_char {
    pointer(|| {
        // SAFETY: forwarded from the caller's guarantees.
        let l = unsafe { handle(lib)? };
        json_string(&l.runtime.block_on(l.library.asset(id))?)
    })
}

fn image_out(
    lib: *mut seen_library,
    id: i64,
    data: *mut *mut u8,
    len: *mut usize,
    preview: bool,
) -> c_int {
    status(|| {
        // SAFETY: forwarded from the caller's guarantees.
        let l = unsafe { handle(lib)? };
        if data.is_null() {
            return Err(Failure::Null("data"));
        }
        if len.is_null() {
            return Err(Failure::Null("len"));
        }
        let bytes = if preview {
            l.runtime.block_on(l.library.preview(id))?
        } else {
            l.runtime.block_on(l.library.thumbnail(id))?
        };
        let boxed = bytes.into_boxed_slice();
        let n = boxed.len();
        // SAFETY: both out-pointers were checked non-NULL above.
        unsafe {
            *len = n;
            *data = Box::into_raw(boxed).cast::<u8>();
        }
        Ok(())
    })
}

/// The 256 px WebP thumbnail of an asset in `*data` / `*len`. Free the
/// buffer with `seen_free_bytes(*data, *len)`.
///
/// # Safety
/// `lib` is a live handle or NULL; `data` and `len` are writable or NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seen_thumbnail(
    lib: *mut seen_library,
    id: i64,
    data: *mut *mut u8,
    len: *mut usize,
) -> c_int {
    image_out(lib, id, data, len, false)
}

/// The 1600 px WebP preview of an asset, as `seen_thumbnail`.
///
/// # Safety
/// As `seen_thumbnail`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seen_preview(
    lib: *mut seen_library,
    id: i64,
    data: *mut *mut u8,
    len: *mut usize,
) -> c_int {
    image_out(lib, id, data, len, true)
}

/// Remove an asset from the index (the file stays on disk and later scans
/// leave it out).
///
/// # Safety
/// `lib` is a live handle or NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seen_delete_asset(lib: *mut seen_library, id: i64) -> c_int {
    status(|| {
        // SAFETY: forwarded from the caller's guarantees.
        let l = unsafe { handle(lib)? };
        l.runtime.block_on(l.library.delete_asset(id))?;
        Ok(())
    })
}

/// Start face detection for every image without faces; with `wait`
/// non-zero, return when it has finished. SEEN_ERR_MODEL when ONNX Runtime
/// or the models are missing (the message says what to install where),
/// SEEN_ERR_CONFLICT when detection is already running and `wait` is 0.
///
/// # Safety
/// `lib` is a live handle or NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seen_faces_detect(lib: *mut seen_library, wait: c_int) -> c_int {
    status(|| {
        // SAFETY: forwarded from the caller's guarantees.
        let l = unsafe { handle(lib)? };
        match l.runtime.block_on(l.library.faces_detect()) {
            Ok(()) => {}
            // Already running: wait for that run.
            Err(Error::Conflict(_)) if wait != 0 => {}
            Err(e) => return Err(e.into()),
        }
        if wait != 0 {
            while l.runtime.block_on(l.library.faces_status())?["running"] == true {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Ok(())
    })
}

/// Group unassigned faces into persons; returns
/// `{"persons_created":N,"faces_assigned":N}`. Free with `seen_free_string`.
///
/// # Safety
/// `lib` is a live handle or NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seen_faces_cluster_json(lib: *mut seen_library) -> *mut c_char {
    pointer(|| {
        // SAFETY: forwarded from the caller's guarantees.
        let l = unsafe { handle(lib)? };
        json_string(&l.runtime.block_on(l.library.faces_cluster(None, None))?)
    })
}

/// Every person as a JSON array (`[{id,name,created_at,face_count}]`).
/// Free with `seen_free_string`.
///
/// # Safety
/// `lib` is a live handle or NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seen_persons_json(lib: *mut seen_library) -> *mut c_char {
    pointer(|| {
        // SAFETY: forwarded from the caller's guarantees.
        let l = unsafe { handle(lib)? };
        json_string(&l.runtime.block_on(l.library.persons())?)
    })
}

/// The faces found in one asset as a JSON array
/// (`[{id,asset_id,bbox,confidence,person_id,manual}]`). Free with `seen_free_string`.
///
/// # Safety
/// `lib` is a live handle or NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seen_asset_faces_json(lib: *mut seen_library, id: i64) -> *mut c_char {
    pointer(|| {
        // SAFETY: forwarded from the caller's guarantees.
        let l = unsafe { handle(lib)? };
        json_string(&l.runtime.block_on(l.library.faces_of_asset(id))?)
    })
}

/// Free a string returned by libseen. NULL is ignored.
///
/// # Safety
/// `s` is NULL or a string returned by libseen, freed only once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seen_free_string(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: s came from CString::into_raw in this library.
        drop(unsafe { CString::from_raw(s) });
    }
}

/// Free a byte buffer returned by libseen. NULL is ignored.
///
/// # Safety
/// `data`/`len` are exactly what libseen returned, freed only once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn seen_free_bytes(data: *mut u8, len: usize) {
    if !data.is_null() {
        // SAFETY: data/len describe a boxed slice made by image_out.
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(data, len)) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last_error() -> String {
        let p = seen_last_error();
        assert!(!p.is_null());
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }

    #[test]
    fn version_is_the_crate_version() {
        let v = unsafe { CStr::from_ptr(seen_version()) };
        assert_eq!(v.to_str().unwrap(), seen_core::VERSION);
    }

    #[test]
    fn nulls_are_errors_not_crashes() {
        unsafe {
            assert!(seen_open(std::ptr::null(), std::ptr::null()).is_null());
            assert_eq!(seen_last_error_code(), SEEN_ERR_NULL_ARGUMENT);
            assert!(last_error().contains("data_dir"));
            assert_eq!(
                seen_add_path(std::ptr::null_mut(), c"/tmp".as_ptr()),
                SEEN_ERR_NULL_ARGUMENT
            );
            assert!(seen_stats_json(std::ptr::null_mut()).is_null());
            seen_close(std::ptr::null_mut());
            seen_free_string(std::ptr::null_mut());
            seen_free_bytes(std::ptr::null_mut(), 0);
        }
    }

    #[test]
    fn drives_the_engine() {
        let dir = tempfile::tempdir().unwrap();
        let photos = dir.path().join("photos");
        std::fs::create_dir_all(&photos).unwrap();
        std::fs::write(
            photos.join("beach.jpg"),
            seen_testkit::media::jpeg(640, 480, 1, None),
        )
        .unwrap();
        let data = CString::new(dir.path().join("data").to_str().unwrap()).unwrap();
        let p = CString::new(photos.to_str().unwrap()).unwrap();
        unsafe {
            let lib = seen_open(data.as_ptr(), std::ptr::null());
            assert!(!lib.is_null());
            assert_eq!(seen_add_path(lib, p.as_ptr()), SEEN_OK);
            assert_eq!(seen_scan(lib, p.as_ptr(), 1), SEEN_OK);
            let json = seen_search_json(lib, c"beach".as_ptr(), 0, 10);
            let v: serde_json::Value =
                serde_json::from_str(CStr::from_ptr(json).to_str().unwrap()).unwrap();
            seen_free_string(json);
            let id = v[0]["id"].as_i64().unwrap();
            let (mut buf, mut len) = (std::ptr::null_mut(), 0usize);
            assert_eq!(seen_thumbnail(lib, id, &mut buf, &mut len), SEEN_OK);
            assert!(len > 0 && std::slice::from_raw_parts(buf, len).starts_with(b"RIFF"));
            seen_free_bytes(buf, len);
            assert!(seen_asset_json(lib, 999_999).is_null());
            assert_eq!(seen_last_error_code(), SEEN_ERR_NOT_FOUND);
            assert_eq!(
                seen_add_path(lib, c"/no/such/dir".as_ptr()),
                SEEN_ERR_INVALID_INPUT
            );
            assert!(seen_assets_json(lib, 0, 0).is_null());
            assert_eq!(seen_last_error_code(), SEEN_ERR_INVALID_INPUT);
            let persons = seen_persons_json(lib);
            assert_eq!(CStr::from_ptr(persons).to_str().unwrap(), "[]");
            seen_free_string(persons);
            let faces = seen_asset_faces_json(lib, id);
            assert_eq!(CStr::from_ptr(faces).to_str().unwrap(), "[]");
            seen_free_string(faces);
            assert!(seen_asset_faces_json(lib, 999_999).is_null());
            assert_eq!(seen_last_error_code(), SEEN_ERR_NOT_FOUND);
            seen_close(lib);
        }
    }
}

#[cfg(test)]
mod face_tests {
    use super::*;

    #[test]
    fn faces_through_the_c_api() {
        let Some(models) = std::env::var_os("SEEN_TEST_MODELS_DIR").map(std::path::PathBuf::from)
        else {
            eprintln!("SKIPPED: SEEN_TEST_MODELS_DIR is not set; C API face test did not run");
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let photos = dir.path().join("photos");
        std::fs::create_dir_all(&photos).unwrap();
        std::fs::copy(models.join("gdp.jpg"), photos.join("gdp.jpg")).unwrap();
        // The default models directory is <data_dir>/models.
        let data_dir = dir.path().join("data");
        std::fs::create_dir_all(data_dir.join("models")).unwrap();
        for m in ["scrfd_500m_bnkps.onnx", "w600k_mbf.onnx"] {
            std::fs::copy(models.join(m), data_dir.join("models").join(m)).unwrap();
        }
        let data = CString::new(data_dir.to_str().unwrap()).unwrap();
        let p = CString::new(photos.to_str().unwrap()).unwrap();
        unsafe {
            let lib = seen_open(data.as_ptr(), std::ptr::null());
            assert!(!lib.is_null());
            assert_eq!(seen_add_path(lib, p.as_ptr()), SEEN_OK);
            assert_eq!(seen_scan(lib, p.as_ptr(), 1), SEEN_OK);
            assert_eq!(seen_faces_detect(lib, 1), SEEN_OK);
            let assets = seen_assets_json(lib, 0, 10);
            let v: serde_json::Value =
                serde_json::from_str(CStr::from_ptr(assets).to_str().unwrap()).unwrap();
            seen_free_string(assets);
            let faces = seen_asset_faces_json(lib, v[0]["id"].as_i64().unwrap());
            let f: serde_json::Value =
                serde_json::from_str(CStr::from_ptr(faces).to_str().unwrap()).unwrap();
            seen_free_string(faces);
            assert_eq!(f.as_array().unwrap().len(), 5);
            let c = seen_faces_cluster_json(lib);
            assert!(
                CStr::from_ptr(c)
                    .to_str()
                    .unwrap()
                    .contains("persons_created")
            );
            seen_free_string(c);
            seen_close(lib);
        }
    }
}
