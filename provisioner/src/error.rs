//! The provisioner's error: what a piece of background work or a request
//! handled on the privileged side can meet.

use herd_core::store::{diesel_error, StoreError};

use crate::backend::BackendError;
use crate::saga::SagaError;

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Saga(#[from] SagaError),
    #[error("{0}")]
    Backend(#[from] BackendError),
    #[error("{0}")]
    Invalid(String),
}

impl From<diesel_error::Error> for WorkerError {
    fn from(e: diesel_error::Error) -> Self {
        WorkerError::Store(e.into())
    }
}
