//! MCP (the Model Context Protocol) for AI agents, on the official Rust SDK (`rmcp`): the
//! tools of [`tools::table`] over the server's own services, served as Streamable HTTP at
//! `/mcp` on `gannet serve` ([`http_service`]) and over stdio by `gannet mcp`
//! ([`crate::serve_mcp_stdio`]).
//!
//! A tool call takes a slot of its route class as the matching HTTP route does (so `/mcp`
//! cannot get round the page or browser limits); Bearer tokens, the rate limit and the
//! body cap are the router's middleware around `/mcp`; the address guard is the page
//! service's. Errors are tool results with `isError: true` whose text starts with the
//! HTTP API's error code (`forbidden_address (loopback): …`). A call longer than a second
//! sends progress notifications when the client asked for them (a progress token), and a
//! cancelled call stops (its page work is dropped; a crawl job is a job and goes on).

mod args;
mod crawl4ai_tools;
pub(crate) mod legacy;
pub(crate) mod tools;

use std::sync::Arc;
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, ListToolsResult, PaginatedRequestParams,
    ProgressNotificationParam, ServerCapabilities, ServerConfig as Info, Tool,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler};

use crate::error::ApiError;
use crate::state::AppState;
pub(crate) use tools::Services;

/// Which tool names a transport shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// gannet's tools ([`tools::table`]): `/mcp` and `gannet mcp`.
    Gannet,
    /// crawl4ai's tool names and argument shapes first, then gannet's tools whose names
    /// do not collide ([`crawl4ai_tools::table`]): `/mcp/sse` and `/mcp/ws`.
    Crawl4ai,
}

/// One MCP session's handler (cheap: handles to the shared services).
#[derive(Clone)]
pub(crate) struct McpServer {
    services: Services,
    dialect: Dialect,
}

impl McpServer {
    pub(crate) fn new(state: &AppState, dialect: Dialect) -> Self {
        Self {
            services: Services {
                cfg: state.cfg.clone(),
                pages: state.pages.clone(),
                jobs: state.jobs.clone(),
                classes: state.classes.clone(),
            },
            dialect,
        }
    }

    fn table(&self) -> Vec<tools::ToolDef> {
        match self.dialect {
            Dialect::Gannet => tools::table(),
            Dialect::Crawl4ai => crawl4ai_tools::table(),
        }
    }
}

const INSTRUCTIONS: &str = "gannet turns web pages into clean Markdown. scrape: one page; \
search_page: the parts of a page about a query; map: a site's URLs; crawl + crawl_status: a \
whole site, as a job you page through; screenshot: a PNG of the rendered page.";

impl ServerHandler for McpServer {
    fn get_info(&self) -> Info {
        let mut info = Info::new(ServerCapabilities::builder().enable_tools().build())
            .with_instructions(INSTRUCTIONS);
        info.server_info = rmcp::model::Implementation::new("gannet", env!("CARGO_PKG_VERSION"));
        info
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(
            self.table().iter().map(tools::ToolDef::tool).collect(),
        ))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.table()
            .iter()
            .find(|t| t.name == name)
            .map(tools::ToolDef::tool)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if self.dialect == Dialect::Crawl4ai
            && let Some(refusal) = crawl4ai_tools::refused(&request.name)
        {
            return Ok(refusal.into());
        }
        let table = self.table();
        let Some(def) = table.iter().find(|t| t.name == request.name) else {
            return Err(ErrorData::invalid_params(
                format!("no tool {:?}", request.name),
                None,
            ));
        };
        let args = serde_json::Value::Object(request.arguments.unwrap_or_default());
        let run = async {
            let _slot = self.services.classes.acquire(def.class).await?;
            (def.call)(self.services.clone(), args).await
        };
        let progress = progress(&context, def.name);
        let outcome = tokio::select! {
            outcome = run => Some(outcome),
            () = context.ct.cancelled() => None,
            () = progress => None,
        };
        let result = match outcome {
            Some(Ok(result)) => result,
            Some(Err(e)) => (def.error)(&e),
            None => tools::tool_error(&ApiError::new(
                axum::http::StatusCode::REQUEST_TIMEOUT,
                "cancelled",
                format!("{}: cancelled by the client", def.name),
            )),
        };
        Ok(result.into())
    }
}

/// Sends a progress notification each second while a call runs, when the client gave a
/// progress token; never completes.
async fn progress(context: &RequestContext<RoleServer>, tool: &'static str) {
    let Some(token) = context.meta.get_progress_token() else {
        return std::future::pending().await;
    };
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    let mut seconds = 0u32;
    loop {
        tick.tick().await;
        seconds += 1;
        let note = ProgressNotificationParam::new(token.clone(), f64::from(seconds))
            .with_message(format!("{tool}: running for {seconds} s"));
        if context.peer.notify_progress(note).await.is_err() {
            return std::future::pending().await;
        }
    }
}

