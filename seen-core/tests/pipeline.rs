//! End-to-end ingestion tests through the `Library` API, on real files made
//! by the tests, against SQLite and Postgres.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use seen_core::store::{Asset, ListQuery, Order, SortField};
use seen_core::{Config, Library};
use seen_testkit::media::{self as mk, ExifSpec};

struct Env {
    lib: Library,
    photos: PathBuf,
    _dir: tempfile::TempDir,
    config: Config,
}

/// Tests about watching; the others run without a watcher so its rescans
/// cannot race the scans they make and count.
const WATCHED: &[&str] = &[
    "watcher_follows_the_disk",
    "pause_holds_events_until_resume",
    "restart_reconciles_with_the_disk",
    "paused_path_catches_up_after_restart",
];

async fn open(postgres: bool, watch: bool) -> Option<Env> {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    let mut config = Config::with_data_dir(dir.path().join("data"));
    config.watch_settle_ms = 300;
    config.watch = watch;
    config.workers = 2;
    if postgres {
        config.database_url = Some(seen_testkit::fresh_postgres_url().await?);
    }
    let lib = Library::open(config.clone()).await.unwrap();
    Some(Env {
        lib,
        photos: std::fs::canonicalize(&photos).unwrap(),
        _dir: dir,
        config,
    })
}

macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let watch = super::WATCHED.contains(&stringify!($name));
                    super::$name(super::open(false, watch).await.unwrap()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let watch = super::WATCHED.contains(&stringify!($name));
                    if let Some(env) = super::open(true, watch).await {
                        super::$name(env).await;
                    }
                }
            )*
        }
    };
}

both_backends!(
    cold_scan_describes_everything,
    rescans_are_incremental_and_keep_ids,
    watcher_follows_the_disk,
    pause_holds_events_until_resume,
    restart_reconciles_with_the_disk,
    rotation_lives_in_the_database,
    failed_files_are_tried_again_when_they_change,
    paused_path_catches_up_after_restart,
    refused_rows_cost_no_other_row,
);

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

async fn all_assets(lib: &Library) -> Vec<Asset> {
    lib.assets(&ListQuery {
        limit: 1000,
        sort: SortField::Filename,
        order: Order::Asc,
        ..ListQuery::default()
    })
    .await
    .unwrap()
}

async fn by_name(lib: &Library, name: &str) -> Asset {
    all_assets(lib)
        .await
        .into_iter()
        .find(|a| a.filename == name)
        .unwrap_or_else(|| panic!("{name} not indexed"))
}

async fn scan(env: &Env) -> seen_core::ScanOutcome {
    let p = env.photos.to_str().unwrap();
    env.lib.scan(p).await.unwrap().wait().await.unwrap()
}

/// Wait (bounded) until `check` holds.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting until {what}");
}

fn webp_size(bytes: &[u8]) -> (u32, u32) {
    let img = image::load_from_memory_with_format(bytes, image::ImageFormat::WebP).unwrap();
    (img.width(), img.height())
}

fn canon() -> ExifSpec {
    ExifSpec {
        make: Some("Canon"),
        model: Some("Canon EOS R5"),
        lens: Some("RF24-105mm F4 L IS USM"),
        iso: Some(200),
        fnumber: Some((40, 10)),
        exposure: Some((1, 125)),
        focal: Some((35, 1)),
        datetime_original: Some("2023:01:05 09:00:00"),
        offset: Some("+01:00"),
        gps: Some((48.8584, 2.2945, 35.0)),
        orientation: Some(1),
    }
}

