//! Per-stage cost of ingesting one 12 MP JPEG, single thread: where the
//! time of `cargo bench -p seen-http --bench ingest` goes.
//!
//! Run: `cargo bench -p seen-core --bench stages` (after the ingest bench
//! has generated `target/bench-corpus/photos-12mp`, or with
//! `SEEN_BENCH_FILES=dir`).

use std::path::PathBuf;
use std::time::Instant;

use seen_core::media::{self, Format, Orient, Rgb};
use sha2::Digest;

fn time<T>(label: &str, runs: usize, mut f: impl FnMut() -> T) -> T {
    let mut out = None;
    let start = Instant::now();
    for _ in 0..runs {
        out = Some(f());
    }
    println!(
        "{label:<44} {:>8.2} ms",
        start.elapsed().as_secs_f64() * 1000.0 / runs as f64
    );
    out.expect("at least one run")
}

fn main() {
    let dir = std::env::var("SEEN_BENCH_FILES")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench-corpus/photos-12mp/000")
        });
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e} (run the ingest bench first)", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .collect();
    files.sort();
    files.truncate(8);
    let n = files.len();
    println!("{n} files from {}", dir.display());
    let bytes: Vec<Vec<u8>> = time("read (page cache)", 1, || {
        files.iter().map(|f| std::fs::read(f).unwrap()).collect()
    });
    let per = |label: &str, f: &mut dyn FnMut(&[u8])| {
        time(label, 1, || bytes.iter().for_each(|b| f(b)));
    };
    // Report per file: divide totals by n.
    println!("(times below are per file, averaged over {n})");
    let each = |label: &str, f: &mut dyn FnMut(&[u8])| {
        let start = Instant::now();
        for b in &bytes {
            f(b);
        }
        println!(
            "{label:<44} {:>8.2} ms",
            start.elapsed().as_secs_f64() * 1000.0 / n as f64
        );
    };
    let _ = per;
    each("sha256", &mut |b| {
        std::hint::black_box(sha2::Sha256::digest(b));
    });
    each("exif", &mut |b| {
        std::hint::black_box(media::exif::read(b));
    });
    each("decode 1/8 (thumbnail scale)", &mut |b| {
        std::hint::black_box(media::decode_still(b, Format::Jpeg, 256, Orient::NONE).unwrap());
    });
    each("decode 1/2 (preview scale)", &mut |b| {
        std::hint::black_box(media::decode_still(b, Format::Jpeg, 1600, Orient::NONE).unwrap());
    });
    let half: Vec<Rgb> = bytes
        .iter()
        .map(|b| media::decode_still(b, Format::Jpeg, 1600, Orient::NONE).unwrap())
        .collect();
    let small: Vec<Rgb> = bytes
        .iter()
        .map(|b| media::decode_still(b, Format::Jpeg, 256, Orient::NONE).unwrap())
        .collect();
    let mut i = 0;
    let mut next_half = || {
        i = (i + 1) % half.len();
        &half[i]
    };
    let start = Instant::now();
    let mut previews = Vec::new();
    for _ in 0..n {
        let img = next_half();
        let (w, h) = media::fit_within(img.width, img.height, 1600);
        previews.push(img.resized(w, h).unwrap());
    }
    println!(
        "{:<44} {:>8.2} ms",
        "resize 2000 -> 1600 (Lanczos3)",
        start.elapsed().as_secs_f64() * 1000.0 / n as f64
    );
    let start = Instant::now();
    for img in &small {
        let (w, h) = media::fit_within(img.width, img.height, 256);
        std::hint::black_box(img.resized(w, h).unwrap());
    }
    println!(
        "{:<44} {:>8.2} ms",
        "resize 500 -> 256",
        start.elapsed().as_secs_f64() * 1000.0 / n as f64
    );
    for method in [0, 1, 2, 4] {
        let start = Instant::now();
        let mut size = 0;
        for p in &previews {
            size += media::encode_webp(p, 80.0, method).unwrap().len();
        }
        println!(
            "{:<44} {:>8.2} ms  {:>7.1} KB",
            format!("webp 1600 q80 method {method}"),
            start.elapsed().as_secs_f64() * 1000.0 / n as f64,
            size as f64 / n as f64 / 1024.0
        );
    }
    let thumbs: Vec<Rgb> = small
        .iter()
        .map(|img| {
            let (w, h) = media::fit_within(img.width, img.height, 256);
            img.resized(w, h).unwrap()
        })
        .collect();
    for method in [2, 4] {
        let start = Instant::now();
        for t in &thumbs {
            std::hint::black_box(media::encode_webp(t, 80.0, method).unwrap());
        }
        println!(
            "{:<44} {:>8.2} ms",
            format!("webp 256 q80 method {method}"),
            start.elapsed().as_secs_f64() * 1000.0 / n as f64
        );
    }
}
