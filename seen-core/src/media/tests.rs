use seen_testkit::media::{self as mk, ExifSpec};

use super::*;
use crate::media::exif::PhotoMeta;

#[test]
fn sniffs_by_content() {
    assert_eq!(sniff(&mk::jpeg(8, 8, 1, None)), Format::Jpeg);
    assert_eq!(
        sniff(&mk::image_file(8, 8, 1, image::ImageFormat::Png)),
        Format::Png
    );
    assert_eq!(
        sniff(&mk::image_file(8, 8, 1, image::ImageFormat::WebP)),
        Format::Webp
    );
    assert_eq!(
        sniff(&mk::image_file(8, 8, 1, image::ImageFormat::Gif)),
        Format::Gif
    );
    assert_eq!(
        sniff(&mk::image_file(8, 8, 1, image::ImageFormat::Tiff)),
        Format::Tiff
    );
    assert_eq!(
        sniff(&mk::image_file(8, 8, 1, image::ImageFormat::Bmp)),
        Format::Bmp
    );
    assert_eq!(sniff(b""), Format::Empty);
    assert_eq!(
        sniff(b"hello, I am text pretending to be a photo"),
        Format::Unknown
    );
    assert_eq!(sniff(b"\0\0\0\x18ftypheic\0\0\0\0"), Format::Heif);
    assert_eq!(sniff(b"\0\0\0\x18ftypisom\0\0\0\0"), Format::AudioVideo);
    assert_eq!(sniff(b"\x1a\x45\xdf\xa3rest"), Format::AudioVideo);
}

#[test]
fn extensions_decide_what_is_media() {
    for ext in [
        "jpg", "jpeg", "png", "gif", "webp", "heic", "heif", "avif", "tif", "tiff", "bmp", "mpo",
    ] {
        assert_eq!(
            media_type_for_extension(ext).unwrap().kind,
            crate::store::AssetKind::Image,
            "{ext}"
        );
    }
    for ext in ["dng", "cr2", "cr3", "nef", "arw", "orf", "rw2"] {
        assert!(media_type_for_extension(ext).unwrap().raw, "{ext}");
    }
    for ext in [
        "mp4", "mov", "m4v", "mkv", "webm", "avi", "wmv", "3gp", "mpg", "mpeg", "mts", "m2ts",
    ] {
        assert_eq!(
            media_type_for_extension(ext).unwrap().kind,
            crate::store::AssetKind::Video,
            "{ext}"
        );
    }
    for ext in ["mp3", "m4a", "aac", "wav", "flac", "ogg", "opus"] {
        assert_eq!(
            media_type_for_extension(ext).unwrap().kind,
            crate::store::AssetKind::Audio,
            "{ext}"
        );
    }
    for ext in ["txt", "pdf", "xmp", "json", ""] {
        assert!(media_type_for_extension(ext).is_none(), "{ext}");
    }
}

#[test]
fn dct_scale_is_the_smallest_that_covers_the_target() {
    assert_eq!(pixels::jpeg_scale_for(4000, 3000, 256), 1); // 500 px at 1/8
    assert_eq!(pixels::jpeg_scale_for(4000, 3000, 1600), 4); // 2000 px at 4/8
    assert_eq!(pixels::jpeg_scale_for(3200, 2400, 1600), 4); // exactly 1600 at 1/2
    assert_eq!(pixels::jpeg_scale_for(3201, 2400, 1600), 4);
    assert_eq!(pixels::jpeg_scale_for(1000, 800, 1600), 8); // smaller than target: full size
}

fn exif_of(spec: &ExifSpec) -> PhotoMeta {
    exif::read(&mk::jpeg(64, 48, 3, Some(spec))).expect("EXIF present")
}

