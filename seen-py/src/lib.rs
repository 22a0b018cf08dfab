//! The `seen` Python module (native part, `seen._seen`): a thin translation
//! of `seen-core`'s `Library` into Python objects. Long calls release the
//! GIL; waits poll for signals so Ctrl-C interrupts the wait, not the process.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use seen_core::search::SearchQuery;
use seen_core::store::ListQuery;
use seen_core::{Config, Error, ErrorKind};

pyo3::create_exception!(
    seen,
    SeenError,
    PyException,
    "Base class of every Seen error."
);
pyo3::create_exception!(
    seen,
    NotFoundError,
    SeenError,
    "The asset, folder or object does not exist."
);
pyo3::create_exception!(
    seen,
    InvalidInputError,
    SeenError,
    "An argument is invalid."
);
pyo3::create_exception!(
    seen,
    ConflictError,
    SeenError,
    "The operation clashes with the current state (e.g. a scan is running)."
);
pyo3::create_exception!(
    seen,
    ReadOnlyError,
    SeenError,
    "A file or filesystem is read-only."
);
pyo3::create_exception!(
    seen,
    UnsupportedError,
    SeenError,
    "The operation or format is not supported."
);
pyo3::create_exception!(
    seen,
    StorageError,
    SeenError,
    "A file could not be read or written."
);
pyo3::create_exception!(seen, DatabaseError, SeenError, "The database failed.");
pyo3::create_exception!(
    seen,
    MediaError,
    SeenError,
    "Decoding or encoding media failed."
);
pyo3::create_exception!(
    seen,
    ModelError,
    SeenError,
    "A face model is missing or failed."
);
pyo3::create_exception!(
    seen,
    CancelledError,
    SeenError,
    "The operation was cancelled."
);
pyo3::create_exception!(
    seen,
    InternalError,
    SeenError,
    "An internal error (a bug in Seen)."
);

/// The one mapping from core errors to Python exceptions.
fn py_err(e: Error) -> PyErr {
    let msg = e.to_string();
    match e.kind() {
        ErrorKind::NotFound => NotFoundError::new_err(msg),
        ErrorKind::InvalidInput => InvalidInputError::new_err(msg),
        ErrorKind::Conflict => ConflictError::new_err(msg),
        ErrorKind::ReadOnly => ReadOnlyError::new_err(msg),
        ErrorKind::Unsupported => UnsupportedError::new_err(msg),
        ErrorKind::Io => StorageError::new_err(msg),
        ErrorKind::Database => DatabaseError::new_err(msg),
        ErrorKind::Media => MediaError::new_err(msg),
        ErrorKind::Model => ModelError::new_err(msg),
        ErrorKind::Cancelled => CancelledError::new_err(msg),
        ErrorKind::Internal => InternalError::new_err(msg),
    }
}

/// The engine and the runtime that drives it.
struct Engine {
    runtime: tokio::runtime::Runtime,
    library: seen_core::Library,
}

impl Engine {
    /// Run a future to completion with the GIL released.
    fn run<T: Send, F>(&self, py: Python<'_>, fut: F) -> PyResult<T>
    where
        F: std::future::Future<Output = seen_core::Result<T>> + Send,
    {
        py.detach(|| self.runtime.block_on(fut)).map_err(py_err)
    }

    /// Run a long call in the background and wait for it with the GIL
    /// released, checking for Ctrl-C between short slices:
    /// KeyboardInterrupt stops the wait, while the call finishes on its own.
    fn run_interruptible<T: Send + 'static, F>(&self, py: Python<'_>, fut: F) -> PyResult<T>
    where
        F: std::future::Future<Output = seen_core::Result<T>> + Send + 'static,
    {
        let mut task = self.runtime.spawn(fut);
        loop {
            let slice = Duration::from_millis(100);
            let done = py.detach(|| {
                self.runtime
                    .block_on(async { tokio::time::timeout(slice, &mut task).await })
            });
            match done {
                Ok(Ok(result)) => return result.map_err(py_err),
                Ok(Err(e)) => {
                    return Err(InternalError::new_err(format!(
                        "background task failed: {e}"
                    )));
                }
                Err(_) => py.check_signals()?,
            }
        }
    }
}