async fn cold_scan_describes_everything(env: Env) {
    let p = &env.photos;
    write(
        &p.join("2023/party.jpg"),
        &mk::jpeg(2400, 1600, 1, Some(&canon())),
    );
    write(
        &p.join("2023/portrait.jpg"),
        &mk::jpeg(
            1200,
            800,
            2,
            Some(&ExifSpec {
                make: Some("NIKON CORPORATION"),
                model: Some("NIKON Z 6"),
                orientation: Some(6),
                ..ExifSpec::default()
            }),
        ),
    );
    write(
        &p.join("2023/left.jpg"),
        &mk::jpeg(
            640,
            480,
            3,
            Some(&ExifSpec {
                make: Some("Apple"),
                model: Some("iPhone 14 Pro"),
                orientation: Some(8),
                datetime_original: Some("2024:02:29 23:59:59"),
                offset: Some("-05:00"),
                ..ExifSpec::default()
            }),
        ),
    );
    write(
        &p.join("small.png"),
        &mk::image_file(100, 60, 4, image::ImageFormat::Png),
    );
    write(
        &p.join("anim.gif"),
        &mk::image_file(90, 90, 5, image::ImageFormat::Gif),
    );
    write(
        &p.join("pic.webp"),
        &mk::image_file(300, 200, 6, image::ImageFormat::WebP),
    );
    mk::heic(p, "phone.heic", 640, 480, Some(&canon()));
    // EXIF in PNG, WebP and TIFF containers; the PNG is turned a quarter.
    let sony = ExifSpec {
        make: Some("SONY"),
        model: Some("ILCE-7M4"),
        iso: Some(1600),
        datetime_original: Some("2021:12:24 18:00:00"),
        offset: Some("+09:00"),
        gps: Some((35.6586, 139.7454, 150.0)),
        orientation: Some(6),
        ..ExifSpec::default()
    };
    write(
        &p.join("exif/sony.png"),
        &mk::png_with_exif(120, 80, 13, &sony),
    );
    write(
        &p.join("exif/fuji.webp"),
        &mk::webp_with_exif(120, 80, 14, &canon()),
    );
    write(
        &p.join("exif/scan.tif"),
        &mk::tiff_with_exif(120, 80, 15, &canon()),
    );
    mk::video(
        &p.join("clip.mp4"),
        2.0,
        320,
        240,
        true,
        &seen_testkit::av::Encode {
            metadata: &[("creation_time", "2023-01-05T10:00:00Z")],
            ..Default::default()
        },
    );
    let rotated = p.join("vertical.mov");
    mk::video(
        &rotated,
        1.0,
        320,
        240,
        false,
        &seen_testkit::av::Encode::default(),
    );
    mk::set_mp4_rotation(&rotated, 90);
    mk::video(
        &p.join("short.webm"),
        0.5,
        160,
        120,
        false,
        &seen_testkit::av::Encode {
            video_codec: Some("libvpx-vp9"),
            ..Default::default()
        },
    );
    mk::audio(&p.join("tone.mp3"), 1.0);
    // A camera RAW (TIFF-based): metadata from its IFDs, pictures from the
    // embedded JPEG preview.
    let mut raw = mk::exif_block(&ExifSpec {
        make: Some("NIKON CORPORATION"),
        model: Some("NIKON D850"),
        iso: Some(64),
        datetime_original: Some("2022:05:01 07:30:00"),
        ..ExifSpec::default()
    });
    raw.extend_from_slice(&[0u8; 4096]); // stand-in for sensor data
    raw.extend_from_slice(&mk::jpeg(1200, 800, 12, None));
    write(&p.join("raw/DSC_0001.NEF"), &raw);
    // Bad input: each is recorded with a reason, and the scan goes on.
    write(&p.join("bad/empty.jpg"), b"");
    write(&p.join("bad/notes.jpg"), b"this is text, not a photo");
    let good = mk::jpeg(800, 600, 7, None);
    write(&p.join("bad/truncated.jpg"), &good[..good.len() / 3]);
    write(
        &p.join("bad/broken.mp4"),
        b"\0\0\0\x18ftypisom\0\0\0\0broken",
    );
    // A PNG with a .jpg name is indexed as the PNG it is.
    write(
        &p.join("bad/mislabelled.jpg"),
        &mk::image_file(50, 40, 8, image::ImageFormat::Png),
    );
    // Odd Unicode names, hidden files and directories, non-media, a symlink loop.
    write(
        &p.join("ünïcödé 日本/café ☕.jpg"),
        &mk::jpeg(300, 200, 9, None),
    );
    write(&p.join(".hidden/secret.jpg"), &mk::jpeg(100, 100, 10, None));
    write(&p.join(".dotfile.jpg"), &mk::jpeg(100, 100, 11, None));
    write(&p.join("readme.txt"), b"not media");
    std::os::unix::fs::symlink(p, p.join("2023/loop")).unwrap();

    env.lib.add_path(p.to_str().unwrap()).await.unwrap();
    let outcome = scan(&env).await;
    assert!(!outcome.cancelled);
    let assets = all_assets(&env.lib).await;
    let mut names: Vec<&str> = assets.iter().map(|a| a.filename.as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "DSC_0001.NEF",
            "anim.gif",
            "broken.mp4",
            "café ☕.jpg",
            "clip.mp4",
            "empty.jpg",
            "fuji.webp",
            "left.jpg",
            "mislabelled.jpg",
            "notes.jpg",
            "party.jpg",
            "phone.heic",
            "pic.webp",
            "portrait.jpg",
            "scan.tif",
            "short.webm",
            "small.png",
            "sony.png",
            "tone.mp3",
            "truncated.jpg",
            "vertical.mov",
        ]
    );
    assert_eq!(outcome.files_processed, 21);
    // bad/: empty, notes, truncated, broken.mp4.
    assert_eq!(outcome.files_with_errors, 4, "{outcome:?}");

    let sony = by_name(&env.lib, "sony.png").await;
    assert_eq!(
        (sony.camera_make.as_deref(), sony.camera_model.as_deref()),
        (Some("SONY"), Some("ILCE-7M4"))
    );
    assert_eq!((sony.iso, sony.orientation), (Some(1600), 6));
    assert_eq!(
        sony.date_taken_iso().as_deref(),
        Some("2021-12-24T09:00:00Z")
    );
    assert!((sony.gps_lon.unwrap() - 139.7454).abs() < 1e-5);
    assert_eq!((sony.width, sony.height), (Some(80), Some(120)));
    assert_eq!(
        webp_size(&env.lib.thumbnail(sony.id).await.unwrap()),
        (80, 120)
    );
    for name in ["fuji.webp", "scan.tif"] {
        let a = by_name(&env.lib, name).await;
        assert_eq!(a.camera_model.as_deref(), Some("Canon EOS R5"), "{name}");
        assert_eq!(a.lens.as_deref(), Some("RF24-105mm F4 L IS USM"), "{name}");
        assert_eq!(
            (a.fnumber, a.exposure_s),
            (Some(4.0), Some(0.008)),
            "{name}"
        );
        assert_eq!(
            a.date_taken_iso().as_deref(),
            Some("2023-01-05T08:00:00Z"),
            "{name}"
        );
        assert_eq!(a.gps_alt, Some(35.0), "{name}");
        assert_eq!(
            (a.width, a.height, a.error.as_deref()),
            (Some(120), Some(80), None),
            "{name}"
        );
        assert_eq!(
            webp_size(&env.lib.thumbnail(a.id).await.unwrap()),
            (120, 80),
            "{name}"
        );
    }

    let raw = by_name(&env.lib, "DSC_0001.NEF").await;
    assert_eq!(raw.mime, "image/x-nikon-nef");
    assert_eq!(raw.camera_model.as_deref(), Some("NIKON D850"));
    assert_eq!(raw.iso, Some(64));
    assert_eq!(
        raw.date_taken_iso().as_deref(),
        Some("2022-05-01T07:30:00Z")
    );
    assert!(raw.error.is_none(), "{:?}", raw.error);
    assert_eq!(
        webp_size(&env.lib.thumbnail(raw.id).await.unwrap()),
        (256, 171)
    );
    assert_eq!(
        webp_size(&env.lib.preview(raw.id).await.unwrap()),
        (1200, 800)
    );

    let party = by_name(&env.lib, "party.jpg").await;
    assert_eq!(party.camera_make.as_deref(), Some("Canon"));
    assert_eq!(party.camera_model.as_deref(), Some("Canon EOS R5"));
    assert_eq!(party.lens.as_deref(), Some("RF24-105mm F4 L IS USM"));
    assert_eq!(party.iso, Some(200));
    assert_eq!(party.fnumber, Some(4.0));
    assert_eq!(party.exposure_s, Some(0.008));
    assert_eq!(party.focal_length_mm, Some(35.0));
    assert_eq!(
        party.date_taken_iso().as_deref(),
        Some("2023-01-05T08:00:00Z")
    );
    assert_eq!(party.date_taken_offset_min, Some(60));
    assert!((party.gps_lat.unwrap() - 48.8584).abs() < 1e-5);
    assert_eq!((party.width, party.height), (Some(2400), Some(1600)));
    assert_eq!(party.mime, "image/jpeg");
    assert_eq!(party.dirname, format!("{}/2023", p.display()));
    let bytes = std::fs::read(p.join("2023/party.jpg")).unwrap();
    assert_eq!(party.size, bytes.len() as i64);
    assert_eq!(party.sha256.as_deref().map(str::len), Some(64));
    assert!(party.error.is_none());

    // Orientation 6 and 8: displayed sizes, derived images upright.
    let portrait = by_name(&env.lib, "portrait.jpg").await;
    assert_eq!((portrait.width, portrait.height), (Some(800), Some(1200)));
    assert_eq!(portrait.orientation, 6);
    assert_eq!(
        webp_size(&env.lib.thumbnail(portrait.id).await.unwrap()),
        (171, 256)
    );
    assert_eq!(
        webp_size(&env.lib.preview(portrait.id).await.unwrap()),
        (800, 1200)
    );
    let left = by_name(&env.lib, "left.jpg").await;
    assert_eq!((left.width, left.height), (Some(480), Some(640)));
    assert_eq!(
        left.date_taken_iso().as_deref(),
        Some("2024-03-01T04:59:59Z")
    );

    // Sizes: 256 thumbnails, 1600 previews, never upscaled.
    assert_eq!(
        webp_size(&env.lib.thumbnail(party.id).await.unwrap()),
        (256, 171)
    );
    assert_eq!(
        webp_size(&env.lib.preview(party.id).await.unwrap()),
        (1600, 1067)
    );
    let small = by_name(&env.lib, "small.png").await;
    assert_eq!(
        webp_size(&env.lib.thumbnail(small.id).await.unwrap()),
        (100, 60)
    );
    assert_eq!(
        webp_size(&env.lib.preview(small.id).await.unwrap()),
        (100, 60)
    );
    assert_eq!(
        small.date_taken, None,
        "no capture date is not the mtime in disguise"
    );
    for name in ["anim.gif", "pic.webp", "phone.heic", "café ☕.jpg"] {
        let a = by_name(&env.lib, name).await;
        assert!(a.error.is_none(), "{name}: {:?}", a.error);
        assert_eq!(a.thumb_state, 1, "{name}");
        assert_eq!(a.preview_state, 1, "{name}");
    }
    let heic = by_name(&env.lib, "phone.heic").await;
    assert_eq!((heic.width, heic.height), (Some(640), Some(480)));
    assert_eq!(heic.camera_model.as_deref(), Some("Canon EOS R5"));
    assert_eq!(
        webp_size(&env.lib.thumbnail(heic.id).await.unwrap()),
        (256, 192)
    );

    // Video and audio.
    let clip = by_name(&env.lib, "clip.mp4").await;
    assert_eq!(clip.kind().as_str(), "video");
    assert_eq!(clip.video_codec.as_deref(), Some("h264"));
    assert!(clip.has_audio);
    assert!((1900..=2100).contains(&clip.duration_ms.unwrap()));
    assert_eq!(
        clip.date_taken_iso().as_deref(),
        Some("2023-01-05T10:00:00Z")
    );
    assert_eq!(
        webp_size(&env.lib.thumbnail(clip.id).await.unwrap()),
        (256, 192)
    );
    let vertical = by_name(&env.lib, "vertical.mov").await;
    assert_eq!((vertical.width, vertical.height), (Some(240), Some(320)));
    assert!(!vertical.has_audio);
    assert_eq!(
        webp_size(&env.lib.preview(vertical.id).await.unwrap()),
        (240, 320)
    );
    let short = by_name(&env.lib, "short.webm").await;
    assert_eq!(short.video_codec.as_deref(), Some("vp9"));
    assert_eq!(
        webp_size(&env.lib.thumbnail(short.id).await.unwrap()),
        (160, 120)
    );
    let tone = by_name(&env.lib, "tone.mp3").await;
    assert_eq!(tone.kind().as_str(), "audio");
    assert_eq!(tone.audio_codec.as_deref(), Some("mp3"));
    assert!(tone.has_audio && tone.width.is_none());
    assert!(matches!(
        env.lib.thumbnail(tone.id).await,
        Err(seen_core::Error::NotFound(_))
    ));

    // Bad input: recorded, with a reason.
    let empty = by_name(&env.lib, "empty.jpg").await;
    assert_eq!(empty.error.as_deref(), Some("empty file"));
    assert_eq!(empty.size, 0);
    let notes = by_name(&env.lib, "notes.jpg").await;
    assert!(
        notes.error.as_deref().unwrap().contains("not a JPG"),
        "{:?}",
        notes.error
    );
    assert_eq!(notes.thumb_state, 2);
    assert!(by_name(&env.lib, "broken.mp4").await.error.is_some());
    let mislabelled = by_name(&env.lib, "mislabelled.jpg").await;
    assert_eq!(mislabelled.mime, "image/png");
    assert!(mislabelled.error.is_none());
    assert_eq!(
        webp_size(&env.lib.thumbnail(mislabelled.id).await.unwrap()),
        (50, 40)
    );
    // A truncated JPEG is decoded with what is there and recorded as truncated.
    let truncated = by_name(&env.lib, "truncated.jpg").await;
    assert_eq!(truncated.thumb_state, 1);
    assert!(
        truncated
            .error
            .as_deref()
            .unwrap_or("")
            .contains("truncated JPEG"),
        "{:?}",
        truncated.error
    );

    // Every derived file is under the data dir, and the originals are untouched.
    assert_eq!(std::fs::read(p.join("2023/party.jpg")).unwrap(), bytes);
    assert!(env.config.derived_dir().read_dir().unwrap().count() > 0);
    let counters = env.lib.counters();
    assert_eq!(counters.files_committed, 21);
    assert_eq!(counters.file_errors, 4);
}

