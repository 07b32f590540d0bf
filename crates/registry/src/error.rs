//! Errors of registry operations.

use thiserror::Error;

/// Why a registry operation did not apply. Protocol-neutral: the server maps it to HTTP.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum RegistryError {
    /// No lease for this application and instance id.
    #[error("instance {id} of application {app} is not registered")]
    NotFound {
        /// Application name.
        app: String,
        /// Instance id.
        id: String,
    },
    /// The instance belongs to another user (see [`crate::Registry::register_as`]).
    #[error("instance {id} of application {app} belongs to another user; only that user or an admin may change it")]
    NotOwner {
        /// Application name.
        app: String,
        /// Instance id.
        id: String,
    },
    /// The registration was rejected by validation (Java's 400 texts).
    #[error("{0}")]
    Invalid(#[from] eureka_model::ValidationError),
}