#[test]
fn reads_every_exif_field_from_several_makes() {
    let canon = exif_of(&ExifSpec {
        make: Some("Canon"),
        model: Some("Canon EOS 5D Mark IV"),
        lens: Some("EF24-70mm f/2.8L II USM"),
        iso: Some(400),
        fnumber: Some((28, 10)),
        exposure: Some((1, 250)),
        focal: Some((50, 1)),
        datetime_original: Some("2023:01:15 11:30:00"),
        offset: Some("+01:00"),
        gps: Some((48.8584, 2.2945, 35.0)),
        orientation: Some(1),
    });
    assert_eq!(canon.make.as_deref(), Some("Canon"));
    assert_eq!(canon.model.as_deref(), Some("Canon EOS 5D Mark IV"));
    assert_eq!(canon.lens.as_deref(), Some("EF24-70mm f/2.8L II USM"));
    assert_eq!(canon.iso, Some(400));
    assert_eq!(canon.fnumber, Some(2.8));
    assert_eq!(canon.exposure_s, Some(0.004));
    assert_eq!(canon.focal_length_mm, Some(50.0));
    // 11:30 at +01:00 is 10:30 UTC
    assert_eq!(canon.date_taken, Some(1_673_778_600));
    assert_eq!(canon.date_taken_offset_min, Some(60));
    assert!((canon.gps_lat.unwrap() - 48.8584).abs() < 1e-5);
    assert!((canon.gps_lon.unwrap() - 2.2945).abs() < 1e-5);
    assert_eq!(canon.gps_alt, Some(35.0));
    assert_eq!(canon.orientation, 1);

    let nikon = exif_of(&ExifSpec {
        make: Some("NIKON CORPORATION"),
        model: Some("NIKON Z 6"),
        iso: Some(6400),
        fnumber: Some((4, 1)),
        exposure: Some((1, 30)),
        datetime_original: Some("2021:07:04 20:15:05"),
        gps: Some((-33.8688, 151.2093, -5.0)),
        orientation: Some(6),
        ..ExifSpec::default()
    });
    assert_eq!(nikon.make.as_deref(), Some("NIKON CORPORATION"));
    assert_eq!(nikon.iso, Some(6400));
    // no offset recorded: the local time is stored as if UTC, offset unknown
    assert_eq!(nikon.date_taken, Some(1_625_429_705));
    assert_eq!(nikon.date_taken_offset_min, None);
    assert!((nikon.gps_lat.unwrap() + 33.8688).abs() < 1e-5);
    assert!((nikon.gps_lon.unwrap() - 151.2093).abs() < 1e-5);
    assert_eq!(nikon.gps_alt, Some(-5.0));
    assert_eq!(nikon.orientation, 6);

    let apple = exif_of(&ExifSpec {
        make: Some("Apple"),
        model: Some("iPhone 14 Pro"),
        lens: Some("iPhone 14 Pro back triple camera 6.86mm f/1.78"),
        datetime_original: Some("2024:02:29 23:59:59"),
        offset: Some("-05:00"),
        gps: Some((40.7128, -74.0060, 10.0)),
        orientation: Some(8),
        ..ExifSpec::default()
    });
    assert_eq!(apple.model.as_deref(), Some("iPhone 14 Pro"));
    assert_eq!(apple.date_taken, Some(1_709_269_199)); // 2024-03-01 04:59:59 UTC
    assert_eq!(apple.date_taken_offset_min, Some(-300));
    assert!(apple.gps_lon.unwrap() < 0.0);
    assert_eq!(apple.orientation, 8);

    // A JPEG without EXIF has no metadata rather than invented values.
    assert!(exif::read(&mk::jpeg(16, 16, 1, None)).is_none());
    assert!(exif::read(b"not an image").is_none());
}

fn is_red(img: &Rgb, x: u32, y: u32) -> bool {
    let i = ((y * img.width + x) * 3) as usize;
    img.data[i] > 200 && img.data[i + 1] < 60 && img.data[i + 2] < 60
}

#[test]
fn orientation_is_applied_when_decoding() {
    // Stored 400x200 with the red marker top-left.
    for (exif, expect_dims, corner) in [
        (1u16, (400, 200), (0, 0)),
        (3, (400, 200), (399, 199)),
        (6, (200, 400), (199, 0)),
        (8, (200, 400), (0, 399)),
        (2, (400, 200), (399, 0)),
    ] {
        let bytes = mk::jpeg(400, 200, 1, None);
        let img = decode_still(&bytes, Format::Jpeg, 400, Orient { exif, rotation: 0 }).unwrap();
        assert_eq!((img.width, img.height), expect_dims, "orientation {exif}");
        assert!(
            is_red(&img, corner.0, corner.1),
            "orientation {exif}: marker not at {corner:?}"
        );
    }
    // The user's rotation comes after the EXIF orientation.
    let bytes = mk::jpeg(400, 200, 1, None);
    let img = decode_still(
        &bytes,
        Format::Jpeg,
        400,
        Orient {
            exif: 6,
            rotation: 90,
        },
    )
    .unwrap();
    assert_eq!((img.width, img.height), (400, 200));
    assert!(is_red(&img, 399, 199));
}

#[test]
fn jpeg_decodes_shrunk_on_load_and_never_upscales() {
    let bytes = mk::jpeg(2000, 1000, 5, None);
    let small = decode_still(&bytes, Format::Jpeg, 256, Orient::NONE).unwrap();
    assert_eq!((small.width, small.height), (256, 128)); // decoded at 2/8, fitted to 256
    let small = decode_still(&bytes, Format::Jpeg, 250, Orient::NONE).unwrap();
    assert_eq!((small.width, small.height), (250, 125));
    let big = decode_still(&bytes, Format::Jpeg, 1600, Orient::NONE).unwrap();
    assert_eq!((big.width, big.height), (1600, 800)); // decoded at 7/8, fitted to 1600
    assert_eq!(fit_within(2000, 1000, 1600), (1600, 800));
    assert_eq!(fit_within(300, 200, 1600), (300, 200));
    assert_eq!(fit_within(1000, 1, 256), (256, 1));

    let webp = Pixels::Rgb(big).webp_within(1600, 80.0, 2).unwrap();
    let back = image::load_from_memory(&webp).unwrap();
    assert_eq!((back.width(), back.height()), (1600, 800));
    let tiny = decode_still(&mk::jpeg(100, 50, 5, None), Format::Jpeg, 256, Orient::NONE).unwrap();
    let webp = Pixels::Rgb(tiny).webp_within(256, 80.0, 2).unwrap();
    let back = image::load_from_memory(&webp).unwrap();
    assert_eq!((back.width(), back.height()), (100, 50), "never upscaled");
}