fn json_to_py<'py>(py: Python<'py>, value: &impl serde::Serialize) -> PyResult<Bound<'py, PyAny>> {
    let text = serde_json::to_string(value).map_err(|e| InternalError::new_err(e.to_string()))?;
    py.import("json")?.call_method1("loads", (text,))
}

fn utc_datetime<'py>(py: Python<'py>, ts: i64) -> PyResult<Bound<'py, PyAny>> {
    let dt = py.import("datetime")?;
    let utc = dt.getattr("timezone")?.getattr("utc")?;
    dt.getattr("datetime")?
        .call_method1("fromtimestamp", (ts, utc))
}

/// An open photo library.
#[pyclass(module = "seen._seen", subclass)]
struct Library {
    engine: Mutex<Option<Arc<Engine>>>,
}

impl Library {
    fn engine(&self) -> PyResult<Arc<Engine>> {
        self.engine
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| SeenError::new_err("the library is closed"))
    }

    fn wrap(engine: &Arc<Engine>, assets: Vec<seen_core::store::Asset>) -> Vec<Asset> {
        assets
            .into_iter()
            .map(|inner| Asset {
                inner,
                engine: engine.clone(),
            })
            .collect()
    }
}

#[pymethods]
impl Library {
    /// Open (creating if needed) the library in `data_dir`; SQLite there
    /// unless `database_url` (`sqlite://...` or `postgres://...`) is given.
    /// Face models are looked for in `models_dir` (default `<data_dir>/models`).
    #[new]
    #[pyo3(signature = (data_dir, database_url=None, models_dir=None))]
    fn new(
        py: Python<'_>,
        data_dir: PathBuf,
        database_url: Option<String>,
        models_dir: Option<PathBuf>,
    ) -> PyResult<Self> {
        let engine = py.detach(|| -> seen_core::Result<Engine> {
            let mut config = Config::load(None)?;
            config.data_dir = data_dir;
            if database_url.is_some() {
                config.database_url = database_url;
            }
            if models_dir.is_some() {
                config.models_dir = models_dir;
            }
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .thread_name("seen-runtime")
                .build()
                .map_err(|e| Error::Internal(format!("cannot start the runtime: {e}")))?;
            let library = runtime.block_on(seen_core::Library::open(config))?;
            Ok(Engine { runtime, library })
        });
        Ok(Library {
            engine: Mutex::new(Some(Arc::new(engine.map_err(py_err)?))),
        })
    }

