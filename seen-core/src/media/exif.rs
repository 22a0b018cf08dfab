//! Photo metadata from EXIF (JPEG, HEIF, PNG, WebP, TIFF and TIFF-based RAW).

use exif::{In, Tag, Value};

/// What the EXIF block of a photo says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PhotoMeta {
    /// Camera maker.
    pub make: Option<String>,
    /// Camera model.
    pub model: Option<String>,
    /// Lens model.
    pub lens: Option<String>,
    /// ISO speed.
    pub iso: Option<i64>,
    /// Aperture f-number.
    pub fnumber: Option<f64>,
    /// Exposure time, seconds.
    pub exposure_s: Option<f64>,
    /// Focal length, mm.
    pub focal_length_mm: Option<f64>,
    /// DateTimeOriginal as unix seconds UTC (local time taken as UTC when no offset is recorded).
    pub date_taken: Option<i64>,
    /// OffsetTimeOriginal in minutes, when recorded.
    pub date_taken_offset_min: Option<i64>,
    /// Latitude, degrees, north positive.
    pub gps_lat: Option<f64>,
    /// Longitude, degrees, east positive.
    pub gps_lon: Option<f64>,
    /// Altitude, metres (negative below sea level).
    pub gps_alt: Option<f64>,
    /// Orientation 1..=8 (1 when absent).
    pub orientation: u16,
}

/// Read EXIF from a whole file's bytes; `None` when it has none. Besides
/// what the EXIF crate reads (JPEG, HEIF, PNG, WebP, TIFF, DNG, CR2, NEF,
/// ARW), Olympus ORF and Panasonic RW2 (TIFF with their own magic number)
/// and Canon CR3 (TIFF blocks in ISO media boxes) are read here.
pub fn read(bytes: &[u8]) -> Option<PhotoMeta> {
    if let Ok(exif) = exif::Reader::new().read_from_container(&mut std::io::Cursor::new(bytes)) {
        return Some(from_exif(&exif));
    }
    let raw_tiff = |tiff: Vec<u8>| exif::Reader::new().read_raw(tiff).ok();
    match bytes.get(..4)? {
        // ORF ("IIRO", "IIRS", "MMOR") and RW2 ("IIU\0"): TIFF but for the
        // magic number, which the EXIF crate refuses.
        b"IIRO" | b"IIRS" | b"IIU\0" | b"MMOR" => {
            let magic = if bytes.starts_with(b"II") {
                b"*\0"
            } else {
                b"\0*"
            };
            let mut tiff = bytes.to_vec();
            tiff[2..4].copy_from_slice(magic);
            raw_tiff(tiff).map(|e| from_exif(&e))
        }
        _ if bytes.get(4..12) == Some(b"ftypcrx ".as_slice()) => {
            // CR3: CMT1 holds IFD0 (make, model), CMT2 the EXIF IFD, CMT4
            // the GPS IFD, each a complete little TIFF.
            let mut merged: Option<PhotoMeta> = None;
            for name in [b"CMT1", b"CMT2", b"CMT4"] {
                let Some(tiff) = iso_box(bytes, name) else {
                    continue;
                };
                if let Some(e) = raw_tiff(tiff.to_vec()) {
                    let m = from_exif(&e);
                    merged = Some(match merged {
                        None => m,
                        Some(acc) => acc.or(m),
                    });
                }
            }
            merged
        }
        _ => None,
    }
}

/// The payload of the first ISO-media box named `name` (searched by its
/// name in the first 1 MiB, where CR3 keeps its metadata).
fn iso_box<'a>(bytes: &'a [u8], name: &[u8; 4]) -> Option<&'a [u8]> {
    let head = &bytes[..bytes.len().min(1 << 20)];
    let at = head.windows(4).position(|w| w == name)?;
    let size_at = at.checked_sub(4)?;
    let size = u32::from_be_bytes(bytes[size_at..at].try_into().ok()?) as usize;
    bytes.get(at + 4..size_at.checked_add(size)?)
}

impl PhotoMeta {
    /// Fields of `self`, with the gaps filled from `other`.
    fn or(self, other: PhotoMeta) -> PhotoMeta {
        PhotoMeta {
            make: self.make.or(other.make),
            model: self.model.or(other.model),
            lens: self.lens.or(other.lens),
            iso: self.iso.or(other.iso),
            fnumber: self.fnumber.or(other.fnumber),
            exposure_s: self.exposure_s.or(other.exposure_s),
            focal_length_mm: self.focal_length_mm.or(other.focal_length_mm),
            // A date goes with its offset, a latitude with its longitude.
            date_taken: self.date_taken.or(other.date_taken),
            date_taken_offset_min: if self.date_taken.is_some() {
                self.date_taken_offset_min
            } else {
                other.date_taken_offset_min
            },
            gps_lat: self.gps_lat.or(other.gps_lat),
            gps_lon: if self.gps_lat.is_some() {
                self.gps_lon
            } else {
                other.gps_lon
            },
            gps_alt: self.gps_alt.or(other.gps_alt),
            orientation: if self.orientation != 1 {
                self.orientation
            } else {
                other.orientation
            },
        }
    }
}

fn text(exif: &exif::Exif, tag: Tag) -> Option<String> {
    let field = exif.get_field(tag, In::PRIMARY)?;
    let Value::Ascii(parts) = &field.value else {
        return None;
    };
    let joined: Vec<u8> = parts.iter().flatten().copied().collect();
    let s = String::from_utf8_lossy(&joined)
        .trim_matches(|c: char| c == '\0' || c.is_whitespace())
        .to_string();
    (!s.is_empty()).then_some(s)
}