#[test]
fn other_image_formats_decode() {
    for fmt in [
        image::ImageFormat::Png,
        image::ImageFormat::WebP,
        image::ImageFormat::Gif,
        image::ImageFormat::Bmp,
        image::ImageFormat::Tiff,
    ] {
        let bytes = mk::image_file(120, 80, 2, fmt);
        let format = sniff(&bytes);
        let img = decode_still(&bytes, format, 256, Orient::NONE).unwrap();
        assert_eq!((img.width, img.height), (120, 80), "{fmt:?}");
        assert!(is_red(&img, 2, 2), "{fmt:?}");
    }
}

/// EXIF is read from PNG (`eXIf`), WebP (`EXIF` chunk) and TIFF (its own
/// tags), every field, and the pictures still decode.
#[test]
fn reads_exif_from_png_webp_and_tiff() {
    let spec = ExifSpec {
        make: Some("FUJIFILM"),
        model: Some("X-T4"),
        lens: Some("XF16-55mmF2.8 R LM WR"),
        iso: Some(800),
        fnumber: Some((56, 10)),
        exposure: Some((1, 125)),
        focal: Some((23, 1)),
        datetime_original: Some("2022:05:01 08:00:00"),
        offset: Some("-04:00"),
        gps: Some((40.6892, -74.0445, 10.0)),
        orientation: Some(8),
    };
    let files = [
        ("png", mk::png_with_exif(90, 60, 4, &spec)),
        ("webp", mk::webp_with_exif(90, 60, 4, &spec)),
        ("tiff", mk::tiff_with_exif(90, 60, 4, &spec)),
    ];
    for (what, bytes) in files {
        let m = exif::read(&bytes).unwrap_or_else(|| panic!("no EXIF read from {what}"));
        assert_eq!(m.make.as_deref(), Some("FUJIFILM"), "{what}");
        assert_eq!(m.model.as_deref(), Some("X-T4"), "{what}");
        assert_eq!(m.lens.as_deref(), Some("XF16-55mmF2.8 R LM WR"), "{what}");
        assert_eq!(m.iso, Some(800), "{what}");
        assert_eq!(m.fnumber, Some(5.6), "{what}");
        assert_eq!(m.exposure_s, Some(0.008), "{what}");
        assert_eq!(m.focal_length_mm, Some(23.0), "{what}");
        // 08:00 at -04:00 is 12:00 UTC.
        assert_eq!(m.date_taken, Some(1_651_406_400), "{what}");
        assert_eq!(m.date_taken_offset_min, Some(-240), "{what}");
        assert!((m.gps_lat.unwrap() - 40.6892).abs() < 1e-5, "{what}");
        assert!((m.gps_lon.unwrap() + 74.0445).abs() < 1e-5, "{what}");
        assert_eq!(m.gps_alt, Some(10.0), "{what}");
        assert_eq!(m.orientation, 8, "{what}");
        let format = sniff(&bytes);
        let img = decode_still(&bytes, format, 256, Orient::NONE)
            .unwrap_or_else(|e| panic!("{what} does not decode: {e}"));
        assert_eq!((img.width, img.height), (90, 60), "{what}");
        assert!(is_red(&img, 2, 2), "{what}");
    }
}

#[test]
fn broken_images_are_errors_not_panics() {
    let good = mk::jpeg(300, 200, 1, None);
    let truncated = &good[..good.len() / 3];
    // libjpeg-turbo may fill a truncated image with grey; either way no panic.
    let _ = decode_still(truncated, Format::Jpeg, 256, Orient::NONE);
    assert!(crate::media::jpeg_is_truncated(truncated));
    assert!(!crate::media::jpeg_is_truncated(&good));
    // Cut inside the headers, or right after the end marker's first byte.
    assert!(crate::media::jpeg_is_truncated(&good[..40]));
    assert!(crate::media::jpeg_is_truncated(&good[..good.len() - 1]));
    // Data after the end marker (a camera trailer, an MPO's second picture)
    // and an EXIF thumbnail's own end marker change nothing.
    let mut trailer = good.clone();
    trailer.extend_from_slice(b"\x00\x00SEFT trailer");
    assert!(!crate::media::jpeg_is_truncated(&trailer));
    let with_exif = mk::jpeg(300, 200, 1, Some(&mk::ExifSpec::default()));
    assert!(!crate::media::jpeg_is_truncated(&with_exif));
    assert!(crate::media::jpeg_is_truncated(
        &with_exif[..with_exif.len() / 2]
    ));
    assert!(!crate::media::jpeg_is_truncated(b"\x89PNG not a jpeg"));
    assert!(decode_still(b"\xff\xd8\xff garbage", Format::Jpeg, 256, Orient::NONE).is_err());
    assert!(decode_still(b"\x89PNG\r\n\x1a\nbroken", Format::Png, 256, Orient::NONE).is_err());
    assert!(decode_still(b"junk", Format::Heif, 256, Orient::NONE).is_err());
    assert!(decode_still(b"", Format::Unknown, 256, Orient::NONE).is_err());
}

