//! Ingest benchmark: Seen's cold ingest through the REST API against
//! libvips' `vipsthumbnail` making the same two WebP sizes of the same
//! files, in the same run, on this machine.
//!
//! Run: `cargo bench -p seen-http --bench ingest` (needs `vipsthumbnail`,
//! Debian package libvips-tools). The corpus is generated once under
//! `target/bench-corpus/`: 120 × 12 MP JPEGs with noise and full EXIF, and
//! 20,000 tiny JPEGs. Set `SEEN_BENCH_PHOTOS` / `SEEN_BENCH_TINY` to change
//! the counts.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use seen_testkit::Server;
use seen_testkit::media::{ExifSpec, exif_block, test_pixels};
use serde_json::{Value, json};

const MAKES: [(&str, &str); 4] = [
    ("Canon", "Canon EOS R5"),
    ("NIKON CORPORATION", "NIKON Z 6"),
    ("SONY", "ILCE-7M3"),
    ("Apple", "iPhone 14 Pro"),
];

fn env_count(key: &str, default: usize) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Photo-like pixels: detail at every scale (value noise summed over five
/// octaves, so downscaled images keep texture as real photos do) plus
/// per-pixel sensor noise. Small images use the simpler test pattern.
fn photo_like(w: u32, h: u32, seed: u32) -> Vec<u8> {
    use fast_image_resize::images::Image;
    use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
    if w < 1000 {
        return test_pixels(w, h, seed).into_raw();
    }
    let mut state = seed.wrapping_mul(2_654_435_761) | 1;
    let mut rand = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    };
    let mut acc = vec![0f32; (w * h * 3) as usize];
    let mut resizer = Resizer::new();
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::CatmullRom));
    for (div, weight) in [(600, 1.0f32), (150, 0.6), (40, 0.35), (10, 0.22), (3, 0.12)] {
        let (gw, gh) = ((w / div).max(2), (h / div).max(2));
        let grid: Vec<u8> = (0..gw * gh * 3).map(|_| (rand() >> 8) as u8).collect();
        let src = Image::from_vec_u8(gw, gh, grid, PixelType::U8x3).unwrap();
        let mut dst = Image::new(w, h, PixelType::U8x3);
        resizer.resize(&src, &mut dst, &options).unwrap();
        for (a, v) in acc.iter_mut().zip(dst.buffer()) {
            *a += weight * (*v as f32 - 128.0);
        }
    }
    acc.iter()
        .map(|a| {
            let noise = (rand() % 13) as f32 - 6.0;
            (128.0 + a * 0.55 + noise).clamp(0.0, 255.0) as u8
        })
        .collect()
}

fn jpeg_with_exif(w: u32, h: u32, seed: u32, quality: i32, exif: &ExifSpec) -> Vec<u8> {
    let pixels = photo_like(w, h, seed);
    let jpeg = turbojpeg::compress(
        turbojpeg::Image {
            pixels: pixels.as_slice(),
            width: w as usize,
            pitch: w as usize * 3,
            height: h as usize,
            format: turbojpeg::PixelFormat::RGB,
        },
        quality,
        turbojpeg::Subsamp::Sub2x2,
    )
    .expect("compress");
    let block = exif_block(exif);
    let mut out = Vec::with_capacity(jpeg.len() + block.len() + 16);
    out.extend_from_slice(&jpeg[..2]);
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((block.len() + 8) as u16).to_be_bytes());
    out.extend_from_slice(b"Exif\0\0");
    out.extend_from_slice(&block);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn make_corpus(dir: &Path, n: usize, w: u32, h: u32, quality: i32) -> Vec<PathBuf> {
    let marker = dir.join(format!(".complete-v2-{n}-{w}x{h}"));
    let paths: Vec<PathBuf> = (0..n)
        .map(|i| dir.join(format!("{:03}/IMG_{i:05}.jpg", i / 1000)))
        .collect();
    if marker.exists() {
        return paths;
    }
    eprintln!("generating {n} JPEGs of {w}x{h} in {} ...", dir.display());
    let _ = std::fs::remove_dir_all(dir);
    for (i, p) in paths.iter().enumerate() {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let (make, model) = MAKES[i % MAKES.len()];
        let exif = ExifSpec {
            make: Some(make),
            model: Some(model),
            lens: Some("24-70mm F2.8"),
            iso: Some(100 + (i as u16 % 8) * 100),
            fnumber: Some((28, 10)),
            exposure: Some((1, 250)),
            focal: Some((50, 1)),
            datetime_original: Some("2023:07:14 18:30:00"),
            offset: Some("+02:00"),
            gps: Some((48.85 + i as f64 * 1e-4, 2.29, 35.0)),
            orientation: Some(if i % 5 == 0 { 6 } else { 1 }),
        };
        std::fs::write(p, jpeg_with_exif(w, h, i as u32 + 1, quality, &exif)).unwrap();
    }
    std::fs::write(&marker, b"").unwrap();
    paths
}