fn number(exif: &exif::Exif, tag: Tag, ifd: In) -> Option<f64> {
    let field = exif.get_field(tag, ifd)?;
    let v = match &field.value {
        Value::Rational(r) => r.first().map(|r| r.to_f64()),
        Value::SRational(r) => r.first().map(|r| r.to_f64()),
        Value::Short(v) => v.first().map(|x| *x as f64),
        Value::Long(v) => v.first().map(|x| *x as f64),
        Value::Byte(v) => v.first().map(|x| *x as f64),
        Value::Float(v) => v.first().map(|x| *x as f64),
        Value::Double(v) => v.first().copied(),
        _ => None,
    }?;
    v.is_finite().then_some(v)
}

fn gps_coordinate(exif: &exif::Exif, tag: Tag, reference: Tag, negative: u8) -> Option<f64> {
    let field = exif.get_field(tag, In::PRIMARY)?;
    let Value::Rational(parts) = &field.value else {
        return None;
    };
    if parts.len() < 3 || parts.iter().any(|r| r.denom == 0) {
        return None;
    }
    let deg = parts[0].to_f64() + parts[1].to_f64() / 60.0 + parts[2].to_f64() / 3600.0;
    let sign = match exif.get_field(reference, In::PRIMARY).map(|f| &f.value) {
        Some(Value::Ascii(v)) if v.first().and_then(|s| s.first()) == Some(&negative) => -1.0,
        _ => 1.0,
    };
    Some(sign * deg)
}

/// Unix seconds (UTC) from an EXIF `YYYY:MM:DD HH:MM:SS` and an optional
/// `+HH:MM` offset; returns (seconds, offset minutes).
pub fn parse_datetime(value: &[u8], offset: Option<&[u8]>) -> Option<(i64, Option<i64>)> {
    let mut dt = exif::DateTime::from_ascii(value).ok()?;
    if let Some(off) = offset {
        let _ = dt.parse_offset(off);
    }
    let date = chrono::NaiveDate::from_ymd_opt(dt.year as i32, dt.month as u32, dt.day as u32)?;
    let time = chrono::NaiveTime::from_hms_opt(dt.hour as u32, dt.minute as u32, dt.second as u32)?;
    let local = date.and_time(time).and_utc().timestamp();
    let offset_min = dt.offset.map(i64::from);
    Some((local - offset_min.unwrap_or(0) * 60, offset_min))
}

fn ascii_bytes(exif: &exif::Exif, tag: Tag) -> Option<Vec<u8>> {
    match &exif.get_field(tag, In::PRIMARY)?.value {
        Value::Ascii(v) => v.first().cloned(),
        _ => None,
    }
}

fn from_exif(exif: &exif::Exif) -> PhotoMeta {
    let mut m = PhotoMeta {
        make: text(exif, Tag::Make),
        model: text(exif, Tag::Model),
        lens: text(exif, Tag::LensModel),
        iso: number(exif, Tag::PhotographicSensitivity, In::PRIMARY)
            .or_else(|| number(exif, Tag::ISOSpeed, In::PRIMARY))
            .map(|v| v as i64)
            .filter(|v| *v > 0),
        fnumber: number(exif, Tag::FNumber, In::PRIMARY).filter(|v| *v > 0.0),
        exposure_s: number(exif, Tag::ExposureTime, In::PRIMARY).filter(|v| *v > 0.0),
        focal_length_mm: number(exif, Tag::FocalLength, In::PRIMARY).filter(|v| *v > 0.0),
        orientation: number(exif, Tag::Orientation, In::PRIMARY)
            .map(|v| v as u16)
            .filter(|v| (1..=8).contains(v))
            .unwrap_or(1),
        ..PhotoMeta::default()
    };
    let date = ascii_bytes(exif, Tag::DateTimeOriginal)
        .map(|d| (d, ascii_bytes(exif, Tag::OffsetTimeOriginal)))
        .or_else(|| {
            ascii_bytes(exif, Tag::DateTimeDigitized)
                .map(|d| (d, ascii_bytes(exif, Tag::OffsetTimeDigitized)))
        });
    if let Some((value, offset)) = date
        && let Some((t, off)) = parse_datetime(&value, offset.as_deref())
    {
        m.date_taken = Some(t);
        m.date_taken_offset_min = off;
    }
    m.gps_lat = gps_coordinate(exif, Tag::GPSLatitude, Tag::GPSLatitudeRef, b'S')
        .filter(|v| (-90.0..=90.0).contains(v));
    m.gps_lon = gps_coordinate(exif, Tag::GPSLongitude, Tag::GPSLongitudeRef, b'W')
        .filter(|v| (-180.0..=180.0).contains(v));
    if m.gps_lat.is_none() || m.gps_lon.is_none() {
        m.gps_lat = None;
        m.gps_lon = None;
    }
    m.gps_alt = number(exif, Tag::GPSAltitude, In::PRIMARY).map(|alt| {
        let below = matches!(
            exif.get_field(Tag::GPSAltitudeRef, In::PRIMARY).map(|f| &f.value),
            Some(Value::Byte(v)) if v.first() == Some(&1)
        );
        if below { -alt } else { alt }
    });
    m
}