async fn rescans_are_incremental_and_keep_ids(env: Env) {
    let p = &env.photos;
    write(&p.join("a/one.jpg"), &mk::jpeg(400, 300, 1, None));
    write(&p.join("a/two.jpg"), &mk::jpeg(400, 300, 2, None));
    write(&p.join("a/copy.jpg"), &mk::jpeg(400, 300, 2, None));
    write(&p.join("b/three.jpg"), &mk::jpeg(400, 300, 3, None));
    write(&p.join("b/gone.jpg"), &mk::jpeg(400, 300, 4, None));
    env.lib.add_path(p.to_str().unwrap()).await.unwrap();
    assert_eq!(scan(&env).await.files_processed, 5);
    // Same content at two paths: two assets, one duplicate group.
    let two = by_name(&env.lib, "two.jpg").await;
    let copy = by_name(&env.lib, "copy.jpg").await;
    assert_ne!(two.id, copy.id);
    let mut pair = vec![two.id, copy.id];
    pair.sort();
    assert_eq!(env.lib.duplicates().await.unwrap(), vec![pair]);

    // Nothing changed: nothing is opened again.
    let hashed = env.lib.counters().files_hashed;
    assert_eq!(scan(&env).await.files_processed, 0);
    assert_eq!(env.lib.counters().files_hashed, hashed);

    // Rename + move keeps the id (and with it albums); a changed file keeps
    // its id with new content; a deleted file leaves the index.
    let one = by_name(&env.lib, "one.jpg").await;
    let album = env.lib.create_album("Keep", None).await.unwrap();
    env.lib.add_to_album(album.id, &[one.id]).await.unwrap();
    let three = by_name(&env.lib, "three.jpg").await;
    std::fs::create_dir_all(p.join("c")).unwrap();
    std::fs::rename(p.join("a/one.jpg"), p.join("c/renamed one.jpg")).unwrap();
    write(&p.join("b/three.jpg"), &mk::jpeg(500, 300, 33, None));
    std::fs::remove_file(p.join("b/gone.jpg")).unwrap();
    let outcome = scan(&env).await;
    assert_eq!(outcome.files_processed, 2);
    assert_eq!(outcome.files_removed, 1);
    let renamed = by_name(&env.lib, "renamed one.jpg").await;
    assert_eq!(renamed.id, one.id);
    assert_eq!(
        env.lib.album(album.id).await.unwrap().asset_ids,
        vec![one.id]
    );
    assert_eq!(
        env.lib.albums_for_asset(one.id).await.unwrap(),
        vec![album.id]
    );
    assert_eq!(renamed.dirname, format!("{}/c", p.display()));
    assert_eq!(renamed.sha256, one.sha256);
    let changed = by_name(&env.lib, "three.jpg").await;
    assert_eq!(changed.id, three.id);
    assert_ne!(changed.sha256, three.sha256);
    assert_eq!(changed.width, Some(500));
    assert_eq!(
        webp_size(&env.lib.thumbnail(changed.id).await.unwrap()),
        (256, 154)
    );
    assert_eq!(env.lib.asset_count().await.unwrap(), 4);

    // A whole directory removed.
    std::fs::remove_dir_all(p.join("c")).unwrap();
    assert_eq!(scan(&env).await.files_removed, 1);

    // Removed from the index on purpose: stays out on later scans, file stays.
    env.lib.delete_asset(copy.id).await.unwrap();
    assert!(p.join("a/copy.jpg").exists());
    scan(&env).await;
    assert!(env.lib.asset_by_path(&copy.path).await.unwrap().is_none());
    assert!(matches!(
        env.lib.asset(copy.id).await,
        Err(seen_core::Error::NotFound(_))
    ));
    // Its content is still used by two.jpg, so the derived files stay.
    assert!(env.lib.thumbnail(two.id).await.is_ok());

    // A scan while one runs is a conflict.
    let h = env.lib.scan(p.to_str().unwrap()).await.unwrap();
    match env.lib.scan(p.to_str().unwrap()).await {
        Err(seen_core::Error::Conflict(_)) => {}
        Ok(_) => assert!(h.is_finished(), "second scan accepted while the first runs"),
        Err(e) => panic!("unexpected {e}"),
    }
    h.wait().await.unwrap();
    assert!(matches!(
        env.lib.scan("/no/such/path").await,
        Err(seen_core::Error::NotFound(_))
    ));
    assert!(matches!(
        env.lib.add_path("/no/such/path").await,
        Err(seen_core::Error::InvalidInput(_))
    ));
}

