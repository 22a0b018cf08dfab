//! The REST routes that exist so far, against the real server on
//! 127.0.0.1 over generated media, on SQLite and on Postgres.

use std::path::Path;

use reqwest::StatusCode;
use seen_testkit::Server;
use seen_testkit::media::{self as mk, ExifSpec};
use serde_json::{Value, json};

fn exe() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_seen-http"))
}

async fn start(postgres: bool) -> Option<(Server, tempfile::TempDir, String)> {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    std::fs::create_dir_all(photos.join("2023")).unwrap();
    let exif = ExifSpec {
        make: Some("Canon"),
        model: Some("Canon EOS R5"),
        datetime_original: Some("2023:01:05 09:00:00"),
        offset: Some("+01:00"),
        ..ExifSpec::default()
    };
    std::fs::write(
        photos.join("2023/party.jpg"),
        mk::jpeg(1200, 800, 1, Some(&exif)),
    )
    .unwrap();
    std::fs::write(
        photos.join("beach.png"),
        mk::image_file(300, 200, 2, image::ImageFormat::Png),
    )
    .unwrap();
    std::fs::write(photos.join("broken.jpg"), b"not a jpeg").unwrap();
    let data = dir.path().join("data");
    let mut args = vec!["--data-dir".to_string(), data.to_str().unwrap().to_string()];
    if postgres {
        args.push("--database-url".into());
        args.push(seen_testkit::fresh_postgres_url().await?);
    }
    let photos = std::fs::canonicalize(&photos)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    args.push(photos.clone());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::start(exe(), &args, &[("SEEN_WATCH_SETTLE_MS", "200")]);
    Some((server, dir, photos))
}

