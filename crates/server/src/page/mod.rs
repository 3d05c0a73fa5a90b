//! The server's face of the engine's page service ([`gannet_crawl::page`]): one page for
//! an API request, whatever the dialect. The service (fetcher, browser pool, admission,
//! flights, extraction from one parse) lives in the engine, shared with `gannet scrape`;
//! here it is configured from [`ServerConfig`], reports to the server's [`Metrics`], and
//! its failures become API answers ([`IntoApi`]).

use std::sync::Arc;

use axum::http::StatusCode;

use crate::config::ServerConfig;
use crate::error::{ApiError, Error};
use crate::metrics::Metrics;

pub(crate) use gannet_crawl::page::{
    Extraction, Failure, Focus, LlmInput, Page, PageError, PageRequest, RenderPolicy,
};

pub(crate) mod body;
pub(crate) mod extract_jobs;
pub(crate) mod extraction;

/// The engine's page service with the server's configuration.
pub(crate) struct PageService {
    pub(crate) cfg: Arc<ServerConfig>,
    service: gannet_crawl::page::PageService,
    /// Firecrawl's `/extract` jobs.
    pub(crate) extract_jobs: extract_jobs::ExtractJobs,
}

impl std::ops::Deref for PageService {
    type Target = gannet_crawl::page::PageService;

    fn deref(&self) -> &Self::Target {
        &self.service
    }
}

impl PageService {
    pub(crate) fn new(cfg: Arc<ServerConfig>, metrics: Arc<Metrics>) -> Result<Self, Error> {
        let page_cfg = gannet_crawl::page::PageConfig {
            allow_private: cfg.allow_private,
            fetch_timeout: cfg.page_timeout,
            connect_timeout: None,
            max_page_bytes: cfg.max_page_bytes,
            max_pages_in_flight: cfg.max_pages_in_flight,
            max_pages_waiting: cfg.max_pages_waiting,
            queue_timeout: cfg.queue_timeout,
            smart_render_wait: Some(cfg.smart_render_wait),
            shed_memory_fraction: cfg.shed_memory_fraction,
            extract_concurrency: cfg.extract_concurrency,
            browser: cfg.browser.clone(),
        };
        let service = gannet_crawl::page::PageService::new(page_cfg, metrics)
            .map_err(|e| Error::HttpClient(e.0))?
            // The LLM is the server's (from its environment): a request names none.
            .with_llm(match &cfg.llm {
                Some(llm) => gannet_llm::LlmClient::new(llm.clone()),
                None => gannet_llm::LlmClient::from_env(),
            });
        Ok(Self {
            cfg,
            service,
            extract_jobs: extract_jobs::ExtractJobs::default(),
        })
    }
}

/// Produces one page (see [`gannet_crawl::page::PageService::get`]).
pub(crate) async fn get_page(state: &PageService, req: PageRequest) -> Result<Page, PageError> {
    state.service.get(req).await
}

/// A page's failure as the API answers it.
pub(crate) trait IntoApi {
    fn into_api(self) -> ApiError;
}

impl IntoApi for PageError {
    fn into_api(self) -> ApiError {
        match self.kind {
            Failure::Busy => ApiError::busy(self.message, 5),
            Failure::Forbidden(class) => ApiError::forbidden_address(class, self.message),
            Failure::Page => ApiError::new(StatusCode::BAD_GATEWAY, "page_failed", self.message),
        }
    }
}

/// Parses a URL a client sent: absolute http(s) only.
pub(crate) fn parse_url(input: &str) -> Result<url::Url, ApiError> {
    let url = url::Url::parse(input.trim())
        .map_err(|e| ApiError::bad_request(format!("invalid URL {input:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ApiError::bad_request(format!(
            "invalid URL {input:?}: only http and https URLs can be fetched"
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(ApiError::bad_request(format!(
            "invalid URL {input:?}: no host"
        )));
    }
    Ok(url)
}
