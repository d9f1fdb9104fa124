//! Writes that follow one another with nothing decided between them, sent together and
//! committed in the same trip where the database allows: SQLite takes them as one
//! statement list ending in `COMMIT`, a single trip to its connection's thread;
//! PostgreSQL takes them as one statement (a `WITH` of data-modifying parts), then
//! `COMMIT`.

use super::{StorageError, Tx};
use std::borrow::Cow;

/// A value bound to one of a batch's statements.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    Int(Option<i64>),
    Text(Option<&'a str>),
    Bool(Option<bool>),
}

/// Statements written with `$1…` placeholders each, to run in order.
///
/// On PostgreSQL they run as the parts of one statement, which see the database as it
/// was before any of them and run in no set order, except that each `UPDATE` runs after
/// the batch's `UPDATE` before it (one row leaving a unique index before another enters
/// it). So no two statements may change the same row, and an `UPDATE` must end with its
/// `WHERE` clause.
#[derive(Debug, Default)]
pub struct Batch<'a> {
    statements: Vec<(Cow<'static, str>, Vec<Arg<'a>>)>,
}

macro_rules! bind_arg {
    ($query:expr, $arg:expr) => {
        match $arg {
            Arg::Int(v) => $query.bind(*v),
            Arg::Text(v) => $query.bind(*v),
            Arg::Bool(v) => $query.bind(*v),
        }
    };
}
pub(super) use bind_arg;

impl<'a> Batch<'a> {
    pub fn push(&mut self, sql: impl Into<Cow<'static, str>>, args: Vec<Arg<'a>>) {
        self.statements.push((sql.into(), args));
    }
}

impl Tx {
    /// Runs `batch`, then `last`, commits, and returns the number `last` returns.
    pub async fn commit_batch<'a>(
        self,
        mut batch: Batch<'a>,
        last: &'static str,
        last_args: Vec<Arg<'a>>,
    ) -> Result<i64, StorageError> {
        batch.push(last, last_args);
        let args = batch.statements.iter().flat_map(|(_, args)| args);
        match self {
            Tx::Sqlite(mut tx) => {
                let mut sql = tx.begin_with_next().to_owned();
                let mut bound = 0;
                for (statement, args) in &batch.statements {
                    sql.push_str(&numbered_from(statement, bound));
                    sql.push_str(";\n");
                    bound += args.len();
                }
                sql.push_str("COMMIT;");
                let mut query = sqlx::query_scalar(&sql);
                for arg in args {
                    query = bind_arg!(query, arg);
                }
                // Every row is read, so the list runs to its COMMIT (one row is wanted).
                let returned: Vec<i64> = query.fetch_all(tx.conn()).await?;
                tx.committed();
                returned
                    .first()
                    .copied()
                    .ok_or(StorageError::Missing("returned row", 0))
            }
            Tx::Postgres(mut t) => {
                let sql = one_statement(&batch.statements);
                let mut query = sqlx::query_scalar(&sql);
                for arg in args {
                    query = bind_arg!(query, arg);
                }
                let returned = query.fetch_one(&mut *t).await?;
                t.commit().await?;
                Ok(returned)
            }
        }
    }
}

/// The batch as one PostgreSQL statement: `WITH s0 AS (…), s1 AS (…) last`, each `UPDATE`
/// held back until the one before it is done (its `WHERE` waits on that one's rows).
fn one_statement(statements: &[(Cow<'static, str>, Vec<Arg<'_>>)]) -> String {
    let Some(((last, _), parts)) = statements.split_last() else {
        return String::new();
    };
    let mut sql = String::new();
    let mut bound = 0;
    let mut previous_update = None;
    for (i, (statement, args)) in parts.iter().enumerate() {
        sql.push_str(if i == 0 { "WITH " } else { ", " });
        sql.push_str(&format!("s{i} AS ("));
        sql.push_str(&numbered_from(statement, bound));
        if statement.starts_with("UPDATE ") {
            if let Some(before) = previous_update {
                sql.push_str(&format!(" AND (SELECT count(*) FROM s{before}) >= 0"));
            }
            sql.push_str(" RETURNING 1");
            previous_update = Some(i);
        }
        sql.push(')');
        bound += args.len();
    }
    sql.push(' ');
    sql.push_str(&numbered_from(last, bound));
    sql
}

impl Tx {
    /// Runs one statement and returns the rows it changed.
    pub(crate) async fn execute(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<u64, StorageError> {
        Ok(super::with_tx!(self, conn => {
            let mut query = sqlx::query(sql);
            for arg in args {
                query = bind_arg!(query, arg);
            }
            query.execute(conn).await?.rows_affected()
        }))
    }

    /// Runs one query that returns a number per row (ids, for one).
    pub(crate) async fn numbers(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Vec<i64>, StorageError> {
        Ok(super::with_tx!(self, conn => {
            let mut query = sqlx::query_scalar(sql);
            for arg in args {
                query = bind_arg!(query, arg);
            }
            query.fetch_all(conn).await?
        }))
    }

    /// Runs a query with `args` that reads `(id, text)` rows.
    pub(crate) async fn id_texts(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Vec<(i64, String)>, StorageError> {
        Ok(super::with_tx!(self, conn => {
            let mut query = sqlx::query_as(sql);
            for arg in args {
                query = bind_arg!(query, arg);
            }
            query.fetch_all(conn).await?
        }))
    }
}

/// `sql` with each placeholder `$n` renamed `$(n + before)`, for a statement that follows
/// others binding `before` values in the same list (SQLite numbers them across the list).
fn numbered_from(sql: &str, before: usize) -> String {
    if before == 0 {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 16);
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        match rest[..digits].parse::<usize>() {
            Ok(n) => out.push_str(&(n + before).to_string()),
            Err(_) => out.push_str(&rest[..digits]),
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::{numbered_from, one_statement, Arg};
    use std::borrow::Cow;

    #[test]
    fn postgres_runs_a_batch_as_one_statement_with_its_updates_in_order() {
        let statements: Vec<(Cow<'static, str>, Vec<Arg>)> = vec![
            (
                "UPDATE t SET a = $1 WHERE id = $2".into(),
                vec![Arg::Int(None); 2],
            ),
            ("INSERT INTO o (x) VALUES ($1)".into(), vec![Arg::Int(None)]),
            (
                "UPDATE t SET a = $1 WHERE id = $2".into(),
                vec![Arg::Int(None); 2],
            ),
            (
                "INSERT INTO log (y) VALUES ($1) RETURNING id".into(),
                vec![Arg::Int(None)],
            ),
        ];
        assert_eq!(
            one_statement(&statements),
            "WITH s0 AS (UPDATE t SET a = $1 WHERE id = $2 RETURNING 1), \
             s1 AS (INSERT INTO o (x) VALUES ($3)), \
             s2 AS (UPDATE t SET a = $4 WHERE id = $5 AND (SELECT count(*) FROM s0) >= 0 RETURNING 1) \
             INSERT INTO log (y) VALUES ($6) RETURNING id"
        );
    }

    #[test]
    fn placeholders_are_renumbered_past_the_values_bound_before() {
        assert_eq!(
            numbered_from("UPDATE t SET a = $1, b = $12 WHERE id = $2", 9),
            "UPDATE t SET a = $10, b = $21 WHERE id = $11"
        );
        assert_eq!(numbered_from("SELECT $1", 0), "SELECT $1");
        assert_eq!(numbered_from("SELECT '$' || $1", 3), "SELECT '$' || $4");
    }
}