#[test]
fn heic_decodes_through_libheif_with_exif() {
    let dir = tempfile::tempdir().unwrap();
    let spec = ExifSpec {
        make: Some("Apple"),
        model: Some("iPhone 12"),
        datetime_original: Some("2022:06:01 12:00:00"),
        offset: Some("+02:00"),
        ..ExifSpec::default()
    };
    let path = mk::heic(dir.path(), "a.heic", 640, 480, Some(&spec));
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(sniff(&bytes), Format::Heif);
    assert_eq!(heif::dimensions(&bytes).unwrap(), (640, 480));
    let img = decode_still(&bytes, Format::Heif, 1000, Orient::NONE).unwrap();
    assert_eq!((img.width, img.height), (640, 480));
    let img = decode_still(&bytes, Format::Heif, 256, Orient::NONE).unwrap();
    assert_eq!((img.width, img.height), (256, 192));
    let meta = exif::read(&bytes).expect("HEIC carries EXIF");
    assert_eq!(meta.model.as_deref(), Some("iPhone 12"));
    assert_eq!(meta.date_taken, Some(1_654_077_600));
}

#[test]
fn avif_decodes_through_libheif() {
    let dir = tempfile::tempdir().unwrap();
    let path = mk::avif(dir.path(), "a.avif", 400, 300);
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(sniff(&bytes), Format::Avif);
    assert_eq!(heif::dimensions(&bytes).unwrap(), (400, 300));
    let img = decode_still(&bytes, Format::Avif, 256, Orient::NONE).unwrap();
    assert_eq!((img.width, img.height), (256, 192));
    // Not a grey or black picture: the AV1 payload really decoded.
    let spread = img.data.iter().max().unwrap() - img.data.iter().min().unwrap();
    assert!(spread > 100, "decoded pixels span {spread}");
}

fn cpu() -> accel::AccelState {
    accel::AccelState::new(crate::config::Accel::Cpu)
}

#[test]
fn video_frames_fall_back_from_an_absent_gpu() {
    if std::path::Path::new("/dev/nvidia0").exists() {
        return; // a real GPU: the fallback path is not what runs
    }
    let dir = tempfile::tempdir().unwrap();
    let mp4 = dir.path().join("clip.mp4");
    mk::video(
        &mp4,
        1.0,
        160,
        120,
        false,
        &seen_testkit::av::Encode::default(),
    );
    let gpu = accel::AccelState::new(crate::config::Accel::Cuda);
    for _ in 0..4 {
        let f = video::frame(&mp4, 256, &gpu).unwrap();
        assert_eq!((f.width, f.height), (160, 120));
    }
    let u = gpu.usage();
    assert_eq!((u.jobs_gpu, u.jobs_cpu), (0, 4));
    assert!(u.auto_disabled, "{u:?}");
    assert_eq!(u.consecutive_failures, 3);
}

#[test]
fn transcodes_fall_back_from_an_absent_gpu() {
    if std::path::Path::new("/dev/nvidia0").exists() {
        return; // a real GPU: the fallback path is not what runs
    }
    let dir = tempfile::tempdir().unwrap();
    let avi = dir.path().join("old.avi");
    mk::video(
        &avi,
        1.0,
        160,
        120,
        true,
        &seen_testkit::av::Encode {
            video_codec: Some("mpeg4"),
            ..Default::default()
        },
    );
    let gpu = accel::AccelState::new(crate::config::Accel::Cuda);
    let out = dir.path().join("out.mp4");
    transcode::video_mp4(&avi, &out, &gpu).unwrap();
    let m = video::probe(&out).unwrap();
    assert_eq!(m.video_codec.as_deref(), Some("h264"));
    let u = gpu.usage();
    assert_eq!(
        (u.jobs_gpu, u.jobs_cpu, u.consecutive_failures),
        (0, 1, 1),
        "{u:?}"
    );
}

