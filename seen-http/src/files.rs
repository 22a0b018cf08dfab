//! Streaming original files from disk: single byte ranges (suffix ranges
//! included), 416 for unsatisfiable ranges, ETag / Last-Modified and
//! conditional requests. Memory stays constant whatever the file size.

use std::io::SeekFrom;
use std::path::Path;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use seen_core::Error;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::error::ApiError;

/// A byte range to send, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// First byte.
    pub start: u64,
    /// Last byte (inclusive).
    pub end: u64,
}

/// What a `Range` header asks of a file of `len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// No (usable) range: send everything.
    Full,
    /// One satisfiable range.
    Partial(ByteRange),
    /// A range that does not overlap the file.
    Unsatisfiable,
}

/// Parse a `Range` header for a file of `len` bytes. Several ranges, other
/// units or a malformed header are treated as absent (the whole file is
/// sent, which RFC 9110 allows).
pub fn parse_range(value: Option<&str>, len: u64) -> RangeRequest {
    let Some(spec) = value.and_then(|v| v.trim().strip_prefix("bytes=")) else {
        return RangeRequest::Full;
    };
    if spec.contains(',') {
        return RangeRequest::Full;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return RangeRequest::Full;
    };
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        // Suffix range: the last N bytes.
        let Ok(n) = b.parse::<u64>() else {
            return RangeRequest::Full;
        };
        if n == 0 || len == 0 {
            return RangeRequest::Unsatisfiable;
        }
        let n = n.min(len);
        return RangeRequest::Partial(ByteRange {
            start: len - n,
            end: len - 1,
        });
    }
    let Ok(start) = a.parse::<u64>() else {
        return RangeRequest::Full;
    };
    let end = if b.is_empty() {
        len.saturating_sub(1)
    } else {
        match b.parse::<u64>() {
            Ok(e) if e >= start => e.min(len.saturating_sub(1)),
            _ => return RangeRequest::Full,
        }
    };
    if start >= len {
        return RangeRequest::Unsatisfiable;
    }
    RangeRequest::Partial(ByteRange { start, end })
}

