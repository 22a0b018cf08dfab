//! Face detection routes against the real server with the real models and
//! photos (from the PyPI packages the test script fetches).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use seen_testkit::Server;
use serde_json::{Value, json};

fn exe() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_seen-http"))
}

fn models_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("SEEN_TEST_MODELS_DIR").map(PathBuf::from);
    if dir.is_none() {
        eprintln!("SKIPPED: SEEN_TEST_MODELS_DIR is not set; face route tests did not run");
    }
    dir
}

async fn json_of(r: reqwest::Response) -> Value {
    r.json().await.unwrap()
}

#[tokio::test]
async fn detection_routes_on_real_photos() {
    let Some(models) = models_dir() else { return };
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    for name in ["yaoming.jpg", "gdp.jpg", "players.jpg"] {
        std::fs::copy(models.join(name), photos.join(name)).unwrap();
    }
    // A second, different picture of the same man: his portrait mirrored.
    image::open(models.join("yaoming.jpg"))
        .unwrap()
        .fliph()
        .save(photos.join("yaoming-mirrored.jpg"))
        .unwrap();
    let photos = std::fs::canonicalize(&photos)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let data = dir.path().join("data");
    let s = Server::start(
        exe(),
        &[
            "--data-dir",
            data.to_str().unwrap(),
            "--models-dir",
            models.to_str().unwrap(),
            &photos,
        ],
        &[],
    );
    let c = reqwest::Client::new();
    s.wait_scan(&photos).await;

    let p = json_of(c.get(s.url("/api/faces/progress")).send().await.unwrap()).await;
    assert_eq!(
        p["models_loaded"],
        json!({"scrfd": false, "arcface": false})
    );
    assert_eq!(p["queue_depth"], 4);

    // Settings: defaults, validation, persistence.
    let st = json_of(c.get(s.url("/faces/settings")).send().await.unwrap()).await;
    assert_eq!(st["confidence_threshold"], 0.5);
    assert_eq!(st["min_cluster_size"], 2);
    assert_eq!(st["excluded_extensions"], json!(["gif", "bmp"]));
    for bad in [
        json!({"confidence_threshold": 1.5}),
        json!({"min_samples": 0}),
        json!({"colour": 1}),
        json!({"nms_iou_threshold": "x"}),
        json!([1]),
    ] {
        let r = c
            .post(s.url("/faces/settings"))
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    let r = c
        .post(s.url("/faces/settings"))
        .json(&json!({"cluster_epsilon": 0.6}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(r).await["status"], "updated");
    assert_eq!(
        json_of(c.get(s.url("/faces/settings")).send().await.unwrap()).await["cluster_epsilon"],
        0.6
    );

    // Detection.
    let r = c.post(s.url("/faces/detect")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let second = c
        .post(s.url("/faces/detect"))
        .send()
        .await
        .unwrap()
        .status();
    assert!(second == StatusCode::CONFLICT || second == StatusCode::ACCEPTED);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let st = json_of(c.get(s.url("/faces/status")).send().await.unwrap()).await;
        if st == json!({"running": false, "queue_depth": 0}) {
            break;
        }
        assert!(Instant::now() < deadline, "detection did not finish: {st}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let p = json_of(c.get(s.url("/faces/progress")).send().await.unwrap()).await;
    assert_eq!(p["models_loaded"], json!({"scrfd": true, "arcface": true}));
    assert_eq!(p["counts"]["faces_total"], 29, "{p}");
    assert_eq!(p["counts"]["assets_with_faces"], 4);
    assert!(p["models_status"].as_str().unwrap().contains("loaded"));
    // New faces were clustered when detection ended.
    assert_eq!(
        p["thresholds"],
        json!({"cluster_batch_size": 100, "remaining_to_next_cluster": 100})
    );
    assert!(p["counts"]["persons_total"].as_i64().unwrap() >= 1, "{p}");

    let list: Vec<Value> = json_of(c.get(s.url("/assets")).send().await.unwrap())
        .await
        .as_array()
        .unwrap()
        .clone();
    let yao = list
        .iter()
        .find(|a| a["filename"] == "yaoming.jpg")
        .unwrap();
    let faces = json_of(
        c.get(s.url(&format!("/assets/{}/faces", yao["id"])))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(faces.as_array().unwrap().len(), 1);
    let bbox: Value = serde_json::from_str(faces[0]["bbox"].as_str().unwrap()).unwrap();
    let (x1, x2) = (bbox["x1"].as_f64().unwrap(), bbox["x2"].as_f64().unwrap());
    assert!(x1 >= 0.0 && x2 > x1 && x2 <= yao["width"].as_f64().unwrap());
    assert!(
        faces[0]["person_id"].is_i64(),
        "detection clusters new faces on its own: {faces}"
    );
    let r = c.get(s.url("/assets/999999/faces")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    let un = json_of(
        c.get(s.url("/faces/unassigned?limit=500"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let unassigned = un["faces"].as_array().unwrap().len();
    assert!(
        (1..29).contains(&unassigned),
        "{unassigned} of 29 unassigned"
    );
    assert!(un["faces"][0]["bbox"]["x2"].is_f64());
    let un = json_of(c.get(s.url("/faces/unassigned")).send().await.unwrap()).await;
    assert_eq!(un["faces"].as_array().unwrap().len(), unassigned); // default limit 60
    let un = json_of(
        c.get(s.url("/faces/unassigned?limit=2&offset=1"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(un["faces"].as_array().unwrap().len(), 2);
    for bad in [
        "/faces/unassigned?limit=501",
        "/faces/unassigned?limit=0",
        "/faces/unassigned?offset=-1",
    ] {
        assert_eq!(
            c.get(s.url(bad)).send().await.unwrap().status(),
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }

    // Face thumbnails: padded square PNGs.
    let face_id = faces[0]["id"].as_i64().unwrap();
    let r = c
        .get(s.url(&format!("/faces/{face_id}/thumb")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/png");
    let img = image::load_from_memory(&r.bytes().await.unwrap()).unwrap();
    assert_eq!((img.width(), img.height()), (160, 160));
    let r = c
        .get(s.url(&format!("/faces/{face_id}/thumb?size=64")))
        .send()
        .await
        .unwrap();
    let img = image::load_from_memory(&r.bytes().await.unwrap()).unwrap();
    assert_eq!((img.width(), img.height()), (64, 64));
    assert_eq!(
        c.get(s.url(&format!("/faces/{face_id}/thumb?size=20")))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        c.get(s.url(&format!("/faces/{face_id}/thumb?size=1025")))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        c.get(s.url("/faces/999999/thumb"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );

    // While detection is enabled, a newly added image is detected without being asked.
    std::fs::copy(
        models.join("gdp.jpg"),
        Path::new(&photos).join("gdp-copy.jpg"),
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let p = json_of(c.get(s.url("/faces/progress")).send().await.unwrap()).await;
        if p["counts"]["faces_total"] == 34 && p["running"] == false {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new image was not detected: {p}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Clustering: the man of yaoming.jpg, its mirror and players.jpg is one
    // person (the new gdp copy was clustered when its detection ended).
    let r = json_of(c.post(s.url("/faces/cluster")).send().await.unwrap()).await;
    assert_eq!(r["success"], true, "{r}");
    assert!(
        r["message"].as_str().unwrap().starts_with("Clustered"),
        "{r}"
    );
    // Error paths: (method, route, body, status).
    let none = Value::Null;
    for (method, route, body, code) in [
        (
            "POST",
            "/faces/cluster?epsilon=2",
            &none,
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/faces/cluster?min_samples=0",
            &none,
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/faces/cluster?epsilon=x",
            &none,
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/faces/smart-merge?threshold=2",
            &none,
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/faces/recluster/person/999999",
            &none,
            StatusCode::NOT_FOUND,
        ),
        ("GET", "/persons/999999", &none, StatusCode::NOT_FOUND),
        (
            "GET",
            "/persons/999999/assets",
            &none,
            StatusCode::NOT_FOUND,
        ),
        ("GET", "/persons/999999/face", &none, StatusCode::NOT_FOUND),
        ("GET", "/persons/x", &none, StatusCode::BAD_REQUEST),
        ("DELETE", "/persons/999999", &none, StatusCode::NOT_FOUND),
        (
            "POST",
            "/persons/999999",
            &json!({"name": "Nobody"}),
            StatusCode::NOT_FOUND,
        ),
        (
            "POST",
            "/persons/merge",
            &json!({"source_person_id": 1}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let mut req = c.request(method.parse().unwrap(), s.url(route));
        if !body.is_null() {
            req = req.json(body);
        }
        assert_eq!(req.send().await.unwrap().status(), code, "{method} {route}");
    }
    let by_name = |name: &str| {
        list.iter().find(|a| a["filename"] == name).unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let faces_of = |asset: i64| {
        let c = c.clone();
        let url = s.url(&format!("/assets/{asset}/faces"));
        async move { json_of(c.get(url).send().await.unwrap()).await }
    };
    let list: Vec<Value> = json_of(c.get(s.url("/assets")).send().await.unwrap())
        .await
        .as_array()
        .unwrap()
        .clone();
    let yao_face = faces_of(by_name("yaoming.jpg")).await[0].clone();
    let person = yao_face["person_id"]
        .as_i64()
        .expect("yao's face got a person");
    let assets = json_of(
        c.get(s.url(&format!("/persons/{person}/assets")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let mut want = vec![
        by_name("yaoming.jpg"),
        by_name("yaoming-mirrored.jpg"),
        by_name("players.jpg"),
    ];
    want.sort();
    assert_eq!(assets["asset_ids"], json!(want));
    // No person twice in one photo.
    for a in &list {
        let faces = faces_of(a["id"].as_i64().unwrap()).await;
        let mut seen = std::collections::HashSet::new();
        for f in faces.as_array().unwrap() {
            if let Some(p) = f["person_id"].as_i64() {
                assert!(seen.insert(p), "person {p} twice in {}", a["filename"]);
            }
        }
    }
    // Names, representative face, profile refresh.
    let r = c
        .post(s.url(&format!("/persons/{person}")))
        .json(&json!({"name": "Yao Ming"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = c
        .post(s.url(&format!("/persons/{person}")))
        .json(&json!({"name": "  "}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let p = json_of(
        c.get(s.url(&format!("/persons/{person}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(p["name"], "Yao Ming");
    assert!(p["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(
        json_of(
            c.get(s.url(&format!("/persons/{person}/face")))
                .send()
                .await
                .unwrap()
        )
        .await["face_id"]
            .is_i64()
    );
    let r = json_of(
        c.post(s.url(&format!("/faces/recluster/person/{person}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r["profile"]["centroid_dim"], 512);
    assert_eq!(r["profile"]["face_count"], 3);
    // A full recluster keeps the named person.
    let r = json_of(c.post(s.url("/faces/recluster")).send().await.unwrap()).await;
    assert_eq!(r["success"], true);
    let yao_face = faces_of(by_name("yaoming.jpg")).await[0].clone();
    assert_eq!(
        yao_face["person_id"], person,
        "the name survived the recluster"
    );
    assert_eq!(
        json_of(
            c.get(s.url(&format!("/persons/{person}")))
                .send()
                .await
                .unwrap()
        )
        .await["name"],
        "Yao Ming"
    );

    // Manual assignment: kept by clustering; one person per photo.
    let gdp_face = faces_of(by_name("gdp.jpg")).await[0]["id"]
        .as_i64()
        .unwrap();
    let r = json_of(
        c.post(s.url(&format!("/faces/{gdp_face}/assign")))
            .json(&json!({"person_id": person}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        r,
        json!({"success": true, "action": "assigned", "person_id": person})
    );
    let other_gdp = faces_of(by_name("gdp.jpg")).await[1]["id"]
        .as_i64()
        .unwrap();
    let r = c
        .post(s.url(&format!("/faces/{other_gdp}/assign")))
        .json(&json!({"person_id": person}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    json_of(c.post(s.url("/faces/recluster")).send().await.unwrap()).await;
    let f = faces_of(by_name("gdp.jpg")).await;
    assert!(
        f.as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == gdp_face && x["person_id"] == person)
    );
    let r = json_of(
        c.post(s.url(&format!("/faces/{gdp_face}/assign")))
            .json(&json!({"person_id": null}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        r,
        json!({"success": true, "action": "unassigned", "previous_person_id": person})
    );
    for (body, code) in [
        (json!({}), StatusCode::BAD_REQUEST),
        (json!({"person_id": 999999}), StatusCode::NOT_FOUND),
    ] {
        let r = c
            .post(s.url(&format!("/faces/{gdp_face}/assign")))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), code, "{body}");
    }
    assert_eq!(
        c.post(s.url("/faces/999999/assign"))
            .json(&json!({"person_id": null}))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );

    // Merges: errors; smart merge needs two persons.
    let persons = json_of(c.get(s.url("/persons")).send().await.unwrap()).await;
    let n = persons.as_array().unwrap().len();
    let r = c
        .post(s.url("/persons/merge"))
        .json(&json!({"source_person_id": person, "target_person_id": person}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = c
        .post(s.url("/persons/merge"))
        .json(&json!({"source_person_id": 999999, "target_person_id": person}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = c
        .post(s.url("/faces/smart-merge?threshold=0.01"))
        .send()
        .await
        .unwrap();
    if n < 2 {
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    } else {
        assert_eq!(
            json_of(r).await["persons_merged"],
            0,
            "nobody is that close"
        );
        let other = persons
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] != person)
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        let r = json_of(
            c.post(s.url("/persons/merge"))
                .json(&json!({"source_person_id": other, "target_person_id": person}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(r["merged_person"]["id"], person);
        assert_eq!(r["merged_person"]["centroid_dim"], 512);
        assert_eq!(
            c.get(s.url(&format!("/persons/{other}")))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::NOT_FOUND
        );
    }
    // Delete a person: faces unassigned.
    assert_eq!(
        c.delete(s.url(&format!("/persons/{person}")))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        c.get(s.url(&format!("/persons/{person}")))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    assert!(faces_of(by_name("yaoming.jpg")).await[0]["person_id"].is_null());
    assert_eq!(
        c.get(s.url(&format!("/persons/{person}/face")))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );

    let r = json_of(c.post(s.url("/faces/stop")).send().await.unwrap()).await;
    assert_eq!(r["status"], "stopped");
    let r = json_of(c.delete(s.url("/faces/clear")).send().await.unwrap()).await;
    assert_eq!(r["faces_deleted"], 34);
    let p = json_of(c.get(s.url("/faces/progress")).send().await.unwrap()).await;
    assert_eq!(p["counts"]["faces_total"], 0);
    assert_eq!(p["queue_depth"], 5, "cleared images are detected again");
}

#[tokio::test]
async fn missing_models_are_reported() {
    if models_dir().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("no-models");
    std::fs::create_dir_all(&empty).unwrap();
    let s = Server::start(
        exe(),
        &[
            "--data-dir",
            dir.path().join("data").to_str().unwrap(),
            "--models-dir",
            empty.to_str().unwrap(),
        ],
        &[],
    );
    let c = reqwest::Client::new();
    let r = c.post(s.url("/faces/detect")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        json_of(r).await["error"]
            .as_str()
            .unwrap()
            .contains("scrfd_500m_bnkps.onnx")
    );
    let p = json_of(c.get(s.url("/faces/progress")).send().await.unwrap()).await;
    assert_eq!(p["models_loaded"]["scrfd"], false);
    assert!(
        p["models_status"]
            .as_str()
            .unwrap()
            .contains("no face detector"),
        "{p}"
    );

    // Disabled by configuration: a clear 400, not a crash.
    let s2 = Server::start(
        exe(),
        &[
            "--data-dir",
            dir.path().join("data2").to_str().unwrap(),
            "--no-faces",
        ],
        &[],
    );
    let r = c.post(s2.url("/faces/detect")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        json_of(r).await["error"]
            .as_str()
            .unwrap()
            .contains("disabled")
    );
}

#[tokio::test]
async fn stop_drops_queued_work_and_clustering_waits_for_detection() {
    let Some(models) = models_dir() else { return };
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("crowd");
    std::fs::create_dir_all(&photos).unwrap();
    // Ten different pictures with many faces, so detection takes a while.
    let players = image::open(models.join("players.jpg")).unwrap();
    for i in 0..10u32 {
        let img = if i % 2 == 0 {
            players.clone()
        } else {
            players.fliph()
        };
        let (w, h) = (img.width(), img.height());
        img.crop_imm(i * 4, i * 3, w - i * 8, h - i * 6)
            .save(photos.join(format!("crowd{i}.jpg")))
            .unwrap();
    }
    let photos = std::fs::canonicalize(&photos)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let s = Server::start(
        exe(),
        &[
            "--data-dir",
            dir.path().join("data").to_str().unwrap(),
            "--models-dir",
            models.to_str().unwrap(),
            &photos,
        ],
        &[],
    );
    let c = reqwest::Client::new();
    s.wait_scan(&photos).await;
    assert_eq!(
        c.post(s.url("/faces/detect"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::ACCEPTED
    );
    let st = json_of(c.get(s.url("/faces/status")).send().await.unwrap()).await;
    assert_eq!(
        st["running"], true,
        "detection finished too fast to test stopping: {st}"
    );
    for (method, path) in [
        ("POST", "/faces/cluster"),
        ("POST", "/faces/smart-merge"),
        ("DELETE", "/faces/clear"),
        ("POST", "/faces/recluster"),
    ] {
        let r = c
            .request(method.parse().unwrap(), s.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::CONFLICT,
            "{method} {path} while detecting"
        );
    }
    assert_eq!(
        c.post(s.url("/faces/stop")).send().await.unwrap().status(),
        StatusCode::OK
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let st = loop {
        let st = json_of(c.get(s.url("/faces/status")).send().await.unwrap()).await;
        if st["running"] == false {
            break st;
        }
        assert!(Instant::now() < deadline, "stop did not stop detection");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        st["queue_depth"].as_i64().unwrap() >= 5,
        "queued work was not dropped: {st}"
    );
    let p = json_of(c.get(s.url("/faces/progress")).send().await.unwrap()).await;
    assert_eq!(p["enabled"], false);
}
