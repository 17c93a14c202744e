//! The shapes of API keys: Arkloop's `ak-` followed by 64 lowercase hex digits (32 random bytes),
//! and Alumia's `alm_live_` or `alm_test_` followed by 48 (24 random bytes). Both are keys of the
//! same kind: either works on both surfaces.

use std::fmt;

use crate::validation::FieldError;

pub const API_KEY_PREFIX: &str = "ak-";
const SECRET_HEX_LEN: usize = 64;
const DISPLAY_HEX_LEN: usize = 8;
/// Every Alumia key starts so.
pub const ALUMIA_KEY_PREFIX: &str = "alm_";
const ALUMIA_SECRET_HEX_LEN: usize = 48;
/// Alumia shows the first 12 characters of a key (`alm_live_` and 3 hex digits).
const ALUMIA_DISPLAY_LEN: usize = 12;

/// Which system's shape a key has, and for Alumia, which environment it is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyFormat {
    /// `ak-…`
    Arkloop,
    /// `alm_live_…`
    AlumiaLive,
    /// `alm_test_…`
    AlumiaTest,
}

impl KeyFormat {
    const ALL: [KeyFormat; 3] = [KeyFormat::Arkloop, KeyFormat::AlumiaLive, KeyFormat::AlumiaTest];

    const fn prefix(self) -> &'static str {
        match self {
            KeyFormat::Arkloop => API_KEY_PREFIX,
            KeyFormat::AlumiaLive => "alm_live_",
            KeyFormat::AlumiaTest => "alm_test_",
        }
    }

    const fn secret_hex_len(self) -> usize {
        match self {
            KeyFormat::Arkloop => SECRET_HEX_LEN,
            KeyFormat::AlumiaLive | KeyFormat::AlumiaTest => ALUMIA_SECRET_HEX_LEN,
        }
    }

    const fn display_len(self) -> usize {
        match self {
            KeyFormat::Arkloop => API_KEY_PREFIX.len() + DISPLAY_HEX_LEN,
            KeyFormat::AlumiaLive | KeyFormat::AlumiaTest => ALUMIA_DISPLAY_LEN,
        }
    }

    /// Bytes of randomness a key of this format carries.
    pub const fn secret_bytes(self) -> usize {
        self.secret_hex_len() / 2
    }
}

/// A well-formed API key. Its `Debug` hides the secret so that it cannot end up in a log.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeyToken {
    token: String,
    format: KeyFormat,
}

impl ApiKeyToken {
    /// Whether a bearer token is meant as an API key (rather than a JWT), well-formed or not.
    pub fn is_key_shaped(raw: &str) -> bool {
        raw.starts_with(API_KEY_PREFIX) || raw.starts_with(ALUMIA_KEY_PREFIX)
    }

    /// Accepts exactly `ak-` + 64 lowercase hex digits, or `alm_live_`/`alm_test_` + 48.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        KeyFormat::ALL
            .into_iter()
            .find(|format| {
                raw.strip_prefix(format.prefix()).is_some_and(|hex| crate::is_lower_hex(hex, format.secret_hex_len()))
            })
            .map(|format| Self { token: raw.to_owned(), format })
            .ok_or_else(|| {
                FieldError::new(
                    "api_key",
                    "must be `ak-` and 64 lowercase hex digits, or `alm_live_`/`alm_test_` and 48",
                )
            })
    }

    /// The `ak-` key made of 32 secret bytes.
    pub fn from_secret(secret: &[u8; 32]) -> Self {
        Self::of_format(KeyFormat::Arkloop, secret)
    }

    /// The key of `format` made of the first [`KeyFormat::secret_bytes`] of `secret`.
    pub fn of_format(format: KeyFormat, secret: &[u8; 32]) -> Self {
        Self { token: prefixed_hex(format.prefix(), &secret[..format.secret_bytes()]), format }
    }

    pub fn format(&self) -> KeyFormat {
        self.format
    }

    /// The part shown in listings: `ak-` and the first 8 hex digits, or an Alumia key's first
    /// 12 characters.
    pub fn prefix(&self) -> ApiKeyPrefix {
        ApiKeyPrefix(self.token[..self.format.display_len()].to_owned())
    }

    /// The whole key; only ever shown once, to its creator.
    pub fn expose(&self) -> &str {
        &self.token
    }
}

impl fmt::Debug for ApiKeyToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKeyToken({}…)", self.prefix().0)
    }
}

fn prefixed_hex(prefix: &str, secret: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut token = String::with_capacity(prefix.len() + secret.len() * 2);
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
    fn alumia_keys_are_alm_live_or_test_and_48_lowercase_hex() {
        for (format, env) in [(KeyFormat::AlumiaLive, "live"), (KeyFormat::AlumiaTest, "test")] {
            let key = ApiKeyToken::of_format(format, &[0xcd; 32]);
            assert_eq!(key.expose(), format!("alm_{env}_{}", "cd".repeat(24)));
            assert_eq!(ApiKeyToken::parse(key.expose()), Ok(key.clone()));
            assert_eq!(key.format(), format);
            assert_eq!(key.prefix().as_str(), format!("alm_{env}_cdc"));
            assert_eq!(key.prefix().as_str().len(), 12);
            assert!(ApiKeyToken::is_key_shaped(key.expose()));
        }
        for bad in [
            "alm_".to_owned(),
            format!("alm_live_{}", "cd".repeat(23)),
            format!("alm_live_{}0", "cd".repeat(24)),
            format!("alm_prod_{}", "cd".repeat(24)),
            format!("alm_live_{}", "CD".repeat(24)),
            format!("alm_test_{}", "cd".repeat(32)),
            format!("ak-{}", "cd".repeat(24)),
        ] {
            assert!(ApiKeyToken::parse(&bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(!ApiKeyToken::is_key_shaped("eyJhbGciOi.x.y"));
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