fn http_date(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .unwrap_or_default()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

fn parse_http_date(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc2822(s.trim())
        .ok()
        .map(|d| d.timestamp())
}

/// `Content-Disposition: attachment` with an ASCII fallback and the exact
/// UTF-8 name (RFC 6266 / RFC 5987).
pub fn attachment(filename: &str) -> String {
    let fallback: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in filename.as_bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(b) {
            encoded.push(*b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// Serve `path` with range and conditional-request support.
pub async fn serve_file(
    path: &Path,
    mime: &str,
    headers: &HeaderMap,
    disposition: Option<String>,
) -> Result<Response, ApiError> {
    let mut file = tokio::fs::File::open(path).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            ApiError(Error::not_found(format!(
                "the file is gone from disk: {}",
                path.display()
            )))
        } else {
            ApiError(Error::io_at(path, e))
        }
    })?;
    let meta = file
        .metadata()
        .await
        .map_err(|e| ApiError(Error::io_at(path, e)))?;
    let len = meta.len();
    let mtime = {
        use std::os::unix::fs::MetadataExt;
        (meta.mtime(), meta.mtime_nsec())
    };
    let etag = format!("\"{len:x}-{:x}{:08x}\"", mtime.0, mtime.1);
    let last_modified = http_date(mtime.0);
    let header_str = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };

    let not_modified = match header_str(header::IF_NONE_MATCH) {
        // Weak comparison (RFC 9110 §13.1.2): a `W/` tag matches its strong twin.
        Some(inm) => inm.split(',').any(|t| {
            let t = t.trim();
            t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag
        }),
        None => header_str(header::IF_MODIFIED_SINCE)
            .and_then(parse_http_date)
            .is_some_and(|since| mtime.0 <= since),
    };
    let mut base = HeaderMap::new();
    base.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    base.insert(
        header::ETAG,
        HeaderValue::from_str(&etag).expect("ASCII ETag"),
    );
    base.insert(
        header::LAST_MODIFIED,
        HeaderValue::from_str(&last_modified).expect("ASCII date"),
    );
    if not_modified {
        return Ok((StatusCode::NOT_MODIFIED, base).into_response());
    }
    // If-Range: a range only applies while the representation is unchanged.
    let range_applies = match header_str(header::IF_RANGE) {
        None => true,
        Some(v) if v.trim().starts_with('"') || v.trim().starts_with("W/") => v.trim() == etag,
        Some(v) => parse_http_date(v).is_some_and(|d| d >= mtime.0),
    };
    let range = if range_applies {
        parse_range(header_str(header::RANGE), len)
    } else {
        RangeRequest::Full
    };
    base.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(mime).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Some(d) = disposition
        && let Ok(v) = HeaderValue::from_str(&d)
    {
        base.insert(header::CONTENT_DISPOSITION, v);
    }
    let (status, start, count) = match range {
        RangeRequest::Full => (StatusCode::OK, 0, len),
        RangeRequest::Partial(r) => {
            base.insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes {}-{}/{len}", r.start, r.end))
                    .expect("ASCII"),
            );
            (StatusCode::PARTIAL_CONTENT, r.start, r.end - r.start + 1)
        }
        RangeRequest::Unsatisfiable => {
            // The body is a JSON error, not the media.
            base.remove(header::CONTENT_TYPE);
            base.remove(header::CONTENT_DISPOSITION);
            base.insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes */{len}")).expect("ASCII"),
            );
            let body =
                serde_json::json!({"error": format!("range not satisfiable for {len} bytes")});
            return Ok((StatusCode::RANGE_NOT_SATISFIABLE, base, axum::Json(body)).into_response());
        }
    };
    if start > 0 {
        file.seek(SeekFrom::Start(start))
            .await
            .map_err(|e| ApiError(Error::io_at(path, e)))?;
    }
    base.insert(header::CONTENT_LENGTH, HeaderValue::from(count));
    let stream = tokio_util::io::ReaderStream::with_capacity(file.take(count), 64 * 1024);
    Ok((status, base, Body::from_stream(stream)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let p = |v| parse_range(Some(v), 1000);
        assert_eq!(
            p("bytes=0-99"),
            RangeRequest::Partial(ByteRange { start: 0, end: 99 })
        );
        assert_eq!(
            p("bytes=900-"),
            RangeRequest::Partial(ByteRange {
                start: 900,
                end: 999
            })
        );
        assert_eq!(
            p("bytes=-100"),
            RangeRequest::Partial(ByteRange {
                start: 900,
                end: 999
            })
        );
        assert_eq!(
            p("bytes=-5000"),
            RangeRequest::Partial(ByteRange { start: 0, end: 999 })
        );
        assert_eq!(
            p("bytes=990-5000"),
            RangeRequest::Partial(ByteRange {
                start: 990,
                end: 999
            })
        );
        assert_eq!(p("bytes=1000-"), RangeRequest::Unsatisfiable);
        assert_eq!(p("bytes=-0"), RangeRequest::Unsatisfiable);
        assert_eq!(p("bytes=5-2"), RangeRequest::Full);
        assert_eq!(p("bytes=0-1,5-6"), RangeRequest::Full);
        assert_eq!(p("items=0-1"), RangeRequest::Full);
        assert_eq!(parse_range(None, 10), RangeRequest::Full);
        assert_eq!(
            parse_range(Some("bytes=0-"), 0),
            RangeRequest::Unsatisfiable
        );
    }

    #[test]
    fn content_disposition_keeps_utf8_names() {
        assert_eq!(
            attachment("café ☕.jpg"),
            "attachment; filename=\"caf_ _.jpg\"; filename*=UTF-8''caf%C3%A9%20%E2%98%95.jpg"
        );
        assert_eq!(
            attachment("a\"b.jpg"),
            "attachment; filename=\"a_b.jpg\"; filename*=UTF-8''a%22b.jpg"
        );
    }

    #[test]
    fn http_dates_round_trip() {
        assert_eq!(http_date(1_672_912_800), "Thu, 05 Jan 2023 10:00:00 GMT");
        assert_eq!(
            parse_http_date("Thu, 05 Jan 2023 10:00:00 GMT"),
            Some(1_672_912_800)
        );
    }
}
