//! Database work from async handlers: diesel is synchronous and must not
//! stall the HTTP workers, so it runs on actix's blocking pool.

use actix_web::web;
use herd_core::store::{AnyConnection, Store};

use crate::problem::{ApiError, ApiResult};

pub async fn db<T, F>(store: &Store, work: F) -> ApiResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut AnyConnection) -> ApiResult<T> + Send + 'static,
{
    let store = store.clone();
    web::block(move || {
        let mut conn = store.conn()?;
        work(&mut conn)
    })
    .await
    .map_err(ApiError::from)?
}
