//! Per-stage cost of ingesting one 12 MP JPEG, single thread: where the
//! time of `cargo bench -p seen-http --bench ingest` goes.
//!
//! Run: `cargo bench -p seen-core --bench stages` (after the ingest bench
//! has generated `target/bench-corpus/photos-12mp`, or with
//! `SEEN_BENCH_FILES=dir`).

use std::path::PathBuf;
use std::time::Instant;

use seen_core::media::{self, Rgb};
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
    let bytes: Vec<Vec<u8>> = time("read (page cache), all files", 1, || {
        files.iter().map(|f| std::fs::read(f).unwrap()).collect()
    });
    println!("(times below are per file, averaged over {n})");
    // Time `f` over every item and print the mean per item.
    fn each<T, R>(label: &str, items: &mut [T], mut f: impl FnMut(&mut T) -> R) -> Vec<R> {
        let start = Instant::now();
        let out: Vec<R> = items.iter_mut().map(&mut f).collect();
        println!(
            "{label:<44} {:>8.2} ms",
            start.elapsed().as_secs_f64() * 1000.0 / items.len().max(1) as f64
        );
        out
    }
    let mut bytes = bytes;
    each("sha256", &mut bytes, |b| sha2::Sha256::digest(&b[..]));
    each("exif", &mut bytes, |b| media::exif::read(b));
    let mut eighth = each("decode 1/8 (thumbnail scale)", &mut bytes, |b| {
        media::pixels::decode_jpeg(b, 256).unwrap()
    });
    let mut half = each("decode 1/2 (preview scale)", &mut bytes, |b| {
        media::pixels::decode_jpeg(b, 1600).unwrap()
    });
    let fit = |img: &Rgb, max: u32| {
        let (w, h) = media::fit_within(img.width, img.height, max);
        img.resized(w, h).unwrap()
    };
    let mut previews = each("resize 1/2 -> 1600 (Lanczos3)", &mut half, |img| {
        fit(img, 1600)
    });
    each("resize 1/8 -> 256", &mut eighth, |img| fit(img, 256));
    let mut thumbs = each("resize 1600 -> 256", &mut previews, |img| fit(img, 256));
    let mut pictures = each("rgb -> yuv 4:2:0 picture (1600)", &mut previews, |p| {
        media::webp::Picture::from_rgb(p).unwrap()
    });
    let yuv = each("decode 1/2 to yuv 4:2:0, fitted to 1600", &mut bytes, |b| {
        media::yuv::decode_jpeg(b, 1600).unwrap()
    });
    let mut yuv = yuv;
    each("yuv -> picture (1600)", &mut yuv, |y| {
        media::webp::Picture::from_yuv420(y).unwrap()
    });
    each("decode 1/8 to yuv 4:2:0, fitted to 256", &mut bytes, |b| {
        media::yuv::decode_jpeg(b, 256).unwrap()
    });
    each("resize yuv 1600 -> 256", &mut yuv, |y| {
        let (w, h) = media::fit_within(y.width(), y.height(), 256);
        y.resized(w, h).unwrap()
    });
    for method in [0, 1, 2, 4] {
        let sizes = each(
            &format!("webp 1600 q80 method {method} from the picture"),
            &mut pictures,
            |p| p.encode(80.0, method).unwrap().len(),
        );
        let kb = sizes.iter().sum::<usize>() as f64 / n as f64 / 1024.0;
        println!("{:<44} {kb:>8.1} KB", "  mean size");
    }
    for method in [0, 1, 2, 4] {
        let sizes = each(&format!("webp 256 q80 method {method}"), &mut thumbs, |t| {
            let mut picture = media::webp::Picture::from_rgb(t).unwrap();
            picture.encode(80.0, method).unwrap().len()
        });
        let kb = sizes.iter().sum::<usize>() as f64 / n as f64 / 1024.0;
        println!("{:<44} {kb:>8.1} KB", "  mean size");
    }
}
