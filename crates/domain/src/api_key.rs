//! The shape of API keys: `ak-` followed by 64 lowercase hex digits (32 random bytes).

use std::fmt;

use crate::validation::FieldError;

pub const API_KEY_PREFIX: &str = "ak-";
const SECRET_HEX_LEN: usize = 64;
const DISPLAY_HEX_LEN: usize = 8;

/// A well-formed API key. Its `Debug` hides the secret so that it cannot end up in a log.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeyToken(String);

impl ApiKeyToken {
    /// Accepts exactly `ak-` + 64 lowercase hex digits.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let well_formed = raw.strip_prefix(API_KEY_PREFIX).is_some_and(|hex| crate::is_lower_hex(hex, SECRET_HEX_LEN));
        if well_formed {
            Ok(Self(raw.to_owned()))
        } else {
            Err(FieldError::new("api_key", "must be `ak-` followed by 64 lowercase hex digits"))
        }
    }

    /// The key made of 32 secret bytes.
    pub fn from_secret(secret: &[u8; 32]) -> Self {
        Self(prefixed_hex(API_KEY_PREFIX, secret))
    }

    /// The part shown in listings: `ak-` and the first 8 hex digits.
    pub fn prefix(&self) -> ApiKeyPrefix {
        ApiKeyPrefix(self.0[..API_KEY_PREFIX.len() + DISPLAY_HEX_LEN].to_owned())
    }

    /// The whole key; only ever shown once, to its creator.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKeyToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKeyToken({}…)", self.prefix().0)
    }
}

fn prefixed_hex(prefix: &str, secret: &[u8; 32]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut token = String::with_capacity(prefix.len() + SECRET_HEX_LEN);
    token.push_str(prefix);
    for byte in secret {
        token.push(HEX[usize::from(byte >> 4)] as char);
        token.push(HEX[usize::from(byte & 0x0f)] as char);
    }
    token
}

pub const INVITATION_PREFIX: &str = "inv-";

/// A single-use invitation: `inv-` + 64 lowercase hex digits, shown once to the inviter and
/// redeemed by the invited member for a key of their own. Only its SHA-256 is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct InvitationToken(String);

impl InvitationToken {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let well_formed =
            raw.strip_prefix(INVITATION_PREFIX).is_some_and(|hex| crate::is_lower_hex(hex, SECRET_HEX_LEN));
        if well_formed {
            Ok(Self(raw.to_owned()))
        } else {
            Err(FieldError::new("token", "must be `inv-` followed by 64 lowercase hex digits"))
        }
    }

    pub fn from_secret(secret: &[u8; 32]) -> Self {
        Self(prefixed_hex(INVITATION_PREFIX, secret))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for InvitationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InvitationToken(…)")
    }
}

/// The displayable start of a key, e.g. `ak-1a2b3c4d`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyPrefix(String);

impl ApiKeyPrefix {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_ak_and_64_lowercase_hex() {
        let key = ApiKeyToken::from_secret(&[0xab; 32]);
        assert_eq!(key.expose(), format!("ak-{}", "ab".repeat(32)));
        assert_eq!(ApiKeyToken::parse(key.expose()), Ok(key.clone()));
        assert_eq!(key.prefix().as_str(), "ak-abababab");
        for bad in [
            "".to_owned(),
            "ak-".to_owned(),
            format!("ak-{}", "AB".repeat(32)),
            format!("ak-{}", "ab".repeat(31)),
            format!("ak-{}0", "ab".repeat(32)),
            format!("sk-{}", "ab".repeat(32)),
            format!("ak-{}", "zz".repeat(32)),
        ] {
            assert!(ApiKeyToken::parse(&bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn invitations_are_inv_and_64_lowercase_hex() {
        let token = InvitationToken::from_secret(&[0x0f; 32]);
        assert_eq!(token.expose(), format!("inv-{}", "0f".repeat(32)));
        assert_eq!(InvitationToken::parse(token.expose()), Ok(token.clone()));
        assert!(InvitationToken::parse(&format!("ak-{}", "0f".repeat(32))).is_err());
        assert!(!format!("{token:?}").contains("0f0f"));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let key = ApiKeyToken::from_secret(&[0x12; 32]);
        let shown = format!("{key:?}");
        assert!(!shown.contains(&"12".repeat(32)));
        assert!(shown.contains("ak-12121212"));
    }
}
