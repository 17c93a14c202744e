//! Which methods each documented path accepts, taken from the OpenAPI document itself, so that a
//! known path called with another method answers 405 with `Allow` rather than 404.

use utoipa::openapi::OpenApi;

/// One documented path template, split into segments (`None` = a `{parameter}`).
struct Route {
    segments: Vec<Option<String>>,
    methods: Vec<&'static str>,
}

pub struct AllowedMethods {
    routes: Vec<Route>,
}

impl AllowedMethods {
    pub fn from_document(document: &OpenApi) -> Self {
        let routes = document
            .paths
            .paths
            .iter()
            .map(|(template, item)| {
                let segments = template
                    .trim_matches('/')
                    .split('/')
                    .map(|s| if s.starts_with('{') && s.ends_with('}') { None } else { Some(s.to_owned()) })
                    .collect();
                let methods = [
                    ("GET", item.get.is_some()),
                    ("PUT", item.put.is_some()),
                    ("POST", item.post.is_some()),
                    ("DELETE", item.delete.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("HEAD", item.head.is_some()),
                    ("OPTIONS", item.options.is_some()),
                ]
                .into_iter()
                .filter_map(|(name, present)| present.then_some(name))
                .collect();
                Route { segments, methods }
            })
            .collect();
        Self { routes }
    }

    /// The methods of every documented route `path` matches; empty when it matches none.
    pub fn for_path(&self, path: &str) -> Vec<&'static str> {
        // Only the leading slash goes: `/v1/projects/` is not `/v1/projects`, as actix routes it.
        let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
        let matching: Vec<&Route> = self
            .routes
            .iter()
            .filter(|route| {
                route.segments.len() == segments.len()
                    && route.segments.iter().zip(&segments).all(|(expected, actual)| match expected {
                        Some(literal) => literal == actual,
                        None => !actual.is_empty(),
                    })
            })
            .collect();
        // A literal path wins over a template it also fits (`…/blobs/missing` is not the blob
        // `missing`), as the router decides.
        let literals = |route: &Route| route.segments.iter().filter(|s| s.is_some()).count();
        let most = matching.iter().map(|route| literals(route)).max().unwrap_or(0);
        let mut methods: Vec<&'static str> = matching
            .into_iter()
            .filter(|route| literals(route) == most)
            .flat_map(|route| route.methods.iter().copied())
            .collect();
        methods.sort_unstable();
        methods.dedup();
        methods
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_paths_and_their_methods() {
        let allowed = AllowedMethods::from_document(&crate::openapi_document());
        assert_eq!(allowed.for_path("/v1/projects"), ["GET", "POST"]);
        assert_eq!(allowed.for_path("/v1/projects/abc"), ["DELETE", "GET", "PATCH"]);
        assert_eq!(allowed.for_path("/api/v1/projects/abc"), ["DELETE", "GET", "PATCH"]);
        assert!(allowed.for_path("/v1/nothing").is_empty());
        assert_eq!(allowed.for_path("/v1/projects/p/workspace/blobs/missing"), ["POST"]);
        assert_eq!(allowed.for_path(&format!("/v1/projects/p/workspace/blobs/{}", "a".repeat(64))), ["HEAD", "PUT"]);
        assert!(allowed.for_path("/v1/projects//").is_empty());
        assert!(allowed.for_path("/v1/projects/").is_empty());
    }
}