async fn watcher_follows_the_disk(env: Env) {
    let p = &env.photos;
    let root = p.to_str().unwrap();
    env.lib.add_path(root).await.unwrap();
    scan(&env).await;
    let status = env.lib.path_status(root).await.unwrap();
    assert!(status.watching && !status.scanning && !status.watcher_paused);

    write(&p.join("new.jpg"), &mk::jpeg(320, 240, 1, None));
    eventually("a new file is indexed", || async {
        env.lib
            .asset_by_path(&format!("{root}/new.jpg"))
            .await
            .unwrap()
            .is_some()
    })
    .await;
    let new = by_name(&env.lib, "new.jpg").await;

    // A file written slowly, in chunks, is indexed once, whole.
    let slow = mk::jpeg(1600, 1200, 2, None);
    let slow_path = p.join("slow.jpg");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&slow_path).unwrap();
        for chunk in slow.chunks(slow.len() / 8 + 1) {
            f.write_all(chunk).unwrap();
            f.flush().unwrap();
            tokio::time::sleep(Duration::from_millis(150)).await;
            assert!(
                env.lib
                    .asset_by_path(slow_path.to_str().unwrap())
                    .await
                    .unwrap()
                    .is_none(),
                "a half-written file was indexed"
            );
        }
    }
    eventually("the slow file is indexed", || async {
        env.lib
            .asset_by_path(slow_path.to_str().unwrap())
            .await
            .unwrap()
            .is_some()
    })
    .await;
    let indexed = by_name(&env.lib, "slow.jpg").await;
    assert_eq!(indexed.size, slow.len() as i64);
    assert_eq!(indexed.error, None);
    assert_eq!((indexed.width, indexed.height), (Some(1600), Some(1200)));

    // Rename keeps the id.
    std::fs::create_dir_all(p.join("sub")).unwrap();
    std::fs::rename(p.join("new.jpg"), p.join("sub/moved.jpg")).unwrap();
    eventually("the renamed file keeps its id", || async {
        env.lib
            .asset_by_path(&format!("{root}/sub/moved.jpg"))
            .await
            .unwrap()
            .is_some_and(|a| a.id == new.id)
    })
    .await;
    eventually("the old path is gone", || async {
        env.lib
            .asset_by_path(&format!("{root}/new.jpg"))
            .await
            .unwrap()
            .is_none()
    })
    .await;

    // Modify and delete.
    write(&slow_path, &mk::jpeg(800, 600, 3, None));
    eventually("the change is indexed", || async {
        env.lib
            .asset_by_path(slow_path.to_str().unwrap())
            .await
            .unwrap()
            .is_some_and(|a| a.width == Some(800) && a.id == indexed.id)
    })
    .await;
    std::fs::remove_file(&slow_path).unwrap();
    eventually("the deleted file leaves the index", || async {
        env.lib
            .asset_by_path(slow_path.to_str().unwrap())
            .await
            .unwrap()
            .is_none()
    })
    .await;
    // Hidden files are not indexed by the watcher either.
    write(&p.join(".tmp.jpg"), &mk::jpeg(64, 64, 4, None));
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(
        env.lib
            .asset_by_path(&format!("{root}/.tmp.jpg"))
            .await
            .unwrap()
            .is_none()
    );
}

