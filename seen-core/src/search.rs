//! Search queries: words (all must match the path, case-insensitively),
//! `*` and `?` wildcards, double-quoted phrases, and their translation to
//! each backend's pattern syntax (SQLite FTS5 trigram GLOB, Postgres
//! pg_trgm LIKE).

use crate::error::{Error, Result};
use crate::store::ListQuery;

/// A search request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchQuery {
    /// The text typed by the user.
    pub q: String,
    /// Only assets taken at or after this unix time.
    pub from: Option<i64>,
    /// Only assets taken at or before this unix time.
    pub to: Option<i64>,
    /// Only this camera maker (case-insensitive).
    pub camera_make: Option<String>,
    /// Only this camera model (case-insensitive).
    pub camera_model: Option<String>,
    /// Page, sort and order (person filter included).
    pub page: ListQuery,
}

/// The text a path is searched by: lower-cased, Unicode-aware.
pub fn search_text(path: &str) -> String {
    path.to_lowercase()
}

/// Split a query into lower-cased terms: whitespace separates words, a
/// double-quoted run is one term (spaces included).
pub fn terms(q: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in q.chars() {
        match c {
            '"' => {
                if quoted || !current.is_empty() {
                    if !current.trim().is_empty() {
                        out.push(current.clone());
                    }
                    current.clear();
                }
                quoted = !quoted;
            }
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.trim().is_empty() {
        out.push(current);
    }
    out.into_iter().map(|t| t.to_lowercase()).collect()
}

/// A SQLite GLOB pattern matching `term` anywhere: `*` and `?` stay
/// wildcards, `[` is matched literally.
pub fn glob_pattern(term: &str) -> String {
    let mut p = String::from("*");
    for c in term.chars() {
        match c {
            '[' => p.push_str("[[]"),
            c => p.push(c),
        }
    }
    p.push('*');
    p
}

/// A Postgres LIKE pattern (escape `\`) matching `term` anywhere: `*` → `%`,
/// `?` → `_`, and literal `%`, `_`, `\` escaped.
pub fn like_pattern(term: &str) -> String {
    let mut p = String::from("%");
    for c in term.chars() {
        match c {
            '*' => p.push('%'),
            '?' => p.push('_'),
            '%' | '_' | '\\' => {
                p.push('\\');
                p.push(c);
            }
            c => p.push(c),
        }
    }
    p.push('%');
    p
}

impl SearchQuery {
    /// Reject an empty query, inverted date ranges and bad pages.
    pub fn validate(&self) -> Result<Vec<String>> {
        self.page.validate()?;
        let terms = terms(&self.q);
        if terms.is_empty() {
            return Err(Error::invalid("q is required (the words to search for)"));
        }
        if let (Some(f), Some(t)) = (self.from, self.to)
            && f > t
        {
            return Err(Error::invalid("from must not be after to"));
        }
        Ok(terms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_split_and_lowercase() {
        assert_eq!(terms("Beach  PARTY"), ["beach", "party"]);
        assert_eq!(terms("\"Summer Party\" 2023"), ["summer party", "2023"]);
        assert_eq!(
            terms("party.jpg a/b (1) it's"),
            ["party.jpg", "a/b", "(1)", "it's"]
        );
        assert_eq!(terms("ÉTÉ Straße"), ["été", "straße"]);
        assert!(terms("   ").is_empty());
        assert!(terms("\"\"").is_empty());
    }

    #[test]
    fn patterns_escape_what_they_must() {
        assert_eq!(glob_pattern("img_2023*.jpg"), "*img_2023*.jpg*");
        assert_eq!(glob_pattern("a[1]"), "*a[[]1]*");
        assert_eq!(like_pattern("img_20?3*.jpg"), "%img\\_20_3%.jpg%");
        assert_eq!(like_pattern("100%"), "%100\\%%");
        assert_eq!(like_pattern("a\\b"), "%a\\\\b%");
    }

    #[test]
    fn validation() {
        let q = SearchQuery {
            q: " ".into(),
            ..Default::default()
        };
        assert!(q.validate().is_err());
        let q = SearchQuery {
            q: "x".into(),
            from: Some(10),
            to: Some(5),
            ..Default::default()
        };
        assert!(q.validate().is_err());
    }
}
