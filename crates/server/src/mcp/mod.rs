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

/// One MCP session's handler (cheap: handles to the shared services).
#[derive(Clone)]
pub(crate) struct McpServer {
    services: Services,
}

impl McpServer {
    pub(crate) fn new(state: &AppState) -> Self {
        Self {
            services: Services {
                cfg: state.cfg.clone(),
                pages: state.pages.clone(),
                jobs: state.jobs.clone(),
                classes: state.classes.clone(),
            },
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
            tools::table().iter().map(tools::ToolDef::tool).collect(),
        ))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        tools::table()
            .iter()
            .find(|t| t.name == name)
            .map(tools::ToolDef::tool)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let table = tools::table();
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
            Some(Err(e)) => tools::tool_error(&e),
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

/// `/mcp`: Streamable HTTP, with the Host and Origin checks against DNS rebinding. Hosts
/// allowed: the loopback names, and the bind address; a server bound to every interface
/// (which needs tokens) checks the token instead of the Host. Origins allowed: none but
/// those of the loopback names and the bind address (clients that send no Origin pass).
pub(crate) fn http_service(
    state: &AppState,
) -> StreamableHttpService<McpServer, LocalSessionManager> {
    let listen = state.cfg.listen;
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
    let mut config = StreamableHttpServerConfig::default()
        .with_allowed_origins(origins)
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
    config = if ip.is_unspecified() {
        config.disable_allowed_hosts()
    } else {
        config.with_allowed_hosts(hosts)
    };
    let handler = McpServer::new(state);
    StreamableHttpService::new(
        move || Ok(handler.clone()),
        Arc::new(LocalSessionManager::default()),
        config,
    )
}
