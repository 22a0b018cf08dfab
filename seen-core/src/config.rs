//! Every option of the engine, its default, its environment variable and its
//! documentation, in one place ([`OPTIONS`]).
//!
//! Precedence: built-in defaults < TOML file < `SEEN_*` environment variables
//! < explicit values set by the caller (for example command-line flags).

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Hardware acceleration choice for video decode/encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Accel {
    /// Try the devices that exist, fall back to the CPU.
    Auto,
    /// Never use a GPU.
    Cpu,
    /// NVIDIA CUDA / NVDEC / NVENC.
    Cuda,
    /// Intel Quick Sync Video.
    Qsv,
    /// VA-API (Intel/AMD on Linux).
    Vaapi,
}

impl std::str::FromStr for Accel {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Accel::Auto),
            "cpu" | "none" => Ok(Accel::Cpu),
            "cuda" => Ok(Accel::Cuda),
            "qsv" => Ok(Accel::Qsv),
            "vaapi" => Ok(Accel::Vaapi),
            other => Err(Error::invalid(format!(
                "accel must be auto, cpu, cuda, qsv or vaapi, not {other:?}"
            ))),
        }
    }
}

/// The engine's configuration. Build it with [`Config::load`] or
/// [`Config::with_data_dir`], then adjust fields or call [`Config::set`].
#[derive(Debug, Clone, serde::Serialize)]
pub struct Config {
    /// Directory holding the SQLite database, derived images and models.
    pub data_dir: PathBuf,
    /// `sqlite://...` or `postgres://...`; `None` means `<data_dir>/seen.db`.
    pub database_url: Option<String>,
    /// Address the HTTP server binds to.
    pub host: String,
    /// Port the HTTP server listens on.
    pub port: u16,
    /// Where face models are looked for; `None` means `<data_dir>/models`.
    pub models_dir: Option<PathBuf>,
    /// Whether face detection runs at all.
    pub faces_enabled: bool,
    /// Path of `libonnxruntime.so`; `None` searches `ORT_DYLIB_PATH` and Python.
    pub ort_dylib_path: Option<PathBuf>,
    /// CPU worker threads for decoding and encoding; 0 means one per core.
    pub workers: usize,
    /// Maximum database connections in the pool.
    pub db_max_connections: u32,
    /// Longest side of thumbnails, in pixels.
    pub thumb_size: u32,
    /// Longest side of previews, in pixels.
    pub preview_size: u32,
    /// WebP quality (0-100) of thumbnails and previews.
    pub webp_quality: f32,
    /// Whether registered paths are watched for changes.
    pub watch: bool,
    /// Poll interval (ms) used where inotify is not available; 0 disables polling.
    pub watch_poll_ms: u64,
    /// How long (ms) a file's size and mtime must stay unchanged before it is indexed.
    pub watch_settle_ms: u64,
    /// Hardware acceleration for video work.
    pub accel: Accel,
}

/// Documentation of one configuration option.
#[derive(Debug, Clone, Copy)]
pub struct OptionInfo {
    /// Key in the TOML file and for [`Config::set`].
    pub key: &'static str,
    /// Environment variable overriding the file.
    pub env: &'static str,
    /// Default value, as text.
    pub default: &'static str,
    /// What the option does.
    pub doc: &'static str,
}

