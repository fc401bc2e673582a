//! Hand-written PostgreSQL statements that are prepared once per
//! connection and kept, like diesel's own query builder's.
//!
//! diesel never keeps a `sql_query`: PostgreSQL parses, analyses and plans
//! it again at every execution. For the statements a click and the
//! dispatcher's rounds run (a `WITH` of several inserts or updates), that
//! was about a quarter of PostgreSQL's CPU under load (docs/benchmarks.md).
//! A [`Kept`] statement is written and bound like a `sql_query`, but diesel
//! keeps it in the connection's statement cache under its text, so
//! PostgreSQL parses and analyses it once per connection (it still plans
//! it for each execution's parameters: see `ConnectionSettings`). Only for
//! statements whose text is one of a few (not built from values): each
//! text is one prepared statement on every connection that runs it.

use std::marker::PhantomData;

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{HasSqlType, Untyped};
use diesel::{QueryResult, RunQueryDsl};

/// `sql`, to be bound with [`Kept::bind`]: the first bind is `$1`, and
/// so on. A `$n` may appear more than once.
pub fn kept(sql: impl Into<String>) -> Kept<()> {
    Kept {
        sql: sql.into(),
        binds: (),
    }
}

/// A statement's text and binds so far.
pub struct Kept<B> {
    sql: String,
    binds: B,
}

/// The binds after those before it: `$n` for the `n`th.
pub struct Bound<B, T, ST> {
    before: B,
    value: T,
    sql_type: PhantomData<ST>,
}

impl<B: Binds> Kept<B> {
    /// Binds the next `$n` as `ST`.
    pub fn bind<ST, T>(self, value: T) -> Kept<Bound<B, T, ST>>
    where
        Pg: HasSqlType<ST>,
        T: ToSql<ST, Pg>,
    {
        Kept {
            sql: self.sql,
            binds: Bound {
                before: self.binds,
                value,
                sql_type: PhantomData,
            },
        }
    }
}

/// diesel's query builder numbers the binds itself, in the order they are
/// pushed (pushing a bind writes its `$n`): the text is pushed up to each
/// `$n`, then the `n`th bind in its place, so a `$n` used twice is bound
/// twice.
pub trait Binds {
    fn count(&self) -> usize;
    fn push<'b>(&'b self, n: usize, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()>;
}

impl Binds for () {
    fn count(&self) -> usize {
        0
    }

    fn push<'b>(&'b self, n: usize, _: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        Err(diesel::result::Error::QueryBuilderError(
            format!("the statement has ${n} but no bind for it").into(),
        ))
    }
}

impl<B, T, ST> Binds for Bound<B, T, ST>
where
    B: Binds,
    Pg: HasSqlType<ST>,
    T: ToSql<ST, Pg>,
{
    fn count(&self) -> usize {
        self.before.count() + 1
    }

    fn push<'b>(&'b self, n: usize, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        if n == self.count() {
            out.push_bind_param::<ST, T>(&self.value)
        } else {
            self.before.push(n, out)
        }
    }
}

/// Unlike `sql_query`'s, this walk never marks the statement unsafe to
/// keep, which is all it takes for diesel to keep it.
impl<B: Binds> QueryFragment<Pg> for Kept<B> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let mut rest = self.sql.as_str();
        while let Some(at) = rest.find('$') {
            let digits = rest[at + 1..]
                .find(|c: char| !c.is_ascii_digit())
                .map_or(rest.len() - at - 1, |end| end);
            out.push_sql(&rest[..at]);
            match rest[at + 1..at + 1 + digits].parse::<usize>() {
                Ok(n) => self.binds.push(n, &mut out)?,
                Err(_) => out.push_sql("$"),
            }
            rest = &rest[at + 1 + digits..];
        }
        out.push_sql(rest);
        Ok(())
    }
}

/// No type-level id: diesel keys the kept statement by its text.
impl<B> QueryId for Kept<B> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

/// Rows load by name, as a `sql_query`'s.
impl<B> Query for Kept<B> {
    type SqlType = Untyped;
}

impl<B, Conn> RunQueryDsl<Conn> for Kept<B> {}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::debug_query;
    use diesel::sql_types::{BigInt, Text};

    #[test]
    fn each_placeholder_gets_its_bind_in_the_order_written() {
        let q = kept("SELECT $2::text, $1 + $1, '$' || $2")
            .bind::<BigInt, _>(7_i64)
            .bind::<Text, _>("x");
        assert_eq!(
            debug_query::<Pg, _>(&q).to_string(),
            r#"SELECT $1::text, $2 + $3, '$' || $4 -- binds: ["x", 7, 7, "x"]"#
        );
    }

    #[test]
    fn a_placeholder_without_its_bind_is_an_error_not_a_panic() {
        let q = kept("SELECT $2").bind::<BigInt, _>(7_i64);
        let built =
            QueryFragment::<Pg>::to_sql(&q, &mut diesel::pg::PgQueryBuilder::default(), &Pg);
        assert!(built.is_err());
    }
}