    /// Register a folder (an existing directory) and watch it; returns its record.
    fn add_path<'py>(&self, py: Python<'py>, path: PathBuf) -> PyResult<Bound<'py, PyAny>> {
        let e = self.engine()?;
        let p = path.to_string_lossy().into_owned();
        let sp = e.run(py, e.library.add_path(&p))?;
        json_to_py(py, &sp)
    }

    /// Unregister a folder: its assets leave the index (files stay on disk).
    fn remove_path<'py>(&self, py: Python<'py>, path: PathBuf) -> PyResult<Bound<'py, PyAny>> {
        let e = self.engine()?;
        let p = path.to_string_lossy().into_owned();
        let r = e.run(py, e.library.remove_path(&p))?;
        json_to_py(py, &r)
    }

    /// Registered folders.
    fn paths<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let e = self.engine()?;
        let r = e.run(py, e.library.paths())?;
        json_to_py(py, &r)
    }

    /// Start scanning a registered folder; returns a handle to wait on.
    fn start_scan(&self, py: Python<'_>, path: PathBuf) -> PyResult<ScanHandle> {
        let e = self.engine()?;
        let p = path.to_string_lossy().into_owned();
        let handle = e.run(py, e.library.scan(&p))?;
        Ok(ScanHandle { engine: e, handle })
    }

    /// Stop the running scan of a folder and hold its watcher's events.
    fn pause(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let e = self.engine()?;
        let p = path.to_string_lossy().into_owned();
        e.run(py, e.library.pause(&p))
    }

    /// Resume a paused folder.
    fn resume(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let e = self.engine()?;
        let p = path.to_string_lossy().into_owned();
        e.run(py, e.library.resume(&p))
    }

    /// `{"scanning", "watcher_paused", "watching"}` for a folder.
    fn path_status<'py>(&self, py: Python<'py>, path: PathBuf) -> PyResult<Bound<'py, PyAny>> {
        let e = self.engine()?;
        let p = path.to_string_lossy().into_owned();
        let s = e.run(py, e.library.path_status(&p))?;
        json_to_py(py, &s)
    }

    /// Statistics, the same shape as `GET /stats`.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let e = self.engine()?;
        let s = e.run(py, e.library.stats())?;
        json_to_py(py, &s)
    }

    /// A page of assets.
    #[pyo3(signature = (offset=0, limit=200, sort="mtime", order="desc", person_id=None))]
    fn assets(
        &self,
        py: Python<'_>,
        offset: i64,
        limit: i64,
        sort: &str,
        order: &str,
        person_id: Option<i64>,
    ) -> PyResult<Vec<Asset>> {
        let e = self.engine()?;
        let q = ListQuery {
            offset,
            limit,
            sort: sort.parse().map_err(py_err)?,
            order: order.parse().map_err(py_err)?,
            person_id,
        };
        let found = e.run(py, e.library.assets(&q))?;
        Ok(Self::wrap(&e, found))
    }

    /// Assets whose path matches every word of `query` (`*`, `?` wildcards),
    /// optionally filtered by camera and by capture date (datetime or unix seconds).
    #[pyo3(signature = (query, camera_make=None, camera_model=None, date_from=None, date_to=None, offset=0, limit=200))]
    #[allow(clippy::too_many_arguments)]
    fn search(
        &self,
        py: Python<'_>,
        query: String,
        camera_make: Option<String>,
        camera_model: Option<String>,
        date_from: Option<Bound<'_, PyAny>>,
        date_to: Option<Bound<'_, PyAny>>,
        offset: i64,
        limit: i64,
    ) -> PyResult<Vec<Asset>> {
        let e = self.engine()?;
        let seconds = |v: Option<Bound<'_, PyAny>>| -> PyResult<Option<i64>> {
            match v {
                None => Ok(None),
                Some(v) if v.hasattr("timestamp")? => {
                    // A naive datetime means UTC, as `date_taken` is.
                    let v = if v.getattr("tzinfo")?.is_none() {
                        let utc = py.import("datetime")?.getattr("timezone")?.getattr("utc")?;
                        let kw = pyo3::types::PyDict::new(py);
                        kw.set_item("tzinfo", utc)?;
                        v.call_method("replace", (), Some(&kw))?
                    } else {
                        v
                    };
                    Ok(Some(v.call_method0("timestamp")?.extract::<f64>()? as i64))
                }
                Some(v) => Ok(Some(v.extract::<i64>()?)),
            }
        };
        let q = SearchQuery {
            q: query,
            from: seconds(date_from)?,
            to: seconds(date_to)?,
            camera_make,
            camera_model,
            page: ListQuery {
                offset,
                limit,
                ..ListQuery::default()
            },
        };
        let found = e.run(py, e.library.search(&q))?;
        Ok(Self::wrap(&e, found))
    }

    /// One asset; `NotFoundError` if unknown.
    fn asset(&self, py: Python<'_>, id: i64) -> PyResult<Asset> {
        let e = self.engine()?;
        let inner = e.run(py, e.library.asset(id))?;
        Ok(Asset { inner, engine: e })
    }

    /// The 256 px WebP thumbnail of an asset.
    fn thumbnail<'py>(&self, py: Python<'py>, id: i64) -> PyResult<Bound<'py, PyBytes>> {
        let e = self.engine()?;
        let b = e.run(py, e.library.thumbnail(id))?;
        Ok(PyBytes::new(py, &b))
    }

    /// The 1600 px WebP preview of an asset.
    fn preview<'py>(&self, py: Python<'py>, id: i64) -> PyResult<Bound<'py, PyBytes>> {
        let e = self.engine()?;
        let b = e.run(py, e.library.preview(id))?;
        Ok(PyBytes::new(py, &b))
    }

    /// Remove an asset from the index (the file stays; later scans leave it out).
    fn delete_asset(&self, py: Python<'_>, id: i64) -> PyResult<()> {
        let e = self.engine()?;
        e.run(py, e.library.delete_asset(id))
    }

    /// Save a rotation (0, 90, 180, 270 degrees clockwise); the original is untouched.
    fn set_rotation(&self, py: Python<'_>, id: i64, rotation: i64) -> PyResult<()> {
        let e = self.engine()?;
        e.run(py, e.library.set_rotation(id, rotation))
    }

    /// Assets stored with a recorded problem (their `error` says why), oldest first.
    #[pyo3(signature = (limit = 200, offset = 0))]
    fn problem_assets(&self, py: Python<'_>, limit: i64, offset: i64) -> PyResult<Vec<Asset>> {
        let e = self.engine()?;
        let found = e.run(py, e.library.problem_assets(limit, offset))?;
        Ok(Self::wrap(&e, found))
    }

    /// Groups of asset ids with identical content.
    fn duplicates(&self, py: Python<'_>) -> PyResult<Vec<Vec<i64>>> {
        let e = self.engine()?;
        e.run(py, e.library.duplicates())
    }

    /// Start face detection for every image without faces (background).
    fn faces_detect(&self, py: Python<'_>) -> PyResult<()> {
        let e = self.engine()?;
        e.run(py, e.library.faces_detect())
    }

    /// Stop face detection.
    fn faces_stop(&self, py: Python<'_>) -> PyResult<()> {
        let e = self.engine()?;
        e.run(py, e.library.faces_stop())
    }

    /// Face detection progress, models and counts (as `GET /faces/progress`).
    fn faces_progress<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let e = self.engine()?;
        let v = e.run(py, e.library.faces_progress())?;
        json_to_py(py, &v)
    }

    /// Group unassigned faces into persons; returns `{persons_created, faces_assigned}`.
    #[pyo3(signature = (epsilon=None, min_samples=None))]
    fn faces_cluster<'py>(
        &self,
        py: Python<'py>,
        epsilon: Option<f64>,
        min_samples: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let e = self.engine()?;
        let lib = e.library.clone();
        let o = e.run_interruptible(
            py,
            async move { lib.faces_cluster(epsilon, min_samples).await },
        )?;
        json_to_py(py, &o)
    }

    /// Re-cluster every face not assigned by hand; returns `(persons, faces)`.
    fn faces_recluster(&self, py: Python<'_>) -> PyResult<(usize, usize)> {
        let e = self.engine()?;
        let lib = e.library.clone();
        e.run_interruptible(py, async move { lib.faces_recluster().await })
    }

    /// Merge persons whose faces are closer than `threshold` (cosine
    /// distance, 0..1); returns `(persons merged, faces moved, persons left)`.
    #[pyo3(signature = (threshold=0.5))]
    fn faces_smart_merge(&self, py: Python<'_>, threshold: f64) -> PyResult<(usize, i64, usize)> {
        let e = self.engine()?;
        let lib = e.library.clone();
        e.run_interruptible(py, async move { lib.faces_smart_merge(threshold).await })
    }

    /// Everyone found in the library.
    fn persons(&self, py: Python<'_>) -> PyResult<Vec<Person>> {
        let e = self.engine()?;
        let list = e.run(py, e.library.persons())?;
        Ok(list
            .into_iter()
            .map(|inner| Person {
                inner,
                engine: e.clone(),
            })
            .collect())
    }

    /// One person; `NotFoundError` if unknown.
    fn person(&self, py: Python<'_>, id: i64) -> PyResult<Person> {
        let e = self.engine()?;
        let inner = e.run(py, e.library.person(id))?;
        Ok(Person { inner, engine: e })
    }

    /// Name a person.
    fn rename_person(&self, py: Python<'_>, id: i64, name: String) -> PyResult<()> {
        let e = self.engine()?;
        e.run(py, e.library.rename_person(id, &name))
    }

    /// Move every face of `source` to `target` and delete `source`.
    fn merge_persons(&self, py: Python<'_>, source: i64, target: i64) -> PyResult<Person> {
        let e = self.engine()?;
        let inner = e.run(py, e.library.merge_persons(source, target))?;
        Ok(Person { inner, engine: e })
    }

    /// Stop scans and watchers, flush writes and close the database. Safe to call twice.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let engine = self.engine.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(e) = engine {
            py.detach(|| e.runtime.block_on(e.library.close()));
        }
        Ok(())
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.engine
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_none()
    }
}