/// The DNS-rebinding guard of every MCP transport: the Host names and the Origins served.
/// Hosts allowed: the loopback names, and the bind address; a server bound to every
/// interface (which needs tokens) checks the token instead of the Host. Origins allowed:
/// none but those of the loopback names and the bind address (clients that send no Origin
/// pass).
pub(crate) struct HostGuard {
    /// `None`: any Host (bound to every interface).
    pub(crate) hosts: Option<Vec<String>>,
    /// Origin patterns as rmcp takes them (`http://localhost:*`).
    pub(crate) origins: Vec<String>,
}

impl HostGuard {
    pub(crate) fn new(listen: std::net::SocketAddr) -> Self {
        let ip = listen.ip();
        let host = match ip {
            std::net::IpAddr::V6(v6) => format!("[{v6}]"),
            std::net::IpAddr::V4(v4) => v4.to_string(),
        };
        let mut hosts: Vec<String> = vec![
            "localhost".into(),
            "127.0.0.1".into(),
            "::1".into(),
            "[::1]".into(),
        ];
        let mut origins: Vec<String> = vec![
            "http://localhost:*".into(),
            "http://127.0.0.1:*".into(),
            "http://[::1]:*".into(),
        ];
        if !ip.is_loopback() {
            hosts.push(ip.to_string());
            hosts.push(host.clone());
            origins.push(format!("http://{host}:*"));
            origins.push(format!("https://{host}:*"));
        }
        Self {
            hosts: (!ip.is_unspecified()).then_some(hosts),
            origins,
        }
    }

    /// Checks a request's `Host` and `Origin` headers (for the transports rmcp does not
    /// check itself): 403 for a foreign one.
    pub(crate) fn check(
        &self,
        headers: &axum::http::HeaderMap,
        uri: &axum::http::Uri,
    ) -> Result<(), ApiError> {
        let refuse = |what: &str| {
            ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "forbidden_host",
                format!("{what} not allowed for MCP (DNS-rebinding protection)"),
            )
        };
        if let Some(hosts) = &self.hosts {
            // HTTP/2 carries the host in the URI (`:authority`), HTTP/1.1 in `Host`.
            let host = headers
                .get(axum::http::header::HOST)
                .and_then(|v| v.to_str().ok())
                .or_else(|| uri.authority().map(axum::http::uri::Authority::as_str))
                .unwrap_or_default();
            let name = strip_port(host);
            if !hosts.iter().any(|h| h.eq_ignore_ascii_case(name)) {
                return Err(refuse(&format!("Host {host:?}")));
            }
        }
        if let Some(origin) = headers.get(axum::http::header::ORIGIN) {
            let origin = origin.to_str().unwrap_or_default();
            let (scheme, rest) = origin.split_once("://").unwrap_or(("", origin));
            let name = strip_port(rest);
            let ok = self.origins.iter().any(|pattern| {
                let (ps, prest) = pattern.split_once("://").unwrap_or(("", pattern));
                ps.eq_ignore_ascii_case(scheme) && strip_port(prest).eq_ignore_ascii_case(name)
            });
            if !ok {
                return Err(refuse(&format!("Origin {origin:?}")));
            }
        }
        Ok(())
    }
}

/// `host:port`, `[v6]:port` or a bare host → the host.
fn strip_port(authority: &str) -> &str {
    if authority.starts_with('[') {
        return authority
            .find(']')
            .map_or(authority, |end| &authority[..=end]);
    }
    match authority.rsplit_once(':') {
        Some((host, port))
            if !host.contains(':') && port.bytes().all(|b| b.is_ascii_digit() || b == b'*') =>
        {
            host
        }
        _ => authority,
    }
}

/// `/mcp`: Streamable HTTP, with rmcp's Host and Origin checks against DNS rebinding
/// ([`HostGuard`]'s lists).
pub(crate) fn http_service(
    state: &AppState,
) -> StreamableHttpService<McpServer, LocalSessionManager> {
    let guard = HostGuard::new(state.cfg.listen);
    let mut config = StreamableHttpServerConfig::default()
        .with_allowed_origins(guard.origins)
        .enforce_origin_validation()
        .with_max_request_body_bytes(state.cfg.max_body_bytes);
    // Open event streams end when the server begins to shut down, so they do not hold the
    // graceful shutdown.
    if let Ok(rt) = tokio::runtime::Handle::try_current() {
        let (closing, ct) = (state.closing.clone(), config.cancellation_token.clone());
        rt.spawn(async move {
            closing.closed().await;
            ct.cancel();
        });
    }
    config = match guard.hosts {
        None => config.disable_allowed_hosts(),
        Some(hosts) => config.with_allowed_hosts(hosts),
    };
    let handler = McpServer::new(state, Dialect::Gannet);
    StreamableHttpService::new(
        move || Ok(handler.clone()),
        Arc::new(LocalSessionManager::default()),
        config,
    )
}
