//! Writes that follow one another with nothing decided between them, sent together: SQLite
//! takes them as one statement list, a single trip to its connection's thread instead of
//! one per statement; PostgreSQL (which prepares one statement at a time) takes them in
//! turn.

use super::{StorageError, Tx};

/// A value bound to one of a batch's statements.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    Int(Option<i64>),
    Text(Option<&'a str>),
    Bool(Option<bool>),
}

/// Statements written with `$1…` placeholders each, to run in order.
#[derive(Debug, Default)]
pub struct Batch<'a> {
    statements: Vec<(&'static str, Vec<Arg<'a>>)>,
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
    pub fn push(&mut self, sql: &'static str, args: Vec<Arg<'a>>) {
        self.statements.push((sql, args));
    }
}

impl Tx {
    /// Runs `batch`, then `last`, and returns the number `last` returns. On PostgreSQL the
    /// batch's final statement and `last` run as one, so they must write different tables.
    pub async fn run_returning<'a>(
        &mut self,
        mut batch: Batch<'a>,
        last: &'static str,
        last_args: Vec<Arg<'a>>,
    ) -> Result<i64, StorageError> {
        match self {
            Tx::Sqlite(tx) => {
                batch.push(last, last_args);
                let mut sql = tx.begin_with_next().to_owned();
                let mut bound = 0;
                for (statement, args) in &batch.statements {
                    sql.push_str(&numbered_from(statement, bound));
                    sql.push_str(";\n");
                    bound += args.len();
                }
                let mut query = sqlx::query_scalar(&sql);
                for arg in batch.statements.iter().flat_map(|(_, args)| args) {
                    query = bind_arg!(query, arg);
                }
                Ok(query.fetch_one(tx.conn()).await?)
            }
            Tx::Postgres(t) => {
                // The batch's final write goes with `last`, as a data-modifying WITH: one
                // round trip fewer. They write different tables, so their order is moot.
                let joined = batch.statements.pop();
                for (statement, args) in &batch.statements {
                    let mut query = sqlx::query(statement);
                    for arg in args {
                        query = bind_arg!(query, arg);
                    }
                    query.execute(&mut **t).await?;
                }
                let (sql, args) = match joined {
                    Some((write, args)) => {
                        let sql = format!(
                            "WITH written AS ({write}) {}",
                            numbered_from(last, args.len())
                        );
                        (sql, args.into_iter().chain(last_args).collect())
                    }
                    None => (last.to_owned(), last_args),
                };
                let mut query = sqlx::query_scalar(&sql);
                for arg in &args {
                    query = bind_arg!(query, arg);
                }
                Ok(query.fetch_one(&mut **t).await?)
            }
        }
    }
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
    use super::numbered_from;

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