#[test]
fn the_video_frame_is_from_a_tenth_of_the_way_in() {
    // Ten seconds going from black to bright, with one key frame only: the
    // seek lands on the first frame, and decoding must go on to 1 s.
    let dir = tempfile::tempdir().unwrap();
    let mp4 = dir.path().join("fade.mp4");
    mk::video(
        &mp4,
        10.0,
        160,
        120,
        false,
        &seen_testkit::av::Encode {
            picture: seen_testkit::av::Picture::Fade,
            key_interval: Some(1000),
            ..Default::default()
        },
    );
    let f = video::frame(&mp4, 160, &cpu()).unwrap();
    let mean = f.data.iter().map(|&v| v as f64).sum::<f64>() / f.data.len() as f64;
    // Luma 100 at 1 s (RGB ≈ 98); the first frame would be black.
    assert!((70.0..130.0).contains(&mean), "mean {mean:.1}");
}

#[test]
fn auto_acceleration_reports_what_it_would_use() {
    let auto = accel::AccelState::new(crate::config::Accel::Auto);
    let u = auto.usage();
    let (nvidia, intel, _) = accel::device_counts();
    if nvidia == 0 && intel == 0 && !std::path::Path::new("/dev/dri/renderD128").exists() {
        // No device here: auto is the CPU, and says so.
        assert_eq!((u.accel.as_str(), u.enabled), ("CPU", false), "{u:?}");
    } else {
        assert!(u.enabled && u.accel != "Auto", "{u:?}");
    }
    let cpu = cpu().usage();
    assert_eq!((cpu.accel.as_str(), cpu.enabled), ("CPU", false));
}

#[test]
fn video_probe_and_frames() {
    let dir = tempfile::tempdir().unwrap();
    let mp4 = dir.path().join("clip.mp4");
    mk::video(
        &mp4,
        2.0,
        320,
        240,
        true,
        &seen_testkit::av::Encode {
            metadata: &[
                ("creation_time", "2023-01-05T10:00:00Z"),
                ("com.apple.quicktime.make", "Apple"),
                ("com.apple.quicktime.model", "iPhone 13"),
                (
                    "com.apple.quicktime.location.ISO6709",
                    "+48.8584+002.2945+035.000/",
                ),
            ],
            muxer_options: &[("movflags", "use_metadata_tags")],
            ..Default::default()
        },
    );
    let m = video::probe(&mp4).unwrap();
    assert!(m.has_video && m.has_audio);
    assert_eq!(m.video_codec.as_deref(), Some("h264"));
    assert_eq!(m.audio_codec.as_deref(), Some("aac"));
    assert_eq!((m.width, m.height), (Some(320), Some(240)));
    assert!(
        (1900..=2100).contains(&m.duration_ms.unwrap()),
        "{:?}",
        m.duration_ms
    );
    assert_eq!(m.date_taken, Some(1_672_912_800));
    assert_eq!(m.make.as_deref(), Some("Apple"));
    assert_eq!(m.model.as_deref(), Some("iPhone 13"));
    assert_eq!(m.gps_lat, Some(48.8584));
    let f = video::frame(&mp4, 256, &cpu()).unwrap();
    assert_eq!((f.width, f.height), (256, 192));

    // Rotated phone video: displayed portrait.
    let rot = dir.path().join("rotated.mp4");
    mk::video(
        &rot,
        1.0,
        320,
        240,
        false,
        &seen_testkit::av::Encode::default(),
    );
    mk::set_mp4_rotation(&rot, 90);
    let m = video::probe(&rot).unwrap();
    assert_eq!(m.rotation, 90);
    assert_eq!((m.width, m.height), (Some(240), Some(320)));
    assert!(!m.has_audio);
    let f = video::frame(&rot, 1600, &cpu()).unwrap();
    assert_eq!((f.width, f.height), (240, 320));

    // A clip under a second still gives a frame.
    let short = dir.path().join("short.webm");
    mk::video(
        &short,
        0.5,
        160,
        120,
        false,
        &seen_testkit::av::Encode {
            video_codec: Some("libvpx-vp9"),
            ..Default::default()
        },
    );
    let m = video::probe(&short).unwrap();
    assert_eq!(m.video_codec.as_deref(), Some("vp9"));
    assert_eq!(m.date_taken, None);
    let f = video::frame(&short, 1600, &cpu()).unwrap();
    assert_eq!((f.width, f.height), (160, 120));

    // Audio only.
    let mp3 = dir.path().join("tone.mp3");
    mk::audio(&mp3, 1.0);
    let m = video::probe(&mp3).unwrap();
    assert!(m.has_audio && !m.has_video);
    assert_eq!(m.audio_codec.as_deref(), Some("mp3"));
    assert!(video::frame(&mp3, 256, &cpu()).is_err());

    // Broken and truncated files are errors.
    let broken = dir.path().join("broken.mp4");
    std::fs::write(&broken, b"\0\0\0\x18ftypisom garbage garbage").unwrap();
    assert!(video::probe(&broken).is_err() || video::frame(&broken, 256, &cpu()).is_err());
    let bytes = std::fs::read(&mp4).unwrap();
    let cut = dir.path().join("cut.mp4");
    std::fs::write(&cut, &bytes[..bytes.len() / 4]).unwrap();
    let _ = video::probe(&cut); // must not panic
    let _ = video::frame(&cut, 256, &cpu());
}