async fn routes_work(s: Server, photos: String) {
    let c = reqwest::Client::new();
    s.wait_scan(&photos).await;

    // /assets: a bare array with the documented fields.
    let r = c.get(s.url("/api/assets")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    let list: Vec<Value> = r.json().await.unwrap();
    assert_eq!(list.len(), 3);
    for a in &list {
        for field in [
            "id",
            "path",
            "filename",
            "mime",
            "size",
            "mtime",
            "ctime",
            "sha256",
            "width",
            "height",
            "camera_make",
            "camera_model",
            "date_taken",
        ] {
            assert!(a.get(field).is_some(), "asset JSON lacks {field}: {a}");
        }
    }
    let party = list
        .iter()
        .find(|a| a["filename"] == "party.jpg")
        .unwrap()
        .clone();
    assert_eq!(party["camera_make"], "Canon");
    assert_eq!(party["date_taken"], "2023-01-05T08:00:00Z");
    assert_eq!(party["width"], 1200);
    let id = party["id"].as_i64().unwrap();

    // Sorting and paging; bad parameters are 400 with a JSON error.
    let names: Vec<Value> = s.get_json("/assets?sort=filename&order=asc&limit=2").await;
    let names: Vec<&str> = names
        .iter()
        .map(|a| a["filename"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["beach.png", "broken.jpg"]);
    for bad in [
        "/assets?limit=-1",
        "/assets?limit=abc",
        "/assets?limit=5000",
        "/assets?sort=colour",
        "/assets?order=up",
        "/asset/abc",
        "/asset/-3",
    ] {
        let r = c.get(s.url(bad)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
        let body: Value = r.json().await.unwrap();
        assert!(body["error"].is_string(), "{bad}: {body}");
    }
    let r = c.get(s.url("/asset/999999")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.json::<Value>().await.unwrap()["error"].is_string());
    let r = c.get(s.url("/no/such/route")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.json::<Value>().await.unwrap()["error"].is_string());
    // A known route with the wrong method: 405, still JSON, at both mounts.
    for url in ["/stats/reset", "/api/stats/reset", "/health"] {
        let r = if url == "/health" {
            c.delete(s.url(url)).send().await.unwrap()
        } else {
            c.get(s.url(url)).send().await.unwrap()
        };
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED, "{url}");
        assert!(
            r.json::<Value>().await.unwrap()["error"].is_string(),
            "{url}"
        );
    }
    // CORS preflight: the documented methods, headers and exposed headers.
    let r = c
        .request(reqwest::Method::OPTIONS, s.url("/api/assets"))
        .header("Origin", "http://example.test")
        .header("Access-Control-Request-Method", "DELETE")
        .header("Access-Control-Request-Headers", "range, content-type")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let h = |name: &str| r.headers()[name].to_str().unwrap().to_ascii_lowercase();
    assert_eq!(h("access-control-allow-origin"), "*");
    for m in ["get", "post", "put", "delete", "options"] {
        assert!(h("access-control-allow-methods").contains(m), "{m}");
    }
    for hd in ["content-type", "accept", "range", "authorization"] {
        assert!(h("access-control-allow-headers").contains(hd), "{hd}");
    }
    let r = c
        .get(s.url("/api/health"))
        .header("Origin", "http://example.test")
        .send()
        .await
        .unwrap();
    let exposed = r.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for hd in ["content-range", "content-length", "accept-ranges"] {
        assert!(exposed.contains(hd), "{hd}");
    }

    let one: Value = c
        .get(s.url(&format!("/asset/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["sha256"], party["sha256"]);

    // Thumbnails and previews: WebP, cached by ETag.
    let r = c.get(s.url(&format!("/thumb/{id}"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/webp");
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    let img = image::load_from_memory(&r.bytes().await.unwrap()).unwrap();
    assert_eq!((img.width(), img.height()), (256, 171));
    let r = c
        .get(s.url(&format!("/api/thumb/{id}")))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    let r = c
        .get(s.url(&format!("/preview/{id}")))
        .send()
        .await
        .unwrap();
    let img = image::load_from_memory(&r.bytes().await.unwrap()).unwrap();
    assert_eq!((img.width(), img.height()), (1200, 800), "never upscaled");
    let broken = list.iter().find(|a| a["filename"] == "broken.jpg").unwrap();
    assert!(broken["error"].is_string());
    let r = c
        .get(s.url(&format!("/thumb/{}", broken["id"])))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error() || r.status().is_server_error());
    assert!(r.json::<Value>().await.unwrap()["error"].is_string());

    // Orientation: stored, derived images follow, 400 for nonsense.
    let r = c
        .post(s.url(&format!("/asset/{id}/orientation")))
        .json(&json!({"rotation": 90}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = c.get(s.url(&format!("/thumb/{id}"))).send().await.unwrap();
    assert_ne!(r.headers()["etag"].to_str().unwrap(), etag);
    let img = image::load_from_memory(&r.bytes().await.unwrap()).unwrap();
    assert_eq!((img.width(), img.height()), (171, 256));
    for body in [json!({"rotation": 45}), json!({"rotation": "x"}), json!({})] {
        let r = c
            .post(s.url(&format!("/asset/{id}/orientation")))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{body}");
    }
    let r = c
        .post(s.url(&format!("/asset/{id}/orientation")))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // Paths.
    let paths: Vec<Value> = s.get_json("/paths").await;
    assert_eq!(paths.len(), 1);
    assert_eq!(paths[0]["path"], photos.as_str());
    assert_eq!(paths[0]["is_default"], true);
    assert!(paths[0].get("host_path").is_some());
    let r = c
        .post(s.url("/paths"))
        .json(&json!({"path": "/no/such/dir"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = c
        .post(s.url("/paths/scan"))
        .json(&json!({"path": "/not/registered"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = c
        .post(s.url("/paths/scan"))
        .json(&json!({"path": photos}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    s.wait_scan(&photos).await;

    let r = c
        .post(s.url("/paths/pause"))
        .json(&json!({"path": photos}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let st: Value = c
        .get(s.url("/paths/status"))
        .query(&[("path", &photos)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        st,
        json!({"scanning": false, "watcher_paused": true, "watching": false})
    );
    let r = c
        .post(s.url("/paths/resume"))
        .json(&json!({"path": photos}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let st: Value = c
        .get(s.url("/paths/status"))
        .query(&[("path", &photos)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(st["watching"], true);

    // Stats: the documented shape.
    let st: Value = s.get_json("/stats").await;
    for key in [
        "uptime_seconds",
        "queues",
        "processed",
        "processing",
        "scan_running",
        "processing_active",
        "current_scan",
        "current_processing",
        "db",
    ] {
        assert!(st.get(key).is_some(), "/stats lacks {key}");
    }
    assert_eq!(st["db"]["assets"], 3);
    assert_eq!(st["processing"]["files_committed"], 3);
    for q in ["discover", "hash", "metadata", "db_write", "thumb"] {
        assert!(st["queues"][q].is_u64(), "queue {q}");
    }
    // Prometheus metrics with HELP/TYPE, performance, FFmpeg diagnostics.
    let r = c.get(s.url("/api/metrics")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = r.text().await.unwrap();
    for needle in [
        "# HELP seen_files_committed_total",
        "# TYPE seen_files_committed_total counter",
        "seen_files_committed_total 3",
        "seen_assets 3",
        "seen_queue_depth{stage=\"hash\"} 0",
        "# TYPE seen_scan_running gauge",
    ] {
        assert!(text.contains(needle), "/metrics lacks {needle}:\n{text}");
    }
    let perf: Value = s.get_json("/performance").await;
    for key in [
        "seen",
        "system_info",
        "gpu_usage",
        "typical_ranges",
        "current_scan",
        "current_rate",
        "notes",
    ] {
        assert!(perf.get(key).is_some(), "/performance lacks {key}");
    }
    assert!(perf["seen"]["files_per_sec"].as_f64().unwrap() > 0.0);
    assert_eq!(
        perf["typical_ranges"]["immich"]["files_per_sec"],
        "8.4-15.6"
    );
    assert_eq!(perf["typical_ranges"].as_object().unwrap().len(), 5);
    assert!(perf["system_info"]["cpu_cores"].as_u64().unwrap() >= 1);
    let diag: Value = s.get_json("/diag/ffmpeg").await;
    assert!(
        diag["ffmpeg_version"]
            .as_str()
            .unwrap()
            .starts_with("ffmpeg version ")
    );
    assert!(
        diag["hwaccels"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h == "vaapi" || h == "cuda")
    );
    assert!(diag["gpu_config"]["device_counts"]["cuda"].is_u64());

    // Rates come from working time, not from time since start-up.
    let busy = st["processing"]["last_completed_elapsed_seconds"]
        .as_f64()
        .unwrap();
    assert!(
        busy > 0.0 && busy <= st["uptime_seconds"].as_f64().unwrap() + 1.0,
        "{st}"
    );
    assert!(
        st["processing"]["rate_files_per_sec"].as_f64().unwrap() > 0.0,
        "{st}"
    );

    let r = c.post(s.url("/stats/reset")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let st: Value = s.get_json("/stats").await;
    assert_eq!(st["processing"]["files_committed"], 0, "{st}");
    assert_eq!(st["processed"]["files_total"], 0, "{st}");
    assert_eq!(st["processing"]["rate_files_per_sec"], 0.0, "{st}");
    assert_eq!(st["db"]["assets"], 3, "the index is not statistics");

    // Index-only delete: gone from the index, file still there, not re-added.
    let r = c
        .delete(s.url(&format!("/asset/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(Path::new(party["path"].as_str().unwrap()).exists());
    let r = c
        .delete(s.url(&format!("/asset/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    c.post(s.url("/paths/scan"))
        .json(&json!({"path": photos}))
        .send()
        .await
        .unwrap();
    s.wait_scan(&photos).await;
    let r = c.get(s.url(&format!("/asset/{id}"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // Removing the path drops its assets and their derived files; its
    // files stay.
    let derived = Path::new(&photos).parent().unwrap().join("data/derived");
    assert!(!seen_testkit::files_under(&derived).is_empty());
    let r: Value = c
        .delete(s.url("/paths"))
        .query(&[("path", &photos)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["assets_deleted"], 2);
    let list: Vec<Value> = s.get_json("/assets").await;
    assert!(list.is_empty());
    // Images for the rotation asked for above may still be in the making;
    // made for an asset that is gone, they go too once recorded.
    seen_testkit::wait_no_files_under(&derived).await;
    assert!(Path::new(&photos).join("beach.png").exists());
    let r = c.delete(s.url("/paths")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(s.terminate().success());
}

#[tokio::test]
async fn routes_on_sqlite() {
    let (s, _dir, photos) = start(false).await.unwrap();
    routes_work(s, photos).await;
}

#[tokio::test]
async fn routes_on_postgres() {
    if let Some((s, _dir, photos)) = start(true).await {
        routes_work(s, photos).await;
    }
}

#[tokio::test]
async fn forced_absent_gpu_falls_back_counts_and_disables() {
    if Path::new("/dev/nvidia0").exists() {
        return; // a real GPU: the fallback is not what runs
    }
    let dir = tempfile::tempdir().unwrap();
    let videos = dir.path().join("videos");
    std::fs::create_dir_all(&videos).unwrap();
    // Different sizes: identical files would share one thumbnail and one frame grab.
    for i in 0..4 {
        mk::video(
            &videos.join(format!("v{i}.mp4")),
            1.0,
            160 + 16 * i,
            120,
            false,
            &seen_testkit::av::Encode::default(),
        );
    }
    let videos = std::fs::canonicalize(&videos)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let data = dir.path().join("data");
    let s = Server::start(
        exe(),
        &["--data-dir", data.to_str().unwrap(), &videos],
        &[("SEEN_ACCEL", "cuda")],
    );
    let c = reqwest::Client::new();
    s.wait_scan(&videos).await;
    let perf: Value = s.get_json("/performance").await;
    let gpu = &perf["gpu_usage"];
    assert_eq!(gpu["accel"], "CUDA");
    assert_eq!(gpu["jobs_gpu"], 0);
    assert_eq!(gpu["jobs_cpu"], 4, "{gpu}");
    // Two workers may both be mid-attempt when the third failure lands.
    let failures = gpu["consecutive_failures"].as_u64().unwrap();
    assert!((3..=4).contains(&failures), "{gpu}");
    assert_eq!(gpu["auto_disabled"], true);
    assert_eq!(gpu["enabled"], false);
    let diag: Value = s.get_json("/diag/ffmpeg").await;
    assert_eq!(diag["gpu_config"]["auto_disabled"], true);
    // Every video still got its thumbnail, from the CPU.
    let list: Vec<Value> = s.get_json("/assets").await;
    assert_eq!(list.len(), 4);
    for a in list {
        let r = c
            .get(s.url(&format!("/thumb/{}", a["id"])))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn conflicts_while_a_scan_runs() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big");
    std::fs::create_dir_all(&big).unwrap();
    for i in 0..40u32 {
        std::fs::write(
            big.join(format!("{i:03}.jpg")),
            mk::jpeg(2400, 1800, i, None),
        )
        .unwrap();
    }
    let big = std::fs::canonicalize(&big)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let data = dir.path().join("data");
    let s = Server::start(exe(), &["--data-dir", data.to_str().unwrap(), &big], &[]);
    let c = reqwest::Client::new();
    // The start-up scan is running: a second scan, a stats reset and a
    // clear are conflicts (409 with a JSON error).
    let st: Value = c
        .get(s.url("/paths/status"))
        .query(&[("path", &big)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        st["scanning"], true,
        "the scan finished too fast to test conflicts"
    );
    let r = c
        .post(s.url("/paths/scan"))
        .json(&json!({"path": big}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.json::<Value>().await.unwrap()["error"].is_string());
    let r = c.post(s.url("/stats/reset")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = c.delete(s.url("/clear")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let st: Value = s.get_json("/stats").await;
    assert_eq!(st["scan_running"], true);
    assert!(st["current_scan"]["elapsed_seconds"].as_f64().unwrap() >= 0.0);
    s.wait_scan(&big).await;
    let r = c.delete(s.url("/clear")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}
