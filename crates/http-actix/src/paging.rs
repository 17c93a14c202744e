//! The paging every list shares: `limit` and `cursor` in; on `/v1` a bare array out with the
//! next page in `Link: <…>; rel="next"` ([`page_response`]), on `/api/v1` `data.nextCursor`.

use actix_web::{HttpRequest, HttpResponse};
use projects_domain::{FieldError, PageRequest};
use projects_ports::Page;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use crate::body::page_request;
use crate::headers::ok_with_next;

/// Paging of a list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// Where to continue: the previous page's cursor (`Link: rel="next"` on `/v1`,
    /// `data.nextCursor` on `/api/v1`).
    #[param(pattern = "^([0-9]{1,17}\\.[0-9a-f]{32})?$")]
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn page(&self) -> Result<PageRequest, FieldError> {
        page_request(self.limit.as_deref(), self.cursor.as_deref())
    }
}

/// The items of `page` as `body` renders each, and the `Link` to the next page.
pub fn page_response<'a, T, B: Serialize>(
    request: &HttpRequest,
    page: &'a Page<T>,
    body: impl Fn(&'a T) -> B,
) -> HttpResponse {
    let next = page.next.map(|cursor| cursor.encode());
    ok_with_next(request, next.as_deref()).json(page.items.iter().map(body).collect::<Vec<_>>())
}