async fn pause_holds_events_until_resume(env: Env) {
    let p = &env.photos;
    let root = p.to_str().unwrap();
    for i in 0..30 {
        write(
            &p.join(format!("batch/{i:02}.jpg")),
            &mk::jpeg(1200, 900, i, None),
        );
    }
    env.lib.add_path(root).await.unwrap();
    let handle = env.lib.scan(root).await.unwrap();
    // Pause once some rows are in (their queued previews are dropped by the
    // pause and must be made after the resume).
    eventually("the first rows are committed", || async {
        env.lib.asset_count().await.unwrap() >= 2 || handle.is_finished()
    })
    .await;
    env.lib.pause(root).await.unwrap();
    let outcome = handle.wait().await.unwrap();
    let status = env.lib.path_status(root).await.unwrap();
    assert!(status.watcher_paused && !status.watching && !status.scanning);
    // Changes while paused are held, not lost.
    write(&p.join("while-paused.jpg"), &mk::jpeg(200, 100, 99, None));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        env.lib
            .asset_by_path(&format!("{root}/while-paused.jpg"))
            .await
            .unwrap()
            .is_none()
    );
    env.lib.resume(root).await.unwrap();
    eventually(
        "held events and the interrupted scan are processed",
        || async { env.lib.asset_count().await.unwrap() == 31 && !env.lib.scanning() },
    )
    .await;
    assert!(outcome.cancelled || outcome.files_processed == 30);
    let status = env.lib.path_status(root).await.unwrap();
    assert!(status.watching && !status.watcher_paused);
    // Every row got its derived images.
    eventually("previews are done", || async {
        all_assets(&env.lib)
            .await
            .iter()
            .all(|a| a.thumb_state == 1 && a.preview_state == 1)
    })
    .await;
}

