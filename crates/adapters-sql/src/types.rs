//! SQL types that hide how each backend stores a value, so that one `table!` set and one set of
//! rows serve both: an [`Id`] is PostgreSQL's `uuid` or SQLite's hyphenated `TEXT`, an
//! [`Instant`] `timestamptz` or `BIGINT` microseconds since the epoch, a [`Json`] `jsonb` or
//! `TEXT`. The Rust side is always `Uuid`, `OffsetDateTime` and `serde_json::Value`.

use diesel::deserialize::FromSqlRow;
use diesel::deserialize::{self, FromSql};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types;
use diesel::sqlite::{Sqlite, SqliteValue};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

/// A UUID: `uuid` on PostgreSQL, lowercase hyphenated `TEXT` on SQLite (text order = byte order).
#[derive(Debug, Clone, Copy, Default, diesel::sql_types::SqlType, diesel::query_builder::QueryId)]
#[diesel(postgres_type(oid = 2950, array_oid = 2951))]
#[diesel(sqlite_type(name = "Text"))]
pub struct Id;

/// An instant: `timestamptz` on PostgreSQL, `BIGINT` microseconds since the Unix epoch on SQLite.
#[derive(Debug, Clone, Copy, Default, diesel::sql_types::SqlType, diesel::query_builder::QueryId)]
#[diesel(postgres_type(oid = 1184, array_oid = 1185))]
#[diesel(sqlite_type(name = "Long"))]
pub struct Instant;

/// A JSON document: `jsonb` on PostgreSQL, `TEXT` on SQLite.
#[derive(Debug, Clone, Copy, Default, diesel::sql_types::SqlType, diesel::query_builder::QueryId)]
#[diesel(postgres_type(oid = 3802, array_oid = 3807))]
#[diesel(sqlite_type(name = "Text"))]
pub struct Json;

/// A value of an [`Id`] column. (A newtype: diesel's blanket impls leave no room to bind `Uuid`
/// itself to a type of this crate.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, AsExpression, FromSqlRow)]
#[diesel(sql_type = Id)]
pub struct DbId(pub Uuid);

/// A value of an [`Instant`] column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, AsExpression, FromSqlRow)]
#[diesel(sql_type = Instant)]
pub struct DbInstant(pub OffsetDateTime);

/// A value of a [`Json`] column.
#[derive(Debug, Clone, PartialEq, AsExpression, FromSqlRow)]
#[diesel(sql_type = Json)]
pub struct DbJson(pub Value);

/// How the domain's values are bound in queries: `users::org_id.eq(org_id.db())`.
pub trait ToDb {
    type Db;
    fn db(self) -> Self::Db;
}

impl ToDb for Uuid {
    type Db = DbId;
    fn db(self) -> DbId {
        DbId(self)
    }
}

macro_rules! domain_ids {
    ($($id:ty),*) => {
        $(
            impl ToDb for $id {
                type Db = DbId;
                fn db(self) -> DbId {
                    DbId(self.as_uuid())
                }
            }

            impl From<DbId> for $id {
                fn from(id: DbId) -> Self {
                    <$id>::from_uuid(id.0)
                }
            }
        )*
    };
}

domain_ids!(
    projects_domain::OrgId,
    projects_domain::UserId,
    projects_domain::TeamId,
    projects_domain::ProjectId,
    projects_domain::ApiKeyId
);

impl ToDb for OffsetDateTime {
    type Db = DbInstant;
    fn db(self) -> DbInstant {
        DbInstant(self)
    }
}

impl ToDb for Value {
    type Db = DbJson;
    fn db(self) -> DbJson {
        DbJson(self)
    }
}

impl<T: ToDb> ToDb for Option<T> {
    type Db = Option<T::Db>;
    fn db(self) -> Option<T::Db> {
        self.map(ToDb::db)
    }
}

impl ToSql<Id, Pg> for DbId {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        ToSql::<sql_types::Uuid, Pg>::to_sql(&self.0, out)
    }
}

impl FromSql<Id, Pg> for DbId {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        FromSql::<sql_types::Uuid, Pg>::from_sql(value).map(DbId)
    }
}

impl ToSql<Id, Sqlite> for DbId {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.0.hyphenated().to_string());
        Ok(IsNull::No)
    }
}

impl FromSql<Id, Sqlite> for DbId {
    fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<sql_types::Text, Sqlite>>::from_sql(value)?;
        Ok(DbId(Uuid::parse_str(&text).map_err(|e| format!("stored id {text:?} is not a UUID: {e}"))?))
    }
}

impl ToSql<Instant, Pg> for DbInstant {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        ToSql::<sql_types::Timestamptz, Pg>::to_sql(&self.0, out)
    }
}

impl FromSql<Instant, Pg> for DbInstant {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        FromSql::<sql_types::Timestamptz, Pg>::from_sql(value).map(DbInstant)
    }
}

/// Microseconds since the epoch: every instant the service stores fits (±292,000 years).
pub fn micros(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000) as i64
}

impl ToSql<Instant, Sqlite> for DbInstant {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(micros(self.0));
        Ok(IsNull::No)
    }
}

impl FromSql<Instant, Sqlite> for DbInstant {
    fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        let micros = <i64 as FromSql<sql_types::BigInt, Sqlite>>::from_sql(value)?;
        Ok(DbInstant(
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
                .map_err(|e| format!("stored instant {micros} is out of range: {e}"))?,
        ))
    }
}

impl ToSql<Json, Pg> for DbJson {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        ToSql::<sql_types::Jsonb, Pg>::to_sql(&self.0, out)
    }
}

/// jsonb keeps numbers as exact decimals and prints them in full; a value serde_json cannot
/// read back is logged and read as `null` (which decoding turns into empty tags or metadata),
/// so that one bad row can never fail a whole listing.
impl FromSql<Json, Pg> for DbJson {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        match FromSql::<sql_types::Jsonb, Pg>::from_sql(value) {
            Ok(json) => Ok(DbJson(json)),
            Err(err) => {
                tracing::error!(error = %err, "a stored jsonb value cannot be read back; reading it as null");
                Ok(DbJson(Value::Null))
            }
        }
    }
}

impl ToSql<Json, Sqlite> for DbJson {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(serde_json::to_string(&self.0)?);
        Ok(IsNull::No)
    }
}

impl FromSql<Json, Sqlite> for DbJson {
    fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<sql_types::Text, Sqlite>>::from_sql(value)?;
        match serde_json::from_str(&text) {
            Ok(json) => Ok(DbJson(json)),
            Err(err) => {
                tracing::error!(error = %err, "a stored JSON value cannot be read back; reading it as null");
                Ok(DbJson(Value::Null))
            }
        }
    }
}