/// A running or finished scan.
#[pyclass(module = "seen._seen")]
struct ScanHandle {
    engine: Arc<Engine>,
    handle: seen_core::ScanHandle,
}

#[pymethods]
impl ScanHandle {
    /// Wait until the scan and its thumbnails and previews are done, or
    /// `timeout` seconds pass; returns whether it is done. `CancelledError`
    /// when a pause, removal or close stopped it before the end. Ctrl-C
    /// raises KeyboardInterrupt here while the scan goes on.
    #[pyo3(signature = (timeout=None))]
    fn wait(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<bool> {
        let deadline = timeout.map(|t| Instant::now() + Duration::from_secs_f64(t.max(0.0)));
        loop {
            let slice = Duration::from_millis(100);
            let done = py.detach(|| {
                self.engine.runtime.block_on(async {
                    tokio::time::timeout(slice, self.handle.clone().completed()).await
                })
            });
            match done {
                Ok(Ok(_)) => return Ok(true),
                Ok(Err(e)) => return Err(py_err(e)),
                Err(_) => {}
            }
            py.check_signals()?;
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(false);
            }
        }
    }

    /// Whether the scan has finished.
    #[getter]
    fn done(&self) -> bool {
        self.handle.is_finished()
    }
}

/// An indexed photo, video or audio file.
#[pyclass(module = "seen._seen", frozen)]
struct Asset {
    inner: seen_core::store::Asset,
    engine: Arc<Engine>,
}

