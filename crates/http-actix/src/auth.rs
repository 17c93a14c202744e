//! Authentication and authorization as one extractor: `Authorized<P, S>` yields the caller's
//! principal only when they hold permission `P`, so each handler declares what it needs in its
//! signature, and the check runs before its body or query is even parsed.

use std::marker::PhantomData;

use actix_web::dev::Payload;
use actix_web::http::header::{HeaderValue, AUTHORIZATION};
use actix_web::{web, FromRequest, HttpRequest};
use futures::future::LocalBoxFuture;
use projects_app::{AppError, AuthFailure, Principal};
use projects_domain::Permission;

use crate::error::{Rejection, Surface};
use crate::HttpState;

/// A permission an endpoint requires, as a type.
pub trait Requirement: 'static {
    /// `None`: any authenticated caller.
    const PERMISSION: Option<Permission>;
}

macro_rules! requirement {
    ($($name:ident => $permission:ident),* $(,)?) => {
        $(
            #[doc = concat!("Requires `", stringify!($permission), "`.")]
            pub struct $name;

            impl Requirement for $name {
                const PERMISSION: Option<Permission> = Some(Permission::$permission);
            }
        )*
    };
}

requirement! {
    ReadProjects => ProjectsRead,
    ManageProjects => ProjectsManage,
    ManageApiKeys => ApiKeysManage,
    ManageMembers => MembersManage,
    ReadTeams => TeamsRead,
    ManageTeams => TeamsManage,
    WriteUsage => UsageWrite,
    ReadRuns => RunsRead,
    WriteRuns => RunsWrite,
}

/// Any authenticated caller.
pub struct Anyone;

impl Requirement for Anyone {
    const PERMISSION: Option<Permission> = None;
}

/// The authenticated caller, known to hold `P::PERMISSION`; failures render through surface `S`.
pub struct Authorized<P, S> {
    pub principal: Principal,
    marker: PhantomData<(P, S)>,
}

/// The token of an `Authorization: Bearer <token>` header (scheme in any case, spaces around).
pub(crate) fn bearer_token(header: Option<&HeaderValue>) -> Result<String, AppError> {
    let header = header.ok_or(AppError::Unauthenticated(AuthFailure::MissingToken))?;
    let malformed = || AppError::Unauthenticated(AuthFailure::InvalidAuthorization);
    let value = header.to_str().map_err(|_| malformed())?;
    let (scheme, token) = value.trim().split_once(' ').ok_or_else(malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.contains(char::is_whitespace) {
        return Err(malformed());
    }
    Ok(token.to_owned())
}

impl<P: Requirement, S: Surface> FromRequest for Authorized<P, S> {
    type Error = Rejection<S>;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<HttpState>>().cloned();
        let token = bearer_token(req.headers().get(AUTHORIZATION));
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::Unexpected(anyhow::anyhow!("HttpState is not registered")))?;
            let token = token?;
            let principal = state.run(move |app| async move { app.authenticate(&token).await }).await?;
            if let Some(permission) = P::PERMISSION {
                principal.require(permission)?;
            }
            Ok(Authorized { principal, marker: PhantomData })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: Option<&str>) -> Result<String, AuthFailure> {
        let header = value.map(|v| HeaderValue::from_str(v).unwrap());
        bearer_token(header.as_ref()).map_err(|err| match err {
            AppError::Unauthenticated(failure) => failure,
            other => panic!("unexpected {other:?}"),
        })
    }

    #[test]
    fn bearer_header_shapes() {
        assert_eq!(parse(None), Err(AuthFailure::MissingToken));
        assert_eq!(parse(Some("Bearer ak-1")), Ok("ak-1".into()));
        assert_eq!(parse(Some("bearer   ak-1 ")), Ok("ak-1".into()));
        for bad in ["", "Bearer", "Bearer ", "Basic abc", "ak-1", "Bearer a b", "Token ak-1"] {
            assert_eq!(parse(Some(bad)), Err(AuthFailure::InvalidAuthorization), "{bad:?}");
        }
    }
}
