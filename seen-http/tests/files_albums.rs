//! Search, streaming (download, video ranges), permanent deletes, albums,
//! file types, browse and clear against the real server, on SQLite and Postgres.

use std::path::Path;

use reqwest::StatusCode;
use seen_testkit::Server;
use seen_testkit::media as mk;
use serde_json::{Value, json};

fn exe() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_seen-http"))
}

async fn start(postgres: bool) -> Option<(Server, tempfile::TempDir, String)> {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    let party = photos.join("2023-01-05 Party");
    std::fs::create_dir_all(&party).unwrap();
    std::fs::write(party.join("party.jpg"), mk::jpeg(300, 200, 1, None)).unwrap();
    std::fs::write(party.join("café ☕.jpg"), mk::jpeg(300, 200, 2, None)).unwrap();
    std::fs::write(photos.join("locked.jpg"), mk::jpeg(300, 200, 3, None)).unwrap();
    std::fs::write(photos.join("notes.txt"), b"not media").unwrap();
    std::fs::write(photos.join("doc.pdf"), b"%PDF").unwrap();
    std::fs::create_dir_all(photos.join(".hidden")).unwrap();
    mk::video(
        &photos.join("clip.mp4"),
        1.0,
        160,
        120,
        true,
        &seen_testkit::av::Encode::default(),
    );
    mk::audio(&photos.join("tone.mp3"), 0.5);
    mk::video(
        &photos.join("old.avi"),
        1.0,
        160,
        120,
        true,
        &seen_testkit::av::Encode {
            video_codec: Some("mpeg4"),
            audio_codec: Some("libmp3lame"),
            ..Default::default()
        },
    );
    mk::video(
        &photos.join("silent.webm"),
        0.5,
        160,
        120,
        false,
        &seen_testkit::av::Encode {
            video_codec: Some("libvpx-vp9"),
            ..Default::default()
        },
    );
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
    let server = Server::start(exe(), &args, &[]);
    server.wait_scan(&photos).await;
    Some((server, dir, photos))
}

async fn id_of(s: &Server, name: &str) -> (i64, Value) {
    let list: Vec<Value> = s.get_json("/assets?limit=1000").await;
    let a = list.into_iter().find(|a| a["filename"] == name).unwrap();
    (a["id"].as_i64().unwrap(), a)
}