#[pymethods]
impl Asset {
    #[getter]
    fn id(&self) -> i64 {
        self.inner.id
    }
    #[getter]
    fn path(&self) -> &str {
        &self.inner.path
    }
    #[getter]
    fn filename(&self) -> &str {
        &self.inner.filename
    }
    #[getter]
    fn mime(&self) -> &str {
        &self.inner.mime
    }
    #[getter]
    fn kind(&self) -> &'static str {
        self.inner.kind().as_str()
    }
    #[getter]
    fn size(&self) -> i64 {
        self.inner.size
    }
    #[getter]
    fn width(&self) -> Option<i64> {
        self.inner.displayed_size().0
    }
    #[getter]
    fn height(&self) -> Option<i64> {
        self.inner.displayed_size().1
    }
    #[getter]
    fn sha256(&self) -> Option<&str> {
        self.inner.sha256.as_deref()
    }
    #[getter]
    fn camera_make(&self) -> Option<&str> {
        self.inner.camera_make.as_deref()
    }
    #[getter]
    fn camera_model(&self) -> Option<&str> {
        self.inner.camera_model.as_deref()
    }
    #[getter]
    fn lens(&self) -> Option<&str> {
        self.inner.lens.as_deref()
    }
    #[getter]
    fn iso(&self) -> Option<i64> {
        self.inner.iso
    }
    #[getter]
    fn fnumber(&self) -> Option<f64> {
        self.inner.fnumber
    }
    #[getter]
    fn exposure(&self) -> Option<f64> {
        self.inner.exposure_s
    }
    #[getter]
    fn gps(&self) -> Option<(f64, f64)> {
        self.inner.gps_lat.zip(self.inner.gps_lon)
    }
    #[getter]
    fn duration_ms(&self) -> Option<i64> {
        self.inner.duration_ms
    }
    #[getter]
    fn rotation(&self) -> i64 {
        self.inner.rotation
    }
    #[getter]
    fn error(&self) -> Option<&str> {
        self.inner.error.as_deref()
    }
    /// Capture time as a timezone-aware `datetime` in UTC, or None.
    #[getter]
    fn date_taken<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.inner
            .date_taken
            .map(|t| utc_datetime(py, t))
            .transpose()
    }
    /// Modification time as a timezone-aware `datetime` in UTC.
    #[getter]
    fn mtime<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        utc_datetime(py, self.inner.mtime_ns.div_euclid(1_000_000_000))
    }

    /// The 256 px WebP thumbnail.
    fn thumbnail<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let b = self
            .engine
            .run(py, self.engine.library.thumbnail(self.inner.id))?;
        Ok(PyBytes::new(py, &b))
    }

    /// The 1600 px WebP preview.
    fn preview<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let b = self
            .engine
            .run(py, self.engine.library.preview(self.inner.id))?;
        Ok(PyBytes::new(py, &b))
    }

    /// The thumbnail (or, with `preview=True`, the preview) as a PIL image;
    /// needs Pillow.
    #[pyo3(signature = (preview=false))]
    fn image<'py>(&self, py: Python<'py>, preview: bool) -> PyResult<Bound<'py, PyAny>> {
        let pil = py.import("PIL.Image").map_err(|_| {
            pyo3::exceptions::PyImportError::new_err(
                "Asset.image() needs Pillow: pip install pillow",
            )
        })?;
        let bytes = if preview {
            self.preview(py)?
        } else {
            self.thumbnail(py)?
        };
        let buffer = py.import("io")?.getattr("BytesIO")?.call1((bytes,))?;
        let img = pil.call_method1("open", (buffer,))?;
        img.call_method0("load")?;
        Ok(img)
    }

    /// Jupyter display: the thumbnail with the file name.
    fn _repr_html_(slf: Bound<'_, Self>) -> PyResult<String> {
        let py = slf.py();
        py.import("seen")?
            .call_method1("_thumb_html", (slf,))?
            .extract()
    }

    /// Every field as a dict (the JSON of `GET /asset/:id`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &self.inner)
    }

    fn __repr__(&self) -> String {
        format!(
            "Asset(id={}, filename={:?}, {}x{}, {})",
            self.inner.id,
            self.inner.filename,
            self.inner.displayed_size().0.unwrap_or(0),
            self.inner.displayed_size().1.unwrap_or(0),
            self.inner.mime
        )
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<Asset>()
            .is_ok_and(|o| o.get().inner.id == self.inner.id)
    }

    fn __hash__(&self) -> u64 {
        self.inner.id as u64
    }
}