/// Wall time of `vipsthumbnail` making 256 and 1600 px WebP (Q80) of every
/// file, split over 2 processes with one libvips thread each.
fn vipsthumbnail(files: &[PathBuf], out: &Path) -> Duration {
    let _ = std::fs::remove_dir_all(out);
    std::fs::create_dir_all(out).unwrap();
    let half = files.len().div_ceil(2);
    let start = Instant::now();
    let children: Vec<_> = files
        .chunks(half)
        .map(|chunk| {
            let script = format!(
                "vipsthumbnail --size 256 -o '{o}/%s_256.webp[Q=80]' {f} && vipsthumbnail --size 1600 -o '{o}/%s_1600.webp[Q=80]' {f}",
                o = out.display(),
                f = chunk
                    .iter()
                    .map(|p| format!("'{}'", p.display()))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
            Command::new("sh")
                .arg("-c")
                .arg(script)
                .env("VIPS_CONCURRENCY", "1")
                .spawn()
                .expect("run vipsthumbnail (apt install libvips-tools)")
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success(), "vipsthumbnail failed");
    }
    start.elapsed()
}

fn peak_rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// CPU seconds (user + system) a process has used so far.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces): utime and
    // stime are the 12th and 13th, in USER_HZ (100 a second on Linux).
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

struct IngestTimes {
    browsable: Duration,
    full: Duration,
    rss_mb: f64,
    /// CPU seconds the server used from the request to the end.
    cpu: f64,
}

/// Cold ingest of `dir` through the REST API; `n` files expected.
async fn seen_ingest(dir: &Path, n: u64, data: &Path) -> (IngestTimes, Server) {
    let _ = std::fs::remove_dir_all(data);
    let server = Server::start(
        Path::new(env!("CARGO_BIN_EXE_seen-http")),
        &["--data-dir", data.to_str().unwrap(), "--no-faces"],
        &[("SEEN_WATCH", "false")],
    );
    let c = reqwest::Client::new();
    let cpu_before = cpu_seconds(server.pid());
    let start = Instant::now();
    let r = c
        .post(server.url("/paths"))
        .json(&json!({"path": dir}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let mut browsable = None;
    loop {
        let st: Value = server.get_json("/stats").await;
        let committed = st["counters"]["files_committed"].as_u64().unwrap_or(0);
        let thumbs = st["counters"]["thumbs_written"].as_u64().unwrap_or(0);
        if browsable.is_none() && committed >= n && thumbs >= n {
            browsable = Some(start.elapsed());
        }
        if committed >= n && !st["scan_running"].as_bool().unwrap_or(true) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let full = start.elapsed();
    let rss_mb = peak_rss_mb(server.pid());
    let cpu = cpu_seconds(server.pid()) - cpu_before;
    (
        IngestTimes {
            browsable: browsable.unwrap_or(full),
            full,
            rss_mb,
            cpu,
        },
        server,
    )
}

async fn noop_rescan(server: &Server, dir: &Path) -> Duration {
    let c = reqwest::Client::new();
    let start = Instant::now();
    let r = c
        .post(server.url("/paths/scan"))
        .json(&json!({"path": dir}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    loop {
        if server.path_status(dir.to_str().unwrap()).await["scanning"] == false {
            return start.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn decode_rgb(path: &Path) -> image::RgbImage {
    image::open(path).unwrap().to_rgb8()
}

fn psnr(a: &image::RgbImage, b: &image::RgbImage) -> Option<f64> {
    if a.dimensions() != b.dimensions() {
        return None;
    }
    let mse: f64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| (*x as f64 - *y as f64).powi(2))
        .sum::<f64>()
        / a.as_raw().len() as f64;
    Some(10.0 * (255.0f64.powi(2) / mse.max(1e-9)).log10())
}

/// Mean SSIM of the luma of two pictures of one size, over 8×8 windows
/// stepped by 4 (constants of Wang et al. 2004).
fn ssim(a: &image::RgbImage, b: &image::RgbImage) -> Option<f64> {
    if a.dimensions() != b.dimensions() || a.width() < 8 || a.height() < 8 {
        return None;
    }
    let luma = |img: &image::RgbImage| -> Vec<f64> {
        img.pixels()
            .map(|p| 0.299 * p[0] as f64 + 0.587 * p[1] as f64 + 0.114 * p[2] as f64)
            .collect()
    };
    let (ya, yb) = (luma(a), luma(b));
    let w = a.width() as usize;
    let (c1, c2) = ((0.01f64 * 255.0).powi(2), (0.03f64 * 255.0).powi(2));
    let (mut total, mut windows) = (0.0, 0usize);
    for y0 in (0..=a.height() as usize - 8).step_by(4) {
        for x0 in (0..=w - 8).step_by(4) {
            let (mut sa, mut sb, mut saa, mut sbb, mut sab) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for y in y0..y0 + 8 {
                for x in x0..x0 + 8 {
                    let (p, q) = (ya[y * w + x], yb[y * w + x]);
                    sa += p;
                    sb += q;
                    saa += p * p;
                    sbb += q * q;
                    sab += p * q;
                }
            }
            let n = 64.0;
            let (ma, mb) = (sa / n, sb / n);
            let (va, vb) = (saa / n - ma * ma, sbb / n - mb * mb);
            let cov = sab / n - ma * mb;
            total += ((2.0 * ma * mb + c1) * (2.0 * cov + c2))
                / ((ma * ma + mb * mb + c1) * (va + vb + c2));
            windows += 1;
        }
    }
    Some(total / windows as f64)
}

/// Average file sizes of both tools' outputs, and PSNR and SSIM of each
/// against a reference made by the image crate's Lanczos3 from a full decode.
fn quality_report(
    files: &[PathBuf],
    vips_out: &Path,
    seen_data: &Path,
    sha: &dyn Fn(&Path) -> String,
) {
    let sample: Vec<&PathBuf> = files.iter().step_by((files.len() / 8).max(1)).collect();
    for size in [256u32, 1600] {
        let (mut vs, mut ss, mut vp, mut sp, mut n) = (0u64, 0u64, 0.0, 0.0, 0);
        let (mut v_ssim, mut s_ssim) = (0.0, 0.0);
        for f in &sample {
            let stem = f.file_stem().unwrap().to_str().unwrap();
            let vips = vips_out.join(format!("{stem}_{size}.webp"));
            let h = sha(f);
            let seen = seen_data.join(format!("derived/{}/{h}_r0_{size}.webp", &h[..2]));
            let (Ok(vm), Ok(sm)) = (std::fs::metadata(&vips), std::fs::metadata(&seen)) else {
                continue;
            };
            vs += vm.len();
            ss += sm.len();
            let v = decode_rgb(&vips);
            let s = decode_rgb(&seen);
            let orig = image::open(f).unwrap();
            let orient = if f.file_stem().unwrap().to_str().unwrap().ends_with('0')
                || f.file_stem().unwrap().to_str().unwrap().ends_with('5')
            {
                orig.rotate90()
            } else {
                orig
            };
            let reference = orient
                .resize(s.width(), s.height(), image::imageops::FilterType::Lanczos3)
                .to_rgb8();
            let v = image::imageops::resize(
                &v,
                s.width(),
                s.height(),
                image::imageops::FilterType::Lanczos3,
            );
            if let (Some(pv), Some(ps), Some(qv), Some(qs)) = (
                psnr(&v, &reference),
                psnr(&s, &reference),
                ssim(&v, &reference),
                ssim(&s, &reference),
            ) {
                vp += pv;
                sp += ps;
                v_ssim += qv;
                s_ssim += qs;
                n += 1;
            }
        }
        if n > 0 {
            println!(
                "| {size} px WebP, mean of {n} | vips {:.1} KB, PSNR {:.2} dB, SSIM {:.4} | \
                 seen {:.1} KB, PSNR {:.2} dB, SSIM {:.4} |",
                vs as f64 / n as f64 / 1024.0,
                vp / n as f64,
                v_ssim / n as f64,
                ss as f64 / n as f64 / 1024.0,
                sp / n as f64,
                s_ssim / n as f64
            );
        }
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-corpus");
    let n_photos = env_count("SEEN_BENCH_PHOTOS", 120);
    let n_tiny = env_count("SEEN_BENCH_TINY", 20_000);
    let photos_dir = root.join("photos-12mp");
    let tiny_dir = root.join("tiny");
    let photos = make_corpus(&photos_dir, n_photos, 4000, 3000, 90);
    make_corpus(&tiny_dir, n_tiny, 64, 48, 85);
    let mb: u64 = photos
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    println!(
        "corpus: {n_photos} × 12 MP JPEG ({:.2} MB mean), {n_tiny} tiny JPEGs; {} cores",
        mb as f64 / n_photos as f64 / 1e6,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let photos_dir = std::fs::canonicalize(&photos_dir).unwrap();
    let tiny_dir = std::fs::canonicalize(&tiny_dir).unwrap();
    let work = root.join("work");
    let vips_out = work.join("vips");
    // Warm the page cache for both tools alike.
    for p in &photos {
        let _ = std::fs::read(p);
    }

    let vips = vipsthumbnail(&photos, &vips_out);
    let seen_data = work.join("seen-photos");
    let (photo_times, server) = rt.block_on(seen_ingest(&photos_dir, n_photos as u64, &seen_data));
    drop(server);
    let tiny_data = work.join("seen-tiny");
    let (tiny_times, tiny_server) = rt.block_on(seen_ingest(&tiny_dir, n_tiny as u64, &tiny_data));
    let rescan = rt.block_on(noop_rescan(&tiny_server, &tiny_dir));
    drop(tiny_server);

    let v = vips.as_secs_f64();
    let full = photo_times.full.as_secs_f64();
    let browsable = photo_times.browsable.as_secs_f64();
    let tiny_rate = n_tiny as f64 / tiny_times.full.as_secs_f64();
    let rescan_rate = n_tiny as f64 / rescan.as_secs_f64();
    println!();
    println!("| figure | measured | target | met |");
    println!("|---|---|---|---|");
    println!("| vipsthumbnail, 256 + 1600 WebP, 2 processes | {v:.2} s | reference | |");
    println!(
        "| full cold ingest / vipsthumbnail | {full:.2} s / {v:.2} s = {:.3} | ≤ 0.35 | {} |",
        full / v,
        if full / v <= 0.35 { "yes" } else { "no" }
    );
    println!(
        "| browsable (rows + 256 thumbs) / vipsthumbnail | {browsable:.2} s / {v:.2} s = {:.3} | ≤ 0.12 | {} |",
        browsable / v,
        if browsable / v <= 0.12 { "yes" } else { "no" }
    );
    println!(
        "| peak RSS during that ingest | {:.0} MB | ≤ 300 MB | {} |",
        photo_times.rss_mb,
        if photo_times.rss_mb <= 300.0 {
            "yes"
        } else {
            "no"
        }
    );
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "| CPU used by seen during that ingest | {:.2} s, {:.0} % of {cores} cores | | |",
        photo_times.cpu,
        100.0 * photo_times.cpu / (full * cores as f64)
    );
    println!(
        "| {n_tiny} tiny JPEGs, cold | {tiny_rate:.0} files/s | ≥ 500 files/s | {} |",
        if tiny_rate >= 500.0 { "yes" } else { "no" }
    );
    println!(
        "| no-op rescan of those | {rescan_rate:.0} files/s ({:.3} s) | ≥ 50,000 files/s | {} |",
        rescan.as_secs_f64(),
        if rescan_rate >= 50_000.0 { "yes" } else { "no" }
    );
    println!();
    let sha = |p: &Path| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(std::fs::read(p).unwrap()))
    };
    quality_report(&photos, &vips_out, &seen_data, &sha);
}