fn moov_before_mdat(path: &std::path::Path) -> bool {
    let b = std::fs::read(path).unwrap();
    let find = |tag: &[u8]| b.windows(4).position(|w| w == tag);
    matches!((find(b"moov"), find(b"mdat")), (Some(m), Some(d)) if m < d)
}

#[test]
fn audio_transcodes_to_mp3_and_m4a() {
    use transcode::{AudioOut, audio};
    let dir = tempfile::tempdir().unwrap();
    let mp4 = dir.path().join("clip.mp4");
    mk::video(
        &mp4,
        2.0,
        160,
        120,
        true,
        &seen_testkit::av::Encode::default(),
    );
    let wav = dir.path().join("tone.wav");
    mk::audio(&wav, 1.5);
    for (src, secs) in [(&mp4, 2000), (&wav, 1500)] {
        let mp3 = dir.path().join("out.mp3");
        audio(src, &mp3, AudioOut::Mp3).unwrap();
        let m = video::probe(&mp3).unwrap();
        assert_eq!(m.audio_codec.as_deref(), Some("mp3"));
        assert!(!m.has_video);
        let d = m.duration_ms.unwrap();
        assert!((secs - 100..=secs + 150).contains(&d), "{src:?}: {d} ms");
        let m4a = dir.path().join("out.m4a");
        audio(src, &m4a, AudioOut::M4a).unwrap();
        let m = video::probe(&m4a).unwrap();
        assert_eq!(m.audio_codec.as_deref(), Some("aac"));
        let d = m.duration_ms.unwrap();
        assert!((secs - 100..=secs + 150).contains(&d), "{src:?}: {d} ms");
        assert!(moov_before_mdat(&m4a), "faststart");
    }
    let silent = dir.path().join("silent.mp4");
    mk::video(
        &silent,
        1.0,
        160,
        120,
        false,
        &seen_testkit::av::Encode::default(),
    );
    assert!(matches!(
        audio(&silent, &dir.path().join("x.mp3"), AudioOut::Mp3),
        Err(crate::Error::InvalidInput(_))
    ));
}

#[test]
fn videos_transcode_to_h264_aac_faststart() {
    let dir = tempfile::tempdir().unwrap();
    let avi = dir.path().join("old.avi");
    mk::video(
        &avi,
        1.5,
        320,
        240,
        true,
        &seen_testkit::av::Encode {
            video_codec: Some("mpeg4"),
            audio_codec: Some("libmp3lame"),
            ..Default::default()
        },
    );
    assert!(!transcode::browser_playable("avi", Some("mpeg4")));
    let out = dir.path().join("old.mp4");
    transcode::video_mp4(&avi, &out, &cpu()).unwrap();
    let m = video::probe(&out).unwrap();
    assert_eq!(m.video_codec.as_deref(), Some("h264"));
    assert_eq!(m.audio_codec.as_deref(), Some("aac"));
    assert_eq!((m.width, m.height), (Some(320), Some(240)));
    assert!(
        (1300..=1700).contains(&m.duration_ms.unwrap()),
        "{:?}",
        m.duration_ms
    );
    assert!(moov_before_mdat(&out), "faststart");
    assert!(video::frame(&out, 256, &cpu()).is_ok());

    // Rotation becomes pixels; odd sizes become even; no audio is fine.
    let rot = dir.path().join("rot.mp4");
    mk::video(
        &rot,
        1.0,
        321,
        241,
        false,
        &seen_testkit::av::Encode {
            video_codec: Some("libx265"),
            full_chroma: true,
            ..Default::default()
        },
    );
    mk::set_mp4_rotation(&rot, 90);
    assert!(!transcode::browser_playable("mp4", Some("hevc")));
    let out = dir.path().join("rot-h264.mp4");
    transcode::video_mp4(&rot, &out, &cpu()).unwrap();
    let m = video::probe(&out).unwrap();
    assert_eq!(m.video_codec.as_deref(), Some("h264"));
    assert_eq!(m.rotation, 0);
    assert_eq!((m.width, m.height), (Some(240), Some(320)));
    assert!(!m.has_audio);

    assert!(transcode::browser_playable("mp4", Some("h264")));
    assert!(transcode::browser_playable("webm", Some("vp9")));
    assert!(!transcode::browser_playable("mkv", Some("vp9")));
    assert!(!transcode::browser_playable("wmv", Some("wmv2")));
}