/// Every configuration option. The README's table and `seen-http --help` are made from this.
pub const OPTIONS: &[OptionInfo] = &[
    OptionInfo {
        key: "data_dir",
        env: "SEEN_DATA_DIR",
        default: "./seen-data",
        doc: "Data directory: seen.db, derived/ (thumbnails, previews, transcodes), models/",
    },
    OptionInfo {
        key: "database_url",
        env: "SEEN_DATABASE_URL",
        default: "sqlite://<data_dir>/seen.db",
        doc: "Database: sqlite://FILE or postgres://USER@HOST:PORT/DB",
    },
    OptionInfo {
        key: "host",
        env: "SEEN_HOST",
        default: "127.0.0.1",
        doc: "Address the HTTP server binds to",
    },
    OptionInfo {
        key: "port",
        env: "SEEN_PORT",
        default: "3000",
        doc: "Port the HTTP server listens on",
    },
    OptionInfo {
        key: "models_dir",
        env: "SEEN_MODELS_DIR",
        default: "<data_dir>/models",
        doc: "Directory with the SCRFD and ArcFace ONNX models",
    },
    OptionInfo {
        key: "faces_enabled",
        env: "SEEN_FACES",
        default: "true",
        doc: "Run face detection and clustering",
    },
    OptionInfo {
        key: "ort_dylib_path",
        env: "SEEN_ORT_DYLIB_PATH",
        default: "(ORT_DYLIB_PATH, then the onnxruntime Python package)",
        doc: "Path of libonnxruntime.so (1.31)",
    },
    OptionInfo {
        key: "workers",
        env: "SEEN_WORKERS",
        default: "0 (one per core)",
        doc: "CPU worker threads for decoding and encoding",
    },
    OptionInfo {
        key: "db_max_connections",
        env: "SEEN_DB_MAX_CONNECTIONS",
        default: "8",
        doc: "Maximum database connections",
    },
    OptionInfo {
        key: "thumb_size",
        env: "SEEN_THUMB_SIZE",
        default: "256",
        doc: "Longest side of thumbnails (px)",
    },
    OptionInfo {
        key: "preview_size",
        env: "SEEN_PREVIEW_SIZE",
        default: "1600",
        doc: "Longest side of previews (px)",
    },
    OptionInfo {
        key: "webp_quality",
        env: "SEEN_WEBP_QUALITY",
        default: "80",
        doc: "WebP quality of thumbnails and previews (0-100)",
    },
    OptionInfo {
        key: "watch",
        env: "SEEN_WATCH",
        default: "true",
        doc: "Watch registered paths for changes",
    },
    OptionInfo {
        key: "watch_poll_ms",
        env: "SEEN_WATCH_POLL_MS",
        default: "0",
        doc: "Polling interval for filesystems without inotify (0 = use inotify)",
    },
    OptionInfo {
        key: "watch_settle_ms",
        env: "SEEN_WATCH_SETTLE_MS",
        default: "1000",
        doc: "Time a changed file's size and mtime must stay still before indexing",
    },
    OptionInfo {
        key: "accel",
        env: "SEEN_ACCEL",
        default: "auto",
        doc: "Video hardware acceleration: auto, cpu, cuda, qsv or vaapi",
    },
];

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./seen-data"),
            database_url: None,
            host: "127.0.0.1".into(),
            port: 3000,
            models_dir: None,
            faces_enabled: true,
            ort_dylib_path: None,
            workers: 0,
            db_max_connections: 8,
            thumb_size: 256,
            preview_size: 1600,
            webp_quality: 80.0,
            watch: true,
            watch_poll_ms: 0,
            watch_settle_ms: 1000,
            accel: Accel::Auto,
        }
    }
}

fn parse<T: std::str::FromStr>(key: &str, value: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    value
        .trim()
        .parse()
        .map_err(|e| Error::invalid(format!("option {key}: cannot parse {value:?}: {e}")))
}

fn parse_bool(key: &str, value: &str) -> Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(Error::invalid(format!(
            "option {key}: expected true or false, not {value:?}"
        ))),
    }
}

fn optional_path(value: &str) -> Option<PathBuf> {
    (!value.trim().is_empty()).then(|| PathBuf::from(value))
}

impl Config {
    /// Defaults with the given data directory.
    pub fn with_data_dir(data_dir: impl Into<PathBuf>) -> Config {
        Config {
            data_dir: data_dir.into(),
            ..Config::default()
        }
    }

    /// Defaults, then the TOML `file` (if any), then `SEEN_*` environment variables.
    pub fn load(file: Option<&Path>) -> Result<Config> {
        let mut config = Config::default();
        if let Some(file) = file {
            config.apply_toml_file(file)?;
        }
        config.apply_env()?;
        Ok(config)
    }

    /// Apply the keys of a TOML file (flat `key = value` pairs, keys from [`OPTIONS`]).
    pub fn apply_toml_file(&mut self, file: &Path) -> Result<()> {
        let text = std::fs::read_to_string(file).map_err(|e| Error::io_at(file, e))?;
        self.apply_toml(&text)
            .map_err(|e| Error::invalid(format!("{}: {e}", file.display())))
    }

