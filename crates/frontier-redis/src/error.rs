//! The crate's one error type.

/// What can go wrong talking to the frontier.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FrontierError {
    /// Redis could not be reached, timed out, is loading, or its cluster is re-sharding.
    /// Retryable: the caller pauses with backoff and tries again; nothing is lost.
    #[error("Redis unreachable: {0}")]
    Unavailable(String),
    /// Redis may evict keys (`maxmemory-policy` is not `noeviction`): the frontier would
    /// silently lose URLs, leases and the seen-set, so it refuses to start.
    #[error(
        "Redis maxmemory-policy is `{policy}`; a crawl frontier needs `noeviction` (CONFIG SET maxmemory-policy noeviction)"
    )]
    EvictionPolicy {
        /// The policy the server reported.
        policy: String,
    },
    /// No crawl with this id in Redis (join needs one created first).
    #[error("no crawl `{0}` in Redis")]
    NoSuchCrawl(String),
    /// The lease is no longer ours (expired and reclaimed, or the batch was aborted by a
    /// recovery): the work done under it must not be committed.
    #[error("lease lost: {0}")]
    Fenced(String),
    /// A bad argument: crawl id, URL of the Redis server, settings.
    #[error("invalid {what}: {why}")]
    Invalid {
        /// Which input.
        what: &'static str,
        /// What is wrong with it.
        why: String,
    },
    /// Redis answered with an error that retrying will not fix (wrong type, no permission,
    /// out of memory, script error).
    #[error("Redis error: {0}")]
    Redis(String),
    /// Redis answered something the scripts never return (another program wrote our keys?).
    #[error("unexpected reply from Redis: {0}")]
    Reply(String),
}

impl FrontierError {
    /// Whether trying again later may succeed (Redis down, timeout, failover, re-sharding).
    pub fn is_retryable(&self) -> bool {
        matches!(self, FrontierError::Unavailable(_))
    }

    pub(crate) fn invalid(what: &'static str, why: impl Into<String>) -> FrontierError {
        FrontierError::Invalid {
            what,
            why: why.into(),
        }
    }

    pub(crate) fn reply(what: impl Into<String>) -> FrontierError {
        FrontierError::Reply(what.into())
    }
}

impl From<redis::RedisError> for FrontierError {
    fn from(e: redis::RedisError) -> FrontierError {
        use redis::{ErrorKind, ServerErrorKind};
        let transient = e.is_io_error()
            || e.is_timeout()
            || e.is_connection_dropped()
            || e.is_connection_refusal()
            || matches!(
                e.kind(),
                ErrorKind::ClusterConnectionNotFound
                    | ErrorKind::Server(
                        ServerErrorKind::BusyLoading
                            | ServerErrorKind::TryAgain
                            | ServerErrorKind::ClusterDown
                            | ServerErrorKind::MasterDown
                            | ServerErrorKind::Moved
                            | ServerErrorKind::Ask
                            | ServerErrorKind::ReadOnly
                    )
            );
        if transient {
            FrontierError::Unavailable(e.to_string())
        } else {
            FrontierError::Redis(e.to_string())
        }
    }
}