/// ORF and RW2 are TIFF with their own magic number, CR3 keeps TIFF blocks
/// in ISO media boxes: their make, model and capture time are read too.
#[test]
fn raw_formats_beyond_tiff_give_their_metadata() {
    let camera = ExifSpec {
        make: Some("OLYMPUS CORPORATION"),
        model: Some("E-M1MarkIII"),
        iso: Some(200),
        datetime_original: Some("2022:03:04 05:06:07"),
        ..ExifSpec::default()
    };
    let tiff = mk::exif_block(&camera);
    assert!(tiff.starts_with(b"II*\0") || tiff.starts_with(b"MM\0*"));
    let magic: &[u8] = if tiff.starts_with(b"II") {
        b"RO"
    } else {
        b"OR"
    };
    for (what, patch) in [("ORF", magic), ("RW2", b"U\0".as_slice())] {
        if what == "RW2" && !tiff.starts_with(b"II") {
            continue; // RW2 is always little-endian
        }
        let mut raw = tiff.clone();
        raw[2..4].copy_from_slice(patch);
        raw.extend_from_slice(&[0u8; 2048]);
        let m = exif::read(&raw).unwrap_or_else(|| panic!("{what} metadata"));
        assert_eq!(m.model.as_deref(), Some("E-M1MarkIII"), "{what}");
        assert_eq!(m.iso, Some(200), "{what}");
        assert_eq!(m.date_taken, Some(1_646_370_367), "{what}");
    }

    // CR3: ftyp "crx ", then moov > uuid > CMT1 (IFD0) and CMT2 (EXIF).
    let boxed = |name: &[u8], payload: &[u8]| {
        let mut b = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        b.extend_from_slice(name);
        b.extend_from_slice(payload);
        b
    };
    let cmt1 = mk::exif_block(&ExifSpec {
        make: Some("Canon"),
        model: Some("Canon EOS R6"),
        ..ExifSpec::default()
    });
    let cmt2 = mk::exif_block(&ExifSpec {
        iso: Some(1600),
        datetime_original: Some("2023:07:08 09:10:11"),
        offset: Some("+01:00"),
        ..ExifSpec::default()
    });
    let mut uuid = vec![0x85u8; 16];
    uuid.extend(boxed(b"CMT1", &cmt1));
    uuid.extend(boxed(b"CMT2", &cmt2));
    let mut cr3 = boxed(b"ftyp", b"crx \0\0\0\x01crx isom");
    cr3.extend(boxed(b"moov", &boxed(b"uuid", &uuid)));
    cr3.extend(boxed(b"mdat", &[0u8; 4096]));
    assert_eq!(sniff(&cr3), Format::Cr3);
    let m = exif::read(&cr3).expect("CR3 metadata");
    assert_eq!(m.make.as_deref(), Some("Canon"));
    assert_eq!(m.model.as_deref(), Some("Canon EOS R6"));
    assert_eq!(m.iso, Some(1600));
    assert_eq!(
        (m.date_taken, m.date_taken_offset_min),
        (Some(1_688_803_811), Some(60))
    );
}

#[test]
fn webp_pictures_keep_size_and_colour_and_refuse_impossible_sizes() {
    // Odd sizes exercise the rounded-up chroma planes.
    for (w, h) in [(1, 1), (3, 5), (257, 129)] {
        let mut data = Vec::with_capacity(w * h * 3);
        for i in 0..w * h {
            // Left half red, right half blue.
            let px = if i % w < w.div_ceil(2) {
                [220, 20, 20]
            } else {
                [20, 20, 220]
            };
            data.extend_from_slice(&px);
        }
        let rgb = Rgb::new(w as u32, h as u32, data).unwrap();
        let mut picture = webp::Picture::from_rgb(&rgb).unwrap();
        assert_eq!((picture.width(), picture.height()), (w as u32, h as u32));
        assert_eq!(picture.heap_bytes(), webp::planes_bytes(w as u32, h as u32));
        let bytes = picture.encode(90.0, 1).unwrap();
        let back = image::load_from_memory(&bytes).unwrap().into_rgb8();
        assert_eq!(back.dimensions(), (w as u32, h as u32));
        let left = back.get_pixel(0, h as u32 / 2);
        assert!(left[0] > 150 && left[2] < 100, "{w}x{h}: {left:?}");
        if w > 100 {
            let right = back.get_pixel(w as u32 - 1, h as u32 / 2);
            assert!(right[2] > 150 && right[0] < 100, "{w}x{h}: {right:?}");
        }
        // Encoding leaves the picture as it was.
        assert_eq!(picture.encode(90.0, 1).unwrap(), bytes);
    }
    assert_eq!(webp::planes_bytes(1600, 1200), 1600 * 1200 * 3 / 2);
    let too_wide = Rgb::new(16384, 1, vec![0; 16384 * 3]).unwrap();
    assert!(matches!(
        webp::Picture::from_rgb(&too_wide),
        Err(Error::Media(_))
    ));
    let empty = Rgb {
        width: 0,
        height: 0,
        data: Vec::new(),
    };
    assert!(webp::Picture::from_rgb(&empty).is_err());
}