    /// Apply TOML text (flat `key = value` pairs, keys from [`OPTIONS`]).
    pub fn apply_toml(&mut self, text: &str) -> Result<()> {
        let table: toml::Table = text
            .parse()
            .map_err(|e| Error::invalid(format!("invalid TOML: {e}")))?;
        for (key, value) in table {
            let text = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                other => {
                    return Err(Error::invalid(format!(
                        "option {key}: unsupported value {other}"
                    )));
                }
            };
            self.set(&key, &text)?;
        }
        Ok(())
    }

    /// Apply every `SEEN_*` variable of [`OPTIONS`] that is set.
    pub fn apply_env(&mut self) -> Result<()> {
        for option in OPTIONS {
            if let Ok(value) = std::env::var(option.env) {
                self.set(option.key, &value)
                    .map_err(|e| Error::invalid(format!("{}: {e}", option.env)))?;
            }
        }
        Ok(())
    }

    /// Set one option by its key (see [`OPTIONS`]) from text.
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        match key {
            "data_dir" => self.data_dir = PathBuf::from(value),
            "database_url" => {
                self.database_url = (!value.trim().is_empty()).then(|| value.trim().to_string())
            }
            "host" => self.host = value.trim().to_string(),
            "port" => self.port = parse(key, value)?,
            "models_dir" => self.models_dir = optional_path(value),
            "faces_enabled" => self.faces_enabled = parse_bool(key, value)?,
            "ort_dylib_path" => self.ort_dylib_path = optional_path(value),
            "workers" => self.workers = parse(key, value)?,
            "db_max_connections" => self.db_max_connections = parse(key, value)?,
            "thumb_size" => self.thumb_size = parse(key, value)?,
            "preview_size" => self.preview_size = parse(key, value)?,
            "webp_quality" => self.webp_quality = parse(key, value)?,
            "watch" => self.watch = parse_bool(key, value)?,
            "watch_poll_ms" => self.watch_poll_ms = parse(key, value)?,
            "watch_settle_ms" => self.watch_settle_ms = parse(key, value)?,
            "accel" => self.accel = value.parse()?,
            other => return Err(Error::invalid(format!("unknown option {other:?}"))),
        }
        Ok(())
    }

    /// Check that values make sense together.
    pub fn validate(&self) -> Result<()> {
        if self.thumb_size < 16 || self.thumb_size > 4096 {
            return Err(Error::invalid("thumb_size must be within 16..=4096"));
        }
        if self.preview_size < self.thumb_size || self.preview_size > 16384 {
            return Err(Error::invalid(
                "preview_size must be at least thumb_size and at most 16384",
            ));
        }
        if !(0.0..=100.0).contains(&self.webp_quality) {
            return Err(Error::invalid("webp_quality must be within 0..=100"));
        }
        if self.db_max_connections == 0 {
            return Err(Error::invalid("db_max_connections must be at least 1"));
        }
        Ok(())
    }

    /// The database URL in effect (SQLite under the data dir by default).
    pub fn effective_database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("seen.db").display()),
        }
    }

    /// The models directory in effect.
    pub fn effective_models_dir(&self) -> PathBuf {
        self.models_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("models"))
    }

    /// Directory for derived files (thumbnails, previews, transcodes).
    pub fn derived_dir(&self) -> PathBuf {
        self.data_dir.join("derived")
    }

    /// Worker thread count in effect.
    pub fn effective_workers(&self) -> usize {
        if self.workers > 0 {
            self.workers
        } else {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_option_is_settable_and_documented() {
        let mut c = Config::default();
        let samples = [
            ("data_dir", "/tmp/x"),
            ("database_url", "postgres://u@127.0.0.1:5/db"),
            ("host", "0.0.0.0"),
            ("port", "8080"),
            ("models_dir", "/m"),
            ("faces_enabled", "off"),
            ("ort_dylib_path", "/lib/ort.so"),
            ("workers", "3"),
            ("db_max_connections", "4"),
            ("thumb_size", "200"),
            ("preview_size", "1200"),
            ("webp_quality", "75"),
            ("watch", "false"),
            ("watch_poll_ms", "500"),
            ("watch_settle_ms", "200"),
            ("accel", "vaapi"),
        ];
        assert_eq!(samples.len(), OPTIONS.len());
        for (key, value) in samples {
            assert!(OPTIONS.iter().any(|o| o.key == key), "{key} undocumented");
            c.set(key, value).unwrap();
        }
        assert_eq!(c.port, 8080);
        assert!(!c.faces_enabled);
        assert_eq!(c.accel, Accel::Vaapi);
        assert_eq!(c.preview_size, 1200);
        assert!(c.validate().is_ok());
    }

    #[test]
    fn bad_values_are_rejected() {
        let mut c = Config::default();
        assert!(c.set("port", "http").is_err());
        assert!(c.set("nonsense", "1").is_err());
        assert!(c.set("accel", "tpu").is_err());
        assert!(c.set("watch", "maybe").is_err());
        c.thumb_size = 4;
        assert!(c.validate().is_err());
    }

    #[test]
    fn toml_overrides_defaults_and_rejects_unknown_keys() {
        let mut c = Config::default();
        c.apply_toml("port = 4000\nwatch = false\ndata_dir = \"/srv/seen\"\nwebp_quality = 70.5\n")
            .unwrap();
        assert_eq!(c.port, 4000);
        assert!(!c.watch);
        assert_eq!(c.data_dir, PathBuf::from("/srv/seen"));
        assert_eq!(c.webp_quality, 70.5);
        assert!(c.apply_toml("colour = \"blue\"").is_err());
        assert!(c.apply_toml("port = [1]").is_err());
    }

    #[test]
    fn default_database_is_sqlite_in_data_dir() {
        let c = Config::with_data_dir("/d");
        assert_eq!(c.effective_database_url(), "sqlite:///d/seen.db");
        assert_eq!(c.effective_models_dir(), PathBuf::from("/d/models"));
    }
}
