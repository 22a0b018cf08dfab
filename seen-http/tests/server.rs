//! The real `seen-http` binary on an ephemeral loopback port.

use std::path::Path;

use seen_testkit::{Server, fresh_postgres_url};

fn exe() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_seen-http"))
}

async fn get_json(url: &str) -> (u16, serde_json::Value) {
    let r = reqwest::get(url).await.expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.expect("JSON body"))
}

#[tokio::test]
async fn health_on_sqlite_at_root_and_under_api() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(exe(), &["--data-dir", data.to_str().unwrap()], &[]);
    for path in ["/health", "/api/health"] {
        let (status, body) = get_json(&server.url(path)).await;
        assert_eq!(status, 200);
        assert_eq!(body["status"], "ok");
        assert_eq!(body["database"], "SQLite");
        assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    }
    assert!(
        data.join("seen.db").is_file(),
        "SQLite lives in the data dir"
    );
    // SIGTERM: a clean exit with status 0.
    assert!(server.terminate().success());
}

#[tokio::test]
async fn health_on_postgres() {
    let Some(url) = fresh_postgres_url().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        exe(),
        &[
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--database-url",
            &url,
        ],
        &[],
    );
    let (status, body) = get_json(&server.url("/api/health")).await;
    assert_eq!(status, 200);
    assert_eq!(body["database"], "Postgres");
    assert!(!dir.path().join("seen.db").exists());
    assert!(server.terminate().success());
}

#[tokio::test]
async fn options_come_from_file_env_and_flags_in_that_order() {
    let dir = tempfile::tempdir().unwrap();
    let file_data = dir.path().join("from-file");
    let env_data = dir.path().join("from-env");
    let flag_data = dir.path().join("from-flag");
    let toml = dir.path().join("seen.toml");
    std::fs::write(
        &toml,
        format!("data_dir = \"{}\"\nwatch = false\n", file_data.display()),
    )
    .unwrap();
    let cfg = toml.to_str().unwrap();

    // The file alone decides.
    let s = Server::start(exe(), &["--config", cfg], &[]);
    drop(s);
    assert!(file_data.join("seen.db").exists());
    // The environment beats the file.
    let s = Server::start(
        exe(),
        &["--config", cfg],
        &[("SEEN_DATA_DIR", env_data.to_str().unwrap())],
    );
    drop(s);
    assert!(env_data.join("seen.db").exists());
    // A flag beats both.
    let s = Server::start(
        exe(),
        &["--config", cfg, "--data-dir", flag_data.to_str().unwrap()],
        &[("SEEN_DATA_DIR", env_data.to_str().unwrap())],
    );
    drop(s);
    assert!(flag_data.join("seen.db").exists());
}

#[test]
fn bad_configuration_is_a_clear_error() {
    let out = std::process::Command::new(exe())
        .args(["--port", "0"])
        .env("SEEN_ACCEL", "tpu")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("SEEN_ACCEL"), "{err}");

    let out = std::process::Command::new(exe())
        .args(["--database-url", "mysql://x", "--port", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("sqlite://"));
}