/// A person: a group of faces.
#[pyclass(module = "seen._seen", frozen)]
struct Person {
    inner: seen_core::store::Person,
    engine: Arc<Engine>,
}

#[pymethods]
impl Person {
    #[getter]
    fn id(&self) -> i64 {
        self.inner.id
    }
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }
    #[getter]
    fn face_count(&self) -> i64 {
        self.inner.face_count
    }
    /// Creation time, ISO 8601 UTC.
    #[getter]
    fn created_at(&self) -> &str {
        &self.inner.created_at
    }

    /// Ids of the assets showing this person.
    fn asset_ids(&self, py: Python<'_>) -> PyResult<Vec<i64>> {
        self.engine
            .run(py, self.engine.library.person_assets(self.inner.id))
    }

    /// A square PNG of the person's most confident face.
    #[pyo3(signature = (size=160))]
    fn face_thumbnail<'py>(&self, py: Python<'py>, size: u32) -> PyResult<Bound<'py, PyBytes>> {
        let lib = &self.engine.library;
        let id = self.inner.id;
        let png = self.engine.run(py, async move {
            let face = lib.person_face(id).await?;
            lib.face_thumbnail(face, size).await
        })?;
        Ok(PyBytes::new(py, &png))
    }

    /// Jupyter display: the representative face with the name.
    fn _repr_html_(slf: Bound<'_, Self>) -> PyResult<String> {
        let py = slf.py();
        py.import("seen")?
            .call_method1("_person_html", (slf,))?
            .extract()
    }

    fn __repr__(&self) -> String {
        format!(
            "Person(id={}, name={:?}, faces={})",
            self.inner.id, self.inner.name, self.inner.face_count
        )
    }
}

/// The native module; `seen/__init__.py` builds the public API on it.
#[pymodule]
fn _seen(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", seen_core::VERSION)?;
    m.add_class::<Library>()?;
    m.add_class::<ScanHandle>()?;
    m.add_class::<Asset>()?;
    m.add_class::<Person>()?;
    for (name, ty) in [
        ("SeenError", py.get_type::<SeenError>()),
        ("NotFoundError", py.get_type::<NotFoundError>()),
        ("InvalidInputError", py.get_type::<InvalidInputError>()),
        ("ConflictError", py.get_type::<ConflictError>()),
        ("ReadOnlyError", py.get_type::<ReadOnlyError>()),
        ("UnsupportedError", py.get_type::<UnsupportedError>()),
        ("StorageError", py.get_type::<StorageError>()),
        ("DatabaseError", py.get_type::<DatabaseError>()),
        ("MediaError", py.get_type::<MediaError>()),
        ("ModelError", py.get_type::<ModelError>()),
        ("CancelledError", py.get_type::<CancelledError>()),
        ("InternalError", py.get_type::<InternalError>()),
    ] {
        m.add(name, ty)?;
    }
    Ok(())
}
