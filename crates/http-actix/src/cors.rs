//! Browsers on other origins (a web app on `http://localhost:5173`, a desktop shell on `app://…`)
//! call the API with credentials: preflights are answered for every route, for the origins listed
//! in `CORS_ALLOWED_ORIGINS` only, with actix-cors. Any other origin gets no `Access-Control-*`
//! header, so its browser refuses to hand the answer to the page; clients that are not browsers
//! are served as ever, whatever `Origin` they send.

use std::collections::HashSet;

use actix_cors::Cors;
use actix_web::http::header;
use actix_web::middleware::Condition;

/// Origins as browsers send them: `scheme://host[:port]`, compared exactly.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedOrigins(HashSet<String>);

impl AllowedOrigins {
    /// From a list such as `CORS_ALLOWED_ORIGINS` holds. An origin has a scheme and a host and
    /// nothing after them; `*` is refused, as credentials may not go to any origin.
    pub fn parse<S: AsRef<str>>(origins: &[S]) -> Result<Self, String> {
        let mut allowed = HashSet::new();
        for origin in origins.iter().map(|o| o.as_ref().trim()).filter(|o| !o.is_empty()) {
            let origin = origin.strip_suffix('/').unwrap_or(origin);
            let well_formed = origin.split_once("://").is_some_and(|(scheme, host)| {
                !scheme.is_empty()
                    && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                    && !host.is_empty()
                    && !host.contains(['/', '?', '#', '*', ' ', ','])
            });
            if !well_formed {
                return Err(format!("{origin:?} is not an origin (scheme://host[:port], no path, no `*`)"));
            }
            allowed.insert(origin.to_ascii_lowercase());
        }
        Ok(Self(allowed))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn allows(&self, origin: &header::HeaderValue) -> bool {
        origin.to_str().is_ok_and(|origin| self.0.contains(&origin.to_ascii_lowercase()))
    }
}

/// What a page may send besides the CORS-safelisted headers.
const REQUEST_HEADERS: [&str; 10] = [
    "authorization",
    "content-type",
    "if-match",
    "if-none-match",
    "idempotency-key",
    "range",
    "last-event-id",
    "x-client-app",
    "x-trace-id",
    "traceparent",
];

/// What a page may read besides the CORS-safelisted headers.
const EXPOSED_HEADERS: [&str; 8] = [
    "x-trace-id",
    "etag",
    "link",
    "retry-after",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "content-range",
];

/// How long a browser may keep a preflight's answer.
const PREFLIGHT_MAX_AGE_SECS: usize = 600;

/// The CORS layer: off (not even a look at `Origin`) when no origin is allowed.
pub(crate) fn middleware(origins: &std::sync::Arc<AllowedOrigins>) -> Condition<Cors> {
    let allowed = std::sync::Arc::clone(origins);
    let cors = Cors::default()
        .allowed_origin_fn(move |origin, _| allowed.allows(origin))
        .allowed_methods(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers(REQUEST_HEADERS)
        .expose_headers(EXPOSED_HEADERS)
        .supports_credentials()
        .max_age(PREFLIGHT_MAX_AGE_SECS);
    Condition::new(!origins.is_empty(), cors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_and_host_only() {
        let allowed = AllowedOrigins::parse(&["http://localhost:5173", " app://arkloop/ ", ""]).unwrap();
        assert!(allowed.allows(&header::HeaderValue::from_static("http://localhost:5173")));
        assert!(allowed.allows(&header::HeaderValue::from_static("APP://arkloop")));
        assert!(!allowed.allows(&header::HeaderValue::from_static("http://localhost:5174")));
        assert!(!allowed.allows(&header::HeaderValue::from_static("null")));
        for bad in ["*", "localhost:5173", "http://", "http://a/b", "http://*.example.com", "://x"] {
            assert!(AllowedOrigins::parse(&[bad]).is_err(), "{bad:?}");
        }
        assert!(AllowedOrigins::parse::<&str>(&[]).unwrap().is_empty());
    }
}