async fn restart_reconciles_with_the_disk(env: Env) {
    let p = &env.photos;
    let root = p.to_str().unwrap();
    write(&p.join("keep.jpg"), &mk::jpeg(300, 200, 1, None));
    write(&p.join("change.jpg"), &mk::jpeg(300, 200, 2, None));
    write(&p.join("delete.jpg"), &mk::jpeg(300, 200, 3, None));
    env.lib.add_path(root).await.unwrap();
    scan(&env).await;
    let keep = by_name(&env.lib, "keep.jpg").await;
    env.lib.close().await;

    // While the library is closed.
    write(&p.join("added.jpg"), &mk::jpeg(300, 200, 4, None));
    write(&p.join("change.jpg"), &mk::jpeg(640, 200, 5, None));
    std::fs::remove_file(p.join("delete.jpg")).unwrap();

    let lib = Library::open(env.config.clone()).await.unwrap();
    for h in lib.start_background().await.unwrap() {
        h.wait().await.unwrap();
    }
    let names: Vec<String> = all_assets(&lib)
        .await
        .into_iter()
        .map(|a| a.filename)
        .collect();
    assert_eq!(names, ["added.jpg", "change.jpg", "keep.jpg"]);
    assert_eq!(
        lib.asset_by_path(&keep.path).await.unwrap().unwrap().id,
        keep.id
    );
    assert_eq!(by_name(&lib, "change.jpg").await.width, Some(640));
    // And it is watched again.
    write(&p.join("after.jpg"), &mk::jpeg(300, 200, 6, None));
    eventually("the reopened library watches again", || async {
        lib.asset_by_path(&format!("{root}/after.jpg"))
            .await
            .unwrap()
            .is_some()
    })
    .await;
    lib.close().await;
}