async fn scenario(s: Server, photos: String) {
    let c = reqwest::Client::new();

    // Search.
    let hits: Value = s.get_json("/api/assets/search?q=PARTY").await;
    assert_eq!(hits.as_array().unwrap().len(), 2);
    let hits: Value = s.get_json("/assets/search?q=2023-01-05%20party.jpg").await;
    assert_eq!(hits.as_array().unwrap().len(), 1);
    let hits: Value = s.get_json("/assets/search?q=caf%C3%A9").await;
    assert_eq!(hits[0]["filename"], "café ☕.jpg");
    let hits: Value = s.get_json("/assets/search?q=*.mp?").await;
    assert_eq!(hits.as_array().unwrap().len(), 2);
    for bad in [
        "/assets/search",
        "/assets/search?q=",
        "/assets/search?q=x&from=abc",
        "/assets/search?q=x&from=10&to=5",
    ] {
        let r = c.get(s.url(bad)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
    }

    // Download: streamed whole, attachment with the UTF-8 name.
    let (cafe, cafe_json) = id_of(&s, "café ☕.jpg").await;
    let r = c
        .get(s.url(&format!("/asset/{cafe}/download")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cd = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(cd.starts_with("attachment;"), "{cd}");
    assert!(
        cd.contains("filename*=UTF-8''caf%C3%A9%20%E2%98%95.jpg"),
        "{cd}"
    );
    let body = r.bytes().await.unwrap();
    assert_eq!(
        body.as_ref(),
        std::fs::read(cafe_json["path"].as_str().unwrap()).unwrap()
    );

    // Video: ranges, suffix ranges, 416, conditional requests.
    let (clip, clip_json) = id_of(&s, "clip.mp4").await;
    let bytes = std::fs::read(clip_json["path"].as_str().unwrap()).unwrap();
    let len = bytes.len();
    let r = c
        .get(s.url(&format!("/asset/{clip}/video")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["accept-ranges"], "bytes");
    assert_eq!(r.headers()["content-type"], "video/mp4");
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    let last_modified = r.headers()["last-modified"].to_str().unwrap().to_string();
    assert_eq!(r.bytes().await.unwrap().len(), len);
    let r = c
        .get(s.url(&format!("/asset/{clip}/video")))
        .header("Range", "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        r.headers()["content-range"],
        format!("bytes 10-19/{len}").as_str()
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), &bytes[10..20]);
    let r = c
        .get(s.url(&format!("/asset/{clip}/video")))
        .header("Range", "bytes=-100")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.bytes().await.unwrap().as_ref(), &bytes[len - 100..]);
    let r = c
        .get(s.url(&format!("/asset/{clip}/video")))
        .header("Range", format!("bytes={len}-"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        r.headers()["content-range"],
        format!("bytes */{len}").as_str()
    );
    assert_eq!(r.headers()["content-type"], "application/json");
    assert!(r.json::<Value>().await.unwrap()["error"].is_string());
    for inm in [
        etag.clone(),
        format!("W/{etag}"),
        format!("\"other\", {etag}"),
    ] {
        let r = c
            .get(s.url(&format!("/asset/{clip}/video")))
            .header("If-None-Match", &inm)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_MODIFIED, "{inm}");
    }
    let r = c
        .get(s.url(&format!("/asset/{clip}/video")))
        .header("If-Modified-Since", &last_modified)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    let r = c
        .get(s.url(&format!("/asset/{clip}/video")))
        .header("Range", "bytes=0-9")
        .header("If-Range", "\"stale\"")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "a stale If-Range sends the whole file"
    );
    let r = c
        .get(s.url(&format!("/asset/{cafe}/video")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "an image is not a video"
    );

    // Audio: MP3 passthrough, transcoded from a video, 400 without audio.
    let (tone, tone_json) = id_of(&s, "tone.mp3").await;
    let r = c
        .get(s.url(&format!("/asset/{tone}/audio.mp3")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "audio/mpeg");
    assert_eq!(
        r.bytes().await.unwrap().as_ref(),
        std::fs::read(tone_json["path"].as_str().unwrap()).unwrap()
    );
    let r = c
        .get(s.url(&format!("/asset/{clip}/audio.mp3")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "audio/mpeg");
    let tmp = tempfile::tempdir().unwrap();
    let got = tmp.path().join("got.mp3");
    std::fs::write(&got, r.bytes().await.unwrap()).unwrap();
    let m = seen_core::media::video::probe(&got).unwrap();
    assert_eq!(m.audio_codec.as_deref(), Some("mp3"));
    assert!(m.duration_ms.unwrap() >= 900);
    let (silent, _) = id_of(&s, "silent.webm").await;
    for bad in [silent, cafe] {
        let r = c
            .get(s.url(&format!("/asset/{bad}/audio.mp3")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert!(r.json::<Value>().await.unwrap()["error"].is_string());
    }

    // A format browsers cannot play is transcoded once, shared by
    // concurrent requests, and then served with ranges like any file.
    let (avi, _) = id_of(&s, "old.avi").await;
    let url = s.url(&format!("/asset/{avi}/video"));
    let stats: Value = s.get_json("/stats").await;
    let before = stats["counters"]["transcodes"].as_u64().unwrap();
    let (a, b, d) = tokio::join!(c.get(&url).send(), c.get(&url).send(), c.get(&url).send());
    let mut bodies = Vec::new();
    for r in [a, b, d] {
        let r = r.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "video/mp4");
        bodies.push(r.bytes().await.unwrap());
    }
    assert!(bodies.iter().all(|x| x == &bodies[0]));
    let st: Value = s.get_json("/stats").await;
    assert_eq!(
        st["counters"]["transcodes"].as_u64().unwrap() - before,
        1,
        "three requests, one transcode: {st}"
    );
    let got = tmp.path().join("got.mp4");
    std::fs::write(&got, &bodies[0]).unwrap();
    let m = seen_core::media::video::probe(&got).unwrap();
    assert_eq!(m.video_codec.as_deref(), Some("h264"));
    assert_eq!(m.audio_codec.as_deref(), Some("aac"));
    let r = c
        .get(&url)
        .header("Range", "bytes=0-99")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.bytes().await.unwrap().as_ref(), &bodies[0][..100]);

    // File types.
    let ft: Value = s.get_json("/file-types").await;
    assert_eq!(ft["image/jpeg"], 3);
    assert_eq!(ft["video/mp4"], 1);
    assert_eq!(ft["video/x-msvideo"], 1);
    assert_eq!(ft["audio"], 1);
    assert_eq!(ft["other"], 2);
    assert_eq!(ft["other_extensions"], json!([".pdf", ".txt"]));
    assert_eq!(ft["other_breakdown"][".txt"], 1);

    // Browse.
    let b: Value = s
        .get_json(&format!("/browse?path={}", urlencode(&photos)))
        .await;
    let names: Vec<&str> = b["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "2023-01-05 Party",
            "clip.mp4",
            "doc.pdf",
            "locked.jpg",
            "notes.txt",
            "old.avi",
            "silent.webm",
            "tone.mp3"
        ]
    );
    assert_eq!(b["entries"][0]["is_dir"], true);
    let r = c
        .get(s.url("/browse?path=relative/dir"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = c
        .get(s.url("/browse?path=/no/such/dir"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(s.get_json::<Value>("/browse").await["path"], "/");

    // Albums.
    let (party, _) = id_of(&s, "party.jpg").await;
    let r = c
        .post(s.url("/albums"))
        .json(&json!({"name": "Trip", "description": "2023"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let album: Value = r.json().await.unwrap();
    let aid = album["id"].as_i64().unwrap();
    for key in [
        "id",
        "name",
        "description",
        "asset_ids",
        "created_at",
        "updated_at",
    ] {
        assert!(album.get(key).is_some(), "album lacks {key}");
    }
    let r = c
        .post(s.url(&format!("/albums/{aid}/assets")))
        .json(&json!({"asset_ids": [party, cafe]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = c
        .post(s.url(&format!("/albums/{aid}/assets")))
        .json(&json!({"asset_ids": [999999]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        s.get_json::<Value>(&format!("/albums/for-asset/{party}"))
            .await,
        json!([aid])
    );
    let r = c
        .put(s.url(&format!("/albums/{aid}")))
        .json(&json!({"name": "Trip!"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["description"], "2023");
    let r = c
        .put(s.url(&format!("/albums/{aid}")))
        .json(&json!({"description": null}))
        .send()
        .await
        .unwrap();
    let got: Value = r.json().await.unwrap();
    assert_eq!(
        (got["name"].clone(), got["description"].clone()),
        (json!("Trip!"), Value::Null)
    );
    let r = c
        .delete(s.url(&format!("/albums/{aid}/assets")))
        .json(&json!({"asset_ids": [cafe]}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap()["asset_ids"],
        json!([party])
    );
    assert_eq!(
        s.get_json::<Value>("/albums")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    for (method, path) in [("GET", "/albums/424242"), ("DELETE", "/albums/424242")] {
        let r = c
            .request(method.parse().unwrap(), s.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{method} {path}");
    }
    let r = c
        .post(s.url("/albums"))
        .json(&json!({"name": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // Permanent delete: a read-only file is a 409 and stays; others go.
    let (locked, locked_json) = id_of(&s, "locked.jpg").await;
    let locked_path = locked_json["path"].as_str().unwrap().to_string();
    let mut perm = std::fs::metadata(&locked_path).unwrap().permissions();
    perm.set_readonly(true);
    std::fs::set_permissions(&locked_path, perm).unwrap();
    let r = c
        .delete(s.url(&format!("/asset/{locked}/permanent")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["read_only"], true);
    assert_eq!(body["success"], false);
    assert!(Path::new(&locked_path).exists());
    let r = c
        .post(s.url("/assets/permanent"))
        .json(&json!({"ids": [locked, party, 999999]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["results"].as_array().unwrap().len(), 3);
    assert_eq!(body["results"][1]["deleted"], true);
    assert_eq!(body["read_only_failures"][0]["id"], locked);
    assert!(
        !Path::new(&photos)
            .join("2023-01-05 Party/party.jpg")
            .exists()
    );
    assert!(Path::new(&locked_path).exists());
    let r = c
        .delete(s.url(&format!("/asset/{cafe}/permanent")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["deleted_from_disk"], true);
    let r = c
        .delete(s.url(&format!("/asset/{cafe}/permanent")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = c
        .post(s.url("/assets/permanent"))
        .json(&json!({"ids": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // Clear: the index, album links and derived files (thumbnails,
    // previews, transcodes) go; albums and the user's files stay.
    let (locked_id, _) = id_of(&s, "locked.jpg").await;
    c.post(s.url(&format!("/albums/{aid}/assets")))
        .json(&json!({"asset_ids": [locked_id]}))
        .send()
        .await
        .unwrap();
    let derived = Path::new(&photos).parent().unwrap().join("data/derived");
    let made = seen_testkit::files_under(&derived);
    assert!(
        made.iter()
            .any(|f| f.extension().is_some_and(|e| e == "mp4")),
        "{made:?}"
    );
    assert!(
        made.iter()
            .any(|f| f.extension().is_some_and(|e| e == "webp")),
        "{made:?}"
    );
    let r: Value = c
        .delete(s.url("/clear"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["assets_deleted"], 5);
    assert_eq!(s.get_json::<Value>("/assets").await, json!([]));
    assert!(Path::new(&locked_path).exists());
    seen_testkit::wait_no_files_under(&derived).await;
    let album: Value = s.get_json(&format!("/albums/{aid}")).await;
    assert_eq!(album["asset_ids"], json!([]));
    for name in ["clip.mp4", "tone.mp3", "old.avi", "silent.webm"] {
        assert!(Path::new(&photos).join(name).exists(), "{name}");
    }
    assert!(s.terminate().success());
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"/-_.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn files_and_albums_on_sqlite() {
    let (s, _dir, photos) = start(false).await.unwrap();
    scenario(s, photos).await;
}

#[tokio::test]
async fn files_and_albums_on_postgres() {
    if let Some((s, _dir, photos)) = start(true).await {
        scenario(s, photos).await;
    }
}