#[test]
fn help_documents_every_option() {
    let out = std::process::Command::new(exe())
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for o in seen_core::config::OPTIONS {
        assert!(help.contains(o.env), "--help lacks {}", o.env);
    }
    for flag in [
        "--data-dir",
        "--database-url",
        "--host",
        "--port",
        "--models-dir",
        "--no-faces",
        "--config",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
}

#[test]
fn readme_documents_every_option() {
    let readme = include_str!("../../README.md");
    for o in seen_core::config::OPTIONS {
        assert!(
            readme.contains(&format!("`{}`", o.env)),
            "README lacks {}",
            o.env
        );
    }
}

/// SIGTERM in the middle of a scan: the server exits 0 promptly, leaves no
/// half-written derived file, and the next start finishes the scan with the
/// rows stored before keeping their ids.
#[tokio::test]
async fn sigterm_mid_scan_exits_cleanly_and_the_next_start_finishes() {
    use seen_testkit::media as mk;
    const FILES: usize = 60;
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    for i in 0..FILES {
        let bytes = mk::jpeg(1200, 900, i as u32, None);
        std::fs::write(photos.join(format!("p{i:03}.jpg")), bytes).unwrap();
    }
    let photos = std::fs::canonicalize(&photos).unwrap();
    let data = dir.path().join("data");
    let args = [
        "--data-dir",
        data.to_str().unwrap(),
        photos.to_str().unwrap(),
    ];
    // One worker, so the scan is still running when the signal comes.
    let envs = [("SEEN_WORKERS", "1")];
    let server = Server::start(exe(), &args, &envs);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let before: Vec<serde_json::Value> = loop {
        let list: Vec<serde_json::Value> = server.get_json("/assets?limit=1000").await;
        if list.len() >= 3 {
            break list;
        }
        assert!(std::time::Instant::now() < deadline, "no rows after 60 s");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let status = server.path_status(photos.to_str().unwrap()).await;
    assert_eq!(status["scanning"], true, "the scan ended before the signal");
    assert!(before.len() < FILES);
    assert!(server.terminate().success());

    // Whatever was written is whole: no temporary file, every image decodes.
    let derived = seen_testkit::files_under(&data.join("derived"));
    for f in &derived {
        let name = f.file_name().unwrap().to_string_lossy();
        assert!(!name.starts_with(".tmp"), "left behind: {}", f.display());
        image::open(f).unwrap_or_else(|e| panic!("{} is broken: {e}", f.display()));
    }

    let server = Server::start(exe(), &args, &[]);
    server.wait_scan(photos.to_str().unwrap()).await;
    let after: Vec<serde_json::Value> = server.get_json("/assets?limit=1000").await;
    assert_eq!(after.len(), FILES);
    for old in &before {
        let same = after.iter().find(|a| a["path"] == old["path"]).unwrap();
        assert_eq!(same["id"], old["id"], "{}", old["path"]);
    }
    for a in &after {
        let r = reqwest::get(server.url(&format!("/thumb/{}", a["id"])))
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", a["path"]);
    }
    assert!(server.terminate().success());
}

/// A file the server may not read is indexed with the reason and the scan
/// goes on, as it does past a folder it may not enter; once the file is
/// readable, the next scan reads it (its ctime moved).
#[tokio::test]
async fn unreadable_files_are_recorded_and_read_once_allowed() {
    use seen_testkit::media as mk;
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    std::fs::create_dir_all(photos.join("private")).unwrap();
    std::fs::write(photos.join("open.jpg"), mk::jpeg(320, 240, 1, None)).unwrap();
    std::fs::write(photos.join("secret.jpg"), mk::jpeg(320, 240, 2, None)).unwrap();
    std::fs::write(
        photos.join("private/inner.jpg"),
        mk::jpeg(320, 240, 3, None),
    )
    .unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    if seen_testkit::running_as_root() {
        // The server runs as nobody: give it the folders, as an owner would.
        for p in seen_testkit::files_under(dir.path()).into_iter().chain([
            dir.path().into(),
            photos.clone(),
            photos.join("private"),
            data.clone(),
        ]) {
            std::os::unix::fs::chown(&p, Some(65534), Some(65534)).unwrap();
        }
    }
    let set_mode = |p: &std::path::Path, mode: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    set_mode(&photos.join("secret.jpg"), 0o000);
    set_mode(&photos.join("private"), 0o000);
    let photos = std::fs::canonicalize(&photos).unwrap();
    let root = photos.to_str().unwrap();
    let args = ["--data-dir", data.to_str().unwrap(), root];
    let server = Server::start_unprivileged(exe(), &args, &[]);
    server.wait_scan(root).await;

    let list: Vec<serde_json::Value> = server.get_json("/assets").await;
    let by_name = |list: &[serde_json::Value], name: &str| {
        list.iter().find(|a| a["filename"] == name).cloned()
    };
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(by_name(&list, "open.jpg").unwrap()["width"], 320);
    let secret = by_name(&list, "secret.jpg").unwrap();
    let reason = secret["error"].as_str().unwrap_or_default();
    assert!(reason.contains("ermission denied"), "{secret}");
    assert_eq!(secret["width"], serde_json::Value::Null);

    set_mode(&photos.join("secret.jpg"), 0o644);
    set_mode(&photos.join("private"), 0o755);
    let r = reqwest::Client::new()
        .post(server.url("/paths/scan"))
        .json(&serde_json::json!({"path": root}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    server.wait_scan(root).await;
    let list: Vec<serde_json::Value> = server.get_json("/assets").await;
    assert_eq!(list.len(), 3, "{list:?}");
    let secret = by_name(&list, "secret.jpg").unwrap();
    assert_eq!(secret["error"], serde_json::Value::Null, "{secret}");
    assert_eq!(secret["width"], 320);
    assert!(by_name(&list, "inner.jpg").is_some());
    assert!(server.terminate().success());
}