async fn rotation_lives_in_the_database(env: Env) {
    let p = &env.photos;
    let original = mk::jpeg(800, 400, 1, None);
    write(&p.join("r.jpg"), &original);
    env.lib.add_path(p.to_str().unwrap()).await.unwrap();
    scan(&env).await;
    let a = by_name(&env.lib, "r.jpg").await;
    assert_eq!(
        webp_size(&env.lib.thumbnail(a.id).await.unwrap()),
        (256, 128)
    );
    env.lib.set_rotation(a.id, 90).await.unwrap();
    assert_eq!(
        webp_size(&env.lib.thumbnail(a.id).await.unwrap()),
        (128, 256)
    );
    assert_eq!(webp_size(&env.lib.preview(a.id).await.unwrap()), (400, 800));
    // Width and height are as shown.
    let json = serde_json::to_value(env.lib.asset(a.id).await.unwrap()).unwrap();
    assert_eq!(
        (&json["width"], &json["height"]),
        (&serde_json::json!(400), &serde_json::json!(800))
    );
    assert!(matches!(
        env.lib.set_rotation(a.id, 45).await,
        Err(seen_core::Error::InvalidInput(_))
    ));
    // The original is never rewritten, and a rescan keeps the rotation.
    assert_eq!(std::fs::read(p.join("r.jpg")).unwrap(), original);
    scan(&env).await;
    assert_eq!(by_name(&env.lib, "r.jpg").await.rotation, 90);
}

async fn failed_files_are_tried_again_when_they_change(env: Env) {
    use std::time::SystemTime;
    let p = &env.photos;
    let good = mk::jpeg(320, 240, 5, None);
    let mut broken = good.clone();
    broken[2..].fill(0);
    let stamp = SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000);
    let put = |bytes: &[u8]| {
        write(&p.join("fixed.jpg"), bytes);
        std::fs::File::options()
            .write(true)
            .open(p.join("fixed.jpg"))
            .unwrap()
            .set_modified(stamp)
            .unwrap();
    };
    put(&broken);
    mk::avif(p, "still.avif", 400, 300);
    env.lib.add_path(p.to_str().unwrap()).await.unwrap();
    scan(&env).await;
    let a = by_name(&env.lib, "fixed.jpg").await;
    assert!(
        a.error.is_some(),
        "the broken file is recorded with its error"
    );
    let avif = by_name(&env.lib, "still.avif").await;
    assert_eq!(
        (avif.width, avif.height, avif.error.as_deref()),
        (Some(400), Some(300), None)
    );
    assert_eq!(
        webp_size(&env.lib.thumbnail(avif.id).await.unwrap()),
        (256, 192)
    );
    // Nothing changed: the failed file is not read again.
    assert_eq!(scan(&env).await.files_processed, 0);
    // Repaired in place with the same size and mtime (as a restore or a
    // permissions fix does): only its ctime moved, and that is enough.
    tokio::time::sleep(Duration::from_millis(20)).await;
    put(&good);
    assert_eq!(scan(&env).await.files_processed, 1);
    let a2 = by_name(&env.lib, "fixed.jpg").await;
    assert_eq!(a2.id, a.id);
    assert_eq!((a2.error, a2.width, a2.thumb_state), (None, Some(320), 1));
    // A good file whose ctime moves is not read again.
    put(&good);
    assert_eq!(scan(&env).await.files_processed, 0);
}

async fn paused_path_catches_up_after_restart(env: Env) {
    let p = &env.photos;
    let root = p.to_str().unwrap();
    write(&p.join("before.jpg"), &mk::jpeg(300, 200, 1, None));
    env.lib.add_path(root).await.unwrap();
    scan(&env).await;
    env.lib.pause(root).await.unwrap();
    env.lib.close().await;

    // While the library is closed.
    write(&p.join("added.jpg"), &mk::jpeg(300, 200, 2, None));
    std::fs::remove_file(p.join("before.jpg")).unwrap();

    let lib = Library::open(env.config.clone()).await.unwrap();
    assert!(lib.start_background().await.unwrap().is_empty());
    let status = lib.path_status(root).await.unwrap();
    assert!(status.watcher_paused && !status.scanning);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        lib.asset_by_path(&format!("{root}/added.jpg"))
            .await
            .unwrap()
            .is_none()
    );
    // Resuming reconciles what changed while the server was down.
    lib.resume(root).await.unwrap();
    eventually("the paused path is reconciled on resume", || async {
        let names: Vec<String> = all_assets(&lib)
            .await
            .into_iter()
            .map(|a| a.filename)
            .collect();
        names == ["added.jpg"] && !lib.scanning()
    })
    .await;
    lib.close().await;
}

/// Make the database itself refuse some rows, as a constraint or a value it
/// cannot take would: new rows whose camera make is "Poison" or whose file
/// is named `refused.jpg`. With `on` false, take that back.
async fn refuse_rows(config: &seen_core::Config, on: bool) {
    use sqlx::Connection;
    let url = config.effective_database_url();
    let statements: &[&str] = match (url.starts_with("postgres"), on) {
        (true, true) => &[
            "CREATE FUNCTION refuse_rows() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF NEW.camera_make = 'Poison' OR NEW.filename = 'refused.jpg' THEN \
             RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$",
            "CREATE TRIGGER refuse_rows BEFORE INSERT ON assets \
             FOR EACH ROW EXECUTE FUNCTION refuse_rows()",
        ],
        (true, false) => &["DROP TRIGGER refuse_rows ON assets"],
        (false, true) => &["CREATE TRIGGER refuse_rows BEFORE INSERT ON assets \
             WHEN NEW.camera_make = 'Poison' OR NEW.filename = 'refused.jpg' \
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"],
        (false, false) => &["DROP TRIGGER refuse_rows"],
    };
    if url.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        for sql in statements {
            sqlx::query(sql).execute(&mut conn).await.unwrap();
        }
    } else {
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        for sql in statements {
            sqlx::query(sql).execute(&mut conn).await.unwrap();
        }
    }
}

