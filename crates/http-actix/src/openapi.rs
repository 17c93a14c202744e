//! The OpenAPI document: collected from the registered routes, plus what no route can say.

use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi;
use utoipa::OpenApi as _;
use utoipa_actix_web::AppExt;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Projects API",
        description = "Projects and their workspaces for AI-agent platforms. `/v1` is the Arkloop shape \
                       (snake_case, dotted error codes); `/api/v1` the Alumia shape (camelCase in a \
                       `{success, data}` envelope, upper-case error codes). Both serve the same projects.",
    ),
    tags(
        (name = "v1 projects", description = "Arkloop-shaped projects"),
        (name = "v1 identity", description = "Who is calling, members, API keys"),
        (name = "v1 teams", description = "Teams and project sharing"),
        (name = "v1 workspace", description = "The caller's default workspace of a project: files and sessions"),
        (name = "alumia projects", description = "Alumia-shaped projects: camelCase in a `{success, data}` envelope"),
        (name = "alumia api keys", description = "Alumia-shaped API keys (`alm_live_…`, `alm_test_…`), usable on both surfaces"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
struct BaseDocument;

pub(crate) fn base_document() -> OpenApi {
    BaseDocument::openapi()
}

pub(crate) fn finish(mut document: OpenApi) -> OpenApi {
    // Both are `Authorization: Bearer …`; the server tells them apart by shape.
    let schemes = [
        (
            "bearer",
            "API key",
            "`Authorization: Bearer ak-<64 hex>` or `Bearer alm_live_<48 hex>` / `alm_test_<48 hex>`: an API \
             key of the org (both shapes work on both surfaces)",
        ),
        (
            "jwt",
            "JWT",
            "`Authorization: Bearer <JWT>`: HS256 signed with the server's `JWT_SECRET`, or RS256/EdDSA signed \
             by the private half of `JWT_PUBLIC_KEY_FILE`; claims `sub` (user id), `org` (or `account`), \
             `role` (also `account_admin`/`account_member`), `exp`, `iat`, `nbf` (whole or fractional seconds)",
        ),
    ];
    let components = document.components.get_or_insert_with(Default::default);
    for (name, format, description) in schemes {
        let scheme =
            HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format(format).description(Some(description));
        components.add_security_scheme(name, SecurityScheme::Http(scheme.build()));
    }
    // HTTP cannot tell "no body" from a body of zero bytes, and an empty body is an empty file:
    // the write's body is optional (utoipa marks every body that is not an `Option` required,
    // and an `Option` would document a JSON null).
    for raw_body in ["/v1/projects/{project_id}/workspace/file"] {
        if let Some(body) = document
            .paths
            .paths
            .get_mut(raw_body)
            .and_then(|p| p.put.as_mut())
            .and_then(|put| put.request_body.as_mut())
        {
            body.required = Some(utoipa::openapi::Required::False);
        }
    }
    document_rate_limits(&mut document);
    document
}

/// Every operation of both surfaces may answer 429 while rate limits are on (the limiter runs
/// before any handler, so no handler declares it).
fn document_rate_limits(document: &mut OpenApi) {
    use utoipa::openapi::{ContentBuilder, HeaderBuilder, Ref, ResponseBuilder};
    let header = |description: &str| {
        HeaderBuilder::new()
            .schema(utoipa::openapi::ObjectBuilder::new().schema_type(utoipa::openapi::Type::Integer))
            .description(Some(description))
            .build()
    };
    for (path, item) in document.paths.paths.iter_mut() {
        let error = match path.as_str() {
            p if p.starts_with("/api/") => "alumia.Error",
            p if p.starts_with("/v1/") => "v1.Error",
            _ => continue,
        };
        let operations = [
            (&mut item.get, true),
            (&mut item.put, true),
            (&mut item.post, true),
            (&mut item.delete, true),
            (&mut item.patch, true),
            (&mut item.head, false),
        ];
        for (operation, with_body) in operations {
            let Some(operation) = operation else { continue };
            let mut response = ResponseBuilder::new()
                .description("Too many requests from this caller (`http.rate_limited` / `TOO_MANY_REQUESTS`)")
                .header("Retry-After", header("Seconds until a request is accepted again"))
                .header("RateLimit-Limit", header("The burst: requests a caller may make at once"))
                .header("RateLimit-Remaining", header("Requests left in the bucket (0)"))
                .header("RateLimit-Reset", header("Seconds until the bucket is full again"));
            // HEAD answers carry no body.
            if with_body {
                let body = ContentBuilder::new().schema(Some(Ref::from_schema_name(error))).build();
                response = response.content("application/json", body);
            }
            operation.responses.responses.entry("429".to_owned()).or_insert(response.build().into());
        }
    }
}

/// The document as `GET /openapi.json` serves it and `server openapi` prints it.
pub fn openapi_document() -> OpenApi {
    let (_, document) =
        actix_web::App::new().into_utoipa_app().openapi(base_document()).configure(crate::routes).split_for_parts();
    finish(document)
}

/// `/docs` → `/docs/`, where Swagger UI (served from the binary, no CDN) lives.
pub(crate) async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header(("Location", "/docs/")).finish()
}