/// The WebP of `pixels`, decoded back to RGB.
fn webp_back(pixels: &Pixels, max: u32) -> image::RgbImage {
    let bytes = pixels.webp_within(max, 95.0, 0).unwrap();
    image::load_from_memory(&bytes).unwrap().into_rgb8()
}

fn psnr_between(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let se: f64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(&x, &y)| (x as f64 - y as f64).powi(2))
        .sum();
    let mse = se / a.as_raw().len() as f64;
    10.0 * (255.0f64 * 255.0 / mse.max(1e-9)).log10()
}

#[test]
fn jpegs_go_to_webp_through_yuv_like_through_rgb() {
    use turbojpeg::{PixelFormat, Subsamp};
    // Odd sizes, every subsampling libjpeg-turbo writes, shrunk on load
    // and not, oriented: the YUV path must give the RGB path's picture.
    let source = mk::test_pixels(401, 203, 3);
    let mut compressor = turbojpeg::Compressor::new().unwrap();
    compressor.set_quality(95).unwrap();
    for subsamp in [
        Subsamp::None,
        Subsamp::Sub2x1,
        Subsamp::Sub2x2,
        Subsamp::Sub1x2,
        Subsamp::Gray,
    ] {
        compressor.set_subsamp(subsamp).unwrap();
        let bytes = compressor
            .compress_to_vec(turbojpeg::Image {
                pixels: source.as_raw().as_slice(),
                width: 401,
                pitch: 401 * 3,
                height: 203,
                format: PixelFormat::RGB,
            })
            .unwrap();
        for (max, exif, rotation) in [(1600, 1, 0), (120, 1, 0), (120, 6, 0), (401, 3, 90)] {
            let orient = Orient { exif, rotation };
            let what = format!("{subsamp:?} within {max}, orientation {exif} + {rotation}°");
            let via_yuv = decode_for_webp(&bytes, Format::Jpeg, max, orient).unwrap();
            assert!(
                matches!(via_yuv, Pixels::Yuv(_)),
                "{what}: not decoded to YUV"
            );
            let via_rgb = Pixels::Rgb(decode_still(&bytes, Format::Jpeg, max, orient).unwrap());
            assert_eq!(via_yuv.dimensions(), via_rgb.dimensions(), "{what}");
            let (a, b) = (webp_back(&via_yuv, max), webp_back(&via_rgb, max));
            let psnr = psnr_between(&a, &b);
            assert!(psnr > 34.0, "{what}: the two paths differ ({psnr:.1} dB)");
            // The red marker (top left as stored) lands where the
            // orientation puts it, in the YUV picture too.
            let (w, h) = a.dimensions();
            let corner = match (exif, rotation) {
                (1, 0) => (0, 0),
                (6, 0) => (w - 1, 0),
                _ => (0, h - 1), // 180° then 90°: bottom left
            };
            let px = a.get_pixel(corner.0, corner.1);
            if subsamp == Subsamp::Gray {
                assert!(
                    px[0].abs_diff(px[1]) < 8 && px[1].abs_diff(px[2]) < 8,
                    "{what}: {px:?}"
                );
            } else {
                assert!(
                    px[0] > 180 && px[1] < 90 && px[2] < 90,
                    "{what}: {px:?} at {corner:?}"
                );
            }
        }
    }
    // What the YUV path cannot take goes the RGB way, errors included.
    let broken = b"\xFF\xD8\xFF\xE0 not really a JPEG".to_vec();
    assert!(matches!(
        decode_for_webp(&broken, Format::Jpeg, 256, Orient::NONE),
        Err(Error::Media(_))
    ));
    let png = mk::image_file(40, 30, 1, image::ImageFormat::Png);
    assert!(matches!(
        decode_for_webp(&png, Format::Png, 256, Orient::NONE).unwrap(),
        Pixels::Rgb(_)
    ));
}

#[test]
fn jpegs_claiming_huge_sizes_are_refused_before_allocating() {
    let mut bytes = mk::jpeg(16, 16, 1, None);
    let sof = bytes
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("baseline SOF");
    // Height and width follow the marker, length and precision.
    bytes[sof + 5..sof + 9].copy_from_slice(&[0xEA, 0x60, 0xEA, 0x60]); // 60000 x 60000
    // At full scale that is 10 GB of RGB: refused by its size.
    for result in [
        decode_still(&bytes, Format::Jpeg, 60000, Orient::NONE).map(|_| ()),
        decode_for_webp(&bytes, Format::Jpeg, 60000, Orient::NONE).map(|_| ()),
    ] {
        match result {
            Err(Error::Media(m)) => assert!(m.contains("too large"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
