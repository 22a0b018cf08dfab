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

/// Read EXIF from a whole file's bytes; `None` when it has none.
pub fn read(bytes: &[u8]) -> Option<PhotoMeta> {
    let exif = exif::Reader::new()
        .read_from_container(&mut std::io::Cursor::new(bytes))
        .ok()?;
    Some(from_exif(&exif))
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