/// A row the database refuses is found by halving its batch: every other
/// file of the batch is stored, the refused one is stored without its
/// metadata and with the reason (listed as a problem), and a file that
/// cannot be stored at all is reported by the scan and read again later.
async fn refused_rows_cost_no_other_row(env: Env) {
    let p = &env.photos;
    for i in 0..14 {
        write(&p.join(format!("ok{i:02}.jpg")), &mk::jpeg(64, 48, i, None));
    }
    let poison = ExifSpec {
        make: Some("Poison"),
        model: Some("X1"),
        ..ExifSpec::default()
    };
    write(
        &p.join("poisoned.jpg"),
        &mk::jpeg(64, 48, 40, Some(&poison)),
    );
    write(&p.join("refused.jpg"), &mk::jpeg(64, 48, 41, None));
    env.lib.add_path(p.to_str().unwrap()).await.unwrap();
    refuse_rows(&env.config, true).await;
    let before = env.lib.counters().db_failures;

    let outcome = scan(&env).await;
    assert_eq!(outcome.files_processed, 15, "{outcome:?}");
    assert_eq!(outcome.files_with_errors, 1, "{outcome:?}");
    assert_eq!(outcome.files_not_stored, 1, "{outcome:?}");
    assert_eq!(env.lib.counters().db_failures - before, 2);
    let all = all_assets(&env.lib).await;
    assert_eq!(all.len(), 15);
    assert!(all.iter().all(|a| a.filename != "refused.jpg"));
    let poisoned = by_name(&env.lib, "poisoned.jpg").await;
    assert_eq!((poisoned.camera_make, poisoned.camera_model), (None, None));
    assert_eq!(poisoned.width, Some(64));
    let reason = poisoned.error.clone().unwrap_or_default();
    assert!(reason.contains("refused by the test"), "{reason}");
    let problems = env.lib.problem_assets(100, 0).await.unwrap();
    assert_eq!(
        problems.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![poisoned.id]
    );
    assert!(env.lib.problem_assets(0, 0).await.is_err());
    assert_eq!(by_name(&env.lib, "ok13.jpg").await.thumb_state, 1);

    // Once the database takes it, the next scan stores the missing file.
    refuse_rows(&env.config, false).await;
    let again = scan(&env).await;
    assert_eq!((again.files_processed, again.files_not_stored), (1, 0));
    assert_eq!(by_name(&env.lib, "refused.jpg").await.error, None);
}

/// A picture without shrink-on-load (PNG, HEIF, WebP...) is decoded whole
/// whatever the size asked for: when its preview finds no room to wait in
/// memory (64 MiB: about 28 of 1600 × 941, so 40 discovered at once
/// overflow it), the preview is made at once from the thumbnail's decode,
/// never by decoding the file again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn previews_decode_a_whole_picture_once() {
    let env = open(false, false).await.unwrap();
    for i in 0..40u32 {
        let png = mk::image_file(1700, 1000, i, image::ImageFormat::Png);
        write(&env.photos.join(format!("big{i:02}.png")), &png);
    }
    env.lib
        .add_path(env.photos.to_str().unwrap())
        .await
        .unwrap();
    let outcome = scan(&env).await;
    assert_eq!(outcome.files_with_errors, 0, "{outcome:?}");
    let assets = all_assets(&env.lib).await;
    assert_eq!(assets.len(), 40);
    for a in &assets {
        assert_eq!(
            webp_size(&env.lib.preview(a.id).await.unwrap()),
            (1600, 941)
        );
        assert_eq!(
            webp_size(&env.lib.thumbnail(a.id).await.unwrap()),
            (256, 151)
        );
    }
    let c = env.lib.counters();
    assert_eq!((c.thumbs_written, c.previews_written), (40, 40));
    assert_eq!(c.derived_rereads, 0, "a PNG was decoded twice");

    // The counter does count: an image made on request reads its file again.
    let sha = assets[0].sha256.clone().unwrap();
    for shard in env.config.derived_dir().read_dir().unwrap().flatten() {
        for f in shard.path().read_dir().into_iter().flatten().flatten() {
            if f.file_name().to_string_lossy().starts_with(&sha) {
                std::fs::remove_file(f.path()).unwrap();
            }
        }
    }
    let thumb = env.lib.thumbnail(assets[0].id).await.unwrap();
    assert_eq!(webp_size(&thumb), (256, 151));
    assert_eq!(env.lib.counters().derived_rereads, 1);
}
