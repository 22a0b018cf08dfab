//! Which files are media, and what their bytes really are.

use crate::store::AssetKind;

/// A container or coding format recognised from a file's first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JPEG (also MPO).
    Jpeg,
    /// PNG.
    Png,
    /// GIF.
    Gif,
    /// WebP.
    Webp,
    /// BMP.
    Bmp,
    /// TIFF (and TIFF-based RAW: DNG, CR2, NEF, ARW, ORF, RW2).
    Tiff,
    /// HEIF/HEIC.
    Heif,
    /// AVIF.
    Avif,
    /// Canon CR3 (ISO base media).
    Cr3,
    /// Something FFmpeg should open (video or audio container).
    AudioVideo,
    /// Empty file.
    Empty,
    /// Not recognised.
    Unknown,
}

impl Format {
    /// Whether the container carries its own rotation, which the decoder
    /// applies (HEIF, AVIF): the EXIF orientation must then be ignored.
    pub fn orients_itself(self) -> bool {
        matches!(self, Format::Heif | Format::Avif)
    }
}

/// How the pipeline treats a file, decided by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaType {
    /// Image, video or audio.
    pub kind: AssetKind,
    /// MIME type reported for it.
    pub mime: &'static str,
    /// A camera RAW file (metadata and embedded preview only).
    pub raw: bool,
}

/// The media type for a lower-case extension without the dot, or `None`
/// when Seen ignores such files.
pub fn media_type_for_extension(ext: &str) -> Option<MediaType> {
    use AssetKind::*;
    let (kind, mime, raw) = match ext {
        "jpg" | "jpeg" | "jpe" => (Image, "image/jpeg", false),
        "mpo" => (Image, "image/mpo", false),
        "png" => (Image, "image/png", false),
        "gif" => (Image, "image/gif", false),
        "webp" => (Image, "image/webp", false),
        "heic" => (Image, "image/heic", false),
        "heif" => (Image, "image/heif", false),
        "avif" => (Image, "image/avif", false),
        "tif" | "tiff" => (Image, "image/tiff", false),
        "bmp" => (Image, "image/bmp", false),
        "dng" => (Image, "image/x-adobe-dng", true),
        "cr2" => (Image, "image/x-canon-cr2", true),
        "cr3" => (Image, "image/x-canon-cr3", true),
        "nef" => (Image, "image/x-nikon-nef", true),
        "arw" => (Image, "image/x-sony-arw", true),
        "orf" => (Image, "image/x-olympus-orf", true),
        "rw2" => (Image, "image/x-panasonic-rw2", true),
        "mp4" => (Video, "video/mp4", false),
        "m4v" => (Video, "video/x-m4v", false),
        "mov" => (Video, "video/quicktime", false),
        "mkv" => (Video, "video/x-matroska", false),
        "webm" => (Video, "video/webm", false),
        "avi" => (Video, "video/x-msvideo", false),
        "wmv" => (Video, "video/x-ms-wmv", false),
        "3gp" => (Video, "video/3gpp", false),
        "mpg" | "mpeg" => (Video, "video/mpeg", false),
        "mts" | "m2ts" => (Video, "video/mp2t", false),
        "mp3" => (Audio, "audio/mpeg", false),
        "m4a" => (Audio, "audio/mp4", false),
        "aac" => (Audio, "audio/aac", false),
        "wav" => (Audio, "audio/wav", false),
        "flac" => (Audio, "audio/flac", false),
        "ogg" => (Audio, "audio/ogg", false),
        "opus" => (Audio, "audio/opus", false),
        _ => return None,
    };
    Some(MediaType { kind, mime, raw })
}

/// Recognise the format from the first bytes of a file.
pub fn sniff(head: &[u8]) -> Format {
    if head.is_empty() {
        return Format::Empty;
    }
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Format::Jpeg;
    }
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Format::Png;
    }
    if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        return Format::Gif;
    }
    if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return Format::Webp;
    }
    if head.len() >= 12
        && &head[0..4] == b"RIFF"
        && (&head[8..12] == b"AVI " || &head[8..12] == b"WAVE")
    {
        return Format::AudioVideo;
    }
    if head.starts_with(b"BM") && head.len() >= 14 {
        return Format::Bmp;
    }
    if head.starts_with(b"II*\0")
        || head.starts_with(b"MM\0*")
        || head.starts_with(b"IIRO")
        || head.starts_with(b"IIU\0")
    {
        return Format::Tiff;
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        let brand = &head[8..12];
        return match brand {
            b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" | b"mif1" | b"msf1" => {
                Format::Heif
            }
            b"avif" | b"avis" => Format::Avif,
            b"crx " => Format::Cr3,
            _ => Format::AudioVideo,
        };
    }
    // Containers FFmpeg opens: Matroska/WebM, ASF (WMV), MPEG-PS/TS, MP3,
    // FLAC, Ogg, ADTS AAC, QuickTime without ftyp.
    let av_magic: &[&[u8]] = &[
        &[0x1A, 0x45, 0xDF, 0xA3],
        &[0x30, 0x26, 0xB2, 0x75],
        &[0x00, 0x00, 0x01, 0xBA],
        &[0x00, 0x00, 0x01, 0xB3],
        b"ID3",
        b"fLaC",
        b"OggS",
    ];
    if av_magic.iter().any(|m| head.starts_with(m)) {
        return Format::AudioVideo;
    }
    if head.len() >= 2 && head[0] == 0xFF && (head[1] & 0xE0) == 0xE0 {
        // MPEG audio frame sync or ADTS
        return Format::AudioVideo;
    }
    if head.len() >= 8 && matches!(&head[4..8], b"moov" | b"mdat" | b"wide" | b"free" | b"skip") {
        return Format::AudioVideo;
    }
    if head[0] == 0x47 && head.len() > 188 && head[188] == 0x47 {
        return Format::AudioVideo; // MPEG-TS
    }
    if head.len() > 192 && head[4] == 0x47 && head[196.min(head.len() - 1)] == 0x47 {
        return Format::AudioVideo; // M2TS (4-byte timestamp + TS packet)
    }
    Format::Unknown
}

/// Whether a JPEG stops before its end-of-image marker (a cut-off copy or
/// download): its marker segments are walked to the first start-of-scan and
/// an end marker is looked for after it, from the end of the file, where it
/// normally is. Something that is not a JPEG is not called truncated.
pub fn jpeg_is_truncated(bytes: &[u8]) -> bool {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return false;
    }
    let mut i = 2;
    while i + 1 < bytes.len() {
        if bytes[i] != 0xFF {
            // Not a marker where one belongs: not ours to judge.
            return false;
        }
        match bytes[i + 1] {
            // Fill byte before a marker.
            0xFF => i += 1,
            // Start of scan: the entropy-coded data follows, where a 0xFF
            // byte is always stuffed, so FF D9 is the real end marker.
            0xDA => return !bytes[i..].windows(2).rev().any(|w| w == [0xFF, 0xD9]),
            // End of image before any scan: nothing was cut.
            0xD9 => return false,
            // Markers without a length.
            0x01 | 0xD0..=0xD7 => i += 2,
            _ => {
                let Some(len) = bytes.get(i + 2..i + 4) else {
                    return true;
                };
                i += 2 + u16::from_be_bytes([len[0], len[1]]) as usize;
            }
        }
    }
    true
}
