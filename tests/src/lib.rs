//! Test support shared by the store, HTTP, FFI and Python tests.

pub mod av;
pub mod media;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A URL to a new, empty database on the test Postgres server named by
/// `SEEN_TEST_POSTGRES_URL`, or `None` when that variable is unset (running
/// `cargo test` by hand; a loud SKIPPED line is printed). When the variable
/// is set, any failure to use it panics, so the test fails.
pub async fn fresh_postgres_url() -> Option<String> {
    use sqlx::Connection;
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let Ok(admin) = std::env::var("SEEN_TEST_POSTGRES_URL") else {
        eprintln!("SKIPPED: SEEN_TEST_POSTGRES_URL is not set; this Postgres test did not run");
        return None;
    };
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("SEEN_TEST_POSTGRES_URL={admin} is set but unusable: {e}"));
    let name = format!(
        "seen_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        chrono::Utc::now().timestamp_subsec_nanos()
    );
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin.as_str(), String::new()),
    };
    let (server, _db) = base.rsplit_once('/').expect("URL has a database part");
    Some(format!("{server}/{name}{query}"))
}

/// A `seen-http` process listening on an ephemeral 127.0.0.1 port; killed on drop.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base_url: String,
    /// What the server printed to stderr until it was ready.
    pub startup_log: String,
}

impl Server {
    /// Start the binary at `exe` with `args` (plus `--port 0`) and wait until
    /// it reports its address.
    pub fn start(exe: &Path, args: &[&str], envs: &[(&str, &str)]) -> Server {
        Server::spawn(Command::new(exe), args, envs)
    }

    /// Like [`Server::start`], but when the tests run as root the server
    /// runs as `nobody` (uid and gid 65534, through util-linux `setpriv`),
    /// so file permissions apply to it as they do to a real deployment.
    pub fn start_unprivileged(exe: &Path, args: &[&str], envs: &[(&str, &str)]) -> Server {
        if !running_as_root() {
            return Server::start(exe, args, envs);
        }
        let exe = reachable_by_all(exe);
        let mut cmd = Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(&exe);
        Server::spawn(cmd, args, envs)
    }

    fn spawn(mut cmd: Command, args: &[&str], envs: &[(&str, &str)]) -> Server {
        cmd.args(args)
            .args(["--port", "0", "--host", "127.0.0.1"])
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start seen-http");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut log = String::new();
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                log.push_str(&line);
                log.push('\n');
                if !sent && let Some(i) = line.find("listening on http://") {
                    let url = line[i + "listening on ".len()..].trim().to_string();
                    let _ = tx.send(Ok((url, log.clone())));
                    sent = true;
                }
                if sent {
                    eprintln!("[seen-http] {line}");
                }
            }
            if !sent {
                let _ = tx.send(Err(log));
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(Ok((base_url, startup_log))) => {
                    return Server {
                        child,
                        base_url,
                        startup_log,
                    };
                }
                Ok(Err(log)) => panic!("seen-http exited before listening:\n{log}"),
                Err(_) if Instant::now() > deadline => {
                    let _ = child.kill();
                    panic!("seen-http did not start within 60 s");
                }
                Err(_) => {}
            }
        }
    }

    /// Wait (at most 60 s) until the registered folder `path` is no longer
    /// being scanned, as `GET /paths/status` reports it.
    pub async fn wait_scan(&self, path: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.path_status(path).await["scanning"] != false {
            assert!(
                Instant::now() < deadline,
                "{path} was still being scanned after 60 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `GET /api/paths/status?path=...` (scanning, watching, paused).
    pub async fn path_status(&self, path: &str) -> serde_json::Value {
        reqwest::Client::new()
            .get(self.url("/api/paths/status"))
            .query(&[("path", path)])
            .send()
            .await
            .expect("GET /paths/status")
            .json()
            .await
            .expect("JSON status")
    }

    /// `GET path` as JSON (whatever the status; a body that is not JSON fails).
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        reqwest::get(self.url(path))
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
            .json()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: not JSON: {e}"))
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `base_url` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// Send SIGTERM and wait for the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                panic!("seen-http ignored SIGTERM for 30 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every file under `dir` (recursively; none when it does not exist).
pub fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                todo.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out.sort();
    out
}

/// Whether this process runs as root (who may read any file).
pub fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// Wait (at most 20 s) until no file is left under `dir`: derived images
/// still in the making when their assets go are removed once recorded.
pub async fn wait_no_files_under(dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = files_under(dir);
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "files outlive what they were made for: {left:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `exe`, or a copy of it in a world-readable folder when some folder above
/// it is closed to other users (a checkout under `/root`, say), so that an
/// unprivileged user can run it. The copy is made once per test process.
fn reachable_by_all(exe: &Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let open = exe
        .ancestors()
        .skip(1)
        .all(|d| std::fs::metadata(d).is_ok_and(|m| m.permissions().mode() & 0o001 != 0));
    if open {
        return exe.to_path_buf();
    }
    static COPY: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    COPY.get_or_init(|| {
        // Copies left by test processes that have ended go first.
        if let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if let Some(pid) = name.strip_prefix("seen-testkit-")
                    && !Path::new("/proc").join(pid).exists()
                {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        let dir = std::env::temp_dir().join(format!("seen-testkit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("folder for the server copy");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let copy = dir.join(exe.file_name().expect("a file name"));
        std::fs::copy(exe, &copy).expect("copy the server binary");
        copy
    })
    .clone()
}
